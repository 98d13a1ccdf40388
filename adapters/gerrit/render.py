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

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from adapters.errors import BadPayload
from adapters.gerrit import mapping
from adapters.gerrit.records import GerritChange, Label, Message, Revision
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
    out["values"] = {mapping.format_vote(k): text for k, text in label.values.items()}
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


def _revision(r: Revision) -> Json:
    out: Json = {"_number": r.number, "draft": r.draft, "has_draft_comments": r.has_draft_comments}
    out["fetch"] = {f.protocol: {"url": f.url, "ref": f.ref} for f in r.fetch}
    if r.commit is not None:
        c = r.commit
        out["commit"] = {
            "commit": c.sha,
            "parents": [{"commit": sha, "subject": subject} for sha, subject in c.parents],
            "subject": c.subject,
            "message": c.message,
        }
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
