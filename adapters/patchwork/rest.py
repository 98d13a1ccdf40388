"""The upstream Patchwork REST API re-served for one backend (the REST compatibility layer).

The gateway mounts this at ``/rest/<backend>/`` for every backend of kind ``patchwork`` (see
``gateway/compat.py``), so git-pw, pwclient and scripts work unchanged when pointed at it:

* ``api/``, ``api/1.0/`` … ``api/1.3/``: index, projects, people, users, patches, covers,
  series, comments, checks (GET and POST), events, bundles; PATCH/PUT of a patch.
* the web routes the payloads' ``mbox`` fields point at: ``project/<p>/{patch,cover}/<msgid>/
  {mbox,raw}/``, the ``patch/<id>/…`` and ``cover/<id>/…`` redirects, ``series/<id>/mbox/``,
  ``bundle/<owner>/<name>/mbox/`` (``rest_web.py``).

Every API answer is *rendered* from unified records (``render.py``), never the backend's bytes:
one upstream request per compat request — the same page and ``per_page`` upstream, whose
``Link`` header gives the page numbers for ours — at the request's API version when the
backend has it (so its version-dependent filters apply). Writes reach the backend exactly
once. The backend's own refusals (validation errors, 403, 404, 405) are re-served with their
status and body; other upstream failures become 502/504 ``{"detail": …}`` naming the backend.

Callers authenticate as Patchwork clients do (``Authorization: Token <key>``); the gateway
checks the token (``Caller``, see ``adapters/compat.py``) and calls the backend with the
credential its configuration maps that token to (or the backend's own), which a client never
sees.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import Response

from adapters import native, passthrough
from adapters.base import Source
from adapters.compat import Caller, CompatCall, CompatRouter
from adapters.errors import NotFound, UpstreamError
from adapters.patchwork import mapping, rest_web, views
from adapters.patchwork.client import Refused
from adapters.patchwork.render import Json, Renderer, Urls, link_header, per_page_of
from adapters.patchwork.responses import (
    NO_PERMISSION,
    NOT_AUTHENTICATED,
    PatchworkResponse,
    credential_text,
    html_404,
    json_bytes,
    json_response,
)
from adapters.patchwork.rest_web import Parse
from adapters.patchwork.source import PatchworkSource
from adapters.stamps import StampMemo

VERSIONS = {"1.0": 10, "1.1": 11, "1.2": 12, "1.3": 13}
API_ROOTS = ("/api/",)  # what pass-through may reach (CompatKind.roots)
READ = "GET, HEAD, OPTIONS"
EDIT = "GET, PUT, PATCH, HEAD, OPTIONS"
POSTABLE = "GET, POST, HEAD, OPTIONS"
BUNDLE_DETAIL = "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"

Render = Callable[[Renderer, Any], Json]


class _Stop(Exception):
    """Ends a compat request early with ``response``."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


@dataclass
class _Call:
    """One compat request, parsed."""

    request: Request
    source: PatchworkSource
    base: str  # "<gateway origin>/rest/<backend>"
    caller: Caller
    path: str  # the path under the base, e.g. "api/1.3/patches/"
    parts: list[str]
    version_name: str | None  # "1.3", or None for the unversioned /api/

    def path_under_api(self) -> str:
        """The API path without ``api/<version>/``, e.g. ``patches/3/``."""
        return "/".join(self.parts) + "/" if self.parts else ""

    @property
    def head(self) -> bool:
        return self.request.method == "HEAD"

    def urls(self) -> Urls:
        version = VERSIONS[self.version_name] if self.version_name else 13
        fmt = self.request.query_params.get("format")
        return Urls(
            base=self.base,
            upstream=self.source.url,
            version=version,
            api=f"/api/{self.version_name}" if self.version_name else "/api",
            fmt=f"?{urlencode({'format': fmt})}" if fmt else "",
        )

    def renderer(self) -> Renderer:
        return Renderer(self.urls())


