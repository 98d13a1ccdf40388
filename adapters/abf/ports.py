"""The capabilities an ABF-like backend offers beyond ``adapters.base``: pull requests, groups.

The GraphQL layer asks ``isinstance(source, PullRequestReader)`` the way it asks for the
ports in ``adapters/base.py``. Ids of pull requests are ``"<project id>/<number>"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from adapters.abf.records import (
    Commit,
    FileChange,
    Group,
    NewPullRequest,
    PullRequest,
    PullRequestFilter,
    PullRequestUpdate,
)
from adapters.model import Page, PageRequest, Person


@runtime_checkable
class PullRequestReader(Protocol):
    """Reads pull requests."""

    async def project_id(self, key: str) -> str:
        """A project's native id from its id or ``owner/name``."""

    async def list_pull_requests(
        self, flt: PullRequestFilter, page: PageRequest
    ) -> Page[PullRequest]:
        """Pull requests matching ``flt``, in the order ``flt.sort``/``direction`` ask for."""

    async def get_pull_requests(self, ids: Sequence[str]) -> list[PullRequest | None]:
        """Pull request details (body, timestamps, closer) by id."""

    async def pull_request_commits(self, pr_id: str) -> list[Commit]:
        """The commits a pull request would merge, oldest first."""

    async def pull_request_files(self, pr_id: str) -> list[FileChange]:
        """The files a pull request changes."""


@runtime_checkable
class PullRequestWriter(Protocol):
    """Opens, edits, closes/reopens and merges pull requests. Writes are never retried."""

    async def create_pull_request(self, project: str, new: NewPullRequest) -> PullRequest:
        """Open a pull request on ``project`` (id or ``owner/name``); the new pull request."""

    async def update_pull_request(self, pr_id: str, update: PullRequestUpdate) -> PullRequest:
        """Apply ``update``; the pull request as the backend now has it."""

    async def merge_pull_request(self, pr_id: str, message: str | None) -> PullRequest:
        """Merge; the pull request as the backend now has it."""


@runtime_checkable
class GroupReader(Protocol):
    """Reads groups and the authenticated user."""

    async def get_groups(self, ids: Sequence[str]) -> list[Group | None]:
        """Groups by id."""

    async def viewer(self) -> Person:
        """The user the backend's credentials belong to."""
