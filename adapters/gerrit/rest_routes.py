"""Which documented Gerrit path the REST compat layer serves, and how each answer is drawn.

``route`` maps one request (method, decoded path segments) to an ``Endpoint``: the documented
path to ask the backend (segments re-encoded the way Gerrit spells them: a change triplet's
project ``%2F``-encoded, a file path as one ``%2F``-encoded segment) and ``draw``, which turns
the backend's decoded JSON into the answer — parsed into records by ``mapping`` and rendered
back by ``render`` (``render.conform`` gives it the form the server used). Downloads (file
content, formatted patch) are parsed into ``BinaryContent`` records and re-encoded by
``rest.py``. Paths not documented (accounts other than ``self/capabilities``, groups …) are
``None``: 404 ``Not found``, as Gerrit answers them.

Gerrit treats every path without ``/a/`` as an anonymous user's, but the gateway asks the
backend with its own account: ``anonymous_refusal`` and ``anonymous_form`` give such a caller
Gerrit's anonymous answer instead of that account's own data (drafts, reviewed flags, stars,
``self`` queries, suggestions, capabilities; docs/security.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import quote

from adapters.errors import BadPayload
from adapters.gerrit import mapping, query, render
from adapters.gerrit.records import Capabilities
from adapters.model import Project
from adapters.paths import BadSegment, seg

Draw = Callable[[Any], Any]
"""The backend's decoded JSON answer → the compat answer (through the records)."""

REVISION_ID = r"current|[0-9a-fA-F]{4,40}|\d+"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One served request: what to ask the backend and how to answer from its records."""

    upstream: str  # the documented path (without ``/a``), URL-encoded
    draw: Draw | None = None  # JSON answers; None for downloads
    content: str | None = None  # "base64" (file content, patch) or "zip" (patch?zip)
    text_input: str | None = None  # the input field a text/plain body fills (@DefaultInput)
    personal: bool = False  # the signed-in user's own data: Gerrit refuses it to anonymous users
    queries: tuple[str, ...] = ()  # the change queries (q=) the request runs


AUTH_REQUIRED = "Authentication required"
# What an answer shows of the signed-in user (key → its anonymous form; None: left out).
_CHANGE_SELF: dict[str, Any] = {
    "starred": None,
    "stars": None,
    "reviewed": None,
    "permitted_labels": {},
    "removable_reviewers": [],
    "actions": {},
}
_REVISION_SELF: dict[str, Any] = {"has_draft_comments": None, "actions": {}}


def anonymous_refusal(endpoint: Endpoint) -> tuple[int, str] | None:
    """Gerrit's answer to an anonymous user for ``endpoint`` when it differs from the
    gateway account's (status, text), or ``None`` when the account's answer may be served
    (after ``anonymous_form``). A query the gateway cannot read is refused too: it might
    hide an operator naming the caller."""
    if endpoint.personal:
        return 403, AUTH_REQUIRED
    for text in endpoint.queries:
        try:
            tree = query.parse(text)
        except query.QueryError as exc:
            return 400, str(exc)
        if query.about_caller(tree) is not None:
            return 400, query.SIGNED_IN_ONLY
    return None


def _is_change(d: Any) -> bool:
    return isinstance(d, dict) and "_number" in d and "change_id" in d


def hidden_change(d: Any) -> bool:
    """A ChangeInfo only its owner and reviewers may see (a draft or private change)."""
    return _is_change(d) and (d.get("status") == "DRAFT" or d.get("is_private") is True)


def anonymous_form(d: Any) -> Any:
    """A decoded answer as an anonymous user sees it: each ChangeInfo (alone, in a list, in
    lists of lists) without the signed-in user's stars, reviewed flag, permitted votes,
    removable reviewers, actions, draft markers and draft patch sets; lists without draft
    and private changes (a single one is ``hidden_change``: 404)."""
    if isinstance(d, list):
        kept = [anonymous_form(x) for x in d if not hidden_change(x)]
        if d and _is_change(d[-1]) and d[-1].get("_more_changes") and kept and _is_change(kept[-1]):
            kept[-1]["_more_changes"] = True  # the last one shown says more follow
        return kept
    if not _is_change(d):
        return d
    out = _without(d, _CHANGE_SELF)
    revisions = out.get("revisions")
    if isinstance(revisions, dict):
        out["revisions"] = {
            sha: _without(r, _REVISION_SELF)
            for sha, r in revisions.items()
            if isinstance(r, dict) and r.get("draft") is not True
        }
    return out


def _without(d: dict[str, Any], personal: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in d.items():
        if key not in personal:
            out[key] = value
        elif personal[key] is not None:
            out[key] = type(personal[key])()  # a fresh empty map or list
    return out


def _drawn(parse: Callable[[Any], Any], draw: Callable[[Any], Any]) -> Draw:
    return lambda d: render.conform(draw(parse(d)), d)


def _list(parse: Callable[[Any], list[Any]], draw: Callable[[Any], Any]) -> Draw:
    return lambda d: render.conform([draw(x) for x in parse(d)], d)


def _string(name: str, what: str) -> Draw:
    return lambda d: mapping.string(name, d, what)


def _guarded(name: str, what: str, parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda d: mapping.guarded(name, what, lambda: parse(d))


def _map(name: str, what: str) -> Callable[[Any], Mapping[str, Any]]:
    def check(d: Any) -> Mapping[str, Any]:
        if not isinstance(d, Mapping):
            raise BadPayload(name, f"expected a JSON object for {what} from Gerrit")
        return d

    return check


def _change(name: str) -> Draw:
    return _drawn(partial(mapping.change, name), render.change_json)


def _query(name: str, queries: int) -> Draw:
    """``/changes/``: one list of ChangeInfo, or a list of lists for several ``q``."""

    def draw(d: Any) -> Any:
        lists = mapping.change_lists(name, d, max(queries, 1))
        raw = d if queries > 1 else [d]
        out = [
            [render.conform(render.change_json(c), r) for c, r in zip(cs, rs, strict=True)]
            for cs, rs in zip(lists, raw, strict=True)
        ]
        return out if queries > 1 else out[0]

    return draw


def _seg(value: str) -> str:
    return seg(value)


def route(
    method: str, parts: Sequence[str], name: str, params: Mapping[str, Sequence[str]]
) -> Endpoint | None:
    """The endpoint for ``method`` on the decoded path segments ``parts``, or ``None``.

    A segment that cannot go upstream (``adapters/paths.py``: ``..``, control characters)
    matches no endpoint: the client gets Gerrit's own 404, nothing is sent."""
    try:
        return _route(method, parts, name, params)
    except BadSegment:
        return None


