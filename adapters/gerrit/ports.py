"""The capabilities a Gerrit-like backend offers beyond ``adapters.base``, grouped as ports.

The GraphQL layer (``schema/gerrit*.py``) depends on these, never on ``GerritSource``, the
way it asks ``adapters/base.py``'s ports (Patchwork, fdo) and ``adapters/abf/ports.py``
(ABF): ``info.context.capable(backend, GerritChangeReader, ...)``. ``GerritSource`` (and its
anonymous and per-caller views) implements every port here; ``tests/adapters/gerrit/
test_ports.py`` holds it to that. Changes are named by any Gerrit id form (number,
Change-Id, ``project~branch~Change-Id``), revisions by number or commit SHA.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from adapters.gerrit.records import (
    AddReviewerResult,
    BinaryContent,
    CommentInput,
    Commit,
    Diff,
    FileChange,
    GerritChange,
    IncludedIn,
    InlineComment,
    Mergeable,
    Reviewer,
    ReviewInput,
    SubmitRecord,
)
from adapters.model import Page, PageRequest

# The options that load a change with every patch set, its commits, files and messages.
REVISION_OPTIONS = (
    "LABELS",
    "DETAILED_LABELS",
    "DETAILED_ACCOUNTS",
    "ALL_REVISIONS",
    "ALL_COMMITS",
    "ALL_FILES",
    "DOWNLOAD_COMMANDS",
    "MESSAGES",
)


@runtime_checkable
class GerritChangeReader(Protocol):
    """Reads changes: native queries, batched lookups, reviewers, where a change went."""

    async def query_changes(self, query: str, page: PageRequest) -> Page[GerritChange]:
        """Changes matching a native (already validated) query, most recently updated first."""
        ...

    async def get_changes(
        self, ids: Sequence[str], options: Sequence[str] = ...
    ) -> list[GerritChange | None]:
        """Changes by id, batched into as few queries as the server allows."""
        ...

    async def change(self, change: str, options: Sequence[str] = ()) -> GerritChange:
        """One change with ``options``."""
        ...

    async def reviewers(self, change: str) -> list[Reviewer]:
        """The change's reviewers and their votes."""
        ...

    async def included_in(self, change: str) -> IncludedIn:
        """The branches and tags a merged change is in."""
        ...


@runtime_checkable
class GerritRevisionReader(Protocol):
    """Reads one patch set: commit, files, diffs, contents, comments, merge status."""

    async def commit(self, change: str, revision: str) -> Commit:
        """The patch set's commit."""
        ...

    async def files(self, change: str, revision: str) -> list[FileChange]:
        """The files it changes."""
        ...

    async def diff(
        self,
        change: str,
        revision: str,
        path: str,
        *,
        base: str | None = None,
        intraline: bool = False,
        context: str | None = None,
        ignore_whitespace: str | None = None,
    ) -> Diff:
        """One file's diff (against ``base``, a patch set number; default: its parent)."""
        ...

    async def file_content(self, change: str, revision: str, path: str) -> BinaryContent:
        """One file's content in the patch set."""
        ...

    async def patch(self, change: str, revision: str, *, zip: bool = False) -> BinaryContent:
        """The formatted patch."""
        ...

    async def mergeable(self, change: str, revision: str) -> Mergeable:
        """Whether it merges cleanly."""
        ...

    async def submit_type(self, change: str, revision: str) -> str:
        """How it would be submitted."""
        ...

    async def comments(self, change: str, revision: str) -> list[InlineComment]:
        """Published inline comments."""
        ...

    async def drafts(self, change: str, revision: str) -> list[InlineComment]:
        """The caller's draft comments."""
        ...

    async def reviewed_files(self, change: str, revision: str) -> list[str]:
        """The paths the caller marked reviewed."""
        ...


@runtime_checkable
class GerritChangeWriter(Protocol):
    """Changes a change's life: abandon, restore, rebase, revert, cherry-pick, topic, commit
    message, submit, publish or delete a draft. Writes are never retried."""

    async def abandon(self, change: str, message: str | None = None) -> GerritChange:
        """Abandon an open change; it as the backend now has it (the same for the writes below
        that answer a change)."""
        ...

    async def restore(self, change: str, message: str | None = None) -> GerritChange:
        """Restore an abandoned change."""
        ...

    async def rebase(self, change: str, revision: str | None = None) -> GerritChange:
        """Rebase the change (or one patch set)."""
        ...

    async def revert(self, change: str, message: str | None = None) -> GerritChange:
        """Create the change that reverts a merged one: the new change."""
        ...

    async def cherry_pick(
        self, change: str, revision: str, destination: str, message: str
    ) -> GerritChange:
        """Cherry-pick a patch set onto ``destination``: the new change."""
        ...

    async def edit_message(self, change: str, revision: str, message: str) -> GerritChange:
        """Replace the commit message (a new patch set)."""
        ...

    async def delete_draft(self, change: str, revision: str | None = None) -> None:
        """Delete a draft change (or one draft patch set)."""
        ...

    async def set_topic(self, change: str, topic: str, message: str | None = None) -> str | None:
        """Set the topic (empty: delete it); the new topic."""
        ...

    async def delete_topic(self, change: str) -> None:
        """Delete the topic."""
        ...

    async def submit(self, change: str, wait_for_merge: bool = False) -> GerritChange:
        """Submit the change; it as the backend now has it."""
        ...

    async def submit_revision(
        self, change: str, revision: str, wait_for_merge: bool = False
    ) -> str:
        """Submit one patch set (old servers); the change's status afterwards."""
        ...

    async def publish(self, change: str, revision: str | None = None) -> None:
        """Publish a draft change (or one draft patch set)."""
        ...


@runtime_checkable
class GerritReviewWriter(Protocol):
    """Reviews: votes and messages, reviewers, draft comments, reviewed marks, submit-rule
    trials. Writes are never retried."""

    async def add_reviewer(
        self, change: str, reviewer: str, confirmed: bool = False
    ) -> AddReviewerResult:
        """Add a reviewer (a big group needs ``confirmed``)."""
        ...

    async def delete_reviewer(self, change: str, account: str) -> None:
        """Remove a reviewer."""
        ...

    async def delete_draft_comment(self, change: str, revision: str, draft_id: str) -> None:
        """Delete a draft comment."""
        ...

    async def set_reviewed(self, change: str, revision: str, path: str) -> bool:
        """Mark a file reviewed; whether it was not already."""
        ...

    async def delete_reviewed(self, change: str, revision: str, path: str) -> None:
        """Unmark a reviewed file."""
        ...

    async def test_submit_type(
        self, change: str, revision: str, rule: str, skip_filters: bool = False
    ) -> str:
        """The submit type a Prolog ``rule`` would give."""
        ...

    async def test_submit_rule(
        self, change: str, revision: str, rule: str, skip_filters: bool = False
    ) -> list[SubmitRecord]:
        """The submit records a Prolog ``rule`` would give."""
        ...

    async def set_review(self, change: str, revision: str, review: ReviewInput) -> dict[str, int]:
        """Post a review; the labels applied."""
        ...

    async def create_draft(self, change: str, revision: str, draft: CommentInput) -> InlineComment:
        """Create a draft comment."""
        ...

    async def update_draft(
        self, change: str, revision: str, draft_id: str, draft: CommentInput
    ) -> InlineComment:
        """Change a draft comment."""
        ...


@runtime_checkable
class GerritWriter(GerritChangeReader, GerritChangeWriter, GerritReviewWriter, Protocol):
    """What a Gerrit mutation needs: the writes, and the read of the change afterwards."""
