"""Gerrit payloads → records: with ``bodies.py`` (records → request bodies), the only code
that knows Gerrit's JSON shapes.

Both eras are accepted: Gerrit 2.x (``kind``, ``_sortkey``, ``id`` = bare Change-Id, messages
with ``updated``/``revision_number``) and today's (``_more_changes`` only, ``change_id``,
``date``/``_revision_number``). A payload missing what a record needs raises
``BadPayload`` (through ``guarded``), never a bare ``KeyError``.

Timestamps are ``YYYY-MM-DD hh:mm:ss.nnnnnnnnn`` in UTC; ``parse_timestamp`` accepts exactly
that (fraction optional, 1–9 digits) and keeps microseconds — Python's resolution; the
nanosecond digits beyond it are dropped, and ``format_timestamp`` writes them as zeros.

Verified and CI labels become ``Check`` records (see ``label_checks``) so a Gerrit change rolls
up into the same ``checkState`` as a Patchwork patch.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote, unquote

from adapters.errors import BadPayload
from adapters.fastrecord import builder
from adapters.gerrit.checks import is_check_label, label_checks
from adapters.gerrit.records import (
    AddReviewerResult,
    BinaryContent,
    Capabilities,
    CommentRange,
    Commit,
    Diff,
    DiffChunk,
    DiffSide,
    Fetch,
    FileChange,
    GerritChange,
    GitPerson,
    IncludedIn,
    InlineComment,
    Label,
    Mergeable,
    Message,
    Reviewer,
    Revision,
    SubmitRecord,
    SuggestedReviewer,
    Vote,
)
from adapters.model import ChangeState, Person, Project, rollup

# Keyword-compatible builders of the records mapped per item (adapters/fastrecord.py: no
# frozen ``__init__``, the same arguments and defaults, checked by the type checker).
_Person = builder(Person)
_Project = builder(Project)
_GitPerson = builder(GitPerson)
_Commit = builder(Commit)
_FileChange = builder(FileChange)
_Revision = builder(Revision)
_Vote = builder(Vote)
_Label = builder(Label)
_Message = builder(Message)
_GerritChange = builder(GerritChange)
_InlineComment = builder(InlineComment)
_CommentRange = builder(CommentRange)
_Fetch = builder(Fetch)


T = TypeVar("T")

STATES: dict[str, ChangeState] = {
    "NEW": ChangeState.OPEN,
    "SUBMITTED": ChangeState.OPEN,  # Gerrit 2.x: submitted, merge still pending
    "MERGED": ChangeState.MERGED,
    "ABANDONED": ChangeState.CLOSED,
    "DRAFT": ChangeState.DRAFT,
}

_TIMESTAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$")


def guarded(backend: str, what: str, build: Callable[[], T]) -> T:
    """Run ``build``; a malformed payload becomes ``BadPayload`` naming ``what``."""
    try:
        return build()
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadPayload(backend, f"unexpected {what} payload from Gerrit: {exc!r}"[:200]) from None


def parse_timestamp(value: str) -> datetime:
    """A Gerrit timestamp (UTC) as an aware datetime; ``ValueError`` for any other shape."""
    return _timestamp_once(value) if type(value) is str else _timestamp(value)


def _timestamp(value: str) -> datetime:
    match = _TIMESTAMP.match(value)
    if match is None:
        raise ValueError(f"not a Gerrit timestamp: {value[:40]!r}")
    year, month, day, hour, minute, second, fraction = match.groups()
    micro = int((fraction or "0").ljust(9, "0")[:6])
    return datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=UTC
    )


_timestamp_once = functools.lru_cache(maxsize=16384)(_timestamp)  # an answer repeats dates


def format_timestamp(value: datetime) -> str:
    """``value`` in Gerrit's timestamp format (UTC, nine fraction digits)."""
    value = value.astimezone(UTC) if value.tzinfo else value
    return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond:06d}000"


def _opt_time(value: Any) -> datetime | None:
    return parse_timestamp(value) if isinstance(value, str) and value else None


