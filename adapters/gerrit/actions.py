"""Kind-neutral actions (``adapters/actions.py``) on Gerrit changes, mixed into
``GerritSource`` over its documented writes (``writes.py``).

- comment: ``POST …/revisions/current/review`` with only a message;
- review: a Code-Review vote — approve +2, request changes -1, reject -2 — with the message;
- close and abandon: ``POST /abandon``; reopen: ``POST /restore``; merge: ``POST /submit``
  (a message is posted as a review message first: submit takes none);
- a check: a ``Verified`` vote — success +1, failure -1, pending and warning 0 (Verified has
  no warning value; 0 claims nothing) — whose message carries the context, the state, the
  description and the target URL.

Each answers the change read back with the list's options (one GET), so its labels, checks
and current revision are those of every other Gerrit change in the schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from adapters.actions import ActionSupport, StateAction, Verdict
from adapters.gerrit.checks import format_vote
from adapters.gerrit.records import GerritChange, ReviewInput
from adapters.http import HttpClient
from adapters.model import Check, CheckState, NewCheck

REVIEW_LABEL = "Code-Review"
CHECK_LABEL = "Verified"
CURRENT = "current"
REVIEW_VOTES = {Verdict.APPROVE: 2, Verdict.REQUEST_CHANGES: -1, Verdict.REJECT: -2}
CHECK_VOTES = {
    CheckState.SUCCESS: 1,
    CheckState.FAILURE: -1,
    CheckState.PENDING: 0,
    CheckState.WARNING: 0,
}
# The options of the federated list (``source.LIST_OPTIONS``; not imported: source imports us)
READ_BACK = ("LABELS", "DETAILED_LABELS", "DETAILED_ACCOUNTS", "CURRENT_REVISION")


class _Writes(Protocol):
    name: str
    http: HttpClient

    async def change(self, change: str, options: Sequence[str] = ()) -> GerritChange: ...
    async def set_review(
        self, change: str, revision: str, review: ReviewInput
    ) -> dict[str, int]: ...
    async def abandon(self, change: str, message: str | None = None) -> GerritChange: ...
    async def restore(self, change: str, message: str | None = None) -> GerritChange: ...
    async def submit(self, change: str, wait_for_merge: bool = False) -> GerritChange: ...


def check_message(check: NewCheck) -> str:
    """The review message of a check vote: what a person reading the change needs."""
    text = f"{check.context}: {check.state.value}"
    if check.description:
        text += f" - {check.description}"
    if check.target_url:
        text += f"\n\n{check.target_url}"
    return text


def voted_check(change: GerritChange, vote: int) -> Check | None:
    """The check a ``Verified`` vote became (the newest with that value), if any."""
    raw = format_vote(vote).strip()
    mine = [c for c in change.checks if c.context == CHECK_LABEL and c.raw_state == raw]
    return max(mine, key=lambda c: c.date) if vote and mine else None


class GerritActions:
    """``ChangeActor`` of a Gerrit server."""

    def action_support(self: _Writes) -> ActionSupport:
        """Gerrit writes need a signed-in account (``/a/`` with a credential)."""
        signed = self.http.authenticated
        return ActionSupport(
            "GerritChange",
            comment=signed,
            review=signed,
            close=signed,
            merge=signed,
            report_check=signed,
        )

    async def comment_on_change(self: _Writes, change: str, body: str) -> GerritChange:
        """A review with only a message."""
        await self.set_review(change, CURRENT, ReviewInput(message=body))
        return await self.change(change, READ_BACK)

    async def review_change(
        self: _Writes, change: str, verdict: Verdict, message: str | None
    ) -> GerritChange:
        """A Code-Review vote with the message."""
        vote = {REVIEW_LABEL: REVIEW_VOTES[verdict]}
        await self.set_review(change, CURRENT, ReviewInput(message=message, labels=vote))
        return await self.change(change, READ_BACK)

    async def set_change_state(
        self: _Writes, change: str, action: StateAction, message: str | None
    ) -> GerritChange:
        """Abandon, restore or submit."""
        if action is StateAction.REOPEN:
            await self.restore(change, message)
        elif action is StateAction.MERGE:
            if message:
                await self.set_review(change, CURRENT, ReviewInput(message=message))
            await self.submit(change)
        else:
            await self.abandon(change, message)
        return await self.change(change, READ_BACK)

    async def report_check(
        self: _Writes, change: str, check: NewCheck
    ) -> tuple[Check | None, GerritChange]:
        """A Verified vote carrying the check in its message."""
        vote = CHECK_VOTES[check.state]
        review = ReviewInput(message=check_message(check), labels={CHECK_LABEL: vote})
        await self.set_review(change, CURRENT, review)
        after = await self.change(change, READ_BACK)
        return voted_check(after, vote), after
