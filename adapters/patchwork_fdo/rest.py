"""The freedesktop Patchwork fork's API 1.0 re-served for one backend (REST compatibility layer).

Mounted by the gateway at ``/rest/<backend>/`` for every backend of kind ``patchwork-fdo``
(registered in ``adapters.registry.COMPAT_ROUTERS``). Every documented entry point:

* ``api/1.0/`` (metadata), ``projects/``, ``projects/<id|linkname>/`` and its ``series/``,
  ``patches/``, ``events/``;
* ``series/``, ``series/<id>/``, ``series/<id>/revisions/``, ``…/revisions/<v>/``,
  ``…/revisions/<v>/mbox/``, ``…/revisions/<v>/test-results/`` (GET and POST);
* ``patches/``, ``patches/<id>/``, ``patches/<id>/mbox/``.

One upstream request per compat request, with the client's own filters and ``page``/
``perpage``; the answer is parsed into records (``mapping``) and rendered back (``render``),
never passed through — except mbox downloads, whose bytes are the content. The envelope's
``next``/``previous`` point at the gateway. The fork's refusals (400, 404 ``Invalid page.``,
405…) are re-served as it sent them; other upstream failures are 502/504 naming the backend.
A test-result POST reaches the backend exactly once.

Callers authenticate as the fork's clients do — ``Authorization: Token <key>`` or HTTP basic
(the password is the key) — with a gateway compat token; see ``adapters/compat.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import Response

from adapters import native, passthrough
from adapters.base import Source
from adapters.compat import Caller, CompatCall, CompatRouter, drf_scheme, kind_router, query_lists
from adapters.errors import BadPayload, UpstreamError
from adapters.http import Response as Upstream
from adapters.model import Project
from adapters.native import Detail, Reason
from adapters.patchwork_fdo import mapping, render
from adapters.patchwork_fdo.source import FdoSource

API = "api/1.0"
API_ROOTS = ("/api/1.0/",)  # what pass-through may reach (CompatKind.roots)
KIND = "patchwork-fdo"
_SEGMENT = re.compile(r"[A-Za-z0-9_.+-]+")
_FORWARDED_HEADERS = ("Content-Type", "Content-Disposition")
_PATCH_PAGE = re.compile(r"patch/(\d+)/?")

Render = Callable[[Any], dict[str, Any]]


# Token, or the gateway token as a named user's basic password (both DRF authenticators).
presented = drf_scheme


def router(source: Source) -> CompatRouter:
    """The compat router of one fdo backend (the factory in ``COMPAT_ROUTERS``)."""
    return kind_router(source, FdoSource, _serve, _failed)


def _failed(call: CompatCall, exc: UpstreamError) -> Response:
    return native.upstream_failure(KIND, exc, head=call.request.method == "HEAD")


def _json(body: Any, status: int = 200, head: bool = False) -> Response:
    headers = {"Vary": "Accept"}
    content = b"" if head else orjson.dumps(body)
    response = Response(content, status, headers, media_type="application/json")
    if head:
        response.headers["Content-Length"] = str(len(orjson.dumps(body)))
    return response


def _credential_detail(request: Request) -> Detail:
    text = native.drf_credential_text(KIND, request.headers.get("authorization", ""))
    return Detail(message=text)


def _html_404() -> Response:
    return _native(Reason.NOT_FOUND, detail=Detail(api=False))


def _native(reason: Reason, head: bool = False, detail: Detail = native.NO_DETAIL) -> Response:
    return native.answer(KIND, reason, detail).response(head=head)


async def _serve(call: CompatCall, source: FdoSource) -> Response:
    request, caller = call.request, call.caller
    path = call.path
    page = _PATCH_PAGE.fullmatch(path)
    if page is not None and request.method in ("GET", "HEAD"):
        return await _patch_page(call, source, page.group(1))
    if not (path == API or path.startswith(API + "/")):
        return _html_404()
    if request.method in ("GET", "HEAD") and not path.endswith("/"):
        query = f"?{request.url.query}" if request.url.query else ""
        location = f"{urlsplit(call.base).path}/{path}/{query}"
        return Response(b"", 301, {"Location": location})
    parts = [p for p in path[len(API) :].split("/") if p]
    named = all(_SEGMENT.fullmatch(p) and p not in (".", "..") for p in parts)
    route = _route(parts) if named else None
    if route is None:
        return await _pass(call, source)
    head = request.method == "HEAD"
    if caller.invalid_token:
        return _native(Reason.BAD_CREDENTIALS, head, _credential_detail(call.request))
    if not caller.may_read and not caller.authenticated:
        return _native(Reason.NO_CREDENTIALS, head)
    what, allowed = route
    method = request.method
    if method not in (*allowed, "HEAD" if "GET" in allowed else ""):
        return _native(Reason.METHOD, detail=Detail(method=method))
    rel = "/".join(parts) + "/" if parts else ""
    if method == "POST":
        return await _post_result(call, source, parts, rel)
    params = query_lists(request)
    if not caller.authenticated and "self" in params.get("submitter", ()):
        # The gateway's account is no anonymous caller's "self": the fork's own refusal.
        return _json({"detail": "'self' needs an authenticated user."}, 403, head=head)
    upstream = await source.compat_get(rel, params)
    if upstream.status >= 400:
        return _refusal(upstream, head)
    return _answer(call, source, what, parts, upstream, "link" in params)


def _answer(
    call: CompatCall,
    source: FdoSource,
    what: str,
    parts: list[str],
    upstream: Upstream,
    links: bool,
) -> Response:
    """The backend's answer to a read re-drawn from its records (an mbox passes as it is,
    with its links moved under the gateway when ``?link`` asked for them)."""
    head = call.request.method == "HEAD"
    if what == "mbox":
        headers = {k: upstream.headers[k] for k in _FORWARDED_HEADERS if k in upstream.headers}
        body = _mbox_links(upstream.body, source, call) if links else upstream.body
        return Response(b"" if head else body, 200, headers)
    body = upstream.json()
    name = source.name
    if what == "root":
        return _json({"revision": mapping.api_revision(name, body)}, head=head)
    if what == "results":
        key = f"{parts[1]}/{parts[3]}"
        checks = mapping.test_results(name, key, body)
        return _json([render.test_result(c) for c in checks], head=head)
    parse, draw = _kinds(name, parts)[what]
    if what.endswith("-list"):
        items, count, nxt = mapping.envelope(name, body)
        records = [parse(d) for d in items]
        previous = body.get("previous") if isinstance(body, dict) else None
        out = {
            "count": count,
            "next": _link(nxt, source, call),
            "previous": _link(previous or None, source, call),
            "results": [draw(r) for r in records],
        }
        return _json(out, head=head)
    if not isinstance(body, dict):
        raise BadPayload(name, "expected a JSON object")
    return _json(draw(parse(body)), head=head)


async def _pass(call: CompatCall, source: FdoSource) -> Response:
    """A route not modelled here: passed through when the allow-list has it (else the
    fork's 404), with its refusals for callers who may not read or write."""
    caller = call.caller
    head = call.request.method == "HEAD"
    if not passthrough.allowed(call.path + "/", call.passthrough, roots=API_ROOTS):
        return _native(Reason.NOT_FOUND, head)
    if caller.invalid_token:
        return _native(Reason.BAD_CREDENTIALS, head, _credential_detail(call.request))
    if not caller.may_read and not caller.authenticated:
        return _native(Reason.NO_CREDENTIALS, head)
    if passthrough.is_write(call.request) and not caller.can_write:
        return _native(Reason.READ_ONLY if caller.authenticated else Reason.ANONYMOUS_WRITE)
    return await passthrough.forward(call, source, source.url)


def _route(parts: list[str]) -> tuple[str, tuple[str, ...]] | None:
    """What the path is (a key of ``_kinds``, or root/mbox/results) and its methods."""
    get = ("GET",)
    n = len(parts)
    if n == 0:
        return "root", get
    head = parts[0]
    if head == "projects":
        if n == 1:
            return "project-list", get
        if n == 2:
            return "project", get
        if n == 3 and parts[2] in ("series", "patches", "events"):
            return {"series": "series-list", "patches": "patch-list", "events": "event-list"}[
                parts[2]
            ], get
        return None
    if head == "patches":
        if n == 1:
            return "patch-list", get
        if not parts[1].isdigit() or n > 3:
            return None
        if n == 2:
            return "patch", get
        return ("mbox", get) if parts[2] == "mbox" else None
    if head != "series":
        return None
    if n == 1:
        return "series-list", get
    if not parts[1].isdigit():
        return None
    if n == 2:
        return "series", get
    if parts[2] != "revisions":
        return None
    if n == 3:
        return "revision-list", get
    if not parts[3].isdigit():
        return None
    if n == 4:
        return "revision", get
    if n == 5 and parts[4] == "mbox":
        return "mbox", get
    if n == 5 and parts[4] == "test-results":
        return "results", ("GET", "POST")
    return None


def _kinds(name: str, parts: list[str]) -> dict[str, tuple[Callable[[Any], Any], Render]]:
    def patch(d: dict[str, Any]) -> Any:
        # The compat answer needs only the project's id: no project lookup upstream.
        stub = Project(backend=name, id=str(d.get("project") or ""), name="", link_name="")
        return mapping.patch(name, d, stub)

    series_id = parts[1] if len(parts) > 1 else ""
    return {
        "project-list": (partial(mapping.project, name), render.project),
        "project": (partial(mapping.project, name), render.project),
        "series-list": (lambda d: mapping.series(name, d, _project_of(name, d)), render.series),
        "series": (lambda d: mapping.series(name, d, _project_of(name, d)), render.series),
        "revision-list": (lambda d: mapping.revision(name, series_id, d), render.revision),
        "revision": (lambda d: mapping.revision(name, series_id, d), render.revision),
        "patch-list": (patch, render.patch),
        "patch": (patch, render.patch),
        "event-list": (lambda d: mapping.event(name, d, _project_of(name, d)), render.event),
    }


def _project_of(name: str, d: dict[str, Any]) -> Project | None:
    pid = mapping.project_id(name, d)
    return None if pid is None else Project(backend=name, id=pid, name="", link_name="")


def _link(url: Any, source: FdoSource, call: CompatCall) -> str | None:
    """An envelope link of the backend, moved onto the gateway (query kept as the fork wrote it)."""
    if not isinstance(url, str) or not url:
        return None
    upstream = source.url.rstrip("/")
    if url.startswith(upstream + "/"):
        return call.base + url[len(upstream) :]
    # The backend names itself differently (a proxy in front): keep only its query.
    query = urlsplit(url).query
    return f"{call.base}/{call.path}" + (f"?{query}" if query else "")


def _mbox_links(body: bytes, source: FdoSource, call: CompatCall) -> bytes:
    """``?link=<tag>`` adds ``<tag>: <patch page>`` to each commit message; the page named
    is the backend's, so that one line is moved onto the gateway (which serves the page)."""
    upstream = re.escape(source.url.rstrip("/").encode())
    line = re.compile(rb"^([^:\n]+: )" + upstream + rb"(/patch/\d+/)$", re.MULTILINE)
    base = call.base.encode()
    return line.sub(lambda m: m.group(1) + base + m.group(2), body)


async def _patch_page(call: CompatCall, source: FdoSource, patch_id: str) -> Response:
    """``patch/<id>/``, the page an mbox ``?link=`` line names: a small HTML page rendered
    from the patch record (the fork's Django UI is not copied), linking to its API object
    and mbox through the gateway."""
    if not call.caller.may_read and not call.caller.authenticated:
        return _html_404()
    upstream = await source.compat_get(f"patches/{patch_id}/", {})
    if upstream.status >= 400:
        return _html_404()
    body = upstream.json()
    if not isinstance(body, dict):
        raise BadPayload(source.name, "expected a patch object")
    stub = Project(backend=source.name, id=str(body.get("project") or ""), name="", link_name="")
    patch = mapping.patch(source.name, body, stub)
    api = f"{call.base}/{API}/patches/{patch.id}/"
    page = render.patch_page(patch, api, f"{api}mbox/")
    return Response(b"" if call.request.method == "HEAD" else page, 200, media_type="text/html")


def _refusal(upstream: Upstream, head: bool) -> Response:
    try:
        body = upstream.json()
    except BadPayload:
        return _json({"detail": f"HTTP {upstream.status}"}, upstream.status, head)
    return _json(body, upstream.status, head)


async def _post_result(call: CompatCall, source: FdoSource, parts: list[str], rel: str) -> Response:
    caller: Caller = call.caller
    if not caller.authenticated:
        return _native(Reason.ANONYMOUS_WRITE)
    if not caller.can_write:
        return _native(Reason.READ_ONLY)
    try:
        body = orjson.loads(await call.request.body())
    except orjson.JSONDecodeError:
        return _json({"detail": "JSON parse error."}, 400)
    if not isinstance(body, dict):
        return _json({"non_field_errors": ["Invalid data."]}, 400)
    upstream = await source.compat_post(rel, body)
    if upstream.status >= 400:
        return _refusal(upstream, False)
    check = mapping.test_result(source.name, f"{parts[1]}/{parts[3]}", upstream.json())
    return _json(render.test_result(check), upstream.status)
