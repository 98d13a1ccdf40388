"""The ports: small per-capability protocols a backend source implements.

A *kind* of backend (Patchwork, Gerrit, ABF …) is a package under ``adapters/``; a configured
*instance* of it is a ``Source`` object built by that package's factory (see
``adapters/registry.py``). The GraphQL layer asks a source what it can do with
``isinstance(source, PatchReader)`` and friends, so a kind implements only what its API offers.

Every method returns ``adapters.model`` records and raises only ``adapters.errors``
exceptions. ``get_*`` batch methods take a list of native ids and return a list of the same
length and order, holding the record or ``None`` where the backend has no such object —
exactly the shape an aiodataloader batch function needs.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from adapters.errors import NotFound
from adapters.model import (
    Bundle,
    ChangeRecord,
    ChangeState,
    Check,
    CheckState,
    Comment,
    Cover,
    Event,
    EventCursor,
    NewCheck,
    NewTestResult,
    Page,
    PageRequest,
    Patch,
    PatchUpdate,
    Person,
    Project,
    Revision,
    Series,
)

if TYPE_CHECKING:
    from typing_extensions import TypeIs  # narrows as isinstance does (typing.TypeIs: 3.13)

    from adapters.http import HttpClient

P = TypeVar("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class PatchFilter:
    """What to list; every field is optional and maps onto the backend's own filters."""

    project: str | None = None
    states: tuple[str, ...] = ()
    archived: bool | None = None
    submitters: tuple[str, ...] = ()
    delegate: str | None = None
    series: str | None = None
    since: datetime | None = None
    before: datetime | None = None
    q: str | None = None
    msgid: str | None = None
    hash: str | None = None
    order: str | None = None


@dataclass(frozen=True, slots=True)
class SeriesFilter:
    """Series list filters."""

    project: str | None = None
    submitters: tuple[str, ...] = ()
    since: datetime | None = None
    before: datetime | None = None
    q: str | None = None
    order: str | None = None


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Event list filters."""

    project: str | None = None
    categories: tuple[str, ...] = ()
    patch: str | None = None
    series: str | None = None
    cover: str | None = None
    since: datetime | None = None
    before: datetime | None = None


@dataclass(frozen=True, slots=True)
class ChangeFilter:
    """A filter that means the same on every forge (see docs/federation.md for the pushdown).

    A lister pushes down what its API can filter and may ignore the rest: the gateway applies
    every field again to the records it gets back, so pushdown is an optimisation only and
    must never be *stricter* than these semantics. ``native`` carries per-kind escapes
    (``gerrit_query``, Patchwork filters) that only that kind understands.
    """

    projects: tuple[str, ...] = ()  # native project ids or link names on this backend
    states: tuple[ChangeState, ...] = ()
    author: str | None = None  # email, username or name (case-insensitive exact)
    updated_since: datetime | None = None
    updated_before: datetime | None = None
    search: str | None = None  # case-insensitive substring of the title
    native: Mapping[str, str] = field(default_factory=dict)
    # ``changes(filter: {people})``: this backend's account keys of the people asked for
    # (native ids, usernames or emails, from ``AuthorKeys``); empty: no people filter
    people: tuple[str, ...] = ()


@runtime_checkable
class ChangeLister(Protocol):
    """Lists a backend's changes ordered by update time: the unit the federated merge consumes."""

    async def list_changes(
        self, flt: ChangeFilter, page: PageRequest, descending: bool
    ) -> Page[ChangeRecord]:
        """Changes ordered by ``updated_at`` (newest first when ``descending``), windowed by
        absolute position in that order. ``Page.has_next`` must be exact; a window may hold
        fewer items than asked (a server-side cap) only while ``has_next`` is true."""


def list_waves(lister: object) -> int:
    """How many dependent upstream round trips a lister's first window may take, with what it
    runs ahead of the merge (its ``LIST_WAVES``; 1 when it declares none): the merge issues
    the longest chains first, so the page waits on the slowest backend's chain alone."""
    waves = getattr(lister, "LIST_WAVES", 1)
    return waves if isinstance(waves, int) else 1


