"""The REST API part of the Patchwork simulator: routing, filters, pagination, auth, writes."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson
from aiohttp import web

from adapters.patchwork import views
from adapters.patchwork.simulator.data import (
    CHECK_STATES,
    STATE_SLUGS,
    STATES,
    PatchworkData,
    Record,
    now_str,
)
from adapters.patchwork.simulator.query import (
    EmptyResult,
    Query,
    _bool_param,
    _ids,
    _order,
    _replace_query,
    _time_filter,
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
    # this data (strings, ints, bools, null), faster: the simulator is a benchmark upstream.
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
        links.append(f'<{_replace_query(url, "page", str(page + 1))}>; rel="next"')
    if page > 1:
        prev = _replace_query(url, "page", None if page == 2 else str(page - 1))
        links.append(f'<{prev}>; rel="prev"')
    links.append(f'<{_replace_query(url, "page", "1")}>; rel="first"')
    links.append(f'<{_replace_query(url, "page", str(pages))}>; rel="last"')
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


def _strings(body: dict[str, Any], keys: tuple[str, ...], limit: int) -> dict[str, Any]:
    """DRF CharFields (blank allowed) of a partial update: validated values by key."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for key in keys:
        if key not in body:
            continue
        value = body[key]
        if value is None or isinstance(value, (dict, list, bool)):
            errors[key] = ["Not a valid string." if value is not None else NULL_FIELD]
        elif len(str(value)) > limit:
            errors[key] = [f"Ensure this field has no more than {limit} characters."]
        else:
            out[key] = str(value)
    if errors:
        raise ApiError(400, errors)
    return out


NULL_FIELD = "This field may not be null."
# patchwork/api/project.py: writable fields, by the version that has them
PROJECT_FIELDS = ("web_url", "scm_url", "webscm_url")
PROJECT_FIELDS_12 = ("list_archive_url", "list_archive_url_format", "commit_url_format")


async def _update_project(call: Call, pid: int) -> web.StreamResponse:
    """PATCH/PUT projects/<id>/: maintainers only (Project.is_editable)."""
    uid = call.ctx.user
    if uid is None:
        raise ApiError(403, {"detail": NOT_AUTHENTICATED})
    project = call.data.projects[pid]
    if uid not in project["maintainers"]:
        raise ApiError(403, {"detail": NO_PERMISSION})
    keys = PROJECT_FIELDS + (PROJECT_FIELDS_12 if call.ctx.version >= 12 else ())
    project.update(_strings(await _body(call.request), keys, 2000))
    return _detail(call, call.r.project(pid), EDIT)


async def _update_user(call: Call, uid: int) -> web.StreamResponse:
    """PATCH/PUT users/<id>/: the user themself (IsOwnerOrReadOnly); names and (1.2) settings."""
    if call.ctx.user != uid:
        raise ApiError(403, {"detail": NO_PERMISSION})
    body = await _body(call.request)
    user = call.data.users[uid]
    changes = _strings(body, ("first_name", "last_name"), 150)
    settings = body.get("settings")
    if call.ctx.version >= 12 and isinstance(settings, dict):
        for key in ("send_email", "show_ids"):
            if isinstance(settings.get(key), bool):
                user["settings"][key] = settings[key]
        per_page = settings.get("items_per_page")
        if isinstance(per_page, int) and not isinstance(per_page, bool) and per_page > 0:
            user["settings"]["items_per_page"] = per_page
    user.update(changes)
    return _detail(call, call.r.user(uid), EDIT)


def _comment_editable(data: PatchworkData, kind: str, comment: Record, uid: int | None) -> bool:
    """PatchComment/CoverComment.is_editable (patchwork/models.py)."""
    if uid is None:
        return False
    if data.people[comment["submitter"]]["user"] == uid:
        return True
    if kind == "patch":
        return _can_edit_patch(data, data.patches[comment["parent"]], uid)
    cover = data.covers[comment["parent"]]
    if data.people[cover["submitter"]]["user"] == uid:
        return True
    return uid in data.projects[cover["project"]]["maintainers"]


async def _update_comment(call: Call, kind: str, cid: int) -> web.StreamResponse:
    """PATCH/PUT …/comments/<id>/ (1.3): only ``addressed`` is writable."""
    table = call.data.patch_comments if kind == "patch" else call.data.cover_comments
    comment = table[cid]
    if call.ctx.user is None:
        raise ApiError(403, {"detail": NOT_AUTHENTICATED})
    if not _comment_editable(call.data, kind, comment, call.ctx.user):
        raise ApiError(403, {"detail": NO_PERMISSION})
    body = await _body(call.request)
    if "addressed" in body:
        value = body["addressed"]
        if isinstance(value, bool) or value is None:
            comment["addressed"] = value
        elif str(value).lower() in ("true", "false", "1", "0"):
            comment["addressed"] = str(value).lower() in ("true", "1")
        else:
            raise ApiError(400, {"addressed": ["Must be a valid boolean."]})
    return _detail(call, call.r.comment(kind, cid), EDIT)


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


