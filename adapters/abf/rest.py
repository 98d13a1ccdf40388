"""ABF's ``/api/v1/…json`` API re-served for one backend (the REST compatibility layer).

Mounted by the gateway at ``/rest/<backend>/`` for every backend of kind ``abf``
(``adapters.registry.COMPAT_ROUTERS``):

* pull requests: ``pull_requests``, ``user/pull_requests``, ``group(s)/:id/pull_requests``,
  ``projects/:id/pull_requests`` (GET; POST creates), ``projects/:id/pull_requests/:n``
  (GET; PUT updates), ``…/:n/commits``, ``…/:n/files``, ``…/:n/merge`` (PUT);
* ``user``, ``users/:id``, ``groups/:id``, ``projects``, ``projects/get_id``,
  ``projects/:id``.

Answers are parsed into records (``mapping``) and rendered back (``render``) in the form the
backend used; the client's filters and ``page``/``per_page`` go upstream as sent (one request
per compat request). Byte details ABF clients rely on: JSON bodies for every error
(``{"message": …}``, Devise's ``{"error": …}`` for 401), ``application/json; charset=utf-8``,
an ``ETag`` on every 2xx and ``304 Not Modified`` for a matching ``If-None-Match``. Writes
reach the backend exactly once; its 403/404/422 answers are re-served.

Callers authenticate as ABF clients do, with HTTP basic auth: a gateway compat token as the
password (``login:token``) or as the login with an empty password (ABF's token style).

An anonymous caller (``[compat] anonymous_reads``) is answered over the gateway's account
but never with that account's own data: a hidden project and everything under it is ABF's
404, lists leave their items out, and what ABF answers about "the authenticated user"
(``user``, ``user/pull_requests``, the assigned/created lists) is its 401 — the checks
of ``adapters/abf/anonymous.py``, made before the request that would read the data.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import Response

from adapters import native, passthrough
from adapters.abf import mapping, render
from adapters.abf.anonymous import AnonymousAbfSource
from adapters.abf.records import PullRequest
from adapters.abf.source import AbfSource
from adapters.base import Source
from adapters.compat import CompatCall, CompatRouter, basic_pair, kind_router, query_lists
from adapters.errors import BadPayload, NotFound, UpstreamError
from adapters.http import Response as Upstream
from adapters.model import Project
from adapters.native import Reason

_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
REFUSALS = (400, 401, 403, 404, 405, 422)
API_ROOTS = ("/api/v1/",)  # what pass-through may reach (CompatKind.roots)

Parse = Callable[[Any], Any]


def presented(request: Request, path: str) -> str | None:
    """The key in HTTP basic auth: the password, or the login when the password is empty
    (ABF's token style). Devise only tries HTTP auth with a login: an empty one
    (``Basic Og==``, what clients send before a login is set, or ``Basic :<password>``) is
    anonymous on ABF, and so is any other scheme."""
    try:
        pair = basic_pair(request)
    except ValueError:
        return ""
    if pair is None or not pair[0]:
        return None
    login, password = pair
    return password or login


def router(source: Source) -> CompatRouter:
    """The compat router of one ABF backend (the factory in ``COMPAT_ROUTERS``)."""
    return kind_router(source, AbfSource, _serve, _failed)


def _failed(call: CompatCall, exc: UpstreamError) -> Response:
    return native.upstream_failure("abf", exc, head=call.request.method == "HEAD")


def _native(request: Request, reason: Reason) -> Response:
    return native.answer("abf", reason).response(head=request.method == "HEAD")


def _json(request: Request, body: Any, status: int = 200) -> Response:
    """A JSON answer; a 2xx carries an ETag and becomes 304 when the client has it."""
    raw = orjson.dumps(body)
    # Header names as rosa-build (Rack) writes them: Starlette lower-cases names given to
    # Response, so they go to raw_headers as spelled (docs/compat.md).
    headers: list[tuple[bytes, bytes]] = []
    if 200 <= status < 300:
        etag = 'W/"' + hashlib.md5(raw, usedforsecurity=False).hexdigest() + '"'
        headers.append((b"ETag", etag.encode()))
        wanted = [t.strip() for t in request.headers.get("if-none-match", "").split(",")]
        if etag in wanted or "*" in wanted:
            response = Response(b"", 304)
            response.raw_headers.extend(headers)
            return response
    response = Response(b"" if request.method == "HEAD" else raw, status)
    response.raw_headers.extend([(b"Content-Type", b"application/json; charset=utf-8"), *headers])
    return response


async def _serve(call: CompatCall, source: AbfSource) -> Response:
    request, caller, path = call.request, call.caller, call.path
    method = "GET" if request.method == "HEAD" else request.method
    parts = path[len("api/v1/") : -len(".json")].split("/")
    found = None
    api = path.startswith("api/v1/") and path.endswith(".json")
    if api and all(_SEGMENT.fullmatch(p) for p in parts):
        found = _route(method, parts, source.name)
    if found is None:
        return await _pass(call, source)
    if caller.invalid_token or (not caller.may_read and not caller.authenticated):
        return _native(request, Reason.BAD_CREDENTIALS)
    rel = "/".join(parts)
    params = query_lists(request)
    view = None if caller.authenticated else source.anonymous_view()
    if isinstance(view, AnonymousAbfSource) and method == "GET":
        refusal = await _anonymous_refusal(view, parts, params)
        if refusal is not None:
            return _native(request, refusal)
    if method != "GET":
        if not caller.authenticated:
            return _native(request, Reason.ANONYMOUS_WRITE)
        if not caller.can_write:
            return _native(request, Reason.READ_ONLY)
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _json(request, {"message": "Bad request"}, 400)
        upstream = await source.compat_send(method, rel, body if isinstance(body, dict) else {})
    else:
        upstream = await source.compat_get(rel, params)
    if upstream.status in REFUSALS:
        return _refusal(request, upstream)
    out = await _answer(source, view, found, parts, upstream.json())
    if out is None:
        return _native(request, Reason.NOT_FOUND)  # get_id of a hidden project
    return _json(request, render.move_urls(out, _path_of(call.base), source.url), upstream.status)


async def _answer(
    source: AbfSource,
    view: AbfSource | None,
    found: tuple[str, Parse, render.Render],
    parts: list[str],
    answer: Any,
) -> Any:
    """The backend's answer re-drawn from its records (each item keeps the form the server
    used); ``None`` when an anonymous caller may not see the project asked for."""
    kind, parse, draw = found
    if kind == "write":
        number, message = mapping.write_answer(source.name, answer)
        out = render.conform(render.write_json(number, message), answer)
    elif kind == "list":
        key = "commits" if parts[-1] == "commits" else parts[-1]
        items = answer.get(key) if isinstance(answer, dict) else None
        if not isinstance(items, list):
            raise BadPayload(source.name, f"expected a {{{key!r}: [...]}} list answer")
        records = [parse(d) for d in items]
        if isinstance(view, AnonymousAbfSource) and key in ("projects", "pull_requests"):
            shown = await view.are_public([_project_of(r) for r in records])
            pairs = [(r, d) for r, d, ok in zip(records, items, shown, strict=True) if ok]
        else:
            pairs = list(zip(records, items, strict=True))
        out = {**answer, key: [render.conform(draw(r), d) for r, d in pairs]}
    else:
        wrapper = kind  # "pull_request", "project", "user", "group"
        inner = answer.get(wrapper) if isinstance(answer, dict) else None
        if not isinstance(inner, dict):
            raise BadPayload(source.name, f"expected a {{{wrapper!r}: {{…}}}} answer")
        if view is not None and wrapper == "project" and inner.get("visibility", "open") != "open":
            return None  # get_id of a hidden project
        out = {**answer, wrapper: render.conform(draw(parse(inner)), inner)}
    return out


async def _pass(call: CompatCall, source: AbfSource) -> Response:
    """A route not modelled here: passed through when the allow-list has it (else ABF's 404),
    with ABF's refusals for callers who may not read or write."""
    request, caller = call.request, call.caller
    if not passthrough.allowed(call.path, call.passthrough, roots=API_ROOTS):
        return _native(request, Reason.NOT_FOUND)
    if caller.invalid_token or (not caller.may_read and not caller.authenticated):
        return _native(request, Reason.BAD_CREDENTIALS)
    if passthrough.is_write(request):
        if not caller.authenticated:
            return _native(request, Reason.ANONYMOUS_WRITE)
        if not caller.can_write:
            return _native(request, Reason.READ_ONLY)
    prefix = _path_of(call.base)

    def api_paths(body: bytes, content_type: str) -> bytes:
        # rosa-build writes its own API links as paths ("url": "/api/v1/…")
        if "json" not in content_type or b'"/api/v1/' not in body:
            return body
        try:
            return orjson.dumps(render.move_urls(orjson.loads(body), prefix, source.url))
        except orjson.JSONDecodeError:
            return body

    return await passthrough.forward(call, source, source.url, rewrite_body=api_paths)


async def _anonymous_refusal(
    view: AnonymousAbfSource, parts: list[str], params: dict[str, list[str]]
) -> Reason | None:
    """ABF's answer to an anonymous user where it differs from the gateway account's."""
    lists = parts[-1] == "pull_requests" and parts[0] != "projects"
    involvement = (params.get("filter") or ["assigned"])[-1]
    if parts[:1] == ["user"] or (lists and involvement != "all"):
        return Reason.NO_CREDENTIALS  # "the authenticated user's": there is none
    if parts[0] == "projects" and len(parts) > 1 and parts[1].isdigit():
        try:
            await view.check_visible(parts[1])
        except NotFound:
            return Reason.NOT_FOUND  # hidden, as ABF answers a project one may not see
    return None


def _project_of(record: Any) -> Project:
    return record.project if isinstance(record, PullRequest) else record


def _path_of(base: str) -> str:
    # Paths as the backend writes them: "/api/v1/…" relative, so "/rest/<backend>/api/v1/…".
    return urlsplit(base).path


def _route(method: str, parts: list[str], name: str) -> tuple[str, Parse, render.Render] | None:
    pull = (partial(mapping.pull_request, name), render.pull_json)
    n = len(parts)
    if method in ("POST", "PUT"):
        write = ("write", _none, _none_render)
        if method == "POST" and n == 3 and parts[0] == "projects" and parts[2] == "pull_requests":
            return write
        if (
            method == "PUT"
            and n in (4, 5)
            and parts[0] == "projects"
            and parts[2] == "pull_requests"
        ) and (n == 4 or parts[4] == "merge"):
            return write
        return None
    if method != "GET":
        return None
    lists = (
        parts == ["pull_requests"]
        or parts == ["user", "pull_requests"]
        or (n == 3 and parts[0] in ("group", "groups") and parts[2] == "pull_requests")
        or (n == 3 and parts[0] == "projects" and parts[2] == "pull_requests")
    )
    if lists:
        return ("list", *pull)
    if parts == ["projects"]:
        return "list", partial(mapping.project, name), render.project_json
    if n == 5 and parts[0] == "projects" and parts[2] == "pull_requests":
        if parts[4] == "commits":
            return "list", partial(mapping.commit, name), render.commit_json
        if parts[4] == "files":
            return "list", partial(mapping.file_change, name), render.file_json
        return None
    if n == 4 and parts[0] == "projects" and parts[2] == "pull_requests":
        return ("pull_request", *pull)
    if n == 2 and parts[0] == "projects":
        return "project", partial(mapping.project, name), render.project_json
    if parts == ["user"] or (n == 2 and parts[0] == "users"):
        return "user", partial(mapping.person, name), render.person_json
    if n == 2 and parts[0] == "groups":
        return "group", partial(mapping.group, name), render.group_json
    return None


def _none(d: Any) -> None:
    return None


def _none_render(record: Any) -> None:
    return None


def _refusal(request: Request, upstream: Upstream) -> Response:
    try:
        body = upstream.json()
    except BadPayload:
        body = {"message": f"HTTP {upstream.status}"}
    if upstream.status == 422 and isinstance(body, dict) and "pull_request" in body:
        number, message = mapping.write_answer("", body)
        body = render.conform(render.write_json(number, message), body)
    return _json(request, body, upstream.status)
