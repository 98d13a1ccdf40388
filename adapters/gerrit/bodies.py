"""Records → Gerrit request bodies: the JSON inputs the documented writes send.

The write half of the payload boundary (``mapping.py`` reads Gerrit's answers): only these
two modules know Gerrit's JSON shapes. Optional fields are left out rather than sent as
``null``, as Gerrit's own clients do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.gerrit.records import CommentInput, CommentRange, ReviewInput


def _drop_none(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def message_body(message: str | None) -> dict[str, Any] | None:
    """AbandonInput / RestoreInput / RevertInput: an optional message."""
    return {"message": message} if message else None


def topic_body(topic: str, message: str | None = None) -> dict[str, Any]:
    """A TopicInput."""
    return _drop_none({"topic": topic, "message": message})


def submit_body(wait_for_merge: bool) -> dict[str, Any] | None:
    """A SubmitInput (only sent when waiting for the merge)."""
    return {"wait_for_merge": True} if wait_for_merge else None


def reviewer_body(reviewer: str, confirmed: bool = False) -> dict[str, Any]:
    """A ReviewerInput."""
    return {"reviewer": reviewer, "confirmed": True} if confirmed else {"reviewer": reviewer}


def _range_body(r: CommentRange | None) -> dict[str, int] | None:
    if r is None:
        return None
    return {
        "start_line": r.start_line,
        "start_character": r.start_character,
        "end_line": r.end_line,
        "end_character": r.end_character,
    }


def comment_body(c: CommentInput, *, with_path: bool = True) -> dict[str, Any]:
    """A CommentInput (in a review the path is the map key, so it is left out)."""
    return _drop_none(
        {
            "id": c.id,
            "path": c.path if with_path else None,
            "side": c.side,
            "line": c.line,
            "range": _range_body(c.range),
            "in_reply_to": c.in_reply_to,
            "message": c.message,
        }
    )


def review_body(r: ReviewInput) -> dict[str, Any]:
    """A ReviewInput."""
    comments: dict[str, list[dict[str, Any]]] = {}
    for c in r.comments:
        if not c.path:
            raise ValueError("every inline comment of a review needs a path")
        comments.setdefault(c.path, []).append(comment_body(c, with_path=False))
    return _drop_none(
        {
            "message": r.message,
            "labels": dict(r.labels) or None,
            "comments": comments or None,
            "strict_labels": r.strict_labels,
            "drafts": r.drafts,
            "notify": r.notify,
            "on_behalf_of": r.on_behalf_of,
        }
    )


def cherry_pick_body(message: str, destination: str) -> dict[str, Any]:
    """A CherryPickInput."""
    return {"message": message, "destination": destination}


def rule_body(rule: str, skip_filters: bool = False) -> dict[str, Any]:
    """A RuleInput."""
    return {"rule": rule, "filters": "SKIP"} if skip_filters else {"rule": rule}