def router(source: Source) -> CompatRouter:
    """The compat router of one Patchwork backend (registered in ``adapters.registry``)."""
    if not isinstance(source, PatchworkSource):
        raise TypeError(f"backend {source.name!r} is not a Patchwork source")

    async def serve(call: CompatCall) -> Response:
        # ``handle`` predates CompatCall; the allow-list travels in the scope to ``_pass``.
        call.request.scope["revgate_passthrough"] = call.passthrough
        return await handle(call.request, source, call.base, call.caller, call.path)

    return serve


async def handle(
    request: Request, source: PatchworkSource, base: str, caller: Caller, path: str
) -> Response:
    """Answer one request for ``<base>/<path>`` from ``source``; never raises."""
    parts = [p for p in path.split("/") if p]
    try:
        if request.method in ("GET", "HEAD") and not path.endswith("/"):
            query = f"?{request.url.query}" if request.url.query else ""
            # The path arrives decoded: re-quote it, as a header must be Latin-1 (a path with
            # "Ā" would be a 500: tests/reliability/test_fuzz.py).
            location = quote(f"{urlsplit(base).path}/{path}/", safe="/:@!$&'()*+,;=~") + query
            headers = [("Content-Type", "text/html; charset=utf-8"), ("Location", location)]
            raise _Stop(PatchworkResponse(b"", 301, headers))
        if parts and parts[0] == "api":
            return await _api(request, source, base, caller, path, parts[1:])
        return await rest_web.web(request, source, base, caller, parts)
    except _Stop as stop:
        return stop.response
    except Refused as refused:
        if refused.body is None:
            return html_404(request.url.path)
        return json_response(refused.body, refused.status, head=request.method == "HEAD")
    except NotFound:
        return json_response({"detail": "Not found."}, 404)
    except UpstreamError as exc:
        return native.upstream_failure("patchwork", exc, head=request.method == "HEAD")


# -- the API ----------------------------------------------------------------------------------


def _allow_for(parts: list[str]) -> str:
    """The ``Allow`` header Patchwork sends for the view behind an API path."""
    if len(parts) == 1:
        return POSTABLE if parts[0] == "bundles" else READ
    if len(parts) == 2:
        if parts[0] == "bundles":
            return BUNDLE_DETAIL
        return EDIT if parts[0] in ("patches", "projects", "users") else READ
    if len(parts) == 3:
        return POSTABLE if parts[2] == "checks" else READ
    if len(parts) == 4:
        return EDIT if parts[2] == "comments" else READ
    return READ


# The writes served (what the views behind ``Allow`` implement), each passed on once.
_WRITES: dict[str, tuple[str, ...]] = {
    "projects/<id>": ("PATCH", "PUT"),
    "users/<id>": ("PATCH", "PUT"),
    "patches/<id>": ("PATCH", "PUT"),
    "patches/<id>/comments/<id>": ("PATCH", "PUT"),
    "covers/<id>/comments/<id>": ("PATCH", "PUT"),
    "patches/<id>/checks": ("POST",),
    "bundles": ("POST",),
    "bundles/<id>": ("PATCH", "PUT", "DELETE"),
}


def _exists(parts: list[str], version: int) -> bool:
    """Whether Patchwork has a view at this API path (at this version)."""
    resource, n = parts[0], len(parts)
    if resource in ("projects", "people", "users", "series", "bundles"):
        return n <= 2
    if resource == "events":
        return n == 1
    if resource not in ("patches", "covers"):
        return False
    if n <= 2:
        return True
    sub = parts[2]
    if sub == "checks" and resource == "patches":
        return n <= 4
    if sub == "comments":
        return (n == 3 and version >= 11) or (n == 4 and version >= 13)
    return False


