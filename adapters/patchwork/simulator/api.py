"""The REST API part of the Patchwork simulator: routing, filters, pagination and the
read handlers (plumbing: ``calls``; writes: ``writes``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from adapters.patchwork import views
from adapters.patchwork.simulator.calls import (
    EDIT,
    READ,
    ApiError,
    Call,
    Handler,
    _authenticate,
    _can_edit_patch,
    _detail,
    _get,
    _method_not_allowed,
    _paginate,
    _require_auth,
    _visible_bundles,
    json_response,
    not_found_html,
)
from adapters.patchwork.simulator.data import (
    CHECK_STATES,
    STATE_SLUGS,
    STATES,
    PatchworkData,
    Record,
)
from adapters.patchwork.simulator.query import (
    EmptyResult,
    Query,
    _bool_param,
    _ids,
    _order,
    _time_filter,
)
from adapters.patchwork.simulator.render import Ctx
from adapters.patchwork.simulator.writes import (
    _create_check,
    _update_comment,
    _update_patch,
    _update_project,
    _update_user,
    _write_bundle,
)

# -- resources -------------------------------------------------------------------------------


async def _index(call: Call) -> web.StreamResponse:
    return _detail(call, call.r.index())


async def _projects(call: Call) -> web.StreamResponse:
    data = call.data
    if len(call.parts) == 1:
        items = _order(list(data.projects.values()), call.query, {"id": lambda r: r["id"]}, "id")
        return _paginate(call, items, call.r.project)
    raw = call.parts[1]
    pid = next((k for k, p in data.projects.items() if p["link_name"] == raw), None)
    if pid is None:
        pid = _get(data.projects, raw, "Project")
    if call.request.method in ("PATCH", "PUT"):
        return await _update_project(call, pid)
    if call.request.method not in ("GET", "HEAD"):
        raise _method_not_allowed(call, EDIT)
    return _detail(call, call.r.project(pid), EDIT)


async def _people(call: Call) -> web.StreamResponse:
    _require_auth(call)
    data = call.data
    if len(call.parts) == 1:
        items = list(data.people.values())
        term = (call.query.get("q") or "").lower()
        if term:
            items = [
                p for p in items if term in (p["name"] or "").lower() or term in p["email"].lower()
            ]
        return _paginate(call, items, call.r.person)
    return _detail(call, call.r.person(_get(data.people, call.parts[1], "Person")))


async def _users(call: Call) -> web.StreamResponse:
    _require_auth(call)
    data = call.data
    if len(call.parts) == 1:
        items = list(data.users.values())
        term = (call.query.get("q") or "").lower()
        if term:
            fields = ("username", "first_name", "last_name", "email")
            items = [u for u in items if any(term in u[f].lower() for f in fields)]
        return _paginate(call, items, call.r.user_item)
    uid = _get(data.users, call.parts[1], "User")
    if call.request.method in ("PATCH", "PUT"):
        return await _update_user(call, uid)
    return _detail(call, call.r.user(uid), EDIT)


def _filter_patches(call: Call) -> list[Record]:
    data, q, version = call.data, call.query, call.ctx.version
    items = list(data.patches.values())
    if q.all("project"):
        projects = _ids(q.all("project"), data.projects, "link_name")
        items = [p for p in items if p["project"] in projects]
    if q.all("series"):
        series = _ids(q.all("series"), data.series)
        items = [p for p in items if series.intersection(p["series"])]
    if q.all("submitter"):
        people = _ids(q.all("submitter"), data.people, "email")
        items = [p for p in items if p["submitter"] in people]
    if q.all("delegate"):
        users = _ids(q.all("delegate"), data.users, "username")
        items = [p for p in items if p["delegate"] in users]
    if q.all("state"):
        wanted: set[str] = set()
        for value in q.all("state"):
            try:
                sid = int(value)
                slug = next((s for i, s in STATES if i == sid), None)
            except ValueError:
                slug = value.lower().replace(" ", "-")
                slug = slug if slug in STATE_SLUGS else None
            if slug is None:
                raise EmptyResult
            wanted.add(slug)
        items = [p for p in items if p["state"] in wanted]
    archived = _bool_param(q, "archived")
    if archived is not None:
        items = [p for p in items if p["archived"] == archived]
    if version >= 12 and q.get("hash"):
        value = (q.get("hash") or "").lower()
        items = [p for p in items if (p["hash"] or "").lower() == value]
    if version >= 12 and q.get("msgid"):
        msgid = f"<{q.get('msgid')}>"
        items = [p for p in items if p["msgid"] == msgid]
    items = _time_filter(items, q)
    term = (q.get("q") or "").lower()
    if term:
        items = [p for p in items if term in p["name"].lower()]
    keys: dict[str, Callable[[Record], Any]] = {
        "id": lambda r: r["id"],
        "name": lambda r: r["name"],
        "project": lambda r: data.projects[r["project"]]["link_name"],
        "date": lambda r: r["date"],
        "state": lambda r: STATE_SLUGS.index(r["state"]),
        "archived": lambda r: r["archived"],
        "submitter": lambda r: r["submitter"],
        "check": lambda r: CHECK_STATES.index(data.combined_check(r["id"])),
        "delegate": lambda r: r["delegate"] or 0,
    }
    return _order(items, q, keys, "id")


async def _patches(call: Call) -> web.StreamResponse:
    data, method = call.data, call.request.method
    if len(call.parts) == 1:
        if method not in ("GET", "HEAD"):
            raise _method_not_allowed(call, READ)
        return _paginate(call, _filter_patches(call), call.r.patch)
    pid = _get(data.patches, call.parts[1], "Patch")
    if len(call.parts) == 2:
        if method in ("PATCH", "PUT"):
            return await _update_patch(call, pid)
        if method not in ("GET", "HEAD"):
            raise _method_not_allowed(call, EDIT)
        return _detail(call, call.r.patch(pid, detail=True), EDIT)
    if call.parts[2] == "comments":
        return await _comments(call, "patch", pid)
    if call.parts[2] == "checks":
        return await _checks(call, pid)
    raise not_found_html(call.request.path)


async def _comments(call: Call, kind: str, parent: int) -> web.StreamResponse:
    if call.ctx.version < 11:
        raise not_found_html(call.request.path)
    table = call.data.patch_comments if kind == "patch" else call.data.cover_comments
    if len(call.parts) == 3:
        items = sorted((c for c in table.values() if c["parent"] == parent), key=lambda c: c["id"])
        return _paginate(call, items, lambda cid: call.r.comment(kind, cid))
    if call.ctx.version < 13 or len(call.parts) != 4:
        raise not_found_html(call.request.path)
    cid = _get(table, call.parts[3], "PatchComment" if kind == "patch" else "CoverComment")
    if table[cid]["parent"] != parent:
        raise ApiError(404, {"detail": "Not found."})
    if call.request.method in ("PATCH", "PUT"):
        return await _update_comment(call, kind, cid)
    return _detail(call, call.r.comment(kind, cid), EDIT)


async def _checks(call: Call, pid: int) -> web.StreamResponse:
    data, q = call.data, call.query
    allow = "GET, POST, HEAD, OPTIONS"
    if len(call.parts) == 3:
        if call.request.method == "POST":
            return await _create_check(call, pid)
        items = [c for c in data.checks.values() if c["patch"] == pid]
        try:
            if q.all("user"):
                users = _ids(q.all("user"), data.users, "username")
                items = [c for c in items if c["user"] in users]
            if q.get("state"):
                try:
                    state = CHECK_STATES[int(q.get("state") or "")]
                except (ValueError, IndexError):
                    raise EmptyResult from None
                items = [c for c in items if c["state"] == state]
            if q.get("context"):
                items = [c for c in items if c["context"] == q.get("context")]
            items = _time_filter(items, q)
        except EmptyResult:
            items = []
        return _paginate(
            call, _order(items, q, {"id": lambda r: r["id"]}, "id"), call.r.check, allow
        )
    chid = _get(data.checks, call.parts[3], "Check")
    if data.checks[chid]["patch"] != pid:
        raise ApiError(404, {"detail": "No Check matches the given query."})
    return _detail(call, call.r.check(chid))


async def _covers(call: Call) -> web.StreamResponse:
    data, q = call.data, call.query
    if len(call.parts) == 1:
        items = list(data.covers.values())
        if q.all("project"):
            projects = _ids(q.all("project"), data.projects, "link_name")
            items = [c for c in items if c["project"] in projects]
        if q.all("series"):
            # Patchwork 3.2.1 bug: the series filter validates against *projects* and then
            # fails (500) when a value names an existing project.
            _ids(q.all("series"), data.projects)
            raise ApiError(500, None)
        if q.all("submitter"):
            people = _ids(q.all("submitter"), data.people, "email")
            items = [c for c in items if c["submitter"] in people]
        if call.ctx.version >= 12 and q.get("msgid"):
            items = [c for c in items if c["msgid"] == f"<{q.get('msgid')}>"]
        items = _time_filter(items, q)
        term = (q.get("q") or "").lower()
        if term:
            items = [c for c in items if term in c["name"].lower()]
        keys: dict[str, Callable[[Record], Any]] = {
            "id": lambda r: r["id"],
            "name": lambda r: r["name"],
            "date": lambda r: r["date"],
            "submitter": lambda r: r["submitter"],
        }
        return _paginate(call, _order(items, q, keys, "id"), call.r.cover)
    cid = _get(data.covers, call.parts[1], "Cover")
    if len(call.parts) == 2:
        return _detail(call, call.r.cover(cid, detail=True))
    if call.parts[2] == "comments":
        return await _comments(call, "cover", cid)
    raise not_found_html(call.request.path)


async def _series(call: Call) -> web.StreamResponse:
    data, q = call.data, call.query
    if call.request.method not in ("GET", "HEAD"):
        raise _method_not_allowed(call, READ)
    if len(call.parts) == 1:
        items = list(data.series.values())
        if q.all("project"):
            projects = _ids(q.all("project"), data.projects, "link_name")
            items = [s for s in items if s["project"] in projects]
        if q.all("submitter"):
            people = _ids(q.all("submitter"), data.people, "email")
            items = [s for s in items if s["submitter"] in people]
        items = _time_filter(items, q)
        term = (q.get("q") or "").lower()
        if term:
            items = [s for s in items if term in (s["name"] or "").lower()]
        keys: dict[str, Callable[[Record], Any]] = {
            "id": lambda r: r["id"],
            "name": lambda r: r["name"] or "",
            "date": lambda r: r["date"],
        }
        return _paginate(call, _order(items, q, keys, "id"), call.r.series)
    return _detail(call, call.r.series(_get(data.series, call.parts[1], "Series")))


async def _events(call: Call) -> web.StreamResponse:
    data, q, version = call.data, call.query, call.ctx.version
    items = list(data.events.values())
    if version < 13:
        items = [e for e in items if not e["category"].endswith("-comment-created")]
    if q.all("project"):
        projects = _ids(q.all("project"), data.projects, "link_name")
        items = [e for e in items if e["project"] in projects]
    for key, table in (("series", data.series), ("patch", data.patches), ("cover", data.covers)):
        if q.all(key):
            wanted = _ids(q.all(key), table)
            items = [e for e in items if e.get(key) in wanted]
    if q.all("category"):
        categories = set(q.all("category"))
        items = [e for e in items if e["category"] in categories]
    if version >= 12 and q.all("actor"):
        actors = _ids(q.all("actor"), data.users)
        items = [e for e in items if e["actor"] in actors]
    items = _time_filter(items, q)
    keys: dict[str, Callable[[Record], Any]] = {
        "date": lambda r: r["date"],
        "id": lambda r: r["id"],
    }
    return _paginate(call, _order(items, q, keys, "-date"), call.r.event)


async def _bundles(call: Call) -> web.StreamResponse:
    data, q = call.data, call.query
    if call.request.method not in ("GET", "HEAD"):
        return await _write_bundle(call)
    if len(call.parts) == 1:
        items = _visible_bundles(call)
        if q.all("project"):
            projects = _ids(q.all("project"), data.projects, "link_name")
            items = [b for b in items if b["project"] in projects]
        if q.all("owner"):
            owners = _ids(q.all("owner"), data.users, "username")
            items = [b for b in items if b["owner"] in owners]
        public = _bool_param(q, "public")
        if public is not None:
            items = [b for b in items if b["public"] == public]
        items = _order(items, q, {"id": lambda r: r["id"], "name": lambda r: r["name"]}, "id")
        return _paginate(call, items, call.r.bundle, "GET, POST, HEAD, OPTIONS")
    bid = _get({b["id"]: b for b in _visible_bundles(call)}, call.parts[1], "Bundle")
    return _detail(call, call.r.bundle(bid), "GET, PUT, PATCH, DELETE, HEAD, OPTIONS")


RESOURCES: dict[str, Handler] = {
    "projects": _projects,
    "people": _people,
    "users": _users,
    "patches": _patches,
    "covers": _covers,
    "series": _series,
    "events": _events,
    "bundles": _bundles,
}


def _options(call: Call, allow: str) -> web.Response:
    """DRF metadata for OPTIONS (without field ``actions`` except on patches for editors)."""
    parts = call.parts
    if len(parts) == 2 and parts[0] == "patches" and "patch-detail" in call.data.options:
        body = json.loads(json.dumps(call.data.options["patch-detail"]))
        try:
            pid = _get(call.data.patches, parts[1], "Patch")
        except ApiError:
            pid = -1
        if pid < 0 or not _can_edit_patch(call.data, call.data.patches[pid], call.ctx.user):
            body.pop("actions", None)
        return json_response(body, headers={"Allow": allow})
    return json_response(views.metadata(parts), headers={"Allow": allow})


def _allow_for(parts: list[str]) -> str:
    """The ``Allow`` header of the view behind an API path."""
    post = "GET, POST, HEAD, OPTIONS"
    if len(parts) == 1:
        return post if parts[0] == "bundles" else READ
    if len(parts) == 2:
        if parts[0] == "bundles":
            return "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
        return EDIT if parts[0] in ("patches", "projects", "users") else READ
    if len(parts) == 3:
        return post if parts[2] == "checks" else READ
    if len(parts) == 4:
        return EDIT if parts[2] == "comments" else READ
    return READ


async def handle_api(
    request: web.Request, data: PatchworkData, rest: str, version: int, api: str
) -> web.StreamResponse:
    """Answer one request under ``/api/`` (``rest``: the path after the version prefix)."""
    parts = [p for p in rest.split("/") if p]
    allow = _allow_for(parts)
    try:
        user = _authenticate(request, data)
        fmt = request.query.get("format")
        ctx = Ctx(
            origin=f"{request.scheme}://{request.host}",
            version=version,
            api=api,
            user=user,
            fmt=f"?{urlencode({'format': fmt})}" if fmt else "",
        )
        call = Call(request, data, ctx, parts, Query(request))
        if request.method == "OPTIONS":
            return _options(call, allow)
        if not parts:
            return await _index(call)
        handler = RESOURCES.get(parts[0])
        if handler is None or (parts[0] not in ("patches", "covers") and len(parts) > 2):
            raise not_found_html(request.path)
        if parts[0] == "covers" and len(parts) > 2 and parts[2] != "comments":
            raise not_found_html(request.path)
        # only what the views behind ``allow`` take (a bundle write checks its version)
        if request.method not in ("GET", "HEAD") and request.method not in allow.split(", "):
            raise _method_not_allowed(call, allow)
        try:
            return await handler(call)
        except EmptyResult:
            return _paginate(call, [], lambda i: {}, allow)
    except ApiError as exc:
        if exc.html or exc.status == 500:
            raise
        body = dict(exc.body) if isinstance(exc.body, dict) else exc.body
        if isinstance(body, dict):
            body.pop("_allow", None)
        return json_response(body, status=exc.status, headers={"Allow": allow})
