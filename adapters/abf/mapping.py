"""ABF payloads ⇄ records. The only module that knows their shapes.

Parsing accepts both what ABF's documents show and what the real server (rosa-build) sends:

=====================================  ==========================  =========================
field                                  documents                   real server
=====================================  ==========================  =========================
timestamps (``created_at``, dates)     strings ``"1348170705"``    integers ``1348170705``
``number``, line counts                strings ``"11"``            integers
``mergeable``                          ``"true"``                  ``true``
optional empty fields                  ``null``                    left out
list items                             no timestamps               no timestamps
write answers                          ``{"number", "message"}``   ``{"id", "message"}``
inline project                         + visibility, maintainer…   id, name, fullname, url,
                                                                   git_url
people                                 id, name, uname, url        + ``type``
=====================================  ==========================  =========================

Timestamps are Unix seconds (ISO 8601 strings are accepted too) and become aware UTC
datetimes. Anything unexpected raises ``BadPayload`` naming the backend, never a ``KeyError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from adapters.abf.records import (
    Commit,
    FileChange,
    GitActor,
    Group,
    Mergeability,
    NewPullRequest,
    PullRequest,
    PullRequestFilter,
    PullRequestUpdate,
    Ref,
    Scope,
)
from adapters.errors import BadPayload
from adapters.fastrecord import builder
from adapters.model import ChangeState, Event, Person, Project

# Keyword-compatible builders of the records mapped per item (adapters/fastrecord.py: no
# frozen ``__init__``, the same arguments and defaults, checked by the type checker).
_Person = builder(Person)
_Project = builder(Project)
_Ref = builder(Ref)
_PullRequest = builder(PullRequest)
_GitActor = builder(GitActor)
_Commit = builder(Commit)
_FileChange = builder(FileChange)
_Event = builder(Event)


R = TypeVar("R")

# rosa-build's PullRequest state machine: open (not yet checked), ready, already (nothing to
# merge), blocked (conflicts), merged, closed.
STATES: Mapping[str, tuple[ChangeState, Mergeability]] = {
    "open": (ChangeState.OPEN, Mergeability.UNKNOWN),
    "ready": (ChangeState.OPEN, Mergeability.MERGEABLE),
    "already": (ChangeState.OPEN, Mergeability.UP_TO_DATE),
    "blocked": (ChangeState.OPEN, Mergeability.CONFLICTING),
    "merged": (ChangeState.MERGED, Mergeability.UNKNOWN),
    "closed": (ChangeState.CLOSED, Mergeability.UNKNOWN),
}


def change_state(raw: str) -> tuple[ChangeState, Mergeability]:
    """Normalize a pull request status; an unknown one counts as open."""
    return STATES.get(raw.strip().lower(), (ChangeState.OPEN, Mergeability.UNKNOWN))


def guarded(backend: str, what: str, parse: Callable[[], R]) -> R:
    """Run ``parse``, turning shape errors into ``BadPayload`` for ``backend``."""
    try:
        return parse()
    except BadPayload:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadPayload(
            backend, f"unexpected {what} payload ({type(exc).__name__}: {exc})"
        ) from exc


def timestamp(value: Any) -> datetime | None:
    """Unix seconds as an int, a float or a digit string (or ISO 8601); empty is ``None``."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(text), UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def unix(value: datetime) -> int:
    """A datetime as ABF's ``since`` takes it (Unix seconds)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def integer(value: Any) -> int:
    """An integer sent as a number or as a digit string."""
    if isinstance(value, bool):
        raise ValueError(f"not an integer: {value!r}")
    return int(value)


def flag(value: Any) -> bool | None:
    """A boolean sent as ``true`` or as ``"true"``; absent is ``None``."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def person(backend: str, d: Mapping[str, Any] | None) -> Person | None:
    """A user (inline owner/assignee/maintainer/closer, or ``/users/:id``)."""
    if not d:
        return None
    return _Person(
        backend=backend,
        id=str(integer(d["id"])),
        name=_text(d.get("name")),
        email=_text((d.get("email") or "").strip()),
        username=_text(d.get("uname")),
        raw=d,
    )


def user(backend: str, d: Mapping[str, Any]) -> Person:
    """``GET /users/:id`` or ``/user``: ``{"user": {…}}``."""

    def parse() -> Person:
        found = person(backend, d.get("user", d))
        if found is None:
            raise ValueError("empty user")
        return found

    return guarded(backend, "user", parse)


def project(backend: str, d: Mapping[str, Any], web_base: str = "") -> Project:
    """A project: inline in a ref, a list item, ``/projects/:id`` or ``get_id``."""
    return guarded(backend, "project", lambda: _project(backend, d, web_base))


