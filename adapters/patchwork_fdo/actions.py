"""Kind-neutral actions (``adapters/actions.py``) on freedesktop Patchwork patches, mixed into
``FdoSource``.

The fork's API 1.0 writes one thing: test results on a series revision (``POST
/api/1.0/series/<id>/revisions/<version>/test-results/``; the fork's API document, copied in
``tests/fixtures/patchwork-fdo/``). A check on a patch is therefore a test result on the
latest revision holding it, the revision whose results are the patch's checks
(docs/federation.md). Its API changes no patch state and takes no comments: those actions
are ``Unsupported``, refused before any upstream request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from adapters.actions import ActionSupport, StateAction, Verdict, unsupported_message
from adapters.errors import NotFound, Unsupported
from adapters.http import HttpClient
from adapters.model import Check, NewCheck, NewTestResult, Revision, TrackedPatch

WHY = "the fork's API 1.0 writes nothing but test results on series revisions"


class _Reads(Protocol):
    name: str
    http: HttpClient

    async def patch_revisions(self, ids: Sequence[str]) -> list[Revision | None]: ...
    async def get_patches(self, ids: Sequence[str]) -> list[TrackedPatch | None]: ...
    async def report_test_result(self, key: str, result: NewTestResult) -> Check: ...


class FdoActions:
    """``ChangeActor`` of the fdo fork: checks only."""

    def action_support(self: _Reads) -> ActionSupport:
        """Test results need a credential (a CI user's)."""
        return ActionSupport("Patch", report_check=self.http.authenticated)

    async def comment_on_change(self: _Reads, change: str, body: str) -> TrackedPatch:
        """Unsupported."""
        raise Unsupported(self.name, unsupported_message("freedesktop Patchwork", "comment", WHY))

    async def review_change(
        self: _Reads, change: str, verdict: Verdict, message: str | None
    ) -> TrackedPatch:
        """Unsupported: no patch state writes."""
        raise Unsupported(self.name, unsupported_message("freedesktop Patchwork", "review", WHY))

    async def set_change_state(
        self: _Reads, change: str, action: StateAction, message: str | None
    ) -> TrackedPatch:
        """Unsupported: no patch state writes."""
        what = f"{action.value.lower()} a patch"
        raise Unsupported(self.name, unsupported_message("freedesktop Patchwork", what, WHY))

    async def report_check(
        self: _Reads, change: str, check: NewCheck
    ) -> tuple[Check, TrackedPatch]:
        """A test result on the patch's latest revision (same ``context``: replaced), then
        the patch read back."""
        [revision] = await self.patch_revisions([change])
        if revision is None:
            raise NotFound(self.name, f"patch {change[:40]} is in no series revision to test")
        result = NewTestResult(
            test_name=check.context,
            state=check.state,
            url=check.target_url,
            summary=check.description,
        )
        created = await self.report_test_result(revision.key, result)
        [patch] = await self.get_patches([change])
        if patch is None:
            raise NotFound(self.name, f"patch {change[:40]} is gone")
        return created, patch
