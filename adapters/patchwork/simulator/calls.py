"""The Patchwork simulator's request plumbing: one call, its errors, auth, pagination,
bodies and the view's ``Allow`` (shared by the read and write handlers)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from adapters.patchwork.render import replace_query_param
from adapters.patchwork.simulator.data import (
    PatchworkData,
    Record,
)
from adapters.patchwork.simulator.query import (
    Query,
)
from adapters.patchwork.simulator.render import Ctx, Json, Renderer

VERSIONS = {"1.0": 10, "1.1": 11, "1.2": 12, "1.3": 13}
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 250
NOT_AUTHENTICATED = "Authentication credentials were not provided."
NO_PERMISSION = "You do not have permission to perform this action."
READ = "GET, HEAD, OPTIONS"
EDIT = "GET, PUT, PATCH, HEAD, OPTIONS"
BUNDLE_LIST = "GET, POST, HEAD, OPTIONS"
BUNDLE_DETAIL = "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
LIST_FIELDS = ("patches",)  # many-related fields of the writable serializers (bundles)


class ApiError(Exception):
    """Ends a request with a JSON (or HTML) error response."""

    def __init__(self, status: int, body: Any = None, *, html: bool = False) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.html = html


def not_found_html(path: str) -> ApiError:
    return ApiError(404, path, html=True)


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    # orjson writes what ``json.dumps(ensure_ascii=False, separators=(",", ":"))`` writes for
    # this data (strings, ints, bools, null), 10x faster: the simulator is a benchmark upstream.
    resp = web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", charset="utf-8"
    )
    resp.headers["Vary"] = "Accept, Cookie"
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def html_404(path: str) -> web.Response:
    body = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n  <meta http-equiv="content-type" '
        f'content="text/html; charset=utf-8">\n  <title>Page not found at {path}</title>\n'
        "</head>\n<body>\n  <h1>Page not found <small>(404)</small></h1>\n"
        f"  <p>The current path, <code>{path.lstrip('/')}</code>, didn't match any of these.</p>\n"
        "</body>\n</html>\n"
    )
    return web.Response(text=body, status=404, content_type="text/html", charset="utf-8")


# -- query helpers ----------------------------------------------------------------------------


# -- the application -------------------------------------------------------------------------


Handler = Callable[["Call"], Awaitable[web.StreamResponse]]


@dataclass
class Call:
    """One API request, parsed."""

    request: web.Request
    data: PatchworkData
    ctx: Ctx
    parts: list[str]
    query: Query

    @property
    def r(self) -> Renderer:
        return Renderer(self.data, self.ctx)


def _authenticate(request: web.Request, data: PatchworkData) -> int | None:
    header = request.headers.get("Authorization", "")
    scheme, _, cred = header.partition(" ")
    scheme = scheme.lower()
    cred = cred.strip()
    if scheme == "token":
        if cred not in data.tokens:
            raise ApiError(403, {"detail": "Invalid token."})
        return data.tokens[cred]
    if scheme == "basic":
        try:
            user, _, password = base64.b64decode(cred).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(
                403, {"detail": "Invalid basic header. Credentials not correctly base64 encoded."}
            ) from None
        uid = next((k for k, u in data.users.items() if u["username"] == user), None)
        if uid is None or data.passwords.get(user) != password:
            raise ApiError(403, {"detail": "Invalid username/password."})
        return uid
    return None


def _paginate(
    call: Call, items: list[Record], render: Callable[[int], Json], allow: str = READ
) -> web.Response:
    q = call.query
    try:
        per_page = int(q.get("per_page") or "")
        if per_page <= 0:
            raise ValueError
        per_page = min(per_page, MAX_PER_PAGE)
    except ValueError:
        per_page = DEFAULT_PER_PAGE
    pages = max(1, -(-len(items) // per_page))
    raw_page = q.get("page") or "1"
    try:
        page = pages if raw_page == "last" else int(raw_page)
    except ValueError:
        page = 0
    if not 1 <= page <= pages:
        raise ApiError(404, {"detail": "Invalid page."})
    req = call.request
    url = f"{call.ctx.origin}{req.raw_path}"
    links = []
    if page < pages:
        links.append(f'<{replace_query_param(url, "page", str(page + 1))}>; rel="next"')
    if page > 1:
        prev = replace_query_param(url, "page", None if page == 2 else str(page - 1))
        links.append(f'<{prev}>; rel="prev"')
    links.append(f'<{replace_query_param(url, "page", "1")}>; rel="first"')
    links.append(f'<{replace_query_param(url, "page", str(pages))}>; rel="last"')
    body = [render(int(i["id"])) for i in items[(page - 1) * per_page : page * per_page]]
    headers = {"Link": ", ".join(links), "Allow": allow}
    if _wants_html(call):
        return _browsable(body, headers)
    return json_response(body, headers=headers)


def _wants_html(call: Call) -> bool:
    fmt = call.query.get("format")
    if fmt is not None:
        return fmt == "api"
    accept = call.request.headers.get("Accept", "")
    return accept.split(",")[0].strip().startswith("text/html")


def _browsable(body: Any, headers: dict[str, str]) -> web.Response:
    """A minimal stand-in for DRF's browsable API page."""
    pretty = (
        json.dumps(body, indent=4, ensure_ascii=False).replace("&", "&amp;").replace("<", "&lt;")
    )
    html = (
        "<!DOCTYPE html>\n<html><head><title>Django REST framework</title></head>\n"
        f"<body><pre>{pretty}</pre></body></html>\n"
    )
    resp = web.Response(text=html, content_type="text/html", charset="utf-8")
    resp.headers.update(headers)
    return resp


def _detail(call: Call, body: Json, allow: str = READ, status: int = 200) -> web.Response:
    if _wants_html(call):
        return _browsable(body, {"Allow": allow})
    return json_response(body, status=status, headers={"Allow": allow})


def _get(table: dict[int, Record], raw: str, model: str) -> int:
    try:
        pk = int(raw)
    except ValueError:
        raise ApiError(404, {"detail": f"No {model} matches the given query."}) from None
    if pk not in table:
        raise ApiError(404, {"detail": f"No {model} matches the given query."})
    return pk


def _require_auth(call: Call) -> int:
    if call.ctx.user is None:
        raise ApiError(403, {"detail": NOT_AUTHENTICATED})
    return call.ctx.user


def _method_not_allowed(call: Call, allow: str) -> ApiError:
    method = call.request.method
    return ApiError(405, {"detail": f'Method "{method}" not allowed.', "_allow": allow})


def _can_edit_patch(data: PatchworkData, patch: Record, uid: int | None) -> bool:
    if uid is None:
        return False
    if uid in data.projects[patch["project"]]["maintainers"] or patch["delegate"] == uid:
        return True
    submitter_user = data.people[patch["submitter"]]["user"]
    return submitter_user is not None and submitter_user == uid


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    if request.content_type == "application/json":
        try:
            parsed = await request.json()
        except ValueError as exc:
            raise ApiError(400, {"detail": f"JSON parse error - {exc}"}) from None
        if not isinstance(parsed, dict):
            raise ApiError(
                400, {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
            )
        return parsed
    form = await request.post()
    out: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    # DRF reads a many-field of a form with ``getlist``: every value, even a single one
    for key in LIST_FIELDS:
        if key in form:
            out[key] = [v for v in form.getall(key) if isinstance(v, str)]
    return out


def _visible_bundles(call: Call) -> list[Record]:
    uid = call.ctx.user
    return [b for b in call.data.bundles.values() if b["public"] or b["owner"] == uid]
