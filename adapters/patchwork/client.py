"""HTTP access to one upstream Patchwork server (API 1.0–1.3). Speaks HTTP; knows no records.

- **Version**: ``api_version="auto"`` probes ``/api/1.3/`` down to ``/api/1.0/`` once (the
  first answer that is not 404 wins; Patchwork answers unknown versions with a 404 page) and
  caches it; a fixed version is used as configured.
- **Windows**: Patchwork pages by ``page``/``per_page`` and links pages only through the
  ``Link`` header. ``window(offset, count)`` picks the ``per_page`` that makes the requested
  window fall inside one upstream page whenever possible (one request), and follows
  ``rel="next"`` links when the server caps ``per_page`` lower than asked. A page past the end
  (``404 {"detail": "Invalid page."}``) is an empty window, not an error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from yarl import URL

from adapters.errors import BadPayload, NotFound
from adapters.http import HttpClient, Params, Response
from adapters.paging import page_span
from adapters.patchwork_common import is_invalid_page
from adapters.stamps import StampMemo, derived

__all__ = ["MAX_PER_PAGE", "VERSIONS", "PatchworkClient", "Window"]

T = TypeVar("T")

VERSIONS = ("1.3", "1.2", "1.1", "1.0")
MAX_PER_PAGE = 250  # Patchwork's default MAX_REST_RESULTS_PER_PAGE
WINDOW_MEMO_ENTRIES = 32  # windows (with their records) kept by stamp, per backend
RECORD_MEMO_ENTRIES = 256  # object records kept by stamp, per backend …
RECORD_MEMO_BYTES = 16 * 1024 * 1024  # … and at most this many bytes of their answers


class BuiltPages:
    """The pages of records a source built from one memoised window, one per mapping (the
    list resource ``rel`` names it). Written once per route, then only read: a page is a
    frozen ``Page`` of frozen records, a pure function of the window's answer."""

    __slots__ = ("_by_route",)

    def __init__(self) -> None:
        self._by_route: dict[str, Any] = {}

    def get(self, route: str) -> Any:
        return self._by_route.get(route)

    def keep(self, route: str, page: Any) -> None:
        self._by_route.setdefault(route, page)


@dataclass(frozen=True, slots=True)
class Window:
    """Items ``offset …`` of a list, whether more follow, and the total when it is known.

    A window read from one stamped answer is memoised by stamp (``adapters.stamps``): the same
    answer again gives back this very object (``memoised``), and ``pages`` holds what a
    source built from it, so nothing is parsed or mapped twice. Its items are a tuple; the
    JSON objects in it are shared and never modified."""

    items: tuple[dict[str, Any], ...]
    has_next: bool
    total: int | None
    pages: BuiltPages = field(default_factory=BuiltPages, compare=False, repr=False)
    memoised: bool = False  # memoised by stamp: the same answer again gives this object back


