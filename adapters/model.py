"""Backend-neutral records: what every adapter returns and everything above the adapters uses.

Records are frozen, slotted dataclasses. Each carries the configured backend *instance* name
(``backend``), its native id as a string (``id``), a normalized state where it has one *and*
the raw native state, and the native payload (``raw``) for fields the unified model lacks.
Nested objects the backend sends inline (a patch's submitter, project, series summaries) are
kept as records too, so that resolvers never fetch what the list response already carried.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")

Raw = Mapping[str, Any]


class ChangeState(enum.Enum):
    """A change's state normalized across forges (the raw state is always kept beside it)."""

    OPEN = "OPEN"
    CHANGES_REQUESTED = "CHANGES_REQUESTED"
    DEFERRED = "DEFERRED"
    DRAFT = "DRAFT"
    MERGED = "MERGED"
    CLOSED = "CLOSED"
    SUPERSEDED = "SUPERSEDED"


class CheckState(enum.Enum):
    """A check's outcome; also the rolled-up state of several checks."""

    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    FAILURE = "FAILURE"


_ROLLUP_ORDER = (CheckState.FAILURE, CheckState.PENDING, CheckState.WARNING, CheckState.SUCCESS)


def rollup(states: Sequence[CheckState]) -> CheckState | None:
    """Roll several check states into one, as GitHub's ``statusCheckRollup`` does.

    Any failure wins, then anything still pending, then warnings; all green is success.
    No checks at all is ``None`` (unknown), not success.
    """
    if not states:
        return None
    present = set(states)
    for state in _ROLLUP_ORDER:
        if state in present:
            return state
    return CheckState.SUCCESS  # pragma: no cover - _ROLLUP_ORDER covers every member


