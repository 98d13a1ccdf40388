"""Gerrit records → Gerrit REST JSON (for the REST compat layer), and Gerrit's output format.

Each ``*_json`` writes a record canonically (values from the record); ``conform`` gives it the
form the server used for that object (``raw``): its keys in its order (Gerrit leaves out
false/empty fields, and 2.x sends fields today's servers do not), timestamps spelled as sent,
and a key the records do not model (a label's ``blocking``, a revision's ``actions`` …) with the
server's value.

``encode`` writes an answer as Gerrit does: the ``)]}'`` line, then compact JSON, or Gson-style
pretty JSON (two-space indent) for ``format=JSON`` / ``pp=1``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import orjson

from adapters.errors import BadPayload
from adapters.gerrit import checks, mapping
from adapters.gerrit.records import (
    AddReviewerResult,
    Commit,
    Diff,
    DiffChunk,
    DiffSide,
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
)
from adapters.model import Person

MAGIC = b")]}'\n"
Json = dict[str, Any]


def account_json(p: Person | None) -> Json | None:
    """An AccountInfo."""
    if p is None:
        return None
    out: Json = {}
    if p.id.isdigit():
        out["_account_id"] = int(p.id)
    out.update({"name": p.name, "email": p.email, "username": p.username})
    return out


def _label(label: Label) -> Json:
    out: Json = {"optional": label.optional}
    for key in ("approved", "rejected", "recommended", "disliked"):
        out[key] = account_json(getattr(label, key))
    out["value"] = label.value
    out["all"] = [
        {**(account_json(v.account) or {}), "value": v.value, "date": v.date} for v in label.votes
    ]
    out["values"] = {checks.format_vote(k): text for k, text in label.values.items()}
    return out


def _message(m: Message) -> Json:
    return {
        "id": m.id,
        "author": account_json(m.author),
        "date": m.date,
        "updated": m.date,
        "message": m.message,
        "_revision_number": m.revision_number,
        "revision_number": m.revision_number,
    }


def _fetch(r: Revision) -> Json:
    out: Json = {}
    for f in r.fetch:
        out[f.protocol] = {"url": f.url, "ref": f.ref}
        if f.commands:
            out[f.protocol]["commands"] = dict(f.commands)
    return out


def _revision(r: Revision) -> Json:
    out: Json = {"_number": r.number, "draft": r.draft, "has_draft_comments": r.has_draft_comments}
    out["fetch"] = _fetch(r)
    if r.commit is not None:
        out["commit"] = commit_json(r.commit)
    if r.files is not None:
        out["files"] = files_json(r.files)
    return out


def _git_person(p: GitPerson | None) -> Json | None:
    if p is None:
        return None
    return {"name": p.name, "email": p.email, "date": p.date, "tz": p.tz}


def commit_json(c: Commit) -> Json:
    """A CommitInfo."""
    return {
        "commit": c.sha,
        "parents": [{"commit": sha, "subject": subject} for sha, subject in c.parents],
        "author": _git_person(c.author),
        "committer": _git_person(c.committer),
        "subject": c.subject,
        "message": c.message,
    }


def _file(f: FileChange) -> Json:
    return {
        "status": f.status,
        "binary": f.binary,
        "old_path": f.old_path,
        "lines_inserted": f.lines_inserted,
        "lines_deleted": f.lines_deleted,
        "size_delta": f.size_delta,
    }


def files_json(files: Iterable[FileChange]) -> Json:
    """A map of path → FileInfo."""
    return {f.path: _file(f) for f in files}


def _side(m: DiffSide | None) -> Json | None:
    if m is None:
        return None
    return {"name": m.name, "content_type": m.content_type, "lines": m.lines}


def _chunk(c: DiffChunk) -> Json:
    return {
        "a": list(c.a),
        "b": list(c.b),
        "ab": list(c.ab),
        "edit_a": [list(e) for e in c.edit_a],
        "edit_b": [list(e) for e in c.edit_b],
        "skip": c.skip,
    }


def diff_json(d: Diff) -> Json:
    """A DiffInfo."""
    return {
        "meta_a": _side(d.meta_a),
        "meta_b": _side(d.meta_b),
        "change_type": d.change_type,
        "intraline_status": d.intraline_status,
        "diff_header": list(d.diff_header),
        "content": [_chunk(c) for c in d.content],
    }


def comment_json(c: InlineComment) -> Json:
    """A CommentInfo."""
    out: Json = {"id": c.id, "path": c.path, "side": c.side, "line": c.line}
    if c.range is not None:
        r = c.range
        out["range"] = {
            "start_line": r.start_line,
            "start_character": r.start_character,
            "end_line": r.end_line,
            "end_character": r.end_character,
        }
    out.update(
        {
            "in_reply_to": c.in_reply_to,
            "message": c.message,
            "updated": c.updated,
            "author": account_json(c.author),
            "robot_id": c.robot_id,
        }
    )
    return out


def comments_json(comments: Iterable[InlineComment]) -> Json:
    """``/comments/`` and ``/drafts/``: a map of path → list of CommentInfo."""
    out: dict[str, list[Json]] = {}
    for c in comments:
        out.setdefault(c.path or "", []).append(comment_json(c))
    return out


def reviewer_json(r: Reviewer) -> Json:
    """A ReviewerInfo: the account's fields and its approvals (``" 0"``, ``"+1"``)."""
    approvals = {
        name: checks.format_vote(v) if v is not None else None for name, v in r.approvals.items()
    }
    return {"approvals": approvals, **(account_json(r.account) or {})}