class PatchworkClient:
    """The upstream Patchwork REST API of one backend instance."""

    def __init__(self, http: HttpClient, api_version: str = "auto", page_cap: int = 100) -> None:
        self.http = http
        self._configured = api_version
        self._version: str | None = None if api_version == "auto" else api_version
        self._version_lock = asyncio.Lock()
        self.page_cap = max(1, min(page_cap, MAX_PER_PAGE))
        # One-page windows by (stamp, skip, count); shared with per-caller copies, whose
        # answers carry their own client's stamps, so they never meet.
        self._windows: StampMemo[Window] = StampMemo(lambda w: 1, entries=WINDOW_MEMO_ENTRIES)
        # Object records by (stamp, (rel, kind)), each with its answer's size.
        self._records: StampMemo[tuple[Any, int]] = StampMemo(
            lambda kept: kept[1], entries=RECORD_MEMO_ENTRIES, budget=RECORD_MEMO_BYTES
        )

    @property
    def backend(self) -> str:
        """The backend instance name, for errors."""
        return self.http.config.backend

    async def version(self) -> str:
        """The API version in use, probing the server once when configured as ``auto``."""
        if self._version is not None:
            return self._version
        async with self._version_lock:
            if self._version is None:
                self._version = await self._detect()
        return self._version

    async def _detect(self) -> str:
        for version in VERSIONS:
            resp = await self.http.get(f"/api/{version}/", allow_status=(404,))
            if resp.status != 404:
                return version
        raise NotFound(self.backend, "no Patchwork REST API (1.0-1.3) found at the configured URL")

    async def path(self, rel: str) -> str:
        """``rel`` (e.g. ``patches/3/``) under the versioned API root."""
        return f"/api/{await self.version()}/{rel}"

    async def get(self, rel: str, params: Params | None = None) -> Any:
        """GET one API resource as JSON."""
        body, _ = await self.http.get_json(await self.path(rel), params)
        return body

    async def get_record(self, rel: str, kind: str, parse: Callable[[Any], T]) -> T:
        """GET one API object and map it with ``parse`` (``kind`` names what ``parse`` makes).

        An answer byte-identical to the previous one for this URL (same stamp,
        ``adapters.stamps``) gives back the record mapped from it then, without decoding or
        mapping it again; records are immutable, so sharing one between requests is safe."""
        resp = await self.http.get(await self.path(rel))
        return derived(
            self._records, resp.cache_stamp, (rel, kind), len(resp.body), lambda: parse(resp.json())
        )

    async def window(self, rel: str, params: Params, offset: int, count: int) -> Window:
        """List items ``offset … offset+count-1`` of ``rel`` with ``params`` as filters."""
        page, per_page, skip = page_span(offset, count, self.page_cap)
        query: dict[str, str | int | Sequence[str | int]] = {
            **params,
            "page": page,
            "per_page": per_page,
        }
        resp = await self.http.get(await self.path(rel), query, allow_status=(404,))
        if resp.status == 404:
            if is_invalid_page(resp):
                return Window(items=(), has_next=False, total=offset if page == 1 else None)
            raise NotFound(self.backend, "not found (HTTP 404)", status=404)
        route = (skip, count)
        known = self._windows.get(resp.cache_stamp, route)
        if known is not None:
            return known
        items = _as_list(resp, self.backend)[skip:]
        pages = 1
        reached_end = False
        while True:
            nxt = resp.links().get("next")
            if len(items) > count:
                break
            if nxt is None:
                reached_end = True
                break
            if len(items) == count:
                break
            resp = await self.http.get(nxt)
            items.extend(_as_list(resp, self.backend))
            pages += 1
        has_next = len(items) > count or not reached_end
        items = items[:count]
        total = offset + len(items) if reached_end and len(items) <= count else None
        # a window over several answers has no one stamp
        memoised = pages == 1 and resp.cache_stamp is not None
        window = Window(items=tuple(items), has_next=has_next, total=total, memoised=memoised)
        if memoised:
            self._windows.put(resp.cache_stamp, route, window)
        return window

    async def all_items(self, rel: str, params: Params | None = None) -> list[dict[str, Any]]:
        """Every item of a (short) list, following ``next`` links."""
        items, _ = await self.first_items(rel, params, None)
        return items

    async def first_items(
        self, rel: str, params: Params | None, pages: int | None
    ) -> tuple[list[dict[str, Any]], bool]:
        """The items of at most ``pages`` pages (``None``: all) and whether that was all."""
        query = {**(params or {}), "per_page": self.page_cap}
        resp = await self.http.get(await self.path(rel), query)
        items = _as_list(resp, self.backend)
        read = 1
        while (nxt := resp.links().get("next")) is not None:
            if pages is not None and read >= pages:
                return items, False
            resp = await self.http.get(nxt)
            items.extend(_as_list(resp, self.backend))
            read += 1
        return items, True

    async def all_mapped(
        self, rel: str, params: Params | None, kind: Hashable, parse: Callable[[list[Any]], T]
    ) -> list[T]:
        """Every page of a (short) list, each page's items mapped by ``parse`` (``kind``
        names what it makes, a pure function of one page). A page byte-identical to an
        earlier answer (same stamp, ``adapters.stamps``) gives back what ``parse`` made of
        it then, without decoding or mapping it again: never modify what it gives."""
        query = {**(params or {}), "per_page": self.page_cap}
        resp = await self.http.get(await self.path(rel), query)
        pages = [self._mapped_page(resp, (rel, kind), parse)]
        while (nxt := resp.links().get("next")) is not None:
            resp = await self.http.get(nxt)
            pages.append(self._mapped_page(resp, (rel, kind), parse))
        return pages

    def _mapped_page(self, resp: Response, key: Hashable, parse: Callable[[list[Any]], T]) -> T:
        def make() -> T:
            return parse(_as_list(resp, self.backend))

        return derived(self._records, resp.cache_stamp, key, len(resp.body), make)

    async def send(self, method: str, rel: str, body: Mapping[str, Any]) -> Any:
        """A write (PATCH/POST) with a JSON body; never retried. Returns the JSON answer."""
        resp = await self.http.send(method, await self.path(rel), json=body)
        return resp.json()

    async def text(self, url: str) -> Response:
        """Fetch a non-API resource (mbox, raw diff) by URL on this backend."""
        return await self.http.get(url)