class ChangeRecord(Protocol):
    """What every kind's change record (patch, Gerrit change, pull request) offers the merge."""

    @property
    def backend(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def state(self) -> ChangeState: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def project(self) -> Project | None: ...
    @property
    def author(self) -> Person | None: ...


@dataclass(frozen=True, slots=True)
class Project:
    """A project (Patchwork project, Gerrit project, ABF repository)."""

    backend: str
    id: str
    name: str
    link_name: str
    web_url: str | None = None
    list_email: str | None = None
    list_id: str | None = None
    scm_url: str | None = None
    webscm_url: str | None = None
    list_archive_url: str | None = None
    public: bool = True  # False: visible to its members only (ABF "hidden"), never anonymously
    raw: Raw = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Person:
    """Someone who submits, reviews, delegates or runs checks.

    Patchwork keeps two id spaces: *people* (mail senders) and *users* (accounts). The native
    id of a user is prefixed ``u`` (``"u1"``) so both fit one ``Person`` type without clashing.
    """

    backend: str
    id: str
    name: str | None
    email: str | None
    username: str | None = None
    raw: Raw = field(default_factory=dict, repr=False, compare=False)
    # only the id is known (the fdo fork names submitters by id): the backend's PersonReader
    # tells the rest, which the GraphQL layer asks for when a name or email is selected
    partial: bool = False

    @property
    def display_name(self) -> str:
        """The best human label available."""
        return self.name or self.username or self.email or self.id


@dataclass(frozen=True, slots=True)
class SeriesRef:
    """A series as it appears inline in a patch or cover."""

    backend: str
    id: str
    name: str | None
    version: int
    date: datetime | None
    web_url: str | None = None
    mbox_url: str | None = None


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A patch or cover letter as it appears inline in a series or bundle."""

    backend: str
    id: str
    name: str
    msgid: str
    date: datetime | None
    web_url: str | None = None
    mbox_url: str | None = None
    list_archive_url: str | None = None


@dataclass(frozen=True, slots=True)
class Patch:
    """A Patchwork patch: one mail carrying a diff. A ``Change`` in the unified schema."""

    backend: str
    id: str
    project: Project
    title: str
    msgid: str
    date: datetime
    state: ChangeState
    raw_state: str
    archived: bool
    submitter: Person | None
    delegate: Person | None
    check_state: CheckState | None
    series: tuple[SeriesRef, ...] = ()
    hash: str | None = None
    commit_ref: str | None = None
    pull_url: str | None = None
    web_url: str | None = None
    mbox_url: str | None = None
    list_archive_url: str | None = None
    content: str | None = None
    diff: str | None = None
    headers: Mapping[str, str] | None = None
    raw: Raw = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_detail(self) -> bool:
        """Whether this record came from a detail response (lists omit content and diff)."""
        return self.headers is not None

    @property
    def updated_at(self) -> datetime:
        """Patchwork exposes no modification time: the mail's date stands in for it."""
        return self.date

    @property
    def author(self) -> Person | None:
        """The change's author: the patch's submitter."""
        return self.submitter


@dataclass(frozen=True, slots=True)
class Cover:
    """A series' cover letter."""

    backend: str
    id: str
    project: Project
    title: str
    msgid: str
    date: datetime
    submitter: Person | None
    series: tuple[SeriesRef, ...] = ()
    web_url: str | None = None
    mbox_url: str | None = None
    list_archive_url: str | None = None
    content: str | None = None
    headers: Mapping[str, str] | None = None
    raw: Raw = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Series:
    """A set of patches sent together, with its version and completeness."""

    backend: str
    id: str
    project: Project | None
    name: str | None
    date: datetime
    submitter: Person | None
    version: int
    total: int
    received_total: int
    received_all: bool
    cover: MessageRef | None
    patches: tuple[MessageRef, ...]
    web_url: str | None = None
    mbox_url: str | None = None
    raw: Raw = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Comment:
    """A reply to a patch or cover letter (or, on other forges, a review message)."""

    backend: str
    id: str
    parent_id: str
    parent_type: str  # "Patch" or "Cover"
    date: datetime
    subject: str | None
    submitter: Person | None
    content: str | None
    msgid: str | None = None
    web_url: str | None = None
    list_archive_url: str | None = None
    addressed: bool | None = None
    raw: Raw = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Check:
    """A CI result attached to a change."""

    backend: str
    id: str
    change_id: str
    context: str
    state: CheckState
    raw_state: str
    date: datetime
    user: Person | None = None
    target_url: str | None = None
    description: str | None = None
    raw: Raw = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened on a backend (a patch created, a state changed, a check added)."""

    backend: str
    id: str
    category: str
    date: datetime
    project: Project | None
    actor: Person | None
    patch_id: str | None = None
    series_id: str | None = None
    cover_id: str | None = None
    check_id: str | None = None
    comment_id: str | None = None
    previous_state: str | None = None
    current_state: str | None = None
    previous_delegate: Person | None = None
    current_delegate: Person | None = None
    raw: Raw = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Bundle:
    """A named, user-owned collection of patches."""

    backend: str
    id: str
    name: str
    project: Project | None
    owner: Person | None
    public: bool
    patches: tuple[MessageRef, ...]
    web_url: str | None = None
    mbox_url: str | None = None
    raw: Raw = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A window of a list: ``count`` items starting at absolute position ``offset``."""

    offset: int = 0
    count: int = 30


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One window of a list, as the backend ordered it.

    ``has_next`` says whether items exist after this window; ``total`` is the list's size
    where the backend can tell it cheaply, else ``None``. ``kept``: this very page (its
    ``items`` tuple) is memoised by the upstream answer's stamp and comes back while the
    answer is unchanged (``adapters/stamps.py``), so what is built from it may be kept too.
    """

    items: tuple[T, ...]
    offset: int
    has_next: bool
    total: int | None = None
    kept: bool = False


# Patch updates and check creation are the foundation's two writes.


@dataclass(frozen=True, slots=True)
class PatchUpdate:
    """Fields to change on a patch; ``None`` means leave as is (``delegate=""`` clears it).

    ``delegate`` is a native person id (``uN`` a user, ``N`` a person); a user named by
    username goes in ``delegate_username`` (a username may be all digits)."""

    state: str | None = None
    delegate: str | None = None
    delegate_username: str | None = None
    archived: bool | None = None
    commit_ref: str | None = None


@dataclass(frozen=True, slots=True)
class NewCheck:
    """A CI result to attach to a patch."""

    state: CheckState
    context: str
    target_url: str | None = None
    description: str | None = None


# --- patchwork-fdo ---
# Records the freedesktop Patchwork fork adds: series that evolve through revisions, test
# results per revision, and a per-series review/test state. Usable by any kind whose series
# have versions (an upstream Patchwork series is one revision of itself).


@dataclass(frozen=True, slots=True)
class StateCount:
    """How many patches of a series' latest revision are in one state (fdo ``state_summary``)."""

    name: str
    count: int
    final: bool


@dataclass(frozen=True, slots=True)
class TrackedSeries(Series):
    """A series whose backend tracks review and testing on it (the fdo fork).

    The fdo server sends submitter and reviewer as bare ids: they are kept here and resolved
    by the GraphQL layer through the request's batched person loader (``submitter`` and
    ``reviewer`` of the base record stay ``None``).
    """

    submitter_id: str | None = None
    reviewer_id: str | None = None
    updated: datetime | None = None
    state: str | None = None
    test_state: CheckState | None = None
    raw_test_state: str | None = None
    state_summary: tuple[StateCount, ...] = ()


@dataclass(frozen=True, slots=True)
class Revision:
    """One version of a series: its cover letter text, its patches, its mbox.

    ``key`` (``"<series id>/<version>"``) is the native id of the revision on its backend.
    """

    backend: str
    series_id: str
    version: int
    cover_letter: str | None
    patch_ids: tuple[str, ...]
    mbox_url: str | None = None
    raw: Raw = field(default_factory=dict, repr=False, compare=False)

    @property
    def key(self) -> str:
        """The revision's native id: ``"<series id>/<version>"``."""
        return f"{self.series_id}/{self.version}"


@dataclass(frozen=True, slots=True)
class NewTestResult:
    """A test result to report on a revision; a later report with the same name replaces it."""

    test_name: str
    state: CheckState
    url: str | None = None
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class EventCursor:
    """Where an event poll stopped: the newest ``event_time`` seen and the events seen at it.

    A backend whose ``since`` is strictly-newer-than cannot tell apart two events that share
    a timestamp; keeping the ids seen at the boundary lets the next poll ask from just before
    it and drop what it has already delivered — no event is lost or repeated.
    """

    since: datetime | None = None
    seen_at_since: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class TrackedPatch(Patch):
    """A patch whose backend records its last update (the fdo fork's ``last_updated``)."""

    updated: datetime | None = None

    @property
    def updated_at(self) -> datetime:
        """The last update where the backend gives one, else the mail's date."""
        return self.updated or self.date
