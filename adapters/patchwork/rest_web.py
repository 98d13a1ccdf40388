"""The Patchwork web routes the compat layer serves: the downloads and redirects the API
payloads' ``mbox`` fields point at, and the ``web_url`` pages rendered from records
(``pages.py``). The API itself is ``rest.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from adapters.compat import Caller, query_lists
from adapters.errors import NotFound
from adapters.patchwork import mapping, pages
from adapters.patchwork.client import Refused
from adapters.patchwork.render import Urls
from adapters.patchwork.responses import (
    NOT_AUTHENTICATED,
    PatchworkResponse,
    credential_text,
    html_404,
    json_response,
)
from adapters.patchwork.source import PatchworkSource

Parse = Callable[[dict[str, Any]], Any]


def _web_route(parts: list[str]) -> bool:
    """Whether ``parts`` is one of the download/redirect routes the compat layer serves."""
    n = len(parts)
    if n in (2, 3) and parts[0] in ("patch", "cover") and parts[1].isdigit():
        allowed = ("mbox", "raw") if parts[0] == "patch" else ("mbox",)
        return n == 2 or parts[2] in allowed
    if n == 5 and parts[0] == "project" and parts[2] in ("patch", "cover"):
        return parts[4] in (("mbox", "raw") if parts[2] == "patch" else ("mbox",))
    if _is_page(parts):
        return True
    if n == 3 and parts[0] == "series" and parts[1].isdigit():
        return parts[2] == "mbox"
    return n == 4 and parts[0] == "bundle" and parts[3] == "mbox"


async def web(
    request: Request, source: PatchworkSource, base: str, caller: Caller, parts: list[str]
) -> Response:
    if request.method not in ("GET", "HEAD") or not _web_route(parts):
        return html_404(request.url.path)
    if caller.invalid_token:
        return json_response({"detail": credential_text(request)}, 403)
    if not caller.may_read and not caller.authenticated:
        return json_response({"detail": NOT_AUTHENTICATED}, 403)
    if _is_page(parts):
        try:
            return await _page(request, source, base, parts)
        except (Refused, NotFound):
            return html_404(request.url.path)
    params = query_lists(request)
    if parts[0] == "bundle" and not caller.authenticated:
        # As for the API: an anonymous caller downloads public bundles only.
        version = await source.compat_version(None)
        parse = partial(mapping.bundle, source.name)
        found, _ = await source.fetch_page("bundles/", {"owner": [parts[1]]}, parse, version)
        if not any(b.name == parts[2] and b.public for b in found):
            return html_404(request.url.path)
    resp = await source.fetch_web("/" + "/".join(parts) + "/", params)
    if resp.status == 404:
        return html_404(request.url.path)
    head = request.method == "HEAD"
    if resp.status in (301, 302):
        location = _gateway_location(resp.headers.get("Location", ""), source.url, base)
        return PatchworkResponse(
            b"", resp.status, [("Content-Type", "text/html; charset=utf-8"), ("Location", location)]
        )
    headers = [("Content-Type", resp.headers.get("Content-Type", "text/plain"))]
    # the backend's Vary too: a bundle download varies by session cookie (Vary: Cookie)
    for name in ("Content-Disposition", "Vary"):
        kept = resp.headers.get(name)
        if kept:
            headers.append((name, kept))
    return PatchworkResponse(resp.body, resp.status, headers, head=head)


def _is_page(parts: list[str]) -> bool:
    """``project/<p>/{patch,cover}/<msgid>/`` or ``project/<p>/list/`` (pages.py)."""
    if len(parts) == 4 and parts[0] == "project":
        return parts[2] in ("patch", "cover")
    return len(parts) == 3 and parts[0] == "project" and parts[2] == "list"


async def _page(request: Request, source: PatchworkSource, base: str, parts: list[str]) -> Response:
    """A ``web_url`` page rendered from records (see pages.py); 404 when there is none."""
    urls = Urls(base=base, upstream=source.url, version=13, api="/api")
    version = await source.compat_version(None)
    link, name = parts[1], source.name
    body: bytes | None = None
    if parts[2] == "list":
        sid = request.query_params.get("series", "")
        if sid.isdigit():
            series = await source.fetch_one(
                f"series/{sid}/", partial(mapping.series, name), version
            )
            if series.project is not None and series.project.link_name == link:
                body = pages.series_page(urls, series)
    else:
        resource = "patches" if parts[2] == "patch" else "covers"
        parse: Parse = partial(mapping.patch if resource == "patches" else mapping.cover, name)
        params = {"project": [link], "msgid": [parts[3]]}
        found, _ = await source.fetch_page(f"{resource}/", params, parse, version)
        # An old backend ignores the msgid filter: match here as well.
        hits = [r for r in found if r.msgid.strip("<>") == parts[3]]
        if hits:
            record = await source.fetch_one(f"{resource}/{hits[0].id}/", parse, version)
            if resource == "patches":
                body = pages.patch_page(urls, record)
            else:
                body = pages.cover_page(urls, record)
    if body is None:
        return html_404(request.url.path)
    headers = [("Content-Type", "text/html; charset=utf-8")]
    return PatchworkResponse(body, 200, headers, head=request.method == "HEAD")


def _gateway_location(location: str, upstream: str, base: str) -> str:
    """A backend redirect target, moved under the gateway (relative, as Patchwork sends it)."""
    upstream = upstream.rstrip("/")
    upstream_path = urlsplit(upstream).path
    if location.startswith(upstream + "/"):
        location = location[len(upstream) :]
    elif upstream_path and location.startswith(upstream_path + "/"):
        location = location[len(upstream_path) :]
    if not location.startswith("/"):
        # Not on the backend: never send a client to an arbitrary place on our authority.
        return f"{urlsplit(base).path}/"
    return f"{urlsplit(base).path}{location}"