def vote_value(value: Any) -> int | None:
    """A vote as an int: ``"+1"``, ``" 0"``, ``"-2"``, ``1``; ``None`` for none/empty."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text else None


# --- accounts and projects -----------------------------------------------------------------


def account(backend: str, d: Mapping[str, Any]) -> Person:
    """An AccountInfo as a person; the id is ``_account_id`` when the server sent it."""
    account_id = d.get("_account_id")
    name, email, username = d.get("name"), d.get("email"), d.get("username")
    native = str(account_id) if account_id is not None else (username or email or name or "?")
    return _Person(backend=backend, id=native, name=name, email=email, username=username, raw=d)


def _opt_account(backend: str, d: Any) -> Person | None:
    # ``type(d) is dict`` first, here and in the other per-item checks: an ABC's
    # ``isinstance`` runs Python code (``ABCMeta.__instancecheck__``) on every call
    return account(backend, d) if type(d) is dict or isinstance(d, Mapping) else None


def project(backend: str, name: str, d: Mapping[str, Any] | None = None) -> Project:
    """A project record for ``name`` (ProjectInfo ``d`` when the server sent one)."""
    return _Project(backend=backend, id=name, name=name, link_name=name, raw=d or {})


def projects(backend: str, d: Mapping[str, Any]) -> list[Project]:
    """``/projects/``: a map of name → ProjectInfo, in name order."""
    if not isinstance(d, Mapping):
        raise TypeError("expected a map of projects")
    return [project(backend, name, info or {}) for name, info in sorted(d.items())]


def project_info(backend: str, d: Mapping[str, Any]) -> Project:
    """One ProjectInfo (``/projects/{name}``); ``name`` or the URL-encoded ``id``."""
    name = d.get("name") or unquote(d["id"])
    return project(backend, name, d)


def capabilities(d: Mapping[str, Any]) -> Capabilities:
    """``/accounts/self/capabilities``: true flags and the ``queryLimit`` range."""
    limit = d.get("queryLimit")
    query_limit = (int(limit["min"]), int(limit["max"])) if isinstance(limit, Mapping) else None
    enabled = tuple(sorted(k for k, v in d.items() if v is True))
    return Capabilities(enabled=enabled, query_limit=query_limit)


# --- changes -------------------------------------------------------------------------------


def _commit(d: Mapping[str, Any]) -> Commit:
    def person(p: Any) -> GitPerson | None:
        if type(p) is not dict and not isinstance(p, Mapping):
            return None
        return _GitPerson(
            p.get("name", ""), p.get("email", ""), _opt_time(p.get("date")), p.get("tz")
        )

    parents = tuple((p["commit"], p.get("subject")) for p in d.get("parents") or ())
    return _Commit(
        sha=d.get("commit"),
        parents=parents,
        author=person(d.get("author")),
        committer=person(d.get("committer")),
        subject=d.get("subject", ""),
        message=d.get("message"),
    )


def commit(backend: str, d: Mapping[str, Any]) -> Commit:
    """A CommitInfo (``/revisions/{id}/commit``)."""
    return guarded(backend, "commit", lambda: _commit(d))


def _file(path: str, d: Mapping[str, Any]) -> FileChange:
    return _FileChange(
        path=path,
        status=d.get("status", "M"),
        binary=bool(d.get("binary", False)),
        old_path=d.get("old_path"),
        lines_inserted=int(d.get("lines_inserted", 0)),
        lines_deleted=int(d.get("lines_deleted", 0)),
        size_delta=d.get("size_delta"),
    )


def files(backend: str, d: Mapping[str, Any]) -> list[FileChange]:
    """``/files/``: a map of path → FileInfo, sorted by path (``/COMMIT_MSG`` included)."""
    return guarded(backend, "files", lambda: [_file(p, f or {}) for p, f in sorted(d.items())])


def reviewed_files(backend: str, d: Any) -> list[str]:
    """``/files/?reviewed``: the paths the caller marked as reviewed."""
    if not isinstance(d, list) or not all(isinstance(p, str) for p in d):
        raise BadPayload(backend, "expected a list of paths from files/?reviewed")
    return list(d)


def _fetch(d: Mapping[str, Any]) -> tuple[Fetch, ...]:
    return tuple(
        _Fetch(protocol=proto, url=f["url"], ref=f["ref"], commands=dict(f.get("commands") or {}))
        for proto, f in sorted(d.items())
    )


def revision(backend: str, change: str, sha: str, d: Mapping[str, Any], current: bool) -> Revision:
    """A RevisionInfo keyed by ``sha`` in a ChangeInfo's ``revisions`` map."""
    file_map = d.get("files")
    return _Revision(
        backend=backend,
        change=change,
        sha=sha,
        number=int(d["_number"]),
        draft=bool(d.get("draft", False)),
        has_draft_comments=bool(d.get("has_draft_comments", False)),
        fetch=_fetch(d.get("fetch") or {}),
        commit=_commit(d["commit"]) if isinstance(d.get("commit"), Mapping) else None,
        files=tuple(_file(p, f or {}) for p, f in sorted(file_map.items()))
        if type(file_map) is dict or isinstance(file_map, Mapping)
        else None,
        is_current=current,
        raw=d,
    )