def _project(backend: str, d: Mapping[str, Any], web_base: str) -> Project:
    d = d["project"] if isinstance(d.get("project"), Mapping) else d
    name = str(d["name"])
    fullname = _text(d.get("fullname"))
    if fullname is None:
        owner = d.get("owner") or {}
        owner_name = owner.get("uname") or owner.get("name")
        fullname = f"{owner_name}/{name}" if owner_name else name
    return _Project(
        backend=backend,
        id=str(integer(d["id"])),
        name=name,
        link_name=fullname,
        web_url=f"{web_base}/{fullname}" if web_base else None,
        scm_url=_text(d.get("git_url")),
        webscm_url=f"{web_base}/{fullname}" if web_base else None,
        # Only details say it ("open" or "hidden"); list items and inline projects of the
        # real server do not (adapters/abf/anonymous.py asks then).
        public=d.get("visibility", "open") == "open",
        raw=d,
    )


def ref(backend: str, d: Mapping[str, Any] | None, web_base: str) -> Ref:
    """``to_ref`` / ``from_ref``."""
    if not d:
        return _Ref(ref="", sha=None, project=None)
    proj = d.get("project")
    return _Ref(
        ref=str(d.get("ref") or ""),
        sha=_text(d.get("sha")),
        project=project(backend, proj, web_base) if proj else None,
    )


def pull_request(backend: str, d: Mapping[str, Any], web_base: str = "") -> PullRequest:
    """A list item, or the ``pull_request`` of a single pull request answer."""
    if isinstance(d.get("pull_request"), Mapping):
        d = d["pull_request"]
    return guarded(backend, "pull request", lambda: _pull_request(backend, d, web_base))


def _pull_request(backend: str, d: Mapping[str, Any], web_base: str) -> PullRequest:
    number = integer(d["number"])
    to_ref = ref(backend, d.get("to_ref"), web_base)
    from_ref = ref(backend, d.get("from_ref"), web_base)
    target = to_ref.project
    if target is None:
        raise ValueError("pull request without to_ref.project")
    raw_state = str(d.get("status") or "open")
    state, mergeability = change_state(raw_state)
    return _PullRequest(
        backend=backend,
        id=f"{target.id}/{number}",
        project=target,
        number=number,
        title=str(d.get("title") or ""),
        state=state,
        raw_state=raw_state,
        mergeability=mergeability,
        mergeable=flag(d.get("mergeable")),
        to_ref=to_ref,
        from_ref=from_ref,
        owner=person(backend, d.get("owner")),
        assignee=person(backend, d.get("assignee")),
        body=_text(d.get("body")) if "body" in d else None,
        created_at=timestamp(d.get("created_at")),
        modified_at=timestamp(d.get("updated_at")),
        merged_at=timestamp(d.get("merged_at")),
        closed_at=timestamp(d.get("closed_at")),
        closed_by=person(backend, d.get("closed_by")),
        merged_by=person(backend, d.get("merged_by")),
        api_url=_text(d.get("url")),
        web_url=f"{web_base}/{target.link_name}/pull_requests/{number}" if web_base else None,
        raw=d,
    )


def _actor(d: Mapping[str, Any] | None) -> GitActor | None:
    if not d:
        return None
    return _GitActor(
        name=_text(d.get("name")), email=_text(d.get("email")), date=timestamp(d.get("date"))
    )


def commit(backend: str, d: Mapping[str, Any]) -> Commit:
    """An item of ``…/pull_requests/:number/commits``."""

    def parse() -> Commit:
        tree = d.get("tree") or {}
        return _Commit(
            backend=backend,
            sha=str(d["sha"]),
            message=str(d.get("message") or ""),
            author=_actor(d.get("author")),
            committer=_actor(d.get("committer")),
            parents=tuple(str(p["sha"]) for p in d.get("parents") or ()),
            tree_sha=_text(tree.get("sha")),
            web_url=_text(d.get("https_url")),
            raw=d,
        )

    return guarded(backend, "commit", parse)


def file_change(backend: str, d: Mapping[str, Any]) -> FileChange:
    """An item of ``…/pull_requests/:number/files``."""

    def parse() -> FileChange:
        additions = integer(d.get("additions") or 0)
        deletions = integer(d.get("deletions") or 0)
        changes = d.get("changes")
        return _FileChange(
            backend=backend,
            filename=str(d["filename"]),
            status=str(d.get("status") or "modified"),
            additions=additions,
            deletions=deletions,
            changes=integer(changes) if changes not in (None, "") else additions + deletions,
            sha=_text(d.get("sha")),
            blob_url=_text(d.get("blob_https_url")),
            raw_url=_text(d.get("raw_https_url")),
            raw=d,
        )

    return guarded(backend, "file", parse)


