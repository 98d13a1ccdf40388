"""Gerrit's REST API re-served for one backend (the REST compatibility layer).

Mounted by the gateway at ``/rest/<backend>/`` for every backend of kind ``gerrit``
(``adapters.registry.COMPAT_ROUTERS``), each path with and without the ``/a/`` prefix:

* ``changes/`` (query: ``q`` repeatable — a list of lists then —, ``n``, ``o``, ``S``/``start``,
  ``N``/``P``), ``changes/<id>``, ``changes/<id>/detail``;
* ``changes/<id>/abandon``, ``changes/<id>/restore``, ``changes/<id>/revisions/<rev>/review``
  (POST), ``changes/<id>/topic`` (GET);
* ``projects/``, ``projects/<name>``; ``accounts/self/capabilities``.

Answers are parsed into records (``mapping``) and rendered back (``render``) in the form the
server used; one upstream request per compat request (a write is sent once). Gerrit's byte
details: the ``)]}'`` line before every JSON body, ``application/json; charset=UTF-8``,
compact JSON unless ``format=JSON`` (or ``pp=1``) asks for pretty, gzip when the client
accepts it, and Gerrit's plain-text error bodies (``change is merged``, ``Not found``).

Auth as Gerrit: only ``/a/…`` paths authenticate, with HTTP basic auth whose password is a
gateway compat token (or API key); a wrong one is ``401`` with a ``WWW-Authenticate:
Basic`` challenge. Writes need ``/a/`` and a token that may write.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import quote, unquote

import orjson
from starlette.requests import Request
from starlette.responses import Response

from adapters.base import Source
from adapters.compat import CompatCall, CompatRouter
from adapters.errors import BadPayload, Timeout, UpstreamError
from adapters.gerrit import mapping, render
from adapters.gerrit.records import Capabilities
from adapters.gerrit.source import GerritSource
from adapters.http import Response as Upstream
from adapters.model import Project

TEXT = "text/plain; charset=UTF-8"
JSON = "application/json; charset=UTF-8"
CHALLENGE = 'Basic realm="Gerrit Code Review"'
_REVISION = re.compile(r"current|[0-9a-fA-F]{4,40}|\d+")
_FORMAT_PARAMS = ("format", "pp")

Parse = Callable[[Any], Any]


def presented(request: Request, path: str) -> str | None:
    """The password of HTTP basic auth, on ``/a/`` paths only (Gerrit ignores it elsewhere)."""
    if not path.startswith("a/"):
        return None
    scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[2]


def router(source: Source) -> CompatRouter:
    """The compat router of one Gerrit backend (the factory in ``COMPAT_ROUTERS``)."""
    if not isinstance(source, GerritSource):
        raise TypeError(f"backend {source.name!r} is not a Gerrit source")

    async def serve(call: CompatCall) -> Response:
        try:
            return await _serve(call, source)
        except Timeout as exc:
            return _text(call.request, str(exc), 504)
        except UpstreamError as exc:
            return _text(call.request, str(exc), 502)

    return serve


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


async def _serve(call: CompatCall, source: GerritSource) -> Response:
    request, caller = call.request, call.caller
    path = call.path
    authenticated_path = path.startswith("a/")
    rest = path[2:] if authenticated_path else path
    if authenticated_path and (caller.invalid_token or not caller.authenticated):
        return _text(request, "Unauthorized", 401, **{"WWW-Authenticate": CHALLENGE})
    if not authenticated_path and not caller.may_read:
        return _text(request, "Authentication required", 403)
    method = "GET" if request.method == "HEAD" else request.method
    found = _route(method, [unquote(p) for p in rest.split("/")], source.name)
    if found is None:
        return _text(request, "Not found", 404)
    what, upstream_path, parse, draw = found
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        if key not in _FORMAT_PARAMS:
            params.setdefault(key, []).append(value)
    if method != "GET":
        if not authenticated_path:
            return _text(request, "Authentication required", 403)
        if not caller.can_write:
            return _text(request, "not permitted", 403)
        raw_body = await request.body()
        try:
            body = orjson.loads(raw_body) if raw_body.strip() else None
        except orjson.JSONDecodeError:
            return _text(request, "Invalid JSON in request", 400)
        if body is not None and not isinstance(body, dict):
            return _text(request, "Expected JSON object", 400)
        upstream = await source.compat_send(method, upstream_path, body, params)
    else:
        upstream = await source.compat_get(upstream_path, params)
    if upstream.status >= 400:
        return _refusal(request, upstream)
    answer = source.client.decode(upstream)
    if what == "query":
        multi = len(params.get("q", ())) > 1
        lists = answer if multi else [answer]
        if not isinstance(lists, list) or not all(isinstance(x, list) for x in lists):
            raise BadPayload(source.name, "expected a list of changes from Gerrit")
        out: Any = [
            [render.conform(render.change_json(parse(d)), d) for d in batch] for batch in lists
        ]
        return _json(request, out if multi else out[0], upstream.status)
    if draw is None:
        return _json(request, parse(answer), upstream.status)  # a string (the topic)
    return _json(request, render.conform(draw(parse(answer)), answer), upstream.status)


Draw = Callable[[Any], Any]


def _route(method: str, parts: list[str], name: str) -> tuple[str, str, Parse, Draw | None] | None:
    """(what, upstream path, parse, render) for a path, or ``None`` when not served."""
    change = partial(mapping.change, name)
    n = len(parts)
    head = parts[0] if parts else ""
    if head == "changes":
        if n == 2 and parts[1] == "":
            return ("query", "/changes/", change, None) if method == "GET" else None
        if n < 2 or not parts[1]:
            return None
        cid = quote(parts[1], safe="~")
        base = f"/changes/{cid}"
        tail = [p for p in parts[2:] if p]
        if method == "GET" and tail in ([], ["detail"]):
            return "change", base + "".join(f"/{t}" for t in tail), change, render.change_json
        if method == "GET" and tail == ["topic"]:
            return "topic", base + "/topic", _string(name), None
        if method == "POST" and tail in (["abandon"], ["restore"]):
            return "change", f"{base}/{tail[0]}", change, render.change_json
        if (
            method == "POST"
            and len(tail) == 3
            and tail[0] == "revisions"
            and tail[2] == "review"
            and _REVISION.fullmatch(tail[1])
        ):
            review = partial(mapping.review_labels, name)
            return "review", f"{base}/revisions/{tail[1]}/review", review, _review
        return None
    if method != "GET":
        return None
    if head == "projects":
        if n == 2 and parts[1] == "":
            check = partial(mapping.guarded, name, "projects")
            return (
                "projects",
                "/projects/",
                lambda d: check(lambda: mapping.projects(name, d)),
                _projects,
            )
        if n >= 2 and parts[1]:
            project = "/".join(p for p in parts[1:] if p)
            info = partial(mapping.guarded, name, "project")
            upstream = "/projects/" + quote(project, safe="")
            return (
                "project",
                upstream,
                lambda d: info(lambda: mapping.project_info(name, d)),
                _project,
            )
        return None
    if parts in (["accounts", "self", "capabilities"], ["accounts", "self", "capabilities", ""]):
        check = partial(mapping.guarded, name, "capabilities")
        return (
            "capabilities",
            "/accounts/self/capabilities",
            lambda d: check(lambda: mapping.capabilities(d)),
            _capabilities,
        )
    return None


def _review(labels: dict[str, int]) -> Any:
    return {"labels": labels}


def _project(p: Project) -> Any:
    return {"id": quote(p.name, safe=""), "name": p.name}


def _projects(ps: list[Project]) -> Any:
    return {p.name: _project(p) for p in ps}


def _capabilities(c: Capabilities) -> Any:
    out: dict[str, Any] = dict.fromkeys(c.enabled, True)
    if c.query_limit is not None:
        out["queryLimit"] = {"min": c.query_limit[0], "max": c.query_limit[1]}
    return out


def _string(name: str) -> Parse:
    return lambda d: mapping.string(name, d, "topic")


def _refusal(request: Request, upstream: Upstream) -> Response:
    """Gerrit's own error answer (plain text), re-served with its status."""
    text = upstream.text().strip() or "Error"
    if text.startswith("<"):
        text = {404: "Not found", 409: "Conflict"}.get(upstream.status, "Error")
    return _text(request, text, upstream.status)
