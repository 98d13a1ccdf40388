"""Which upstream Patchwork patches have checks, kept up to date incrementally (issue 21).

Patchwork says ``check: "pending"`` both for "no checks" and for pending ones, while the
unified ``checkState`` is null without checks, so a list with "pending" patches asks the
``check-created`` events. ``Presence`` keeps, per backend, what earlier reads proved:

- the ids of patches known to have a check: Patchwork's API cannot delete a check, so the
  answer never goes back (at most ``ids`` of them, the least recently seen dropped first);
- per project filter, the covered interval of the event log: every ``check-created`` event
  dated in ``[since, until]`` has been seen and its patch id recorded.

A request whose patches of unknown presence are all inside coverage (less the slack) reads
only the events since ``until`` less ``CHECK_EVENT_SLACK`` — normally one small page —
instead of the whole window again. Every such request still reads upstream, so no answer is
staler than a full read's; only patches all known to have checks skip the read.

The read goes out with the list (``expect``, called by the schema before it reads a list
whose ``checkState`` is asked): a list whose last presence read was "the events since the
covered end" issues that read at once, alongside the list read, so the list answers in one
round trip instead of two. It is used only when it is exactly the read the listed patches
need (same project filter, same ``since``); otherwise it finishes unheeded and the needed
read is made as before. A list that needed no read issues none the next time.

This is not a memo of one answer (``adapters/stamps.py``): nothing here is a record or is
handed out, and its own bounds are ``ids`` patch ids and ``filters`` project filters. Dropping
an id raises ``floor`` past the date that proved it, so coverage never vouches for a patch
whose check it has forgotten. One ``Presence`` serves every caller of a backend
(``PatchworkSource.with_token`` shares it): Patchwork's checks and events are readable
anonymously and alike for every user, so what one caller's read proved holds for all.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from adapters.base import fetch_each, retrieved
from adapters.errors import NotFound
from adapters.model import Patch
from adapters.patchwork import mapping
from adapters.patchwork.client import PatchworkClient
from adapters.patchwork_common import format_server_date

# A mail's Date can run ahead of its arrival (a sender's clock): checks are looked for from
# this much before the oldest patch's date. An incremental read starts this much before the
# newest event seen, so an event dated a little before it but listed late is read again.
CHECK_EVENT_SLACK = timedelta(hours=1)
CHECK_EVENT_PAGES = 3  # then the patches older than the events read are asked one by one
# Patchwork dates have microsecond precision: "strictly after the oldest event read".
_TICK = timedelta(microseconds=1)


class _Unread:
    """The type of ``UNREAD``."""


UNREAD = _Unread()  # a list whose patches needed no events read


@dataclass(frozen=True, slots=True)
class Covered:
    """Every ``check-created`` event dated in ``[since, until]`` has been seen."""

    since: datetime
    until: datetime


class Presence:
    """One backend's known checked patches and covered event-log intervals (module doc)."""

    def __init__(self, ids: int = 100_000, filters: int = 64) -> None:
        self.ids = ids
        self.filters = filters
        self._checked: OrderedDict[str, datetime] = OrderedDict()  # id → bound (see ``_add``)
        self._covered: OrderedDict[str | None, Covered] = OrderedDict()  # project filter →
        self.floor: datetime | None = None  # coverage starts no earlier (forgotten ids)
        # list filter → the project filter its last events read used (``expect``)
        self._read_for: OrderedDict[Hashable, str | None] = OrderedDict()

    def checked(self, patch_id: str) -> bool:
        """Whether ``patch_id`` is known to have a check."""
        return patch_id in self._checked

    def _add(self, patch_id: str, bound: datetime) -> None:
        """Remember a checked patch; ``bound`` is a date no earlier than its mail date less
        the slack (its check event's date, or that mail date less the slack), so a floor
        past it leaves the patch outside coverage once it is forgotten."""
        known = self._checked.pop(patch_id, None)
        self._checked[patch_id] = bound if known is None else max(known, bound)
        while len(self._checked) > self.ids:
            _, dropped = self._checked.popitem(last=False)
            if self.floor is None or dropped + _TICK > self.floor:
                self.floor = dropped + _TICK

    def coverage(self, key: str | None) -> Covered | None:
        """The covered interval for project filter ``key`` (``None``: all projects)."""
        found = self._covered.get(key)
        if found is None or self.floor is None or found.since >= self.floor:
            return found
        return Covered(self.floor, found.until) if self.floor <= found.until else None

    def covers(self, key: str | None, date: datetime) -> bool:
        """Whether every check event dated from ``date`` on has been seen for ``key``."""
        found = self.coverage(key)
        return found is not None and found.since <= date

    def _cover(self, key: str | None, new: Covered) -> None:
        """Join ``new`` to the interval kept for ``key`` when they meet, else keep the later
        one (a concurrent read may have moved it meanwhile)."""
        old = self._covered.pop(key, None)
        if old is not None and new.since <= old.until and old.since <= new.until:
            new = Covered(min(old.since, new.since), max(old.until, new.until))
        elif old is not None and old.until > new.until:
            new = old
        self._covered[key] = new
        while len(self._covered) > self.filters:
            self._covered.popitem(last=False)

    def saw(
        self,
        key: str | None,
        marks: Sequence[tuple[str | None, datetime]],
        covered: Covered | None,
    ) -> None:
        """Record an events read: the patches it found and what it covered."""
        # oldest first (Patchwork lists newest first): the bound drops older checks first,
        # which narrows coverage least
        for patch_id, date in reversed(marks):
            if patch_id is not None:
                self._add(patch_id, date)
        if covered is not None:
            self._cover(key, covered)

    def read_for(self, listed: Hashable, key: str | _Unread | None) -> None:
        """Remember which project filter a list's events read used (``UNREAD``: it needed
        none), so that the next read of that list can be issued with the list (``expect``)."""
        self._read_for.pop(listed, None)
        if isinstance(key, _Unread):
            return
        self._read_for[listed] = key
        while len(self._read_for) > self.filters:
            self._read_for.popitem(last=False)

    def last_read(self, listed: Hashable) -> str | _Unread | None:
        """The project filter of ``listed``'s last events read (``UNREAD``: none known)."""
        return self._read_for.get(listed, UNREAD)

    def found(self, patches: Sequence[Patch]) -> None:
        """Record patches found to have a check one by one (outside coverage)."""
        for p in patches:
            self._add(p.id, p.date - CHECK_EVENT_SLACK)