def group(backend: str, d: Mapping[str, Any]) -> Group:
    """``GET /groups/:id``: ``{"group": {…}}``."""

    def parse() -> Group:
        g = d["group"] if isinstance(d.get("group"), Mapping) else d
        count = g.get("own_projects_count")
        return Group(
            backend=backend,
            id=str(integer(g["id"])),
            uname=str(g["uname"]),
            description=_text(g.get("description")),
            own_projects_count=None if count in (None, "") else integer(count),
            owner=person(backend, g.get("owner")),
            created_at=timestamp(g.get("created_at")),
            updated_at=timestamp(g.get("updated_at")),
            web_url=_text(g.get("html_url")),
            avatar_url=_text(g.get("avatar_url")),
            raw=g,
        )

    return guarded(backend, "group", parse)


def write_answer(backend: str, d: Any) -> tuple[int | None, str]:
    """A create/update/merge answer: (``number`` or ``id``, message).

    The documents answer ``{"pull_request": {"number", "message"}}``; the real server
    ``{"pull_request": {"id", "message"}}`` where ``id`` is its database id, not the number.
    """

    def parse() -> tuple[int | None, str]:
        inner = d["pull_request"]
        value = inner.get("number", inner.get("id"))
        return (None if value in (None, "") else integer(value)), str(inner.get("message") or "")

    return guarded(backend, "write answer", parse)


def answer_is_number(d: Any) -> bool:
    """Whether a write answer names the pull request by ``number`` (the documented form)."""
    return isinstance(d, Mapping) and "number" in (d.get("pull_request") or {})


def list_params(flt: PullRequestFilter) -> dict[str, str | int]:
    """ABF's query parameters for a pull request list."""
    params: dict[str, str | int] = {}
    if flt.scope is not Scope.PROJECT and flt.filter:
        params["filter"] = flt.filter
    if flt.status:
        params["status"] = flt.status
    if flt.scope is Scope.PROJECT:
        if flt.assignee:
            params["assignee"] = flt.assignee
        if flt.creator:
            params["creator"] = flt.creator
    if flt.sort:
        params["sort"] = flt.sort
    if flt.direction:
        params["direction"] = flt.direction
    if flt.since is not None:
        params["since"] = unix(flt.since)
    return params


def new_pull_request_body(new: NewPullRequest) -> dict[str, Any]:
    """``POST /projects/:id/pull_requests`` body."""
    body: dict[str, Any] = {
        "title": new.title,
        "body": new.body,
        "to_ref": new.to_ref,
        "from_ref": new.from_ref,
    }
    if new.assignee_id:
        body["assignee_id"] = integer(new.assignee_id)
    if new.from_project:
        body["from_project_id"] = integer(new.from_project)
    return {"pull_request": body}


def update_body(update: PullRequestUpdate) -> dict[str, Any]:
    """``PUT /projects/:id/pull_requests/:number`` body (empty dict: nothing to change)."""
    body: dict[str, Any] = {}
    if update.title is not None:
        body["title"] = update.title
    if update.body is not None:
        body["body"] = update.body
    if update.assignee_id is not None:
        body["assignee_id"] = integer(update.assignee_id) if update.assignee_id else None
    if update.status is not None:
        body["status"] = update.status
    return {"pull_request": body} if body else {}


def merge_body(message: str | None) -> dict[str, Any]:
    """``PUT /projects/:id/pull_requests/:number/merge`` body."""
    return {"pull_request": {"commit_message": message} if message else {}}


def list_statuses(states: Sequence[ChangeState]) -> tuple[str, ...]:
    """ABF ``status`` values whose lists hold every pull request in one of ``states``.

    ABF lists either open pull requests (open, ready, already, blocked) or closed ones
    (merged, closed), never both: no states (everything) takes both lists.
    """
    if not states:
        return ("open", "closed")
    wanted = set(states)
    out = []
    if ChangeState.OPEN in wanted:
        out.append("open")
    if wanted & {ChangeState.MERGED, ChangeState.CLOSED}:
        out.append("closed")
    return tuple(out)


def event(pr: PullRequest) -> Event:
    """A pull request's latest update as an event (ABF has no event log).

    The id includes the update time, so each update is a new event; the category says what
    the update most likely was.
    """
    updated = pr.updated_at
    if pr.state is ChangeState.MERGED:
        category, actor = "pull-request-merged", pr.merged_by or pr.closed_by
    elif pr.state is ChangeState.CLOSED:
        category, actor = "pull-request-closed", pr.closed_by
    elif pr.created_at is not None and pr.created_at == updated:
        category, actor = "pull-request-created", pr.owner
    else:
        category, actor = "pull-request-updated", None
    return _Event(
        backend=pr.backend,
        id=f"{pr.id}@{unix(updated)}",
        category=category,
        date=updated,
        project=pr.project,
        actor=actor,
        current_state=pr.raw_state,
        raw=pr.raw,
    )
