"""ABF-specific records and filters: pull requests, their refs, commits, files, and groups.

These complement ``adapters.model`` (projects and users of ABF are plain ``model.Project`` and
``model.Person`` records). Like every record they are frozen, carry the backend instance name
and keep the native payload in ``raw``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime

from adapters.model import ChangeState, Check, CheckState, Person, Project, Raw

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Mergeability(enum.Enum):
    """Whether an open pull request can be merged, from ABF's finer-grained status."""

    MERGEABLE = "MERGEABLE"  # status "ready"
    CONFLICTING = "CONFLICTING"  # status "blocked"
    UP_TO_DATE = "UP_TO_DATE"  # status "already": nothing left to merge
    UNKNOWN = "UNKNOWN"  # status "open" (not checked yet), or the pull request is closed


@dataclass(frozen=True, slots=True)
class Ref:
    """One side of a pull request: a branch (or ref) of a project at a commit."""

    ref: str
    sha: str | None
    project: Project | None


@dataclass(frozen=True, slots=True)
class PullRequest:
    """An ABF pull request. A ``Change`` in the unified schema.

    ``id`` is ``"<project id>/<number>"``: ABF numbers pull requests per target project.
    List items carry no timestamps, body or closer; ``is_detail`` tells a detail record apart.
    ``modified_at`` is ABF's ``updated_at`` (``None`` on list items); the ``updated_at``
    property is what the federated ``changes`` list orders by, so ``list_changes`` only ever
    returns details.
    """

    backend: str
    id: str
    project: Project
    number: int
    title: str
    state: ChangeState
    raw_state: str
    mergeability: Mergeability
    mergeable: bool | None
    to_ref: Ref
    from_ref: Ref
    owner: Person | None
    assignee: Person | None
    body: str | None = None
    created_at: datetime | None = None
    modified_at: datetime | None = None
    merged_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: Person | None = None
    merged_by: Person | None = None
    api_url: str | None = None
    web_url: str | None = None
    raw: Raw = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_detail(self) -> bool:
        """Whether this record came from a single pull request response."""
        return self.created_at is not None

    @property
    def updated_at(self) -> datetime:
        """The last update (a ``ChangeRecord``); list items, which lack it, sort as oldest."""
        return self.modified_at or self.created_at or EPOCH

    @property
    def author(self) -> Person | None:
        """The change's author: the pull request's owner (a ``ChangeRecord``)."""
        return self.owner


@dataclass(frozen=True, slots=True)
class GitActor:
    """A commit's author or committer as git records them."""

    name: str | None
    email: str | None
    date: datetime | None


@dataclass(frozen=True, slots=True)
class Commit:
    """One commit of a pull request."""

    backend: str
    sha: str
    message: str
    author: GitActor | None
    committer: GitActor | None
    parents: tuple[str, ...] = ()
    tree_sha: str | None = None
    web_url: str | None = None
    raw: Raw = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file a pull request changes, with its line counts."""

    backend: str
    filename: str
    status: str
    additions: int
    deletions: int
    changes: int
    sha: str | None = None
    blob_url: str | None = None
    raw_url: str | None = None
    raw: Raw = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Group:
    """An ABF group (an organisation owning projects)."""

    backend: str
    id: str
    uname: str
    description: str | None = None
    own_projects_count: int | None = None
    owner: Person | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    web_url: str | None = None
    avatar_url: str | None = None
    raw: Raw = field(default_factory=dict, repr=False, compare=False)


class Scope(enum.Enum):
    """Which of ABF's pull request lists to read."""

    ALL = "all"  # GET /pull_requests: every project the user can see
    USER = "user"  # GET /user/pull_requests: owned and member projects
    GROUP = "group"  # GET /groups/:id/pull_requests
    PROJECT = "project"  # GET /projects/:id/pull_requests


@dataclass(frozen=True, slots=True)
class PullRequestFilter:
    """What to list; each field maps onto one of ABF's own query parameters.

    ``filter`` (assigned/created/all) applies to the user-wide lists; ``assignee``
    (a nickname, ``none`` or ``*``) and ``creator`` only to a project's list.
    """

    scope: Scope = Scope.ALL
    group: str | None = None
    project: str | None = None
    filter: str | None = None
    status: str | None = None
    assignee: str | None = None
    creator: str | None = None
    sort: str | None = None
    direction: str | None = None
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewPullRequest:
    """A pull request to open on a project (``from_project`` defaults to the same project)."""

    title: str
    body: str
    to_ref: str
    from_ref: str
    assignee_id: str | None = None
    from_project: str | None = None


@dataclass(frozen=True, slots=True)
class PullRequestUpdate:
    """Fields to change; ``None`` leaves a field as it is. ``status``: ``close`` or ``reopen``."""

    title: str | None = None
    body: str | None = None
    assignee_id: str | None = None
    status: str | None = None


def merge_check(pr: PullRequest) -> Check | None:
    """ABF's merge check of an open pull request as a ``Check`` (none once it is closed).

    ABF runs one check on a pull request: whether ``from_ref`` merges cleanly into
    ``to_ref``. ready/already pass, blocked fails, open (not checked yet) is pending.
    """
    if pr.state is not ChangeState.OPEN:
        return None
    state = {
        Mergeability.MERGEABLE: CheckState.SUCCESS,
        Mergeability.UP_TO_DATE: CheckState.SUCCESS,
        Mergeability.CONFLICTING: CheckState.FAILURE,
        Mergeability.UNKNOWN: CheckState.PENDING,
    }[pr.mergeability]
    described = {
        "ready": "can be merged automatically",
        "already": f"{pr.to_ref.ref} already contains {pr.from_ref.ref}",
        "blocked": "merge conflicts",
    }
    return Check(
        backend=pr.backend,
        id="mergeable",
        change_id=pr.id,
        context="abf/mergeable",
        state=state,
        raw_state=pr.raw_state,
        date=pr.updated_at,
        target_url=pr.web_url,
        description=described.get(pr.raw_state, "not checked yet"),
    )