def _route(
    method: str, parts: Sequence[str], name: str, params: Mapping[str, Sequence[str]]
) -> Endpoint | None:
    if not parts:
        return None
    head = parts[0]
    if head == "changes":
        return _changes(method, parts[1:], name, params)
    if method != "GET":
        return None
    if head == "projects":
        return _projects(parts[1:], name)
    if [p for p in parts if p] == ["accounts", "self", "capabilities"]:
        return Endpoint(
            "/accounts/self/capabilities",
            _drawn(_guarded(name, "capabilities", mapping.capabilities), _capabilities),
            personal=True,  # "self" is the signed-in user
        )
    return None


def _projects(rest: Sequence[str], name: str) -> Endpoint | None:
    if not rest or rest == [""]:
        return Endpoint(
            "/projects/",
            _drawn(_guarded(name, "projects", partial(mapping.projects, name)), _project_map),
        )
    names = [p for p in rest if p]
    if len(names) != 1:
        # Gerrit reads one (encoded) segment as the project; what follows (``branches/``,
        # ``description`` …) is a view this layer does not model: passed through.
        return None
    project = names[0]
    return Endpoint(
        "/projects/" + _seg(project),
        _drawn(_guarded(name, "project", partial(mapping.project_info, name)), _project),
    )


def _changes(
    method: str, rest: Sequence[str], name: str, params: Mapping[str, Sequence[str]]
) -> Endpoint | None:
    if not rest or rest == [""]:
        if method != "GET":
            return None
        queries = tuple(params.get("q", ()))
        return Endpoint("/changes/", _query(name, len(queries)), queries=queries)
    if not rest[0]:
        return None
    base = "/changes/" + seg(rest[0])  # '~' stays as it is (unreserved)
    tail = [p for p in rest[1:] if p]
    if not tail:
        if method == "GET":
            return Endpoint(base, _change(name))
        return Endpoint(base) if method == "DELETE" else None
    what = tail[0]
    if len(tail) == 1:
        return _change_actions(base, name).get((method, what))
    if what == "reviewers" and len(tail) == 2:
        account = f"{base}/reviewers/{_seg(tail[1])}"
        if method == "GET":
            reviewer = _map_parse(name, "reviewer", mapping.reviewer)
            return Endpoint(account, _drawn(reviewer, render.reviewer_json))
        return Endpoint(account) if method == "DELETE" else None
    if what == "revisions":
        return _revision(method, tail[1:], f"{base}/revisions", name, "reviewed" in params)
    return None


