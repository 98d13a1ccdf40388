"""The fdo source's event log reads: ``list_events`` and ``poll_events`` (see the module doc of
``adapters/patchwork_fdo/source.py``).

Events are per project and have no id (``mapping.event_id`` derives one); ``since`` is strictly
newer than a microsecond timestamp, so a poll asks from 1 µs before its cursor and drops what
it already delivered at the cursor's timestamp: it loses and repeats nothing. Without a
project, every project's log is read (concurrently) and merged.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Any

from adapters.base import EventFilter
from adapters.errors import NotFound
from adapters.model import Event, EventCursor, Page, PageRequest, Project
from adapters.patchwork_common import format_server_date
from adapters.patchwork_fdo import mapping
from adapters.patchwork_fdo.keys import ONE_MICROSECOND, numeric, window

if TYPE_CHECKING:
    from adapters.patchwork_fdo.source import FdoSource


async def event_scopes(src: FdoSource, flt: EventFilter) -> list[tuple[str, Project]]:
    """The events lists to read: the project's, or (no project) every project's."""
    if flt.project:
        key = await src._project_key(flt.project)
        [proj] = await src.get_projects([flt.project])
        if proj is None:
            raise NotFound(src.name, f"no project {flt.project[:40]!r}")
        return [(f"projects/{key}/events/", proj)]
    table = await src._project_table()
    return [(f"projects/{p.id}/events/", p) for p in table.values()]


async def read_events(
    src: FdoSource, flt: EventFilter, since: datetime | None
) -> list[tuple[datetime, Event]]:
    """Every event matching ``flt`` strictly newer than ``since``, in no set order."""
    params: dict[str, Any] = {}
    if flt.categories:
        params["name"] = ",".join(flt.categories)
    if flt.series:
        params["series"] = numeric(flt.series, src.name)
    if flt.patch:
        params["patch"] = numeric(flt.patch, src.name)
    if since is not None:
        params["since"] = format_server_date(since, src.name)
    scopes = await event_scopes(src, flt)
    lists = await asyncio.gather(*(src.client.all_items(rel, params) for rel, _ in scopes))
    out: list[tuple[datetime, Event]] = []
    for (_, proj), items in zip(scopes, lists, strict=True):
        for d in items:
            out.append((mapping.event_time(d, src.name), mapping.event(src.name, d, proj)))
    return out


async def list_events(src: FdoSource, flt: EventFilter, page: PageRequest) -> Page[Event]:
    """Events newest first: a project's, or every project's merged (no project).

    The API orders nothing and filters by ``since`` only: the list is read whole, sorted
    here, and ``before`` is applied here. Events never concern a cover letter (covers are
    text inside revisions in this fork), so a ``cover`` filter matches none.
    """
    if flt.cover:
        return Page(items=(), offset=page.offset, has_next=False, total=0)

    async def load() -> list[Event]:
        # ``since`` is inclusive here, as on upstream Patchwork: ask from 1 µs earlier.
        since = flt.since - ONE_MICROSECOND if flt.since else None
        found = [ev for _, ev in await read_events(src, flt, since)]
        if flt.before is not None:
            found = [ev for ev in found if ev.date < flt.before]
        found.sort(key=lambda ev: (ev.date, ev.id), reverse=True)
        return found

    return window(await src._snapshot(("events", flt), page.offset, load), page)


async def poll_events(
    src: FdoSource, flt: EventFilter, cursor: EventCursor | None
) -> tuple[list[Event], EventCursor]:
    """Every event after ``cursor``, oldest first, each exactly once (see the module doc)."""
    # A first poll takes ``flt.since`` as the API does (strictly newer); later polls
    # re-read their cursor's microsecond and drop what they already delivered there.
    first = cursor is None
    cursor = cursor or EventCursor(since=flt.since)
    scope = EventFilter(
        project=flt.project, categories=flt.categories, patch=flt.patch, series=flt.series
    )
    since = cursor.since
    if since is not None and not first:
        since -= ONE_MICROSECOND  # ``since`` is strictly newer: see the boundary again
    fresh: list[tuple[datetime, Event]] = []
    delivered: set[str] = set()
    for when, ev in await read_events(src, scope, since):
        if cursor.since is not None and (
            when < cursor.since
            or (when == cursor.since and (first or ev.id in cursor.seen_at_since))
        ):
            continue
        if ev.id in delivered:
            continue  # the same event on two pages (the list moved under us)
        delivered.add(ev.id)
        fresh.append((when, ev))
    fresh.sort(key=lambda pair: pair[0])
    if not fresh:
        return [], cursor
    newest = fresh[-1][0]
    at_newest = {ev.id for when, ev in fresh if when == newest}
    if newest == cursor.since:
        at_newest |= cursor.seen_at_since
    return [ev for _, ev in fresh], EventCursor(since=newest, seen_at_since=frozenset(at_newest))