def _kind(backend: str, parts: list[str]) -> tuple[Parse, Render]:
    """How to parse the backend's objects at an API path, and how to render them."""
    resource, detail = parts[0], len(parts) in (2, 4)
    if len(parts) >= 3:
        parent = parts[1]
        if parts[2] == "checks":
            return (lambda d: mapping.check(backend, d, parent)), Renderer.check
        kind = "Patch" if resource == "patches" else "Cover"
        return (lambda d: mapping.comment(backend, d, kind, parent)), Renderer.comment
    table: dict[str, tuple[Parse, Render]] = {
        "projects": (partial(mapping.project, backend), Renderer.project),
        "people": (partial(mapping.person, backend), Renderer.person),
        "users": (
            partial(mapping.user, backend),
            Renderer.user if detail else Renderer.user_item,
        ),
        "patches": (mapping.patch_parser(backend), Renderer.patch),  # one per request
        "covers": (partial(mapping.cover, backend), Renderer.cover),
        "series": (partial(mapping.series, backend), Renderer.series),
        "events": (partial(mapping.event, backend), Renderer.event),
        "bundles": (partial(mapping.bundle, backend), Renderer.bundle),
    }
    return table[resource]


async def _api(
    request: Request,
    source: PatchworkSource,
    base: str,
    caller: Caller,
    path: str,
    rest: list[str],
) -> Response:
    version_name: str | None = None
    if rest and rest[0] in VERSIONS:
        version_name, rest = rest[0], rest[1:]
    elif rest and rest[0][:1].isdigit():
        return await _pass(request, source, base, caller, path)
    call = _Call(request, source, base, caller, path, rest, version_name)
    version = VERSIONS[version_name] if version_name else 13
    allow = _allow_for(rest)
    if rest and not _exists(rest, version):
        return await _pass(request, source, base, caller, path)
    if caller.invalid_token:
        return json_response({"detail": credential_text(request)}, 403, allow)
    method = request.method
    if method == "OPTIONS":
        return await _options(call, allow)
    if not caller.may_read and not caller.authenticated:
        return json_response({"detail": NOT_AUTHENTICATED}, 403, allow)
    path_, head = request.url.path, call.head
    if method not in ("GET", "HEAD"):
        if method not in _WRITES.get(views.view_key(rest), ()):
            return json_response({"detail": f'Method "{method}" not allowed.'}, 405, allow)
        if rest[0] == "bundles" and version < 12:
            # patchwork/api/bundle.py BundlePermission: bundle writes are API 1.2+
            return json_response({"detail": f'Method "{method}" not allowed.'}, 405, allow)
        return await _refusals(_write(call, allow), allow, path_, head)
    if not rest:
        return json_response(call.renderer().index(), allow=allow, head=call.head)
    if rest[0] in ("people", "users") and not caller.authenticated:
        return json_response({"detail": NOT_AUTHENTICATED}, 403, allow)
    if len(rest) in (1, 3):
        return await _refusals(_list(call, allow), allow, path_, head)
    return await _refusals(_detail(call, allow), allow, path_, head)


async def _pass(
    request: Request, source: PatchworkSource, base: str, caller: Caller, path: str
) -> Response:
    """An API path not modelled here: passed through when the allow-list has it (else
    Patchwork's 404 page), with DRF's refusals for callers who may not read or write."""
    allow_list: tuple[str, ...] | None = request.scope.get("revgate_passthrough")
    if not passthrough.allowed(path, allow_list, roots=API_ROOTS):
        return html_404(request.url.path)
    if caller.invalid_token:
        return json_response({"detail": credential_text(request)}, 403)
    if not caller.may_read and not caller.authenticated:
        return json_response({"detail": NOT_AUTHENTICATED}, 403)
    if passthrough.is_write(request) and not caller.can_write:
        detail = NO_PERMISSION if caller.authenticated else NOT_AUTHENTICATED
        return json_response({"detail": detail}, 403)
    call = CompatCall(request, base, path, caller, allow_list)
    return await passthrough.forward(call, source, source.url)


