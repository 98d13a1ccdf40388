"""Kind-neutral actions (``adapters/actions.py``) on ABF pull requests, mixed into
``AbfSource``.

ABF's pull request API (its document, copied in ``tests/fixtures/abf/doc-examples/``) updates
a pull request (``PUT …/pull_requests/:number``, ``status: close|reopen``) and merges it
(``PUT …/merge``); it has no comments, no reviews and no CI statuses. So close and abandon
both close (ABF has one "closed, not merged" state), reopen reopens, merge merges; comment,
review and a check are ``Unsupported``, refused before any upstream request.
"""

from __future__ import annotations

from typing import Protocol

from adapters.abf.records import PullRequest, PullRequestUpdate
from adapters.actions import ActionSupport, StateAction, Verdict, unsupported_message
from adapters.errors import Unsupported
from adapters.http import HttpClient
from adapters.model import Check, NewCheck

WHY = "its pull request API has no comments, reviews or CI statuses"


class _Writes(Protocol):
    name: str
    http: HttpClient

    async def update_pull_request(self, pr_id: str, update: PullRequestUpdate) -> PullRequest: ...
    async def merge_pull_request(self, pr_id: str, message: str | None) -> PullRequest: ...


class AbfActions:
    """``ChangeActor`` of an ABF server: state changes only."""

    def action_support(self: _Writes) -> ActionSupport:
        """Writes need a signed-in user."""
        signed = self.http.authenticated
        return ActionSupport("PullRequest", close=signed, merge=signed)

    async def comment_on_change(self: _Writes, change: str, body: str) -> PullRequest:
        """Unsupported."""
        raise Unsupported(self.name, unsupported_message("ABF", "comment", WHY))

    async def review_change(
        self: _Writes, change: str, verdict: Verdict, message: str | None
    ) -> PullRequest:
        """Unsupported."""
        raise Unsupported(self.name, unsupported_message("ABF", "review", WHY))

    async def set_change_state(
        self: _Writes, change: str, action: StateAction, message: str | None
    ) -> PullRequest:
        """Close (close, abandon), reopen or merge (ABF's default merge message)."""
        if action is StateAction.MERGE:
            return await self.merge_pull_request(change, None)
        status = "reopen" if action is StateAction.REOPEN else "close"
        return await self.update_pull_request(change, PullRequestUpdate(status=status))

    async def report_check(
        self: _Writes, change: str, check: NewCheck
    ) -> tuple[Check | None, PullRequest]:
        """Unsupported: ABF's one check is its own mergeable flag."""
        raise Unsupported(self.name, unsupported_message("ABF", "report a check", WHY))