def _values(d: Mapping[str, Any]) -> dict[int, str]:
    return {int(k.strip()): v for k, v in d.items()}


def _allowed(permitted: Iterable[Any]) -> tuple[int, ...]:
    return tuple(sorted(v for v in map(vote_value, permitted) if v is not None))


_allowed_once = functools.lru_cache(maxsize=256)(_allowed)  # an answer repeats its lists


def _label(backend: str, name: str, d: Mapping[str, Any], permitted: Iterable[Any]) -> Label:
    votes = tuple(
        _Vote(
            label=name,
            value=vote_value(a.get("value")),
            account=account(backend, a),
            date=_opt_time(a.get("date")),
        )
        for a in d.get("all") or ()
    )
    texts = type(permitted) is list and all(type(p) is str for p in permitted)
    allowed = _allowed_once(tuple(permitted)) if texts else _allowed(permitted)
    return _Label(
        name=name,
        optional=bool(d.get("optional", False)),
        approved=_opt_account(backend, d.get("approved")),
        rejected=_opt_account(backend, d.get("rejected")),
        recommended=_opt_account(backend, d.get("recommended")),
        disliked=_opt_account(backend, d.get("disliked")),
        value=vote_value(d.get("value")),
        votes=votes,
        values=_values(d.get("values") or {}),
        permitted=allowed,
    )


def message(backend: str, d: Mapping[str, Any]) -> Message:
    """A ChangeMessageInfo (either era's field names)."""
    number = d.get("_revision_number", d.get("revision_number"))
    return _Message(
        id=d["id"],
        author=_opt_account(backend, d.get("author")),
        date=parse_timestamp(d.get("date") or d["updated"]),
        message=d.get("message", ""),
        revision_number=int(number) if number is not None else None,
    )


def messages(backend: str, d: Any) -> list[Message]:
    """A list of ChangeMessageInfo."""
    return guarded(backend, "messages", lambda: [message(backend, m) for m in d])


def _triplet(d: Mapping[str, Any]) -> tuple[str, str]:
    """The ``project~branch~Change-Id`` triplet and the Change-Id, from either era's ``id``."""
    raw_id = d.get("id", "")
    change_id = d.get("change_id") or raw_id.rsplit("~", 1)[-1]
    if raw_id.count("~") >= 2:
        return raw_id, change_id
    return f"{quote(d['project'], safe='')}~{d['branch']}~{change_id}", change_id


def _labels(backend: str, d: Mapping[str, Any]) -> tuple[Label, ...]:
    permitted = d.get("permitted_labels") or {}
    return tuple(
        _label(backend, name, info or {}, permitted.get(name) or ())
        for name, info in (d.get("labels") or {}).items()
    )


def _revisions(backend: str, native: str, d: Mapping[str, Any]) -> tuple[Revision, ...]:
    current_sha = d.get("current_revision")
    found = (
        revision(backend, native, sha, info, sha == current_sha)
        for sha, info in (d.get("revisions") or {}).items()
    )
    return tuple(sorted(found, key=lambda r: r.number))


def _change(backend: str, d: Mapping[str, Any], web_base: str | None) -> GerritChange:
    number = int(d["_number"])
    native = str(number)
    triplet, change_id = _triplet(d)
    status = d["status"]
    updated = parse_timestamp(d["updated"])
    labels = _labels(backend, d)
    checks = tuple(
        check
        for label in labels
        if is_check_label(label.name)
        for check in label_checks(backend, native, label, updated)
    )
    msgs = d.get("messages")
    return _GerritChange(
        backend=backend,
        id=native,
        number=number,
        triplet=triplet,
        change_id=change_id,
        project=project(backend, d["project"]),
        branch=d["branch"],
        subject=d["subject"],
        state=STATES.get(status, ChangeState.OPEN),
        raw_state=status,
        created=parse_timestamp(d["created"]),
        updated=updated,
        owner=_opt_account(backend, d.get("owner")),
        check_state=rollup([c.state for c in checks]),
        checks=checks,
        topic=d.get("topic") or None,
        mergeable=d.get("mergeable"),
        starred=bool(d.get("starred", False)),
        reviewed=bool(d.get("reviewed", False)),
        sortkey=d.get("_sortkey"),
        insertions=d.get("insertions"),
        deletions=d.get("deletions"),
        labels=labels,
        has_labels="labels" in d,
        removable_reviewers=tuple(account(backend, a) for a in d.get("removable_reviewers") or ()),
        messages=tuple(message(backend, m) for m in msgs) if isinstance(msgs, list) else None,
        current_revision=d.get("current_revision"),
        revisions=_revisions(backend, native, d),
        more_changes=bool(d.get("_more_changes", False)),
        web_url=f"{web_base.rstrip('/')}/{number}" if web_base else None,
        raw=d,
    )


