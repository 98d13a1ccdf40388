"""Gerrit's REST API re-served for one backend (the REST compatibility layer).

Mounted by the gateway at ``/rest/<backend>/`` for every backend of kind ``gerrit``
(``adapters.registry.COMPAT_ROUTERS``), each path with and without the ``/a/`` prefix: every
endpoint of the changes document (query, change by every id form, detail, topic, abandon,
restore, rebase, revert, submit, publish/delete drafts, in, reviewers, suggest_reviewers, and
the revision endpoints by every revision id form: commit, review, submit, rebase, publish,
delete, patch, mergeable, submit_type, test.submit_type/rule, drafts, comments, files,
content, diff, reviewed, cherrypick, message) plus ``projects/``, ``projects/<name>`` and
``accounts/self/capabilities``. Which path is which: ``rest_routes.py``.

Answers are parsed into records (``mapping``) and rendered back (``render``) in the form the
server used; downloads (file content, patch, ``?zip``) are decoded into ``BinaryContent`` and
encoded again. One upstream request per compat request (a write is sent once). Gerrit's byte
details: the ``)]}'`` line before every JSON body, ``application/json; charset=UTF-8``,
compact JSON unless ``format=JSON`` (or ``pp=1``) asks for pretty, gzip when the client
accepts it, ``204``/``201`` with no body, and Gerrit's plain-text error bodies (``change is
merged``, ``Not found``) with its status. A text/plain write body fills the input's default
field (``topic``, ``message``, ``reviewer``, ``rule``), as Gerrit's ``@DefaultInput`` does.

Auth as Gerrit: only ``/a/…`` paths authenticate, with HTTP basic auth whose password is a
gateway compat token (or API key); a wrong one is ``401`` with a ``WWW-Authenticate:
Basic`` challenge. Writes need ``/a/`` (else 403 ``Authentication required``) and a token
that may write. A path without ``/a/`` is an anonymous user's, as in Gerrit: what only the
signed-in user has (drafts, ``?reviewed``, ``self`` queries, stars …) is answered as Gerrit
answers anonymous users, never with the gateway account's (``rest_routes.anonymous_*``).
"""

from __future__ import annotations

import base64
import gzip
import io
import zipfile
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

import orjson
from starlette.requests import Request
from starlette.responses import Response

from adapters import native, passthrough, paths
from adapters.base import Source
from adapters.compat import CompatCall, CompatRouter, basic_password, kind_router
from adapters.errors import UpstreamError
from adapters.gerrit import mapping, render, rest_routes, smart_http
from adapters.gerrit.rest_routes import Endpoint
from adapters.gerrit.source import GerritSource
from adapters.http import Response as Upstream
from adapters.native import Reason

TEXT = "text/plain; charset=UTF-8"
JSON = "application/json; charset=UTF-8"
DOWNLOAD = "text/plain; charset=ISO-8859-1"
_FORMAT_PARAMS = ("format", "pp")
# What pass-through may reach (CompatKind.roots): Gerrit has no API prefix, so its REST
# collections (Documentation/rest-api.html); "/a" asks for any of them authenticated.
API_ROOTS = (
    "/access/",
    "/accounts/",
    "/changes/",
    "/config/",
    "/groups/",
    "/plugins/",
    "/projects/",
)
AUTH_PREFIX = "/a"
# Git's smart HTTP read paths (``<project>/info/refs?service=git-upload-pack``, ``POST
# <project>/git-upload-pack``) as a separate class of the allow-list: they sit under no
# REST root, so they are matched as ``/git-upload-pack/<project>/`` (docs/compat.md).
GIT_ROOT = "/git-upload-pack/"
PASSTHROUGH_ROOTS = (*API_ROOTS, GIT_ROOT)
# What of a git client's headers goes upstream: the pack negotiation needs its protocol
# version and the (maybe gzipped) request body's encoding.
_GIT_HEADERS = ("Accept", "Content-Type", "Content-Encoding", "Git-Protocol")


def presented(request: Request, path: str) -> str | None:
    """The password of HTTP basic auth, on ``/a/`` paths only (Gerrit ignores it elsewhere).

    Gerrit looks the login up: an empty one (``Basic Og==``, ``Basic :<password>``) or a
    malformed header is a failed login (``""``), never anonymous on ``/a/``."""
    return basic_password(request) if path.startswith("a/") else None


def router(source: Source) -> CompatRouter:
    """The compat router of one Gerrit backend (the factory in ``COMPAT_ROUTERS``)."""
    return kind_router(source, GerritSource, _serve, _failed)


