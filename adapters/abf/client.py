"""HTTP access to one ABF (rosa-build) server's ``/api/v1`` JSON API. Speaks HTTP; knows no records.

- **Paths**: every resource is ``/api/v1/<rel>.json``.
- **Auth**: HTTP basic with ``login:password``; a configured *token* is sent as the basic-auth
  user name with an empty password, which is how ABF takes API tokens. ``HttpClient``
  registers the token in ``adapters.secrets.SECRETS``, which knows that form
  (``Basic base64(token:)``) too, so the header this client builds is scrubbed from every
  error, response and log line like any other credential.
- **Conditional GETs**: ABF answers every 2xx with an ``ETag`` and a matching
  ``If-None-Match`` with ``304 Not Modified``. The client keeps a small LRU cache of
  (ETag, decoded body) per URL for its backend and revalidates instead of re-downloading,
  with what was mapped from that body (``get_mapped``: not mapped again while it holds);
  ``not_modified`` counts the 304s. An answer without an ``ETag`` is used but not cached.
- **Windows**: lists are ``{"<things>": […], "url": …}`` pages by ``page``/``per_page``
  (default 20, at most 100) with no total; ``window(offset, count)`` reads one item beyond
  the window to know whether more follow.
- **Groups**: the server serves ``/groups/:id/pull_requests``, the documents say
  ``/group/:id/…``; the first spelling that answers is remembered.
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from adapters.errors import BadPayload, NotFound
from adapters.http import HttpClient, Params, Response
from adapters.paging import page_span
from adapters.passthrough import ANSWERED, Forward

API = "/api/v1"
MAX_PER_PAGE = 100  # rosa-build's paginate_params cap
CACHE_SIZE = 512
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Window:
    """Items ``offset …`` of a list and whether more follow."""

    items: list[dict[str, Any]]
    has_next: bool
    total: int | None


_NONE: Any = object()


class _Entry:
    """One answer: its ETag (``""``: none, not cached), its decoded body, and what was
    mapped from that body (by kind), kept while the server answers 304 for it."""

    __slots__ = ("body", "etag", "mapped")

    def __init__(self, etag: str, body: Any) -> None:
        self.etag = etag
        self.body = body
        self.mapped: dict[Hashable, Any] = {}


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


class AbfClient:
    """The ABF REST API of one backend instance, with its ETag cache."""

    def __init__(self, http: HttpClient, cache_size: int = CACHE_SIZE) -> None:
        self.http = http
        creds = http.config.credentials
        # ABF reads a token as the basic-auth login; the shared client would send "Token …".
        self._auth = {"Authorization": _basic(creds.token, "")} if creds.token else {}
        self._cache: OrderedDict[str, _Entry] = OrderedDict()
        self._cache_size = max(0, cache_size)
        self._group_spelling: str | None = None
        self.not_modified = 0

    @property
    def backend(self) -> str:
        """The backend instance name, for errors."""
        return self.http.config.backend

    @staticmethod
    def path(rel: str) -> str:
        """``rel`` (e.g. ``projects/3/pull_requests``) as an API path."""
        return f"{API}/{rel.strip('/')}.json"

    async def get(self, rel: str, params: Params | None = None) -> Any:
        """GET one resource as decoded JSON, revalidating a cached copy by its ETag."""
        return (await self._entry(rel, params)).body

    async def get_mapped(
        self, rel: str, kind: Hashable, parse: Callable[[Any], T], params: Params | None = None
    ) -> T:
        """GET one resource mapped by ``parse`` (``kind`` names what it makes, a pure function
        of the body): while the server answers 304 for the cached copy, what ``parse`` made
        of it is given back instead of mapping the same body again. Records are immutable,
        so sharing one between requests is safe."""
        entry = await self._entry(rel, params)
        known = entry.mapped.get(kind, _NONE)
        if known is _NONE:
            known = entry.mapped[kind] = parse(entry.body)
        return cast(T, known)

    async def _entry(self, rel: str, params: Params | None) -> _Entry:
        path = self.path(rel)
        key = path + ("?" + urlencode(sorted(_flat(params))) if params else "")
        cached = self._cache.get(key)
        headers = dict(self._auth)
        if cached is not None:
            headers["If-None-Match"] = cached.etag
        resp = await self.http.get(path, params, headers, allow_status=(304,))
        if resp.status == 304:
            if cached is None:
                raise BadPayload(self.backend, "304 without a cached copy", status=304)
            self.not_modified += 1
            self._cache.move_to_end(key)
            return cached
        entry = _Entry(resp.headers.get("ETag") or "", resp.json())
        if entry.etag and self._cache_size:
            self._cache[key] = entry
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.pop(key, None)
        return entry

    async def window(
        self, rel: str, key: str, params: Mapping[str, str | int], offset: int, count: int
    ) -> Window:
        """Items ``offset … offset+count-1`` of the list ``rel`` (items under ``key``)."""
        need = count + 1  # one more, to know whether a next page exists
        page, per_page, skip = page_span(offset, need, MAX_PER_PAGE)
        items: list[dict[str, Any]] = []
        while True:
            body = await self.get(rel, {**params, "page": page, "per_page": per_page})
            batch = _items(body, key, self.backend)
            items.extend(batch[skip:])
            skip = 0
            if len(items) >= need or len(batch) < per_page:
                break
            page += 1
        has_next = len(items) > count
        items = items[:count]
        return Window(
            items=items, has_next=has_next, total=None if has_next else offset + len(items)
        )

    async def group_pull_requests(
        self, group: str, params: Mapping[str, str | int], offset: int, count: int
    ) -> Window:
        """A group's pull requests under whichever path spelling the server serves."""
        spellings = [self._group_spelling] if self._group_spelling else ["groups", "group"]
        last: NotFound | None = None
        for spelling in spellings:
            try:
                found = await self.window(
                    f"{spelling}/{group}/pull_requests", "pull_requests", params, offset, count
                )
            except NotFound as exc:
                last = exc
                continue
            self._group_spelling = spelling
            return found
        assert last is not None
        raise last

    async def send(self, method: str, rel: str, body: Mapping[str, Any]) -> Any:
        """A write with a JSON body; never retried. Returns the decoded answer."""
        resp = await self.http.send(method, self.path(rel), json=body, headers=self._auth)
        return resp.json()

    # -- the REST compatibility layer (adapters/abf/rest.py) -------------------------------

    async def compat_get(self, rel: str, params: Params) -> Response:
        """One GET as the compat layer asked it; ABF's refusals are answers, not errors."""
        return await self.http.get(self.path(rel), params, self._auth, allow_status=REFUSALS)

    async def passthrough(self, forward: Forward, *, anonymous: bool) -> Response:
        """One raw exchange (``adapters/passthrough.py``), with the token login or none."""
        http = self.http.anonymous() if anonymous else self.http
        headers = {**forward.headers, **({} if anonymous else self._auth)}
        return await http.forward(forward.method, forward.target, headers, forward.body, ANSWERED)

    async def compat_send(self, method: str, rel: str, body: Mapping[str, Any]) -> Response:
        """One write, exactly once; ABF's refusals (403, 404, 422…) are answers."""
        return await self.http.send(
            method, self.path(rel), json=body, headers=self._auth, allow_status=REFUSALS
        )


# ABF's own answers to a bad request, re-served by the compat layer as they are.
REFUSALS = (400, 401, 403, 404, 405, 422)


def _flat(params: Params | None) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for k, v in (params or {}).items():
        values: Sequence[str | int] = v if isinstance(v, list | tuple) else [v]  # type: ignore[list-item]
        pairs.extend((k, str(x)) for x in values)
    return pairs


def _items(body: Any, key: str, backend: str) -> list[dict[str, Any]]:
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise BadPayload(backend, f"expected a {{{key!r}: [...]}} list answer")
    return items