@dataclass(frozen=True, slots=True)
class Ahead:
    """An events read issued together with the list read it is expected to serve."""

    listed: Hashable  # the list's filter
    key: str | None = None  # the project filter of the read (when one was issued)
    since: datetime | None = None
    read: asyncio.Future[tuple[list[dict[str, Any]], bool]] | None = None


def expect(client: PatchworkClient, backend: str, state: Presence, listed: Hashable) -> Ahead:
    """For a list about to be read (``listed``: its filter) whose last read needed the
    events since the end of a covered interval: issue that read now, alongside the list's,
    instead of one round trip after it. ``patches_with_checks`` uses it when its patches
    ask for exactly that read, and reads on its own otherwise."""
    key = state.last_read(listed)
    if isinstance(key, _Unread):
        return Ahead(listed)
    base = state.coverage(key)
    if base is None:
        return Ahead(listed)
    since = base.until - CHECK_EVENT_SLACK
    read = asyncio.ensure_future(
        client.first_items("events/", _event_params(backend, key, since), CHECK_EVENT_PAGES)
    )
    # a read not needed after all finishes unheeded (no torn connection, no unseen error)
    read.add_done_callback(retrieved)
    return Ahead(listed, key, since, read)


def _event_params(backend: str, key: str | None, since: datetime) -> dict[str, Any]:
    params: dict[str, Any] = {
        "category": "check-created",
        "since": format_server_date(since, backend),
    }
    if key is not None:
        params["project"] = key
    return params