def _failed(call: CompatCall, exc: UpstreamError) -> Response:
    return native.upstream_failure("gerrit", exc, head=call.request.method == "HEAD")


def _native(request: Request, reason: Reason) -> Response:
    return native.answer("gerrit", reason).response(head=request.method == "HEAD")


def _gzip(request: Request, body: bytes, headers: dict[str, str]) -> bytes:
    if "gzip" in request.headers.get("accept-encoding", "").lower() and body:
        headers["Content-Encoding"] = "gzip"
        headers["Vary"] = "Accept-Encoding"
        return gzip.compress(body, mtime=0)
    return body


def _text(request: Request, text: str, status: int, **extra: str) -> Response:
    headers = dict(extra)
    body = _gzip(request, (text.rstrip("\n") + "\n").encode(), headers)
    return Response(body, status, headers, media_type=TEXT)


def _json(request: Request, value: Any, status: int = 200) -> Response:
    params = request.query_params
    pretty = params.get("format", "").upper() == "JSON" or params.get("pp") == "1"
    headers = {"Content-Disposition": "attachment"}
    body = b"" if request.method == "HEAD" else render.encode(value, pretty)
    return Response(_gzip(request, body, headers), status, headers, media_type=JSON)


def _segments(call: CompatCall) -> list[str]:
    """The path under the mount as decoded segments, split on the *raw* path's slashes.

    The gateway's ``path`` is already percent-decoded, so a file id or project name with
    ``%2F`` would look like several segments; the raw path (``scope["raw_path"]``) keeps
    them apart. Its suffix that decodes to ``path`` is the part under the mount.
    """
    raw = call.request.scope.get("raw_path")
    if isinstance(raw, bytes):
        text = raw.decode("latin-1").split("?", 1)[0]
        starts = [i + 1 for i, ch in enumerate(text) if ch == "/"]
        for i in starts:
            if unquote(text[i:]) == call.path:
                return [unquote(p) for p in text[i:].split("/")]
    return call.path.split("/")


async def _input(request: Request, endpoint: Endpoint) -> Any:
    """The write's input entity: a JSON object, or a text/plain body for the endpoint's
    default field (Gerrit's ``@DefaultInput``: a topic, a message, a rule …)."""
    raw_body = await request.body()
    if not raw_body.strip():
        return None
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype == "text/plain" and endpoint.text_input:
        return {endpoint.text_input: raw_body.decode("utf-8", "replace")}
    try:
        body = orjson.loads(raw_body)
    except orjson.JSONDecodeError:
        raise _Refused(400, "Invalid JSON in request") from None
    if not isinstance(body, dict):
        raise _Refused(400, "Expected JSON object")
    return body


