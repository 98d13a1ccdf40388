"""HTTP access to one freedesktop Patchwork server (API 1.0). Speaks HTTP; knows no records.

- Every entry point lives under ``/api/1.0/`` (the fork never had another version; the API
  root's ``revision`` tells which features it has).
- **Windows**: lists come as ``{count, next, previous, results}``, paged by ``page`` and
  ``perpage`` (at most 100). ``window(offset, count)`` picks the ``perpage`` that makes the
  requested window fall inside one upstream page whenever possible (one request) and follows
  ``next`` when the server returns fewer items than asked. A page past the end (Django REST
  framework answers ``404 {"detail": "Invalid page."}``) is an empty window, not an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from adapters.errors import NotFound
from adapters.http import HttpClient, Params, Response
from adapters.paging import page_span
from adapters.patchwork_common import is_invalid_page
from adapters.patchwork_fdo import mapping

API = "/api/1.0/"
MAX_PER_PAGE = 100  # the fork's max_paginate_by


@dataclass(frozen=True, slots=True)
class Window:
    """Items ``offset …`` of a list, whether more follow, and the list's ``count``."""

    items: list[dict[str, Any]]
    has_next: bool
    total: int | None


class FdoClient:
    """The freedesktop Patchwork REST API of one backend instance."""

    def __init__(self, http: HttpClient, page_cap: int = MAX_PER_PAGE) -> None:
        self.http = http
        self.page_cap = max(1, min(page_cap, MAX_PER_PAGE))

    @property
    def backend(self) -> str:
        """The backend instance name, for errors."""
        return self.http.config.backend

    def url(self, rel: str) -> str:
        """The absolute URL of ``rel`` under the API root (for ``mboxUrl`` and the like)."""
        return self.http.resolve(f"{API}{rel}")

    async def get(self, rel: str, params: Params | None = None) -> Any:
        """GET one API resource as JSON."""
        body, _ = await self.http.get_json(f"{API}{rel}", params)
        return body

    async def text(self, rel: str, params: Params | None = None) -> str:
        """GET a non-JSON resource (an mbox) as text."""
        resp = await self.http.get(f"{API}{rel}", params)
        return resp.text()

    async def window(self, rel: str, params: Params, offset: int, count: int) -> Window:
        """List items ``offset … offset+count-1`` of ``rel`` with ``params`` as filters."""
        page, per_page, skip = page_span(offset, count, self.page_cap)
        query: dict[str, str | int | Sequence[str | int]] = {
            **params,
            "page": page,
            "perpage": per_page,
        }
        resp = await self.http.get(f"{API}{rel}", query, allow_status=(404,))
        if resp.status == 404:
            if is_invalid_page(resp):
                return Window(items=[], has_next=False, total=None)
            raise NotFound(self.backend, "not found (HTTP 404)", status=404)
        results, total, nxt = mapping.envelope(self.backend, resp.json())
        items = results[skip:]
        while len(items) < count and nxt is not None:
            results, total, nxt = mapping.envelope(self.backend, await self._get_json(nxt))
            items.extend(results)
        has_next = len(items) > count or nxt is not None
        if total is not None:
            has_next = offset + min(len(items), count) < total
        return Window(items=items[:count], has_next=has_next, total=total)

    async def all_items(self, rel: str, params: Params | None = None) -> list[dict[str, Any]]:
        """Every item of a (short) list, following ``next`` links."""
        query = {**(params or {}), "perpage": self.page_cap}
        body = await self.get(rel, query)
        results, _, nxt = mapping.envelope(self.backend, body)
        items = list(results)
        while nxt is not None:
            results, _, nxt = mapping.envelope(self.backend, await self._get_json(nxt))
            items.extend(results)
        return items

    async def _get_json(self, url: str) -> Any:
        # ``next`` is an absolute URL from the payload: HttpClient refuses other origins.
        body, _ = await self.http.get_json(url)
        return body

    async def send(self, method: str, rel: str, body: Mapping[str, Any]) -> Any:
        """A write with a JSON body; never retried. The JSON answer (``None`` when empty)."""
        resp = await self.http.send(method, f"{API}{rel}", json=body)
        return resp.json() if resp.body.strip() else None

    # -- the REST compatibility layer (adapters/patchwork_fdo/rest.py) ----------------------

    async def compat_get(self, rel: str, params: Params) -> Response:
        """One GET as the compat layer asked it; the fork's refusals are answers, not errors."""
        return await self.http.get(f"{API}{rel}", params, allow_status=REFUSALS)

    async def compat_post(self, rel: str, body: Mapping[str, Any]) -> Response:
        """One write, exactly once; the fork's refusals are answers, not errors."""
        return await self.http.send("POST", f"{API}{rel}", json=body, allow_status=REFUSALS)


# The fork's own answers to a bad request, re-served by the compat layer as they are.
REFUSALS = (400, 401, 403, 404, 405)
