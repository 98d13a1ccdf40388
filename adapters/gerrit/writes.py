"""Gerrit's documented writes, mixed into ``GerritSource`` (``source.py`` has the reads).

Writes are never retried (``HttpClient.send``); each builds its body in ``bodies.py`` and maps
the answer in ``mapping.py``. Caller values reach the URL only as encoded path segments
(``_path``, shared with the reads), so a bad id is a ``BadRequest``, never another route.
"""

from __future__ import annotations

from typing import Any

from adapters.errors import BadPayload, BadRequest
from adapters.gerrit import bodies, mapping
from adapters.gerrit.client import GerritClient, change_path, file_path, revision_path
from adapters.gerrit.records import (
    AddReviewerResult,
    CommentInput,
    GerritChange,
    InlineComment,
    ReviewInput,
    SubmitRecord,
)
from adapters.paths import seg


def _bad(backend: str, exc: ValueError) -> BadRequest:
    return BadRequest(backend, str(exc))


class GerritWrites:
    """The writes of one Gerrit server, and the path helpers its reads share."""

    name: str
    url: str
    client: GerritClient

    def _path(self, fn: Any, *args: str) -> str:
        try:
            path: str = fn(*args)
        except ValueError as exc:
            raise _bad(self.name, exc) from None
        return path

    def _change(self, change: str) -> str:
        return self._path(change_path, change)

    def _rev(self, change: str, revision: str) -> str:
        return self._path(revision_path, change, revision)

    async def _change_write(
        self, method: str, rest: str, body: dict[str, Any] | None = None
    ) -> GerritChange:
        d = await self.client.send_json(method, rest, body)
        return mapping.change(self.name, d, self.url)

    async def set_topic(self, change: str, topic: str, message: str | None = None) -> str | None:
        """``PUT /topic``; an empty topic deletes it. Returns the new topic."""
        d = await self.client.send_json(
            "PUT", f"{self._change(change)}/topic", bodies.topic_body(topic, message)
        )
        if d is None:
            return None
        return mapping.string(self.name, d, "topic") or None

    async def delete_topic(self, change: str) -> None:
        """``DELETE /topic``."""
        await self.client.send("DELETE", f"{self._change(change)}/topic")

    async def abandon(self, change: str, message: str | None = None) -> GerritChange:
        """``POST /abandon`` (409 when the change is not open)."""
        rest = f"{self._change(change)}/abandon"
        return await self._change_write("POST", rest, bodies.message_body(message))

    async def restore(self, change: str, message: str | None = None) -> GerritChange:
        """``POST /restore`` (409 unless abandoned)."""
        rest = f"{self._change(change)}/restore"
        return await self._change_write("POST", rest, bodies.message_body(message))

    async def rebase(self, change: str, revision: str | None = None) -> GerritChange:
        """``POST /rebase`` of the change, or of one revision."""
        rest = f"{self._rev(change, revision) if revision else self._change(change)}/rebase"
        return await self._change_write("POST", rest)

    async def revert(self, change: str, message: str | None = None) -> GerritChange:
        """``POST /revert``: the new reverting change."""
        rest = f"{self._change(change)}/revert"
        return await self._change_write("POST", rest, bodies.message_body(message))

    async def submit(self, change: str, wait_for_merge: bool = False) -> GerritChange:
        """``POST /submit`` (409 ``blocked by …`` when the submit rule says no)."""
        rest = f"{self._change(change)}/submit"
        return await self._change_write("POST", rest, bodies.submit_body(wait_for_merge))

    async def submit_revision(
        self, change: str, revision: str, wait_for_merge: bool = False
    ) -> str:
        """``POST /revisions/{rev}/submit``: the change's status afterwards."""
        d = await self.client.send_json(
            "POST", f"{self._rev(change, revision)}/submit", bodies.submit_body(wait_for_merge)
        )
        return mapping.submit_status(self.name, d)

    async def publish(self, change: str, revision: str | None = None) -> None:
        """Publish a draft change (or one draft revision)."""
        target = self._rev(change, revision) if revision else self._change(change)
        await self.client.send("POST", f"{target}/publish")

    async def delete_draft(self, change: str, revision: str | None = None) -> None:
        """Delete a draft change (or one draft revision)."""
        target = self._rev(change, revision) if revision else self._change(change)
        await self.client.send("DELETE", target)

    async def add_reviewer(
        self, change: str, reviewer: str, confirmed: bool = False
    ) -> AddReviewerResult:
        """``POST /reviewers``; a big group answers ``confirm`` until sent ``confirmed``."""
        if not reviewer.strip():
            raise BadRequest(self.name, "reviewer must not be empty")
        d = await self.client.send_json(
            "POST", f"{self._change(change)}/reviewers", bodies.reviewer_body(reviewer, confirmed)
        )
        if not isinstance(d, dict):
            raise BadPayload(self.name, "expected an AddReviewerResult")
        return mapping.add_reviewer_result(self.name, d)

    async def delete_reviewer(self, change: str, account: str) -> None:
        """``DELETE /reviewers/{account}``."""
        await self.client.send(
            "DELETE", f"{self._change(change)}/reviewers/{self._path(seg, account)}"
        )

    async def set_review(self, change: str, revision: str, review: ReviewInput) -> dict[str, int]:
        """``POST /revisions/{rev}/review``: the labels applied."""
        try:
            body = bodies.review_body(review)
        except ValueError as exc:
            raise _bad(self.name, exc) from None
        d = await self.client.send_json("POST", f"{self._rev(change, revision)}/review", body)
        return mapping.review_labels(self.name, d or {})

    async def create_draft(self, change: str, revision: str, draft: CommentInput) -> InlineComment:
        """``PUT /revisions/{rev}/drafts``."""
        if not draft.path:
            raise BadRequest(self.name, "a draft comment needs a path")
        d = await self.client.send_json(
            "PUT", f"{self._rev(change, revision)}/drafts", bodies.comment_body(draft)
        )
        return mapping.one_comment(self.name, d)

    async def update_draft(
        self, change: str, revision: str, draft_id: str, draft: CommentInput
    ) -> InlineComment:
        """``PUT /revisions/{rev}/drafts/{id}``."""
        rest = f"{self._rev(change, revision)}/drafts/{self._path(seg, draft_id)}"
        d = await self.client.send_json("PUT", rest, bodies.comment_body(draft))
        return mapping.one_comment(self.name, d)

    async def delete_draft_comment(self, change: str, revision: str, draft_id: str) -> None:
        """``DELETE /revisions/{rev}/drafts/{id}``."""
        await self.client.send(
            "DELETE", f"{self._rev(change, revision)}/drafts/{self._path(seg, draft_id)}"
        )

    async def set_reviewed(self, change: str, revision: str, path: str) -> bool:
        """``PUT /files/{path}/reviewed``; whether it was newly marked (201, not 200)."""
        rest = f"{self._path(file_path, change, revision, path)}/reviewed"
        resp = await self.client.send("PUT", rest)
        return resp.status == 201

    async def delete_reviewed(self, change: str, revision: str, path: str) -> None:
        """``DELETE /files/{path}/reviewed``."""
        await self.client.send(
            "DELETE", f"{self._path(file_path, change, revision, path)}/reviewed"
        )

    async def cherry_pick(
        self, change: str, revision: str, destination: str, message: str
    ) -> GerritChange:
        """``POST /revisions/{rev}/cherrypick``: the new change on ``destination``."""
        if not destination.strip() or not message.strip():
            raise BadRequest(self.name, "cherry-pick needs a destination branch and a message")
        rest = f"{self._rev(change, revision)}/cherrypick"
        return await self._change_write("POST", rest, bodies.cherry_pick_body(message, destination))

    async def edit_message(self, change: str, revision: str, message: str) -> GerritChange:
        """``POST /revisions/{rev}/message``."""
        if not message.strip():
            raise BadRequest(self.name, "the commit message must not be empty")
        rest = f"{self._rev(change, revision)}/message"
        return await self._change_write("POST", rest, {"message": message})

    async def test_submit_type(
        self, change: str, revision: str, rule: str, skip_filters: bool = False
    ) -> str:
        """``POST /test.submit_type`` with a RuleInput."""
        rest = f"{self._rev(change, revision)}/test.submit_type"
        d = await self.client.send_json("POST", rest, bodies.rule_body(rule, skip_filters))
        return mapping.string(self.name, d, "submit type")

    async def test_submit_rule(
        self, change: str, revision: str, rule: str, skip_filters: bool = False
    ) -> list[SubmitRecord]:
        """``POST /test.submit_rule`` with a RuleInput."""
        rest = f"{self._rev(change, revision)}/test.submit_rule"
        d = await self.client.send_json("POST", rest, bodies.rule_body(rule, skip_filters))
        return mapping.submit_records(self.name, d)