class _Refused(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


async def _serve(call: CompatCall, source: GerritSource) -> Response:
    request, caller = call.request, call.caller
    parts = _segments(call)
    authenticated_path = parts[:1] == ["a"]
    rest = parts[1:] if authenticated_path else parts
    if authenticated_path and (caller.invalid_token or not caller.authenticated):
        reason = Reason.BAD_CREDENTIALS if caller.invalid_token else Reason.NO_CREDENTIALS
        return _native(request, reason)
    if not authenticated_path and not caller.may_read:
        return _native(request, Reason.ANONYMOUS_WRITE)  # Gerrit's "Authentication required"
    smart = smart_http.classify(rest, request.method, request.query_params.get("service"))
    if smart is not None:
        return await _git(call, source, smart, authenticated_path)
    method = "GET" if request.method == "HEAD" else request.method
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        if key not in _FORMAT_PARAMS:
            params.setdefault(key, []).append(value)
    endpoint = rest_routes.route(method, rest, source.name, params)
    if endpoint is None:
        return await _pass(call, source, authenticated_path)
    if not authenticated_path and (refusal := rest_routes.anonymous_refusal(endpoint)):
        return _text(request, refusal[1], refusal[0])  # before any upstream request
    if method != "GET":
        if not authenticated_path:
            return _native(request, Reason.ANONYMOUS_WRITE)
        if not caller.can_write:
            return _native(request, Reason.READ_ONLY)
        try:
            body = await _input(request, endpoint)
        except _Refused as exc:
            return _text(request, exc.text, exc.status)
        upstream = await source.compat_send(method, endpoint.upstream, body, params)
    else:
        upstream = await source.compat_get(endpoint.upstream, params)
    if upstream.status >= 400:
        return _refusal(request, upstream)
    if upstream.status == 204 or not upstream.body.strip():
        return Response(b"", upstream.status)  # 204 No Content, 201/200 of reviewed
    if endpoint.content is not None:
        return _download(request, source.name, upstream, "zip" in params)
    assert endpoint.draw is not None  # every endpoint without content draws JSON
    decoded = source.client.decode(upstream)
    if not authenticated_path:
        if rest_routes.hidden_change(decoded):
            return _text(request, "Not found", 404)  # Gerrit's answer to anonymous users
        decoded = rest_routes.anonymous_form(decoded)
    return _json(request, endpoint.draw(decoded), upstream.status)


async def _pass(call: CompatCall, source: GerritSource, authenticated_path: bool) -> Response:
    """A path not modelled here: passed through when the allow-list has it (else Gerrit's
    404). Only ``/a/`` goes upstream as the caller's backend user, as on Gerrit; writes
    need ``/a/`` and a caller who may write."""
    request = call.request
    if not passthrough.allowed(
        call.path, call.passthrough, roots=API_ROOTS, auth_prefix=AUTH_PREFIX
    ):
        return _native(request, Reason.NOT_FOUND)
    if passthrough.is_write(request):
        if not authenticated_path:
            return _native(request, Reason.ANONYMOUS_WRITE)
        if not call.caller.can_write:
            return _native(request, Reason.READ_ONLY)
    if not authenticated_path:  # Gerrit serves paths without /a/ as the anonymous user
        call = replace(call, caller=replace(call.caller, authenticated=False))
    return await passthrough.forward(call, source, source.url, strip="/a")


async def _git(
    call: CompatCall, source: GerritSource, git: smart_http.GitPath, authenticated_path: bool
) -> Response:
    """Git's smart HTTP: fetch and clone passed through (as the caller's backend user on
    ``/a/``, else anonymously, as Gerrit serves them), pushes refused before the backend is
    asked. The project is encoded segment by segment (``adapters/paths.py``)."""
    request = call.request
    try:
        project = "/".join(paths.seg(p) for p in git.project)
    except paths.BadSegment:
        return _native(request, Reason.NOT_FOUND)
    key = GIT_ROOT + "/".join(git.project) + "/"
    if not passthrough.allowed(key[1:], call.passthrough, roots=(GIT_ROOT,)):
        return _native(request, Reason.NOT_FOUND)
    if not git.read:
        return _native(request, Reason.READ_ONLY)  # the gateway is a read-only mirror
    headers = {n: v for n in _GIT_HEADERS if (v := request.headers.get(n)) is not None}
    if git.advertisement:
        headers.pop("Content-Type", None)
        forward = passthrough.Forward(
            "GET", f"/{project}/info/refs?service={git.service}", headers, None
        )
    else:
        forward = passthrough.Forward(
            "POST", f"/{project}/{git.tail}", headers, await request.body()
        )
    anonymous = not authenticated_path or not call.caller.authenticated
    upstream = await source.passthrough(forward, anonymous=anonymous)
    return passthrough.respond(call, upstream, source.url)


def _download(request: Request, name: str, upstream: Upstream, zipped: bool) -> Response:
    """A file's content or a formatted patch: parsed into a record, encoded as Gerrit does
    (base64 text with ``X-FYI-*`` headers, or a zip archive holding the one file)."""
    headers: dict[str, str] = {}
    disposition = upstream.headers.get("Content-Disposition")
    if disposition:
        headers["Content-Disposition"] = disposition
    if zipped:
        found = mapping.zipped_content(name, upstream.body)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            member = zipfile.ZipInfo(found.name or "patch.diff", date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(member, found.data)
        body = _gzip(request, _unless_head(request, buffer.getvalue()), headers)
        return Response(body, upstream.status, headers, media_type="application/zip")
    content = mapping.base64_content(
        name, upstream.body, upstream.headers.get("X-FYI-Content-Type")
    )
    headers["X-FYI-Content-Encoding"] = "base64"
    if content.content_type:
        headers["X-FYI-Content-Type"] = content.content_type
    body = _gzip(request, _unless_head(request, base64.b64encode(content.data)), headers)
    return Response(body, upstream.status, headers, media_type=DOWNLOAD)


def _unless_head(request: Request, body: bytes) -> bytes:
    return b"" if request.method == "HEAD" else body


def _refusal(request: Request, upstream: Upstream) -> Response:
    """Gerrit's own error answer (plain text), re-served with its status."""
    text = upstream.text().strip() or "Error"
    if text.startswith("<"):
        text = {404: "Not found", 409: "Conflict"}.get(upstream.status, "Error")
    return _text(request, text, upstream.status)