async def _refusals(answer: Awaitable[Response], allow: str, path: str, head: bool) -> Response:
    """The backend's refusal re-served with this view's ``Allow`` (HTML 404 stays HTML)."""
    try:
        return await answer
    except Refused as refused:
        if refused.body is None:
            return html_404(path)
        return json_response(refused.body, refused.status, allow, head=head)


def _upstream_params(request: Request, allow: str) -> dict[str, list[str]]:
    """The request's filters for the backend, with Patchwork's page rules applied here."""
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        if key not in ("format", "page", "per_page"):
            params.setdefault(key, []).append(value)
    raw_page = request.query_params.get("page")
    if raw_page not in (None, "last") and (not raw_page.isdigit() or int(raw_page) < 1):
        # DRF's paginator raises NotFound inside the view: the view's Allow goes with it
        raise _Stop(
            json_response({"detail": "Invalid page."}, 404, allow, head=request.method == "HEAD")
        )
    if raw_page:
        params["page"] = [raw_page]
    if "per_page" in request.query_params:
        params["per_page"] = [str(per_page_of(request.query_params.get("per_page")))]
    return params


# What a list or detail read rendered: the JSON body and the ``Link`` value (lists).
Rendered = tuple[bytes, str | None]
# Per stamp owner (a backend's response cache, shared by a source and its per-caller clones;
# else one client's content stamps): rendered bodies by (stamp, route); see adapters/stamps.py.
_MEMOS: weakref.WeakKeyDictionary[object, StampMemo[Rendered]] = weakref.WeakKeyDictionary()


def _memo(source: PatchworkSource) -> StampMemo[Rendered] | None:
    """The render memo for ``source``'s stamps (None: no stamps, nothing memoised)."""
    owner = source.http.stamp_owner
    if owner is None:
        return None
    memo = _MEMOS.get(owner)
    if memo is None:
        memo = _MEMOS[owner] = StampMemo(lambda r: len(r[0]) + len(r[1] or ""))
    return memo


def _route(call: _Call) -> tuple[str, str, str, bool]:
    """Everything a rendering depends on besides the upstream answer: the gateway base and
    path (version, resource), the query (``format``, the ``Link`` URLs) and whether private
    objects are hidden from this caller."""
    return (call.base, call.path, call.request.url.query, _private_hidden(call))


async def _list(call: _Call, allow: str) -> Response:
    source, parts = call.source, call.parts
    params = _upstream_params(call.request, allow)
    version = await source.compat_version(call.version_name)
    rel = "/".join(parts) + "/"
    answer = await source.fetch_answer(rel, params, version)
    memo, route = _memo(source), _route(call)
    rendered = memo.get(answer.cache_stamp, route) if memo is not None else None
    if rendered is None:
        parse, render = _kind(source.name, parts)
        records, position = source.page_records(answer, rel, parse)
        if _private_hidden(call):
            records = [r for r in records if r.public]
        renderer = call.renderer()
        query = f"?{call.request.url.query}" if call.request.url.query else ""
        url = f"{call.base}/{call.path}{query}"
        link = link_header(url, position.page, position.last, position.has_next)
        rendered = orjson.dumps([render(renderer, record) for record in records]), link
        if memo is not None:
            memo.put(answer.cache_stamp, route, rendered)
    return json_bytes(rendered[0], allow=allow, link=rendered[1], head=call.head)


async def _detail(call: _Call, allow: str) -> Response:
    source, parts = call.source, call.parts
    version = await source.compat_version(call.version_name)
    rel = "/".join(parts) + "/"
    answer = await source.fetch_answer(rel, {}, version)
    memo, route = _memo(source), _route(call)
    rendered = memo.get(answer.cache_stamp, route) if memo is not None else None
    if rendered is None:
        parse, render = _kind(source.name, parts)
        record = source.record(answer, rel, parse)
        if _private_hidden(call) and not record.public:
            return json_response({"detail": "Not found."}, 404, allow)
        rendered = orjson.dumps(render(call.renderer(), record)), None
        if memo is not None:
            memo.put(answer.cache_stamp, route, rendered)
    return json_bytes(rendered[0], allow=allow, head=call.head)