def suggested_json(s: SuggestedReviewer) -> Json:
    """A SuggestedReviewerInfo (an account or a group)."""
    if s.account is not None:
        return {"account": account_json(s.account)}
    return {"group": {"id": s.group_id, "name": s.group_name}}


def add_reviewer_json(r: AddReviewerResult) -> Json:
    """An AddReviewerResult."""
    return {
        "reviewers": [reviewer_json(x) for x in r.reviewers],
        "error": r.error,
        "confirm": r.confirm,
    }


def included_in_json(i: IncludedIn) -> Json:
    """An IncludedInInfo."""
    return {"branches": list(i.branches), "tags": list(i.tags)}


def mergeable_json(m: Mergeable) -> Json:
    """A MergeableInfo."""
    return {"submit_type": m.submit_type, "strategy": m.strategy, "mergeable": m.mergeable}


def submit_record_json(r: SubmitRecord) -> Json:
    """A SubmitRecord (label name → the voter's AccountInfo, ``{}`` when none)."""

    def labels(m: Mapping[str, Any]) -> Json:
        return {name: account_json(who) or {} for name, who in m.items()}

    out: Json = {"status": r.status}
    for key in ("ok", "reject", "need", "may", "impossible"):
        out[key] = labels(getattr(r, key))
    out["error_message"] = r.error_message
    return out


def change_json(c: GerritChange) -> Json:
    """A ChangeInfo."""
    return {
        "id": c.triplet,
        "project": c.project.name,
        "branch": c.branch,
        "topic": c.topic,
        "change_id": c.change_id,
        "subject": c.subject,
        "status": c.raw_state,
        "created": c.created,
        "updated": c.updated,
        "mergeable": c.mergeable,
        "starred": c.starred,
        "reviewed": c.reviewed,
        "_sortkey": c.sortkey,
        "insertions": c.insertions,
        "deletions": c.deletions,
        "_number": c.number,
        "owner": account_json(c.owner),
        "labels": {label.name: _label(label) for label in c.labels},
        "removable_reviewers": [account_json(p) for p in c.removable_reviewers],
        "messages": [_message(m) for m in c.messages or ()],
        "current_revision": c.current_revision,
        "revisions": {r.sha: _revision(r) for r in c.revisions},
        "_more_changes": c.more_changes,
    }


def conform(value: Any, raw: Any) -> Any:
    """``value`` (canonical, from a record) in the form of ``raw`` (what the server sent)."""
    if isinstance(raw, Mapping):
        if not isinstance(value, Mapping):
            return raw
        return {k: conform(value[k], rv) if k in value else rv for k, rv in raw.items()}
    if isinstance(raw, list) and isinstance(value, list) and len(raw) == len(value):
        return [conform(v, r) for v, r in zip(value, raw, strict=True)]
    if isinstance(value, datetime):
        if isinstance(raw, str):
            try:
                if mapping.parse_timestamp(raw) == value:
                    return raw  # the server's own digits (nanoseconds kept)
            except (ValueError, BadPayload):
                pass
        return mapping.format_timestamp(value)
    if value is None and raw is not None:
        return raw  # a field the records do not keep in that form
    return value


def encode(body: Any, pretty: bool) -> bytes:
    """Gerrit's JSON answer: the magic prefix line, then compact or pretty JSON."""
    if pretty:
        return MAGIC + orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n"
    return MAGIC + orjson.dumps(body) + b"\n"