def _change_actions(base: str, name: str) -> dict[tuple[str, str], Endpoint]:
    """The one-segment actions on a change (``/changes/<id>/<action>``), by method."""
    change = _change(name)
    return {
        ("GET", "detail"): Endpoint(f"{base}/detail", change),
        ("GET", "topic"): Endpoint(f"{base}/topic", _string(name, "topic")),
        ("PUT", "topic"): Endpoint(f"{base}/topic", _string(name, "topic"), text_input="topic"),
        ("DELETE", "topic"): Endpoint(f"{base}/topic", text_input="topic"),
        ("POST", "abandon"): Endpoint(f"{base}/abandon", change, text_input="message"),
        ("POST", "restore"): Endpoint(f"{base}/restore", change, text_input="message"),
        ("POST", "rebase"): Endpoint(f"{base}/rebase", change),
        ("POST", "revert"): Endpoint(f"{base}/revert", change, text_input="message"),
        ("POST", "submit"): Endpoint(f"{base}/submit", change),
        ("POST", "publish"): Endpoint(f"{base}/publish"),
        ("GET", "in"): Endpoint(
            f"{base}/in",
            _drawn(_map_parse(name, "included-in", mapping.included_in), render.included_in_json),
        ),
        ("GET", "reviewers"): Endpoint(
            f"{base}/reviewers/", _list(partial(mapping.reviewers, name), render.reviewer_json)
        ),
        ("POST", "reviewers"): Endpoint(
            f"{base}/reviewers",
            _drawn(
                _map_parse(name, "add-reviewer result", mapping.add_reviewer_result),
                render.add_reviewer_json,
            ),
            text_input="reviewer",
        ),
        ("GET", "suggest_reviewers"): Endpoint(
            f"{base}/suggest_reviewers",
            _list(partial(mapping.suggested_reviewers, name), render.suggested_json),
            personal=True,  # accounts as the signed-in user sees them
        ),
    }


def _map_parse(name: str, what: str, parse: Callable[[str, Any], Any]) -> Callable[[Any], Any]:
    check = _map(name, what)
    return _guarded(name, what, lambda d: parse(name, check(d)))


def _revision(
    method: str, tail: Sequence[str], base: str, name: str, reviewed: bool
) -> Endpoint | None:
    if not tail or not re.fullmatch(REVISION_ID, tail[0]):
        return None
    rev = f"{base}/{tail[0]}"
    sub = tail[1:]
    if not sub:
        return Endpoint(rev) if method == "DELETE" else None
    if len(sub) == 1:
        return _revision_actions(rev, name, reviewed).get((method, sub[0]))
    return _revision_item(method, sub, rev, name)