@runtime_checkable
class Source(Protocol):
    """A configured backend instance."""

    name: str
    kind: str
    url: str

    async def open(self) -> None:
        """Open pooled connections. Called once at start-up, before any request."""

    async def close(self) -> None:
        """Release pooled connections. Called once at shutdown."""

    @property
    def request_count(self) -> int:
        """Upstream requests made so far (attempts, including retries)."""


class PooledSource:
    """``Source``'s lifecycle for a source that speaks through one pooled ``HttpClient``
    (``self.http``): every kind's source inherits it rather than repeating it."""

    http: HttpClient

    @property
    def request_count(self) -> int:
        """Upstream requests made so far (attempts, including retries)."""
        return self.http.request_count

    @property
    def shares_reads(self) -> bool:
        """Whether identical reads in flight may share one exchange (``coalesce_reads``)."""
        return self.http.flights.enabled

    async def open(self) -> None:
        """Open the pooled HTTP session."""
        await self.http.open()

    async def close(self) -> None:
        """Close the pooled HTTP session."""
        await self.http.close()


@runtime_checkable
class Pinger(Protocol):
    """Answers readiness probes with one cheap upstream request."""

    async def ping(self) -> None:
        """Return if the backend answers; raise an ``UpstreamError`` otherwise."""


@runtime_checkable
class ProjectReader(Protocol):
    """Reads projects."""

    async def list_projects(self, page: PageRequest) -> Page[Project]:
        """Projects in the backend's order."""

    async def get_projects(self, ids: Sequence[str]) -> list[Project | None]:
        """Projects by native id (or link name, where the backend accepts it)."""


@runtime_checkable
class PatchReader(Protocol):
    """Reads Patchwork-style patches."""

    async def list_patches(self, flt: PatchFilter, page: PageRequest) -> Page[Patch]:
        """Patches matching ``flt``; pushed down to the backend's own filters."""

    async def get_patches(self, ids: Sequence[str]) -> list[Patch | None]:
        """Patch details (content, diff, headers) by native id."""

    async def patch_checks(self, ids: Sequence[str]) -> list[list[Check]]:
        """The checks of each patch, in the same order as ``ids``."""

    async def patch_comments(self, patch_id: str, page: PageRequest) -> Page[Comment]:
        """Replies to one patch."""


@runtime_checkable
class MboxReader(Protocol):
    """Downloads the mbox (or raw diff) a record's ``mbox_url`` points at."""

    async def download(self, url: str) -> str:
        """The text at ``url``, which must be on this backend (anything else is refused)."""


@runtime_checkable
class PatchWriter(Protocol):
    """Changes patches and attaches checks. Writes are never retried."""

    async def update_patch(self, patch_id: str, update: PatchUpdate) -> Patch:
        """Apply ``update`` and return the patch as the backend now has it."""

    async def create_check(self, patch_id: str, check: NewCheck) -> Check:
        """Attach a CI result to a patch."""


@runtime_checkable
class SeriesReader(Protocol):
    """Reads series and their cover letters."""

    async def list_series(self, flt: SeriesFilter, page: PageRequest) -> Page[Series]:
        """Series matching ``flt``."""

    async def get_series(self, ids: Sequence[str]) -> list[Series | None]:
        """Series by native id."""

    async def get_covers(self, ids: Sequence[str]) -> list[Cover | None]:
        """Cover letters by native id."""

    async def cover_comments(self, cover_id: str, page: PageRequest) -> Page[Comment]:
        """Replies to one cover letter."""


@runtime_checkable
class PersonReader(Protocol):
    """Reads people (mail senders) and user accounts."""

    async def get_people(self, ids: Sequence[str]) -> list[Person | None]:
        """People by native id (``u<N>`` for user accounts)."""


@runtime_checkable
class PersonSearcher(Protocol):
    """Finds accounts by a search term (``people(search:)``, ``Identity.accounts``)."""

    async def search_people(self, term: str, limit: int) -> list[Person]:
        """At most ``limit`` accounts whose name, username or email contains ``term``
        (as the backend's own search matches), in the backend's order."""


@runtime_checkable
class AuthorKeys(Protocol):
    """Says which of a person's keys can name the author of this backend's changes."""

    def author_keys(self, emails: Sequence[str], accounts: Sequence[str]) -> tuple[str, ...]:
        """The keys to put in ``ChangeFilter.people`` for someone with these ``emails``
        and these account values on this backend (``[[people]]`` usernames, emails, ids);
        empty: this backend cannot tell their changes (they are skipped, with no read)."""
        ...


