"""Upstream Patchwork patches as changes ordered by their last activity.

Patchwork keeps no modification time: a patch's ``date`` is its mail's. What happened to it
since — a state change, a delegation, a check, a comment — is in the server's event log. A
patch's *activity* is the newest of its mail date and those events (``ACTIVITY``; creation
events are not activity, they only repeat the arrival), and that is its ``updated_at`` as a
change (a ``TrackedPatch`` whose ``updated`` is set).

A window ``[offset, offset + count)`` of the patches ordered by activity (newest first) is
found from two reads, whatever the depth: the first ``N = offset + count`` patches by date
(one list request while ``N`` fits a page), and ONE read of the events since the N-th one's
date (every page of it). Why that is enough: every listed patch's activity is at least its
date, so at least N patches have activity ≥ that boundary; a patch outside the first N by
date can only rank among the top N through an event at or after the boundary, and such a
patch is then in the events read (*promoted*: one detail read each — only old patches with
recent activity cost one). Ties are broken as the list breaks them (date, then id), so
windows of one walk are prefixes of one order and the merge returns every patch once.

Oldest first has no such bound (a patch's activity only grows): the filtered list is read
whole with the events since its oldest patch. ``updatedSince`` bounds both reads.

The same events tell which patches the server calls ``pending`` have no checks at all: their
``check_state`` becomes ``None`` (the server's word stays in ``raw['check']``), for the
patches whose whole life the read covers (mailed since its start). A promoted patch, or one
listed older than an ``updatedSince`` bound, may have checks older than the read: whether
the page's such "pending" patches have any is asked of the presence read
(``presence.patches_with_checks``: one read for all of them), never guessed. A server that
answers the events read with 404 (no event log) is listed by mail date, its words as sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from functools import partial
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from adapters.base import ChangeFilter, PatchFilter
from adapters.errors import NotFound
from adapters.fastrecord import builder
from adapters.model import CheckState, Page, PageRequest, Patch, TrackedPatch
from adapters.patchwork import mapping
from adapters.patchwork_common import format_server_date

if TYPE_CHECKING:
    from adapters.patchwork.source import PatchworkSource

# Event categories that are something happening to a patch after it arrived.
ACTIVITY = frozenset(
    {
        "patch-state-changed",
        "patch-delegated",
        "check-created",
        "patch-comment-created",
        "patch-relation-changed",
    }
)
# A mail's Date can run ahead of its arrival (a sender's clock): events are read from this
# much before the boundary, so a check made right after such a mail is still seen.
SLACK = timedelta(hours=1)
_PATCH_FIELDS = tuple(f.name for f in fields(Patch))
_patch_values = attrgetter(*_PATCH_FIELDS)
_CHECK_STATE = _PATCH_FIELDS.index("check_state")
_tracked: Callable[..., TrackedPatch] = builder(TrackedPatch)  # fastrecord: no frozen __init__


@dataclass
class Activity:
    """What one events read tells about patches: newest activity, and who has checks."""

    latest: dict[str, datetime] = field(default_factory=dict)
    checked: set[str] = field(default_factory=set)
    known: bool = True  # False: the server has no event log (its words are kept as sent)
    since: datetime | None = None  # the read covers the checks of patches mailed since

    def of(self, patch: Patch) -> TrackedPatch:
        """``patch`` as a change: ``updated`` its activity, no-checks ``pending`` → None
        where the read covers the patch's whole life."""
        values = _patch_values(patch)  # in declaration order: the builder's positions
        if self.unchecked(patch) and self.covers(patch):
            values = _no_check_state(values)
        latest = self.latest.get(patch.id)
        updated = latest if latest is not None and latest > patch.date else patch.date
        return _tracked(*values, updated)

    def unchecked(self, patch: Patch) -> bool:
        """A "pending" patch that no check-created event of the read names."""
        return (
            self.known and patch.check_state is CheckState.PENDING and patch.id not in self.checked
        )

    def covers(self, patch: Patch) -> bool:
        return self.since is None or patch.date >= self.since

    async def settle(
        self, src: PatchworkSource, window: Sequence[TrackedPatch]
    ) -> tuple[TrackedPatch, ...]:
        """``window`` with the "pending" patches the read does not cover asked about (one
        presence read for all of them): those without any check → None."""
        unsure = [p for p in window if self.unchecked(p) and not self.covers(p)]
        if not unsure:
            return tuple(window)
        found = await src.patches_with_checks(unsure)
        none = {p.id for p, has in zip(unsure, found, strict=True) if not has}
        return tuple(_no_checks(p) if p.id in none else p for p in window)


def _no_checks(patch: TrackedPatch) -> TrackedPatch:
    return _tracked(*_no_check_state(_patch_values(patch)), patch.updated)


