"""Live feeds resume by cursor, and one poller per backend across replicas (issue 23).

The backend is a fake event reader (deterministic, counts its polls); the replicas are
``EventHub``s sharing one event log — in process, or one real Redis for several hubs.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from adapters.base import EventFilter
from adapters.eventlog import EventLog, MemoryEventLog, RedisEventLog
from adapters.model import Event, Page, PageRequest
from schema import live
from schema.errors import UserInputError
from schema.live import EventHub, Feed
from tests.redis_server import RedisServer

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class FakeReader:
    """A backend's event log: ``list_events`` since a date (inclusive), newest first."""

    def __init__(self, backend: str = "pw") -> None:
        self.backend = backend
        self.events: list[Event] = []
        self.polls = 0

    def add(self, n: int) -> None:
        # Two events per second: the inclusive ``since`` boundary repeats one each poll.
        self.events.append(
            Event(self.backend, str(n), "patch-created", T0 + timedelta(seconds=n // 2), None, None)
        )

    async def list_events(self, flt: EventFilter, page: PageRequest) -> Page[Event]:
        self.polls += 1
        found = [e for e in self.events if flt.since is None or e.date >= flt.since]
        found.sort(key=lambda e: e.date, reverse=True)
        return Page(tuple(found[: page.count]), 0, False)


async def until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait (bounded) for a condition the background tasks make true."""
    for _ in range(int(seconds / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


async def take(feed: Feed, n: int) -> list[tuple[str, str]]:
    """``n`` entries: (event id, cursor)."""
    got = []
    for _ in range(n):
        entry, cursor = await asyncio.wait_for(feed.next(), 10)
        got.append((entry.event.id, cursor))
    return got


@pytest.fixture
async def redis_logs(redis_server: RedisServer) -> AsyncIterator[Callable[[], EventLog]]:
    prefix = f"test:{uuid.uuid4().hex}:"
    made: list[RedisEventLog] = []

    def factory() -> EventLog:
        client = aioredis.Redis.from_url(redis_server.url, socket_timeout=5)
        made.append(RedisEventLog(client, max_events=1000, max_age=3600, prefix=prefix))
        return made[-1]

    yield factory
    for log in made:
        with contextlib.suppress(Exception):
            await log.close()


async def test_resume_by_cursor_loses_and_repeats_nothing() -> None:
    reader = FakeReader()
    hub = EventHub(0.02, MemoryEventLog())
    try:
        async with hub.subscribe({"pw": reader}) as feed:
            await until(lambda: hub.pollers["pw"].polls >= 1)  # the baseline
            for n in range(6):
                reader.add(n)
            first = await take(feed, 4)
        assert [i for i, _ in first] == ["0", "1", "2", "3"]
        for n in range(6, 9):  # while disconnected
            reader.add(n)
        async with hub.subscribe({"pw": reader}, after=first[-1][1]) as feed:
            rest = await take(feed, 5)
            await asyncio.sleep(0.2)  # more polls: nothing may come twice
            assert feed.queue.empty() and not feed.pending
        assert [i for i, _ in rest] == ["4", "5", "6", "7", "8"]
        # Resuming from an earlier cursor replays exactly what follows it.
        async with hub.subscribe({"pw": reader}, after=first[1][1]) as feed:
            again = await take(feed, 7)
        assert [i for i, _ in again] == ["2", "3", "4", "5", "6", "7", "8"]
    finally:
        await hub.close()


async def test_bad_and_expired_cursors_are_coded_errors() -> None:
    reader = FakeReader()
    log = MemoryEventLog(max_events=2)
    hub = EventHub(0.02, log)
    try:
        async with hub.subscribe({"pw": reader}) as feed:
            await until(lambda: hub.pollers["pw"].polls >= 1)
            reader.add(0)
            [(_, old)] = await take(feed, 1)
            for n in range(1, 5):  # one per poll: the feed reads each before it is trimmed
                reader.add(n)
                await take(feed, 1)
        for bad in ("nonsense", old.replace("pw=", "pw=9"), old + "x", "ev1." + "0" * 16):
            with pytest.raises(UserInputError) as info:
                async with hub.subscribe({"pw": reader}, after=bad):
                    pass
            assert info.value.code in ("BAD_CURSOR", "EVENTS_CURSOR_EXPIRED"), bad
        with pytest.raises(UserInputError) as info:  # trimmed: only 2 are retained
            async with hub.subscribe({"pw": reader}, after=old):
                pass
        assert info.value.code == "EVENTS_CURSOR_EXPIRED"
        assert info.value.extensions == {"backend": "pw"}
        other = EventHub(0.02, MemoryEventLog())  # a restarted process: another epoch
        with pytest.raises(UserInputError) as info:
            async with other.subscribe({"pw": reader}, after=old):
                pass
        assert info.value.code == "EVENTS_CURSOR_EXPIRED"
        await other.close()
    finally:
        await hub.close()


async def test_a_slow_feed_catches_up_from_the_log(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "QUEUE_SIZE", 3)
    reader = FakeReader()
    hub = EventHub(0.02, MemoryEventLog())
    try:
        async with hub.subscribe({"pw": reader}) as feed:
            await until(lambda: hub.pollers["pw"].polls >= 1)
            for n in range(40):
                reader.add(n)
            await until(lambda: feed.lagged)  # the queue overflowed
            got = await take(feed, 40)
        assert [i for i, _ in got] == [str(n) for n in range(40)]
    finally:
        await hub.close()


async def test_one_poller_per_backend_across_replicas(
    redis_logs: Callable[[], EventLog],
) -> None:
    reader = FakeReader()
    lease = 2.0  # comfortably longer than a loaded event loop's stalls
    hubs = [EventHub(0.05, redis_logs(), lease=lease, owner=f"r{i}") for i in range(3)]
    stack = contextlib.AsyncExitStack()
    try:
        feeds = [await stack.enter_async_context(h.subscribe({"pw": reader})) for h in hubs]
        await until(lambda: sum(len(h.leading()) for h in hubs) == 1)
        leader = next(h for h in hubs if h.leading())
        await until(lambda: leader.pollers["pw"].polls >= 1)
        for n in range(4):
            reader.add(n)
        received = [await take(f, 4) for f in feeds]
        assert all([i for i, _ in r] == ["0", "1", "2", "3"] for r in received)
        # Only the leader polled: every poll recorded by the reader is one of its polls.
        assert reader.polls == leader.pollers["pw"].polls
        assert [len(h.leading()) for h in hubs].count(1) == 1

        # The leader dies without handing over (its tasks stop; the lease is not released).
        cursor = received[0][-1][1]
        for task in (leader.pollers["pw"].task, *(t.task for t in leader.tails.values())):
            assert task is not None
            task.cancel()
        lost_at = asyncio.get_running_loop().time()
        reader.add(4)  # while nobody polls
        survivors = [h for h in hubs if h is not leader]
        await until(lambda: any(h.leading() for h in survivors), seconds=5 * lease + 10)
        took_over = asyncio.get_running_loop().time() - lost_at
        # Within a lease period and one retry; generous: the machine is shared and noisy.
        assert took_over <= lease + lease / 5 + 3.0
        assert [len(h.leading()) for h in survivors].count(1) == 1  # exactly one took over
        reader.add(5)
        # Subscribers of the surviving replicas get 4 and 5 once; a client of the dead
        # replica resumes with its cursor on another one.
        for feed in [f for f, h in zip(feeds, hubs, strict=True) if h is not leader]:
            assert [i for i, _ in await take(feed, 2)] == ["4", "5"]
        async with survivors[0].subscribe({"pw": reader}, after=cursor) as resumed:
            assert [i for i, _ in await take(resumed, 2)] == ["4", "5"]
    finally:
        await stack.aclose()
        for hub in hubs:
            await hub.close()


async def test_a_burst_beyond_retention_is_reported_not_skipped() -> None:
    reader = FakeReader()
    hub = EventHub(0.02, MemoryEventLog(max_events=2))
    try:
        async with hub.subscribe({"pw": reader}) as feed:
            await until(lambda: hub.pollers["pw"].polls >= 1)
            for n in range(5):  # one poll appends 5: 3 are trimmed before the tail reads
                reader.add(n)
            with pytest.raises(UserInputError) as info:
                await asyncio.wait_for(feed.next(), 10)
        assert info.value.code == "EVENTS_CURSOR_EXPIRED"
    finally:
        await hub.close()


async def test_event_store_down_is_a_coded_error_without_the_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tests.redis_server import free_port

    url = f"redis://:hunter2-secret@127.0.0.1:{free_port()}/0"
    hub = EventHub(0.02, RedisEventLog.from_url(url, timeout=0.5))
    try:
        with pytest.raises(UserInputError) as info:
            async with hub.subscribe({"pw": FakeReader()}):
                pass
        assert info.value.code == "EVENTS_UNAVAILABLE"
        assert "hunter2" not in info.value.message and "127.0.0.1" not in info.value.message
        assert hub.pollers == {} and hub.tails == {}
    finally:
        await hub.close()
    assert "hunter2" not in caplog.text


class BrokenOnce(FakeReader):
    """A source whose first poll after the baseline fails with a non-upstream bug."""

    async def list_events(self, flt: EventFilter, page: PageRequest) -> Page[Event]:
        if self.polls == 1:
            self.polls += 1
            raise KeyError("unexpected payload")
        return await super().list_events(flt, page)


async def test_a_poller_survives_an_unexpected_error() -> None:
    reader = BrokenOnce()
    hub = EventHub(0.02, MemoryEventLog())
    try:
        async with hub.subscribe({"pw": reader}) as feed:
            await until(lambda: reader.polls >= 3)  # baseline, the failure, a good poll
            reader.add(1)
            assert [i for i, _ in await take(feed, 1)] == ["1"]
    finally:
        await hub.close()