@runtime_checkable
class PrivatePeople(Protocol):
    """A backend that shows people and accounts (their emails) to authenticated users only
    (Patchwork): the gateway's credential must not stand in for an anonymous caller."""

    def people_are_private(self) -> bool:
        """Whether anonymous callers get no people from this backend."""
        ...


@runtime_checkable
class EventReader(Protocol):
    """Reads the backend's event log, newest first."""

    async def list_events(self, flt: EventFilter, page: PageRequest) -> Page[Event]:
        """Events matching ``flt``."""


@runtime_checkable
class BundleReader(Protocol):
    """Reads bundles."""

    async def list_bundles(self, project: str | None, page: PageRequest) -> Page[Bundle]:
        """Bundles visible with the configured credentials."""

    async def get_bundles(self, ids: Sequence[str]) -> list[Bundle | None]:
        """Bundles by native id."""


@runtime_checkable
class CoverLister(Protocol):
    """Lists cover letters (the merged root ``covers``)."""

    async def list_covers(self, flt: SeriesFilter, page: PageRequest) -> Page[Cover]:
        """Cover letters matching ``flt`` (project, submitters, dates, ``q``, date order)."""


@runtime_checkable
class UserLister(Protocol):
    """Lists the backend's user accounts (the root ``users``)."""

    async def list_users(self, search: str | None, page: PageRequest) -> Page[Person]:
        """Accounts whose username, name or email contains ``search`` (``None``: all)."""


@runtime_checkable
class CheckPresence(Protocol):
    """Tells which patches have checks at all, for a backend whose rollup word does not
    (upstream Patchwork says "pending" both for no checks and for pending ones)."""

    async def patches_with_checks(
        self, patches: Sequence[Patch], ahead: object | None = None
    ) -> list[bool]:
        """Whether each patch has at least one check, in the order of ``patches``; one
        upstream read for the whole batch, not one per patch. ``ahead``: what
        ``expect_checks`` gave for the list these patches come from (even when none of them
        needs asking: pass ``[]`` then)."""

    def expect_checks(self, flt: PatchFilter) -> object:
        """Called just before reading the list ``flt``, when its patches' presence will be
        asked: may issue now, alongside the list, the read ``patches_with_checks`` is
        likely to need (one round trip fewer); the answer goes back as its ``ahead``."""


@runtime_checkable
class CallerCredentials(Protocol):
    """Can act as another user of the same backend (REST compat ``backend_tokens``)."""

    def with_token(self, token: str) -> Source:
        """This backend, same pooled connections, authenticating with ``token`` instead of
        the configured credential (in the kind's token scheme). Not opened or closed itself:
        it lives as long as the source it came from."""
        ...


# --- patchwork-fdo ---


@dataclass(frozen=True, slots=True)
class TrackedSeriesFilter(SeriesFilter):
    """Series filters of backends that track review and tests on series (the fdo fork).

    ``since``/``before`` of the base filter are the submission time; ``submitters`` takes one
    person id or ``"self"``; ``reviewer`` takes an id or ``"null"`` (no reviewer);
    ``test_states`` takes pending, info, success, warning, failure or ``"null"``.
    """

    name: str | None = None
    reviewer: str | None = None
    updated_since: datetime | None = None
    updated_before: datetime | None = None
    test_states: tuple[str, ...] = ()


@runtime_checkable
class RevisionReader(Protocol):
    """Reads the revisions of series, their test results and their mbox."""

    async def series_revisions(self, series_ids: Sequence[str]) -> list[list[Revision]]:
        """Every revision of each series, oldest first, in the order of ``series_ids``."""

    async def get_revisions(self, keys: Sequence[str]) -> list[Revision | None]:
        """Revisions by ``"<series id>/<version>"``."""

    async def revision_test_results(self, keys: Sequence[str]) -> list[list[Check]]:
        """The test results of each revision (``"<series id>/<version>"``), as checks."""

    async def revision_mbox(self, key: str, link: str | None = None) -> str:
        """The revision's patches as one mbox; ``link`` adds a ``<link>: <url>`` tag each."""

    async def patch_revisions(self, patch_ids: Sequence[str]) -> list[Revision | None]:
        """The latest revision holding each patch (``None``: in none)."""