def _no_check_state(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """A patch's field values (``_patch_values``) with no check state."""
    return (*values[:_CHECK_STATE], None, *values[_CHECK_STATE + 1 :])


async def read_activity(src: PatchworkSource, since: datetime, project: str | None) -> Activity:
    """Every event since ``since`` (less ``SLACK``), all pages, as patch activity."""
    params: dict[str, Any] = {"since": format_server_date(since - SLACK, src.name)}
    if project:
        params["project"] = project
    found = Activity(since=since)
    try:
        pages = await src.client.all_mapped(
            "events/", params, ("activity", src.name), partial(_marks, src.name)
        )
    except NotFound:  # a server without an event log: mail dates, the server's check words
        return Activity(known=False)
    for page in pages:
        for category, patch_id, date in page:
            if category == "check-created":
                found.checked.add(patch_id)
            known = found.latest.get(patch_id)
            if known is None or date > known:
                found.latest[patch_id] = date
    return found


def _marks(backend: str, items: list[Any]) -> tuple[tuple[str, str, datetime], ...]:
    """One page of events as the activity marks of those with a patch (kept per page by
    the client while the page comes back unchanged)."""
    marks = (mapping.activity_mark(backend, d, ACTIVITY) for d in items)
    return tuple((m[0], m[1], m[2]) for m in marks if m is not None and m[1] is not None)


async def _read_list(
    src: PatchworkSource, pushed: PatchFilter, wanted: int | None
) -> tuple[list[Patch], bool]:
    """The first ``wanted`` patches of the list (``None``: all) and whether more follow; a
    window may come back short of a server's cap, so read on until there are enough."""
    items: list[Patch] = []
    while wanted is None or len(items) < wanted:
        count = 100 if wanted is None else wanted - len(items)
        got = await src.list_patches(pushed, PageRequest(len(items), count))
        items += got.items
        if not got.has_next or not got.items:
            return items, False
    return items, True


def _number(p: Patch) -> int:
    return int(p.id) if p.id.isdigit() else 0


def _key(p: TrackedPatch) -> tuple[datetime, datetime, int]:
    """Sorted descending: newest activity first, then the list's own order (date desc, id
    asc)."""
    return (p.updated_at, p.date, -_number(p))


def _ascending_key(p: TrackedPatch) -> tuple[datetime, datetime, int]:
    """Oldest activity first, then the ascending list's order (date, id)."""
    return (p.updated_at, p.date, _number(p))


def _matches(p: TrackedPatch, flt: ChangeFilter) -> bool:
    """A promoted patch belongs to the stream as the list's pushdown would have kept it."""
    if flt.projects and not ({p.project.id, p.project.link_name} & set(flt.projects)):
        return False
    if flt.states and p.state not in flt.states:
        return False
    if flt.updated_since and p.updated_at < flt.updated_since:
        return False
    if flt.search and flt.search.casefold() not in p.title.casefold():
        return False
    author = p.submitter
    return not (flt.author and "@" in flt.author and (author is None or author.email != flt.author))


async def list_by_activity(
    src: PatchworkSource, flt: ChangeFilter, pushed: PatchFilter, page: PageRequest
) -> Page[TrackedPatch]:
    """The newest-activity-first window ``page`` of the patches ``pushed`` lists."""
    wanted = page.offset + page.count
    items, more = await _read_list(src, pushed, wanted)
    full = len(items) >= wanted and more
    if full:
        boundary = items[-1].date
    elif flt.updated_since is not None:
        boundary = flt.updated_since
    elif items:
        boundary = min(p.date for p in items)
    else:
        return Page(items=(), offset=page.offset, has_next=False)
    activity = await read_activity(src, boundary, pushed.project)
    if full or flt.updated_since is not None:
        changes = await _with_promoted(src, flt, activity, items, boundary)
    else:  # the whole filtered list is here: a patch it lacks cannot match (no detail read)
        changes = [activity.of(p) for p in items]
    ordered = sorted(changes, key=_key, reverse=True)
    window = await activity.settle(src, ordered[page.offset : wanted])
    has_next = len(ordered) > wanted or full
    return Page(items=window, offset=page.offset, has_next=has_next)


async def list_by_activity_ascending(
    src: PatchworkSource, flt: ChangeFilter, pushed: PatchFilter, page: PageRequest
) -> Page[TrackedPatch]:
    """Oldest activity first: the whole filtered list and the events since its oldest."""
    items, _ = await _read_list(src, pushed, None)
    starts = [p.date for p in items]
    if flt.updated_since is not None:
        starts.append(flt.updated_since)
    if not starts:
        return Page(items=(), offset=page.offset, has_next=False)
    activity = await read_activity(src, min(starts), pushed.project)
    # Without updatedSince the list holds every patch; with it, older mails with activity
    # since then are promoted as newest first does.
    bound = flt.updated_since
    ordered = sorted(
        await _with_promoted(src, flt, activity, items, bound)
        if bound
        else map(activity.of, items),
        key=_ascending_key,
    )
    end = page.offset + page.count
    window = await activity.settle(src, ordered[page.offset : end])
    return Page(items=window, offset=page.offset, has_next=end < len(ordered))


async def _with_promoted(
    src: PatchworkSource,
    flt: ChangeFilter,
    activity: Activity,
    listed: Sequence[Patch],
    boundary: datetime,
) -> list[TrackedPatch]:
    """``listed`` as changes, plus the patches the list did not carry whose activity is at
    or after ``boundary`` (one detail read each, concurrently)."""
    changes = {p.id: activity.of(p) for p in listed}
    promoted = [pid for pid, at in activity.latest.items() if pid not in changes and at >= boundary]
    for record in await src.get_patches(promoted) if promoted else ():
        if record is not None:
            change = activity.of(record)
            if _matches(change, flt):
                changes[change.id] = change
    return list(changes.values())