def change(backend: str, d: Any, web_base: str | None = None) -> GerritChange:
    """A ChangeInfo as a change record."""
    if type(d) is not dict and not isinstance(d, Mapping):
        raise BadPayload(backend, "expected a ChangeInfo object from Gerrit")
    return guarded(backend, "change", lambda: _change(backend, d, web_base))


def changes(backend: str, d: Any, web_base: str | None = None) -> list[GerritChange]:
    """One query's result: a list of ChangeInfo."""
    if not isinstance(d, list):
        raise BadPayload(backend, "expected a list of changes from Gerrit")
    return [change(backend, c, web_base) for c in d]


def change_lists(
    backend: str, d: Any, count: int, web_base: str | None = None
) -> list[list[GerritChange]]:
    """The result of ``count`` queries: a list of lists, or one list when ``count == 1``."""
    if count == 1:
        return [changes(backend, d, web_base)]
    if not isinstance(d, list) or len(d) != count:
        raise BadPayload(backend, f"expected {count} result lists from a multi-query")
    return [changes(backend, item, web_base) for item in d]


def reviewer(backend: str, d: Mapping[str, Any]) -> Reviewer:
    """A ReviewerInfo: the account and its votes (``" 0"`` → 0)."""
    approvals = {name: vote_value(v) for name, v in (d.get("approvals") or {}).items()}
    return Reviewer(account=account(backend, d), approvals=approvals)


def reviewers(backend: str, d: Any) -> list[Reviewer]:
    """A list of ReviewerInfo."""
    return guarded(backend, "reviewers", lambda: [reviewer(backend, r) for r in d])


def suggested_reviewers(backend: str, d: Any) -> list[SuggestedReviewer]:
    """A list of SuggestedReviewerInfo (an account or a group each)."""

    def one(s: Mapping[str, Any]) -> SuggestedReviewer:
        group = s.get("group")
        if isinstance(group, Mapping):
            return SuggestedReviewer(group_id=group.get("id"), group_name=group.get("name"))
        return SuggestedReviewer(account=account(backend, s["account"]))

    return guarded(backend, "suggested reviewers", lambda: [one(s) for s in d])


def add_reviewer_result(backend: str, d: Mapping[str, Any]) -> AddReviewerResult:
    """An AddReviewerResult (added reviewers, or an error with a ``confirm`` request)."""
    return guarded(
        backend,
        "add-reviewer result",
        lambda: AddReviewerResult(
            reviewers=tuple(reviewer(backend, r) for r in d.get("reviewers") or ()),
            error=d.get("error"),
            confirm=bool(d.get("confirm", False)),
        ),
    )


def included_in(backend: str, d: Mapping[str, Any]) -> IncludedIn:
    """An IncludedInInfo."""
    return guarded(
        backend,
        "included-in",
        lambda: IncludedIn(branches=tuple(d["branches"]), tags=tuple(d.get("tags") or ())),
    )


def _range(d: Any) -> CommentRange | None:
    if not isinstance(d, Mapping):
        return None
    return _CommentRange(
        int(d["start_line"]), int(d["start_character"]), int(d["end_line"]), int(d["end_character"])
    )


def comment(backend: str, d: Mapping[str, Any], path: str | None = None) -> InlineComment:
    """A CommentInfo (published, draft or robot comment)."""
    return _InlineComment(
        id=d["id"],
        path=d.get("path", path),
        message=d.get("message"),
        updated=_opt_time(d.get("updated")),
        author=_opt_account(backend, d.get("author")),
        line=d.get("line"),
        side=d.get("side"),
        range=_range(d.get("range")),
        in_reply_to=d.get("in_reply_to"),
        robot_id=d.get("robot_id"),
    )


