"""Event polling over the fdo API's strictly-newer ``since``: nothing lost, nothing repeated.

The simulator pages events two at a time, so pairs of events sharing an ``event_time``
straddle page boundaries; between polls, events arrive *at* the previous poll's newest
timestamp (a second event committed in the same microsecond) and after it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.base import EventFilter
from adapters.http import HttpClient, HttpConfig
from adapters.model import Event, EventCursor
from adapters.patchwork_common import format_date
from adapters.patchwork_fdo import mapping
from adapters.patchwork_fdo.simulator import FdoData, RunningFdoSimulator, start_simulator
from adapters.patchwork_fdo.source import FdoSource, create_source


@pytest.fixture
async def paged() -> AsyncIterator[tuple[FdoSource, RunningFdoSimulator]]:
    sim = await start_simulator(FdoData.generated(12))
    http = HttpClient(HttpConfig(backend="fdo", base_url=sim.url, retries=0))
    source = create_source("fdo", sim.url, http, page_size=2)  # perpage=2: many boundaries
    await source.open()
    try:
        yield source, sim
    finally:
        await source.close()
        await sim.close()


def _add(sim: RunningFdoSimulator, event_time: str, series: int, revision: int) -> dict[str, Any]:
    event = {
        "project": 1,
        "name": "series-new-revision",
        "event_time": event_time,
        "series": series,
        "patch": None,
        "user": None,
        "parameters": {"revision": revision},
    }
    sim.state.data.events.append(event)
    return event


def _all_ids(sim: RunningFdoSimulator) -> list[str]:
    return [mapping.event_id(sim.state.data.render_event(e)) for e in sim.state.data.events]


async def test_poll_three_polls_lose_and_repeat_nothing(
    paged: tuple[FdoSource, RunningFdoSimulator],
) -> None:
    source, sim = paged
    flt = EventFilter(project="intel-gfx")
    delivered: list[Event] = []
    times = [e["event_time"] for e in sim.state.data.events]
    assert len(times) != len(set(times))  # equal timestamps exist in the log already

    # Poll 1: the whole log, 27 events over 14 pages with equal-time pairs split by pages.
    events, cursor = await source.poll_events(flt, None)
    delivered += events
    assert len(events) == 27
    last_time = sim.state.data.events[-1]["event_time"]
    assert cursor.since == mapping.event_time({"event_time": last_time}, "fdo")

    # Between polls: one event in the very microsecond of the cursor, one newer.
    _add(sim, last_time, 2000, 1)
    _add(sim, "2017-01-06T08:00:00.000001", 2001, 1)
    # A naive poller (the API's since = newest seen) misses the event at the boundary.
    naive = await source.client.all_items(
        "projects/1/events/", {"since": format_date(cursor.since)}
    )
    assert [d["series"] for d in naive] == [2001]

    # Poll 2: both new events, and none of poll 1's again.
    events, cursor = await source.poll_events(flt, cursor)
    delivered += events
    assert [e.series_id for e in events] == ["2000", "2001"]

    # Poll 3: two more at the new boundary's microsecond, then nothing new.
    _add(sim, "2017-01-06T08:00:00.000001", 2002, 1)
    _add(sim, "2017-01-06T08:00:00.000001", 2002, 2)
    events, cursor = await source.poll_events(flt, cursor)
    delivered += events
    assert [e.raw["parameters"]["revision"] for e in events] == [1, 2]
    assert len(cursor.seen_at_since) == 3  # all three events sharing that microsecond

    again, same = await source.poll_events(flt, cursor)
    assert again == [] and same == cursor

    ids = [e.id for e in delivered]
    expected = _all_ids(sim)
    lost = set(expected) - set(ids)
    duplicated = len(ids) - len(set(ids))
    print(f"\n3 polls: {len(ids)} events delivered, {len(lost)} lost, {duplicated} duplicated")
    assert (len(lost), duplicated) == (0, 0)
    assert sorted(ids) == sorted(expected)


async def test_poll_from_a_filter_since_and_name(
    paged: tuple[FdoSource, RunningFdoSimulator],
) -> None:
    source, _ = paged
    start = mapping.event_time({"event_time": "2016-02-16T07:22:20.753101"}, "fdo")
    names = ("pull-request-new", "patch-state-change")
    flt = EventFilter(project="1", since=start, categories=names)
    events, cursor = await source.poll_events(flt, None)
    # A first poll's ``since`` is strictly newer, as in the API: 07:22:20.753101 is excluded.
    assert [e.category for e in events] == ["patch-state-change"]
    assert cursor.since is not None and cursor.since > start
    assert (await source.poll_events(flt, cursor))[0] == []
    assert isinstance(cursor, EventCursor)