async def _update_patch(call: Call, pid: int) -> web.StreamResponse:
    data = call.data
    patch = data.patches[pid]
    uid = _require_auth(call)
    if not _can_edit_patch(data, patch, uid):
        raise ApiError(403, {"detail": NO_PERMISSION})
    body = await _body(call.request)
    errors: dict[str, list[str]] = {}
    changes: dict[str, Any] = {}
    if call.request.method == "PUT":
        for key in ("state", "delegate"):
            if key not in body:
                errors[key] = ["This field is required."]
    if "state" in body:
        value = str(body["state"] or "").lower().replace(" ", "-")
        if value not in STATE_SLUGS:
            choices = ", ".join(STATE_SLUGS)
            errors["state"] = [f"Invalid state {body['state']}. Expected one of: {choices}."]
        else:
            changes["state"] = value
    if "delegate" in body:
        value = body["delegate"]
        if value in (None, ""):
            changes["delegate"] = None
        else:
            # DRF's PrimaryKeyRelatedField: a pk (int or digit string), nothing else
            try:
                if isinstance(value, bool):
                    raise TypeError
                did: int | None = int(value)
            except (TypeError, ValueError):
                kind = type(value).__name__
                errors["delegate"] = [f"Incorrect type. Expected pk value, received {kind}."]
                did = None
            if did is None:
                pass
            elif did not in data.users:
                errors["delegate"] = [f'Invalid pk "{value}" - object does not exist.']
            elif did not in data.projects[patch["project"]]["maintainers"]:
                user, project = data.users[did]["username"], data.projects[patch["project"]]["name"]
                errors["delegate"] = [f"User '{user}' is not a maintainer for project '{project}'"]
            else:
                changes["delegate"] = did
    if "archived" in body:
        value = body["archived"]
        if isinstance(value, bool):
            changes["archived"] = value
        elif str(value).lower() in ("true", "false", "1", "0"):
            changes["archived"] = str(value).lower() in ("true", "1")
        else:
            errors["archived"] = ["Must be a valid boolean."]
    for key in ("commit_ref", "pull_url"):
        if key in body:
            value = body[key]
            if value is not None and not isinstance(value, str):
                errors[key] = ["Not a valid string."]
            elif value is not None and len(value) > 255:
                errors[key] = ["Ensure this field has no more than 255 characters."]
            else:
                changes[key] = value or None
    if errors:
        raise ApiError(400, errors)
    if "state" in changes and changes["state"] != patch["state"]:
        data.add_event(
            "patch-state-changed",
            patch["project"],
            now_str(),
            actor=uid,
            patch=pid,
            previous_state=patch["state"],
            current_state=changes["state"],
        )
    if "delegate" in changes and changes["delegate"] != patch["delegate"]:
        data.add_event(
            "patch-delegated",
            patch["project"],
            now_str(),
            actor=uid,
            patch=pid,
            previous_delegate=patch["delegate"],
            current_delegate=changes["delegate"],
        )
    patch.update(changes)
    body = call.r.patch(pid, detail=True)
    body.pop("related", None)  # the real server's update response omits it
    return _detail(call, body, EDIT)


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


async def _create_check(call: Call, pid: int) -> web.StreamResponse:
    data = call.data
    patch = data.patches[pid]
    if not _can_edit_patch(data, patch, call.ctx.user):
        raise ApiError(403, {"detail": NO_PERMISSION})
    body = await _body(call.request)
    errors: dict[str, list[str]] = {}
    state = body.get("state")
    if state in (None, ""):
        errors["state"] = ["A check must have a state."]
    elif state not in CHECK_STATES:
        errors["state"] = [f'"{state}" is not a valid choice.']
    target_url = body.get("target_url") or None
    if target_url is not None and not str(target_url).startswith(("http://", "https://")):
        errors["target_url"] = ["Enter a valid URL."]
    context = body.get("context") or "default"
    if errors:
        raise ApiError(400, errors)
    assert call.ctx.user is not None
    chid = max(data.checks, default=0) + 1
    data.checks[chid] = {
        "id": chid,
        "patch": pid,
        "user": call.ctx.user,
        "date": now_str(),
        "state": state,
        "target_url": target_url,
        "context": context,
        "description": body.get("description") or None,
    }
    data.add_event(
        "check-created", patch["project"], now_str(), actor=call.ctx.user, patch=pid, check=chid
    )
    # DRF's CreateModelMixin: Location is the created object's ``url``
    body = call.r.check(chid)
    headers = {"Allow": "GET, POST, HEAD, OPTIONS", "Location": body["url"]}
    return json_response(body, status=201, headers=headers)


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