def _private_hidden(call: _Call) -> bool:
    """Whether private bundles must be hidden: the backend is read with the gateway's
    credential, whose private bundles an anonymous caller must not see (Patchwork shows
    anonymous users public bundles only)."""
    return call.parts[0] == "bundles" and not call.caller.authenticated


# Many-related fields of Patchwork's writable serializers: a form sends one per value and
# DRF reads them with ``getlist`` (a bundle's ``patches``), so they stay lists, even of one.
LIST_FIELDS = frozenset({"patches"})


def _form(raw: bytes) -> dict[str, Any]:
    """An urlencoded form as the JSON object DRF would have read from it."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
        if key in LIST_FIELDS:
            out.setdefault(key, []).append(value)
        else:
            out[key] = value  # DRF's QueryDict.get: the last value
    return out


async def _body(request: Request) -> dict[str, Any]:
    """A write's body: JSON or an urlencoded form (git-pw sends forms)."""
    raw = await request.body()
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not raw:
        return {}
    if ctype == "application/x-www-form-urlencoded":
        return _form(raw)
    if ctype in ("application/json", ""):
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise _Stop(json_response({"detail": f"JSON parse error - {exc}"}, 400)) from None
        if not isinstance(parsed, dict):
            detail = {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
            raise _Stop(json_response(detail, 400))
        return parsed
    raise _Stop(json_response({"detail": f'Unsupported media type "{ctype}" in request.'}, 415))


async def _write(call: _Call, allow: str) -> Response:
    """A documented write, passed on once as the caller's backend credential; the answer
    as Patchwork gives it: 201 + ``Location`` for a creation (DRF's CreateModelMixin: the
    new object's ``url``), 204 without a body for a deletion, else 200 with the object."""
    method, caller = call.request.method, call.caller
    if call.parts[-1] == "checks":
        # Patchwork's check view answers a caller who may not write with this, signed in or not
        if not (caller.authenticated and caller.can_write):
            return json_response({"detail": NO_PERMISSION}, 403, allow)
    elif not caller.authenticated:
        return json_response({"detail": NOT_AUTHENTICATED}, 403, allow)
    elif not caller.can_write:
        return json_response({"detail": NO_PERMISSION}, 403, allow)
    version = await call.source.compat_version(call.version_name)
    rel = "/".join(call.parts) + "/"
    if method == "DELETE":
        await call.source.compat_delete(rel, version)
        headers = [("Allow", allow), ("Vary", "Accept, Cookie")]
        return PatchworkResponse(b"", 204, headers)  # DRF drops Content-Type with no body
    body = await _body(call.request)
    parse, render = _kind(call.source.name, call.parts)
    record = await call.source.compat_write(method, rel, body, parse, version)
    out = render(call.renderer(), record)
    if method != "POST":
        return json_response(out, allow=allow)
    resp = json_response(out, 201, allow)
    location = out.get("url")
    if isinstance(location, str):
        resp.raw_headers.append((b"Location", location.encode("latin-1")))
    return resp


async def _options(call: _Call, allow: str) -> Response:
    """DRF's metadata answer to OPTIONS: the view's name and description (views.py) and, for
    a caller who may write where the view takes PUT or POST, the backend's own ``actions``
    (field metadata, computed by the backend for the caller's mapped user; DRF leaves them
    out when that user may not write, and so does the answer)."""
    body: dict[str, Any] = views.metadata(call.parts)
    writable = any(m in allow.split(", ") for m in ("PUT", "POST"))
    if writable and call.caller.authenticated and call.caller.can_write:
        version = await call.source.compat_version(call.version_name)
        actions = await call.source.compat_options(call.path_under_api(), version)
        if actions is not None:
            body["actions"] = actions
    return json_response(body, allow=allow)
