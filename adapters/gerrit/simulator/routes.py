"""The simulator's routing: which ``Writes``/``Api`` method or ``meta`` endpoint answers
which documented path.

Paths arrive without ``/a`` and still URL-encoded; each segment is decoded on its own so a
file path or a ``project~branch~Change-Id`` with ``%2F`` stays one segment.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from aiohttp import web

from adapters.gerrit.simulator import meta
from adapters.gerrit.simulator.api import ApiError, json_body
from adapters.gerrit.simulator.data import ChangeData, GerritData, Json, RevisionData
from adapters.gerrit.simulator.writes import Writes

_json = json_body
Route = Callable[[], web.StreamResponse]


async def handle(
    request: web.Request,
    data: GerritData,
    raw_path: str,
    caller: int | None,
    legacy: bool,
    base: str,
) -> web.StreamResponse:
    """Answer one request (``raw_path`` without ``/a``, still URL-encoded)."""
    api = Writes(request, data, caller, legacy, base)
    method = request.method
    trailing = raw_path.endswith("/")
    parts = [unquote(p) for p in raw_path.strip("/").split("/")] if raw_path.strip("/") else []
    if method in ("POST", "PUT", "DELETE"):
        await api.read_body()
        api.need_auth()
    if not parts:
        raise ApiError(404, "Not found")
    answer = meta.route(api, parts, trailing)
    if answer is not None:
        return answer
    head = parts[0]
    if head == "projects" and method == "GET":
        return _project(api, parts[1:], trailing)
    if parts == ["accounts", "self", "capabilities"] and method == "GET":
        return api.capabilities()
    if head != "changes":
        raise ApiError(404, "Not found")
    if len(parts) == 1:
        if method != "GET":
            raise ApiError(405, "Method Not Allowed")
        return api.query()
    return _change_route(api, api.change(parts[1]), parts[2:], trailing)


def _project(api: Writes, rest: list[str], trailing: bool) -> web.StreamResponse:
    if trailing or not rest:
        return api.projects("/".join(rest))
    name = "/".join(rest)  # an unencoded name with slashes is still one project
    if name not in api.data.projects:
        raise ApiError(404, "Not found")
    return _json({"id": name.replace("/", "%2F"), "name": name} | api.data.projects[name])


def _change_route(
    api: Writes, c: ChangeData, rest: list[str], trailing: bool
) -> web.StreamResponse:
    method = api.request.method
    if not rest:
        if method == "GET":
            return _json(api.render.change(c, api.request.query.getall("o", [])))
        if method == "DELETE":
            return api.delete_draft(c, None)
    elif len(rest) == 1:
        simple: dict[tuple[str, str], Route] = {
            ("GET", "detail"): lambda: _json(
                api.render.change(c, ["LABELS", "DETAILED_LABELS", "DETAILED_ACCOUNTS", "MESSAGES"])
            ),
            ("GET", "topic"): lambda: _json(c.topic),
            ("PUT", "topic"): lambda: api.set_topic(c),
            ("DELETE", "topic"): lambda: api.set_topic(c, delete=True),
            ("POST", "abandon"): lambda: api.abandon(c),
            ("POST", "restore"): lambda: api.restore(c),
            ("POST", "rebase"): lambda: api.rebase(c, None),
            ("POST", "revert"): lambda: api.revert(c),
            ("POST", "submit"): lambda: api.submit(c, None),
            ("POST", "publish"): lambda: api.publish(c, None),
            ("GET", "in"): lambda: _json(
                ({"kind": "gerritcodereview#includedininfo"} if api.legacy else {})
                | {"branches": [c.branch] if c.status == "MERGED" else [], "tags": []}
            ),
            ("GET", "reviewers"): lambda: api.reviewers(c),
            ("POST", "reviewers"): lambda: api.add_reviewer(c),
            ("GET", "suggest_reviewers"): lambda: api.suggest(c),
        }
        if (method, rest[0]) in simple:
            return simple[(method, rest[0])]()
    elif rest[0] == "reviewers" and len(rest) == 2:
        if method == "GET":
            return api.reviewer(c, rest[1])
        if method == "DELETE":
            return api.delete_reviewer(c, rest[1])
    elif rest[0] == "revisions":
        return _revision_route(api, c, rest[1:], trailing)
    raise ApiError(404, "Not found")


def _revision_route(
    api: Writes, c: ChangeData, rest: list[str], trailing: bool
) -> web.StreamResponse:
    method = api.request.method
    if not rest:
        raise ApiError(404, "Not found")
    r = api.revision(c, rest[0])
    sub = rest[1:]
    if not sub:
        if method == "DELETE":
            return api.delete_draft(c, r)
        raise ApiError(404, "Not found")
    what = sub[0]
    if len(sub) == 1:
        routes: dict[tuple[str, str], Route] = {
            ("GET", "commit"): lambda: _json(api.render.commit(c, r)),
            ("GET", "review"): lambda: _json(_review(api, c, r)),
            ("POST", "review"): lambda: api.set_review(c, r),
            ("POST", "rebase"): lambda: api.rebase(c, r),
            ("POST", "submit"): lambda: api.submit(c, r),
            ("POST", "publish"): lambda: api.publish(c, r),
            ("GET", "patch"): lambda: api.patch(c, r),
            ("GET", "mergeable"): lambda: _json(
                {"submit_type": "MERGE_IF_NECESSARY", "mergeable": c.mergeable}
            ),
            ("GET", "submit_type"): lambda: _json("MERGE_IF_NECESSARY"),
            ("POST", "test.submit_type"): api.test_submit_type,
            ("POST", "test.submit_rule"): lambda: api.test_submit_rule(c),
            ("GET", "drafts"): lambda: api.drafts(r),
            ("PUT", "drafts"): lambda: api.put_draft(c, r, None),
            ("GET", "comments"): lambda: api.comments(r),
            ("GET", "files"): lambda: _files(api, r),
            ("POST", "cherrypick"): lambda: api.cherry_pick(c, r),
            ("POST", "message"): lambda: api.edit_message(c, r),
        }
        if (method, what) in routes:
            return routes[(method, what)]()
    elif what == "drafts" and len(sub) == 2:
        if method == "GET":
            return _json(api.render.comment(api._draft(r, sub[1]), True, draft=True))
        if method == "PUT":
            return api.put_draft(c, r, sub[1])
        if method == "DELETE":
            return api.delete_draft_comment(r, sub[1])
    elif what == "comments" and len(sub) == 2 and method == "GET":
        for x in r.comments:
            if x["id"] == sub[1]:
                return _json(api.render.comment(x, True))
    elif what == "files" and len(sub) == 3:
        path, action = sub[1], sub[2]
        if action == "content" and method == "GET":
            return api.content(r, path)
        if action == "diff" and method == "GET":
            return api.diff(c, r, path)
        if action == "reviewed" and method in ("PUT", "DELETE"):
            return api.set_reviewed(r, path, method == "PUT")
    raise ApiError(404, "Not found")


def _files(api: Writes, r: RevisionData) -> web.Response:
    if "reviewed" in api.request.query:
        return _json(sorted(r.reviewed.get(api.need_auth(), set())))
    return _json(api.render.files(r))


def _review(api: Writes, c: ChangeData, r: RevisionData) -> Json:
    out = api.render.change(c, ["LABELS", "DETAILED_LABELS", "DETAILED_ACCOUNTS"])
    out["revisions"] = {r.sha: api.render.revision(c, r, set())}
    if r is c.current:
        out["current_revision"] = r.sha
    return out
