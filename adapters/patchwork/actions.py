"""Kind-neutral actions (``adapters/actions.py``) on upstream Patchwork patches, mixed into
``PatchworkSource``.

Patchwork records a review as the patch's state (docs/actions.md has the table): approve →
``accepted`` (Patchwork has no "approved, not yet applied" state; ``under-review`` says a
review is under way, not its verdict), request changes → ``changes-requested``, reject →
``rejected``; close → ``rejected``, reopen → ``new``, merge → ``accepted``, abandon →
``not-applicable``. A check is ``POST /patches/<id>/checks/``. The REST API cannot create
comments (``/patches/<id>/comments/`` allows GET, HEAD, OPTIONS only: the recorded headers in
``tests/fixtures/patchwork-3.2.1/_meta.json``), so a comment is ``Unsupported``.
"""

from __future__ import annotations

from typing import Protocol

from adapters.actions import ActionSupport, StateAction, Verdict, unsupported_message
from adapters.errors import NotFound, Unsupported
from adapters.http import HttpClient
from adapters.model import Check, NewCheck, Patch, PatchUpdate

REVIEW_STATES = {
    Verdict.APPROVE: "accepted",
    Verdict.REQUEST_CHANGES: "changes-requested",
    Verdict.REJECT: "rejected",
}
ACTION_STATES = {
    StateAction.CLOSE: "rejected",
    StateAction.REOPEN: "new",
    StateAction.MERGE: "accepted",
    StateAction.ABANDON: "not-applicable",
}
NO_COMMENTS = "its REST API has no comment creation (reply to the patch's mail on its list)"


class _Writes(Protocol):
    name: str
    http: HttpClient

    async def update_patch(self, patch_id: str, update: PatchUpdate) -> Patch: ...
    async def create_check(self, patch_id: str, check: NewCheck) -> Check: ...
    async def get_patches(self, ids: list[str]) -> list[Patch | None]: ...


class PatchworkActions:
    """``ChangeActor`` over the patch writes every Patchwork-API kind shares."""

    def action_support(self: _Writes) -> ActionSupport:
        """Every write needs a credential (a maintainer's for states)."""
        signed = self.http.authenticated
        return ActionSupport(
            "Patch", review=signed, close=signed, merge=signed, report_check=signed
        )

    async def comment_on_change(self: _Writes, change: str, body: str) -> Patch:
        """Unsupported: Patchwork's API creates no comments."""
        raise Unsupported(self.name, unsupported_message("Patchwork", "comment", NO_COMMENTS))

    async def review_change(
        self: _Writes, change: str, verdict: Verdict, message: str | None
    ) -> Patch:
        """The verdict as the patch's state (the message has nowhere to go)."""
        return await self.update_patch(change, PatchUpdate(state=REVIEW_STATES[verdict]))

    async def set_change_state(
        self: _Writes, change: str, action: StateAction, message: str | None
    ) -> Patch:
        """The action as the patch's state."""
        return await self.update_patch(change, PatchUpdate(state=ACTION_STATES[action]))

    async def report_check(self: _Writes, change: str, check: NewCheck) -> tuple[Check, Patch]:
        """``POST …/checks/``, then the patch read back (its combined check state moved)."""
        created = await self.create_check(change, check)
        [patch] = await self.get_patches([change])
        if patch is None:
            raise NotFound(self.name, f"patch {change} is gone")
        return created, patch