def comment_map(backend: str, d: Any) -> list[InlineComment]:
    """``/comments/`` or ``/drafts/``: path → list of CommentInfo, flattened in path order."""

    def build() -> list[InlineComment]:
        return [comment(backend, c, path) for path, items in sorted(d.items()) for c in items]

    return guarded(backend, "comments", build)


def one_comment(backend: str, d: Any) -> InlineComment:
    """A single CommentInfo."""
    return guarded(backend, "comment", lambda: comment(backend, d))


def _chunk(d: Mapping[str, Any]) -> DiffChunk:
    def edits(v: Any) -> tuple[tuple[int, int], ...]:
        return tuple((int(s), int(m)) for s, m in v or ())

    return DiffChunk(
        a=tuple(d.get("a") or ()),
        b=tuple(d.get("b") or ()),
        ab=tuple(d.get("ab") or ()),
        edit_a=edits(d.get("edit_a")),
        edit_b=edits(d.get("edit_b")),
        skip=d.get("skip"),
    )


def diff(backend: str, d: Mapping[str, Any]) -> Diff:
    """A DiffInfo."""

    def side(m: Any) -> DiffSide | None:
        if not isinstance(m, Mapping):
            return None
        return DiffSide(m["name"], m.get("content_type", ""), m.get("lines"))

    return guarded(
        backend,
        "diff",
        lambda: Diff(
            change_type=d["change_type"],
            meta_a=side(d.get("meta_a")),
            meta_b=side(d.get("meta_b")),
            intraline_status=d.get("intraline_status"),
            diff_header=tuple(d.get("diff_header") or ()),
            content=tuple(_chunk(c) for c in d.get("content") or ()),
        ),
    )


def mergeable(backend: str, d: Mapping[str, Any]) -> Mergeable:
    """A MergeableInfo."""
    return guarded(
        backend,
        "mergeable",
        lambda: Mergeable(
            submit_type=d["submit_type"], mergeable=bool(d["mergeable"]), strategy=d.get("strategy")
        ),
    )


def string(backend: str, d: Any, what: str) -> str:
    """A JSON string answer (topic, submit type, status)."""
    if not isinstance(d, str):
        raise BadPayload(backend, f"expected a JSON string for {what}")
    return d


def submit_records(backend: str, d: Any) -> list[SubmitRecord]:
    """``test.submit_rule``: a list of SubmitRecord."""

    def labels(m: Any) -> dict[str, Person | None]:
        out: dict[str, Person | None] = {}
        for name, who in (m or {}).items():
            out[name] = account(backend, who) if isinstance(who, Mapping) and who else None
        return out

    def one(r: Mapping[str, Any]) -> SubmitRecord:
        return SubmitRecord(
            status=r["status"],
            ok=labels(r.get("ok")),
            reject=labels(r.get("reject")),
            need=labels(r.get("need")),
            may=labels(r.get("may")),
            impossible=labels(r.get("impossible")),
            error_message=r.get("error_message"),
        )

    return guarded(backend, "submit records", lambda: [one(r) for r in d])


def review_labels(backend: str, d: Any) -> dict[str, int]:
    """A ReviewInfo: the labels the review applied."""
    return guarded(
        backend, "review", lambda: {k: int(v) for k, v in (d.get("labels") or {}).items()}
    )


def base64_content(backend: str, body: bytes, content_type: str | None) -> BinaryContent:
    """A base64 body (file content, formatted patch) decoded."""
    try:
        return BinaryContent(base64.b64decode(b"".join(body.split()), validate=True), content_type)
    except (binascii.Error, ValueError):
        raise BadPayload(backend, "expected base64 content from Gerrit") from None


def zipped_content(backend: str, body: bytes) -> BinaryContent:
    """A ``?zip`` download: the single file inside the archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            names = archive.namelist()
            if len(names) != 1:
                raise BadPayload(backend, f"expected one file in the zip, found {len(names)}")
            return BinaryContent(archive.read(names[0]), "application/mbox", names[0])
    except zipfile.BadZipFile:
        raise BadPayload(backend, "expected a zip archive from Gerrit") from None


def submit_status(backend: str, d: Any) -> str:
    """A SubmitInfo's status."""
    return guarded(backend, "submit", lambda: str(d["status"]))