def _as_list(resp: Response, backend: str) -> list[dict[str, Any]]:
    body = resp.json()
    if not isinstance(body, list):
        raise BadPayload(backend, f"expected a JSON list (HTTP {resp.status})", status=resp.status)
    return body


# --- compat: page-based access for the REST compatibility layer (adapters/patchwork/rest.py) ---

# Answers the compat layer re-serves as the backend's own (validation, permission, 404, 405).
REFUSAL_STATUSES = (400, 403, 404, 405)


class Refused(Exception):
    """The backend refused a compat request; ``body`` is its JSON answer (``None`` if not JSON)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body


@dataclass(frozen=True, slots=True)
class PageLinks:
    """Where a served page sits, read from the backend's ``Link`` header (no extra request)."""

    page: int
    last: int | None
    has_next: bool


def _page_number(url: str) -> int:
    """The ``page`` query parameter of a ``Link`` target (DRF drops it for page 1)."""
    raw = URL(url).query.get("page", "1")
    return int(raw) if raw.isdigit() else 1


def _raise_refusal(resp: Response) -> None:
    if resp.status in REFUSAL_STATUSES:
        try:
            body = resp.json()
        except BadPayload:
            body = None
        raise Refused(resp.status, body)


async def compat_version(client: PatchworkClient, requested: str | None) -> str:
    """The upstream version that serves a request for ``requested`` (``None``: unversioned).

    The same version when the backend has it, so that its version-dependent filters and
    omissions apply as the client expects; else the backend's newest.
    """
    backend = await client.version()
    return backend if requested is None or requested > backend else requested


async def compat_response(
    client: PatchworkClient, rel: str, params: Params, version: str
) -> Response:
    """One upstream API answer as asked (a list page or an object); refusals raise ``Refused``.

    Its ``cache_stamp`` names it when it came from (or went into) the response cache."""
    resp = await client.http.get(f"/api/{version}/{rel}", params, allow_status=REFUSAL_STATUSES)
    _raise_refusal(resp)
    return resp


def page_of(resp: Response, backend: str) -> tuple[list[dict[str, Any]], PageLinks]:
    """A list page's items and its position, from its ``Link`` header."""
    links = resp.links()
    prev, last = links.get("prev"), links.get("last")
    position = PageLinks(
        page=_page_number(prev) + 1 if prev else 1,
        last=_page_number(last) if last else None,
        has_next="next" in links,
    )
    return _as_list(resp, backend), position


async def compat_page(
    client: PatchworkClient, rel: str, params: Params, version: str
) -> tuple[list[dict[str, Any]], PageLinks]:
    """One upstream page as asked (``page``/``per_page`` in ``params``) and its position."""
    return page_of(await compat_response(client, rel, params, version), client.backend)


async def compat_get(client: PatchworkClient, rel: str, params: Params, version: str) -> Any:
    """One upstream API object as JSON; a refusal raises ``Refused``."""
    return (await compat_response(client, rel, params, version)).json()


async def compat_send(
    client: PatchworkClient, method: str, rel: str, body: Mapping[str, Any], version: str
) -> Any:
    """One write, exactly one upstream attempt; a refusal raises ``Refused``."""
    resp = await client.http.send(
        method, f"/api/{version}/{rel}", json=body, allow_status=REFUSAL_STATUSES
    )
    _raise_refusal(resp)
    return resp.json()


async def compat_web(client: PatchworkClient, path: str, params: Params) -> Response:
    """A non-API page (mbox, raw diff, id redirect); redirects and 404 come back, not followed."""
    return await client.http.get(path, params, allow_status=(301, 302, 404))
