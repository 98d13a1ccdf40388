"""The Patchwork simulator's writes: project, user, comment and patch updates, checks,
bundles — with the permission checks and validation errors of Patchwork 3.2.1."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.patchwork.simulator.calls import (
    BUNDLE_DETAIL,
    BUNDLE_LIST,
    EDIT,
    NO_PERMISSION,
    NOT_AUTHENTICATED,
    ApiError,
    Call,
    _body,
    _can_edit_patch,
    _detail,
    _get,
    _method_not_allowed,
    _require_auth,
    _visible_bundles,
    json_response,
)
from adapters.patchwork.simulator.data import (
    CHECK_STATES,
    STATE_SLUGS,
    PatchworkData,
    Record,
    now_str,
)


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
        _delegate_change(data, patch, body["delegate"], changes, errors)
    _flag_changes(body, changes, errors)
    if errors:
        raise ApiError(400, errors)
    _patch_events(data, patch, changes, uid)
    patch.update(changes)
    body = call.r.patch(pid, detail=True)
    body.pop("related", None)  # the real server's update response omits it
    return _detail(call, body, EDIT)


def _delegate_change(
    data: PatchworkData,
    patch: dict[str, Any],
    value: Any,
    changes: dict[str, Any],
    errors: dict[str, list[str]],
) -> None:
    """A new delegate as DRF's PrimaryKeyRelatedField reads it: a pk (int or digit string),
    nothing else, and a maintainer of the patch's project."""
    if value in (None, ""):
        changes["delegate"] = None
        return
    try:
        if isinstance(value, bool):
            raise TypeError
        did = int(value)
    except (TypeError, ValueError):
        errors["delegate"] = [
            f"Incorrect type. Expected pk value, received {type(value).__name__}."
        ]
        return
    if did not in data.users:
        errors["delegate"] = [f'Invalid pk "{value}" - object does not exist.']
    elif did not in data.projects[patch["project"]]["maintainers"]:
        user, project = data.users[did]["username"], data.projects[patch["project"]]["name"]
        errors["delegate"] = [f"User '{user}' is not a maintainer for project '{project}'"]
    else:
        changes["delegate"] = did


def _flag_changes(
    body: dict[str, Any], changes: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    """``archived`` (a boolean as DRF reads one) and the two strings."""
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


def _patch_events(
    data: PatchworkData, patch: dict[str, Any], changes: dict[str, Any], uid: int
) -> None:
    """The events an update makes: a state change, a new delegate."""
    if "state" in changes and changes["state"] != patch["state"]:
        data.add_event(
            "patch-state-changed",
            patch["project"],
            now_str(),
            actor=uid,
            patch=patch["id"],
            previous_state=patch["state"],
            current_state=changes["state"],
        )
    if "delegate" in changes and changes["delegate"] != patch["delegate"]:
        data.add_event(
            "patch-delegated",
            patch["project"],
            now_str(),
            actor=uid,
            patch=patch["id"],
            previous_delegate=patch["delegate"],
            current_delegate=changes["delegate"],
        )


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