async def patches_with_checks(
    client: PatchworkClient,
    backend: str,
    state: Presence,
    patches: Sequence[Patch],
    has_a_check: Callable[[str], Awaitable[bool]],
    ahead: Ahead | None = None,
) -> list[bool]:
    """Which of ``patches`` have checks: ONE read of the ``check-created`` events, pushed
    down to the project when they share one — since the coverage's end when it holds the
    patches of unknown presence, else since the oldest of them (both less the slack). The
    read stops after ``CHECK_EVENT_PAGES`` pages (newest first): a patch older than the
    oldest event read is then asked about alone (its checks list, one item). ``ahead``: the
    read ``expect`` issued with the list, used when it is the one needed."""
    unknown = [p for p in patches if not state.checked(p.id)]
    if not unknown:  # checks cannot be deleted: nothing to read
        if ahead is not None:
            state.read_for(ahead.listed, UNREAD)
        return [True] * len(patches)
    projects = {p.project.id if p.project else None for p in unknown}
    key = projects.pop() if len(projects) == 1 else None
    oldest = min(p.date for p in unknown) - CHECK_EVENT_SLACK
    base = state.coverage(key)
    if base is not None and base.since > oldest:
        base = None
    since = oldest if base is None else base.until - CHECK_EVENT_SLACK
    if ahead is not None:
        state.read_for(ahead.listed, key)
    try:
        items, complete = await _events_since(client, backend, key, since, ahead)
    except NotFound:  # no event log on this server: keep its own word ("pending")
        return [True] * len(patches)
    marks = [mapping.check_event_mark(backend, d) for d in items]
    state.saw(key, marks, _covered(since, base, marks, complete))
    # answered from this read, not from ``state``: a big read may drop ids it just added
    checked = {p.id for p in patches} - {p.id for p in unknown}
    checked.update(patch_id for patch_id, _ in marks if patch_id is not None)
    unsure = [p for p in unknown if p.id not in checked and not _inside(state, key, p)]
    if unsure:
        found = await fetch_each([p.id for p in unsure], has_a_check)
        yes = [p for p, has in zip(unsure, found, strict=True) if has]
        state.found(yes)
        checked.update(p.id for p in yes)
    return [p.id in checked for p in patches]


async def _events_since(
    client: PatchworkClient,
    backend: str,
    key: str | None,
    since: datetime,
    ahead: Ahead | None,
) -> tuple[list[dict[str, Any]], bool]:
    """The ``check-created`` events since ``since`` (for project ``key``): the read issued
    ahead when it is exactly that one, else a read of its own."""
    if ahead is not None and ahead.read is not None and (ahead.key, ahead.since) == (key, since):
        return await ahead.read
    params = _event_params(backend, key, since)
    return await client.first_items("events/", params, CHECK_EVENT_PAGES)


def _inside(state: Presence, key: str | None, patch: Patch) -> bool:
    return state.covers(key, patch.date - CHECK_EVENT_SLACK)


def _covered(
    since: datetime,
    base: Covered | None,
    marks: Sequence[tuple[str | None, datetime]],
    complete: bool,
) -> Covered | None:
    """What a read ``since`` proved. Complete: every event from ``since`` up to the newest
    read — not up to "now": the client exposes no server clock and ours may differ, so a read
    that finds nothing covers up to ``since`` (or the incremental read's ``base``). Cut at
    the pages cap: only from just after the oldest event read (others may share its date)."""
    newest = max((d for _, d in marks), default=since)
    if complete:
        start, until = (since, since) if base is None else (base.since, base.until)
        return Covered(start, max(until, newest))
    if not marks:  # pragma: no cover - a page with a next link is a full one
        return None
    return Covered(min(d for _, d in marks) + _TICK, newest)