def _visible_bundles(call: Call) -> list[Record]:
    uid = call.ctx.user
    return [b for b in call.data.bundles.values() if b["public"] or b["owner"] == uid]


def _bundle_patches(data: PatchworkData, value: Any, errors: dict[str, list[str]]) -> list[int]:
    """BundleSerializer.patches: a list of patch pks, not empty, all of one project."""
    if isinstance(value, str) or not isinstance(value, list):
        kind = type(value).__name__
        errors["patches"] = [f'Expected a list of items but got type "{kind}".']
        return []
    pks: list[int] = []
    for item in value:
        try:
            if isinstance(item, bool):
                raise TypeError
            pk = int(item)
        except (TypeError, ValueError):
            kind = type(item).__name__
            errors["patches"] = [f"Incorrect type. Expected pk value, received {kind}."]
            return []
        if pk not in data.patches:
            errors["patches"] = [f'Invalid pk "{item}" - object does not exist.']
            return []
        pks.append(pk)
    if not pks:
        errors["patches"] = ["Bundles cannot be empty"]
    elif len({data.patches[pk]["project"] for pk in pks}) > 1:
        errors["patches"] = ["Bundle patches must belong to the same project"]
    return pks


def _bundle_fields(call: Call, body: dict[str, Any], partial: bool) -> dict[str, Any]:
    """The validated fields of a bundle write (patchwork/api/bundle.py BundleSerializer)."""
    errors: dict[str, list[str]] = {}
    changes: dict[str, Any] = {}
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not name.strip():
            errors["name"] = ["This field may not be blank."]
        elif len(name) > 50:
            errors["name"] = ["Ensure this field has no more than 50 characters."]
        else:
            changes["name"] = name
    elif not partial:
        errors["name"] = ["This field is required."]
    if "patches" in body:
        pks = _bundle_patches(call.data, body["patches"], errors)
        if pks:
            changes["patches"] = list(dict.fromkeys(pks))
            changes["project"] = call.data.patches[pks[0]]["project"]
    elif not partial:
        errors["patches"] = ["This field is required."]
    if "public" in body:
        value = body["public"]
        if isinstance(value, bool):
            changes["public"] = value
        elif str(value).lower() in ("true", "false", "1", "0", "yes", "no", "on", "off"):
            changes["public"] = str(value).lower() in ("true", "1", "yes", "on")
        else:
            errors["public"] = ["Must be a valid boolean."]
    if errors:
        raise ApiError(400, errors)
    return changes


async def _write_bundle(call: Call) -> web.StreamResponse:
    """POST bundles/, PUT/PATCH/DELETE bundles/<id>/ (BundlePermission: API 1.2+)."""
    method, data = call.request.method, call.data
    allow = BUNDLE_LIST if len(call.parts) == 1 else BUNDLE_DETAIL
    if call.ctx.version < 12:
        raise _method_not_allowed(call, allow)
    uid = call.ctx.user
    if len(call.parts) == 1:
        if method != "POST":
            raise _method_not_allowed(call, allow)
        if uid is None:
            raise ApiError(403, {"detail": NOT_AUTHENTICATED})
        fields = _bundle_fields(call, await _body(call.request), partial=False)
        bid = max(data.bundles, default=0) + 1
        data.bundles[bid] = {
            "id": bid,
            "name": fields["name"],
            "project": fields["project"],
            "owner": uid,
            "public": fields.get("public", False),
            "patches": fields["patches"],
        }
        body = call.r.bundle(bid)
        headers = {"Allow": allow, "Location": body["url"]}
        return json_response(body, status=201, headers=headers)
    bid = _get({b["id"]: b for b in _visible_bundles(call)}, call.parts[1], "Bundle")
    bundle = data.bundles[bid]
    if uid is None or bundle["owner"] != uid:  # public but not the caller's
        raise ApiError(403, {"detail": NOT_AUTHENTICATED if uid is None else NO_PERMISSION})
    if method == "DELETE":
        del data.bundles[bid]
        return web.Response(status=204, headers={"Allow": allow, "Vary": "Accept, Cookie"})
    fields = _bundle_fields(call, await _body(call.request), partial=method == "PATCH")
    bundle.update(fields)
    return _detail(call, call.r.bundle(bid), allow)


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