class Placement(Protocol):
    """One request's placement of patches in revisions (``WarmPlacer.placement``)."""

    def warm(
        self,
        patches: Sequence[Patch],
        reachable: Callable[[Sequence[Patch]], Sequence[Patch]],
        results: bool,
        rollup_only: bool = False,
    ) -> None:
        """Start, without waiting, placing these listed patches (a federated list's window,
        before the merge has chosen the page); ``reachable`` keeps, when asked, those that
        can still reach the page; ``results``: their test results will be asked too;
        ``rollup_only``: only their rollup (``listed_state`` may tell it without a read)."""

    async def patch_revisions(self, patch_ids: Sequence[str]) -> list[Revision | None]:
        """As ``RevisionReader.patch_revisions``, reusing the reads ``warm`` started."""

    async def revision_test_results(self, keys: Sequence[str]) -> list[list[Check]]:
        """As ``RevisionReader.revision_test_results``, reusing the reads ``warm`` started."""

    def listed_state(self, key: str) -> tuple[CheckState | None] | None:
        """The rollup of revision ``key``'s test results where a list this placement read
        tells it without reading them — ``(state,)``, ``(None,)`` for none — else ``None``."""


@runtime_checkable
class WarmPlacer(Protocol):
    """A revision-tracking source that can start placing a list's patches while the merge
    still waits for other backends (one wave less on a dashboard page)."""

    def placement(self) -> Placement:
        """A placement for one request (its warmed reads are that request's only)."""


@runtime_checkable
class ResultReporter(Protocol):
    """Reports test results on revisions. Writes are never retried."""

    async def report_test_result(self, key: str, result: NewTestResult) -> Check:
        """Create or update (same ``test_name``) a result on revision ``key``."""


@runtime_checkable
class EventPoller(Protocol):
    """Polls an event log forward from a cursor, losing and repeating nothing."""

    async def poll_events(
        self, flt: EventFilter, cursor: EventCursor | None
    ) -> tuple[list[Event], EventCursor]:
        """Every event after ``cursor`` (oldest first) and the cursor to poll from next."""


@dataclass(frozen=True, slots=True)
class TrackedPatchFilter(PatchFilter):
    """Patch filters of the fdo fork beyond the common ones: exact name, last-update window."""

    name: str | None = None
    updated_since: datetime | None = None
    updated_before: datetime | None = None


# -- capability checks -----------------------------------------------------------------------


def provides(source: object, port: type[P]) -> TypeIs[P]:
    """``isinstance(source, port)`` for a port above (a method-only protocol), answered once per
    source class: a runtime protocol check walks the protocol's members on every call, and
    the GraphQL resolvers ask it several times per request. A source's ports are its class's
    methods, never attributes set on one instance, so the class decides."""
    return _class_provides(type(source), port)  # type: ignore[arg-type]  # classes hash


@functools.lru_cache(maxsize=512)  # (source class, port) pairs: a few dozen in a process
def _class_provides(cls: type, port: type) -> bool:
    return issubclass(cls, port)


# -- per-id reads --------------------------------------------------------------------------


async def fetch_each(ids: Sequence[str], fetch: Callable[[str], Awaitable[R]]) -> list[R | None]:
    """``fetch`` every id concurrently, answers in the order of ``ids``; a ``NotFound`` is
    ``None`` in its slot, any other error propagates. One id (a ``node`` query, a loader
    batch of one) is awaited directly: no task to create and schedule for it."""

    async def one(native_id: str) -> R | None:
        try:
            return await fetch(native_id)
        except NotFound:
            return None

    if len(ids) == 1:
        return [await one(ids[0])]
    return list(await asyncio.gather(*(one(i) for i in ids)))


def retrieved(read: asyncio.Future[Any]) -> None:
    """A done-callback for a read started ahead (or shared) whose failure is met, and
    reported, by whoever awaits it, or not needed at all: retrieved here, so asyncio does
    not log it as never retrieved."""
    if not read.cancelled():
        read.exception()