def _revision_actions(rev: str, name: str, reviewed: bool) -> dict[tuple[str, str], Endpoint]:
    """The one-segment actions on a revision (``…/revisions/<rev>/<action>``), by method."""
    comment = _comment(name)
    comments = _drawn(partial(mapping.comment_map, name), render.comments_json)
    change = _change(name)
    return {
        ("GET", "commit"): Endpoint(
            f"{rev}/commit",
            _drawn(_map_parse(name, "commit", mapping.commit), render.commit_json),
        ),
        ("GET", "review"): Endpoint(f"{rev}/review", change),
        ("POST", "review"): Endpoint(
            f"{rev}/review",
            _drawn(partial(mapping.review_labels, name), _review),
            text_input="message",
        ),
        ("POST", "rebase"): Endpoint(f"{rev}/rebase", change),
        ("POST", "submit"): Endpoint(
            f"{rev}/submit", _drawn(partial(mapping.submit_status, name), _submit_info)
        ),
        ("POST", "publish"): Endpoint(f"{rev}/publish"),
        ("GET", "patch"): Endpoint(f"{rev}/patch", content="base64"),
        ("GET", "mergeable"): Endpoint(
            f"{rev}/mergeable",
            _drawn(_map_parse(name, "mergeable", mapping.mergeable), render.mergeable_json),
        ),
        ("GET", "submit_type"): Endpoint(f"{rev}/submit_type", _string(name, "submit type")),
        ("POST", "test.submit_type"): Endpoint(
            f"{rev}/test.submit_type", _string(name, "submit type"), text_input="rule"
        ),
        ("POST", "test.submit_rule"): Endpoint(
            f"{rev}/test.submit_rule",
            _list(partial(mapping.submit_records, name), render.submit_record_json),
            text_input="rule",
        ),
        ("GET", "drafts"): Endpoint(f"{rev}/drafts/", comments, personal=True),
        ("PUT", "drafts"): Endpoint(f"{rev}/drafts", comment),
        ("GET", "comments"): Endpoint(f"{rev}/comments/", comments),
        ("GET", "files"): Endpoint(f"{rev}/files/", _files(name), personal=reviewed),
        ("POST", "cherrypick"): Endpoint(f"{rev}/cherrypick", change),
        ("POST", "message"): Endpoint(f"{rev}/message", change, text_input="message"),
    }


def _revision_item(method: str, sub: Sequence[str], rev: str, name: str) -> Endpoint | None:
    """One draft or comment (``…/drafts/<id>``), or a file's action (``…/files/<path>/…``)."""
    what = sub[0]
    if what in ("drafts", "comments") and len(sub) == 2:
        one = f"{rev}/{what}/{_seg(sub[1])}"
        if method == "GET":
            return Endpoint(one, _comment(name), personal=what == "drafts")
        if what == "drafts" and method == "PUT":
            return Endpoint(one, _comment(name))
        if what == "drafts" and method == "DELETE":
            return Endpoint(one)
        return None
    if what == "files" and len(sub) >= 3:
        # A file id is one %2F-encoded segment; a client that did not encode it still means
        # the whole path up to the action.
        path, action = "/".join(sub[1:-1]), sub[-1]
        where = f"{rev}/files/{_seg(path)}/{action}"
        if method == "GET" and action == "content":
            return Endpoint(where, content="base64")
        if method == "GET" and action == "diff":
            return Endpoint(where, _drawn(_map_parse(name, "diff", mapping.diff), render.diff_json))
        if method in ("PUT", "DELETE") and action == "reviewed":
            return Endpoint(where)
    return None


def _comment(name: str) -> Draw:
    return _drawn(partial(mapping.one_comment, name), render.comment_json)


def _files(name: str) -> Draw:
    """``/files/``: a FileInfo map, or with ``?reviewed`` the list of reviewed paths."""
    listed = _drawn(_map_parse(name, "files", mapping.files), render.files_json)

    def draw(d: Any) -> Any:
        if isinstance(d, list):
            return mapping.reviewed_files(name, d)
        return listed(d)

    return draw


def _review(labels: dict[str, int]) -> Any:
    return {"labels": labels}


def _submit_info(status: str) -> Any:
    return {"status": status}


def _project(p: Project) -> Any:
    return {"id": quote(p.name, safe=""), "name": p.name}


def _project_map(ps: list[Project]) -> Any:
    return {p.name: _project(p) for p in ps}


def _capabilities(c: Capabilities) -> Any:
    out: dict[str, Any] = dict.fromkeys(c.enabled, True)
    if c.query_limit is not None:
        out["queryLimit"] = {"min": c.query_limit[0], "max": c.query_limit[1]}
    return out
