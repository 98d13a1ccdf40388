"""The event log port, on both implementations: streams, floors, cursors, fenced leases."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from adapters.eventlog import (
    CursorError,
    CursorExpired,
    EventLog,
    Fenced,
    MemoryEventLog,
    RedisEventLog,
    decode_cursor,
    encode_cursor,
    event_from_json,
    event_to_json,
)
from adapters.model import Event, Person, Project
from tests.redis_server import RedisServer


def event(n: int, backend: str = "pw") -> Event:
    return Event(
        backend=backend,
        id=str(n),
        category="patch-state-changed",
        date=datetime(2026, 1, 1, tzinfo=UTC),
        project=Project(backend, "1", "Linux", "linux", web_url="https://x/p"),
        actor=Person(backend, "u1", "Ann", "ann@example.com", "ann"),
        patch_id=str(n),
        previous_state="new",
        current_state="accepted",
    )


@pytest.fixture(params=["memory", "redis"])
async def make_log(
    request: pytest.FixtureRequest,
) -> AsyncIterator[type[object]]:
    """A factory of logs sharing one store (one Redis prefix per test)."""
    prefix = f"test:{uuid.uuid4().hex}:"
    made: list[EventLog] = []
    memory = MemoryEventLog(max_events=5, max_age=3600)

    def factory(max_events: int = 5) -> EventLog:
        if request.param == "memory":
            memory.max_events = max_events
            return memory
        server: RedisServer = request.getfixturevalue("redis_server")
        client = aioredis.Redis.from_url(server.url)
        log = RedisEventLog(client, max_events=max_events, max_age=3600, prefix=prefix)
        made.append(log)
        return log

    yield factory  # type: ignore[misc]
    for log in made:
        await log.close()


async def test_append_read_and_resume(make_log: type) -> None:
    log: EventLog = make_log()
    assert await log.tail("pw") == "0-0"
    fence = await log.acquire("pw", "a", 10)
    assert fence is not None
    ids = await log.append(fence, [event(1), event(2), event(3)], b"state-1")
    assert await log.state("pw") == b"state-1"
    assert await log.tail("pw") == ids[-1]
    assert len(set(ids)) == 3
    got = await log.read("pw", "0-0", 10, 0)
    assert [e.event.id for e in got] == ["1", "2", "3"] and [e.id for e in got] == ids
    assert [e.event.id for e in await log.read("pw", ids[0], 10, 0)] == ["2", "3"]
    assert await log.read("pw", ids[-1], 10, 0) == []
    assert [e.event.id for e in await log.read("pw", "0-0", 2, 0)] == ["1", "2"]
    await log.check("pw", "0-0")  # nothing trimmed yet: the whole stream is resumable


async def test_blocking_read_wakes_on_append(make_log: type) -> None:
    log: EventLog = make_log()
    fence = await log.acquire("pw", "a", 10)
    assert fence is not None
    reader = asyncio.create_task(log.read("pw", "0-0", 10, 5.0))
    await asyncio.sleep(0.1)
    await log.append(fence, [event(7)], b"s")
    got = await asyncio.wait_for(reader, 5)
    assert [e.event.id for e in got] == ["7"]


async def test_trimming_raises_the_floor(make_log: type) -> None:
    log: EventLog = make_log(max_events=3)
    fence = await log.acquire("pw", "a", 10)
    assert fence is not None
    ids = await log.append(fence, [event(n) for n in range(5)], b"s")
    assert [e.event.id for e in await log.read("pw", "0-0", 10, 0)] == ["2", "3", "4"]
    await log.check("pw", ids[1])  # the last trimmed entry: the next ones are all there
    await log.check("pw", ids[4])
    for lost in ("0-0", ids[0]):
        with pytest.raises(CursorExpired) as info:
            await log.check("pw", lost)
        assert info.value.backend == "pw"
    with pytest.raises(CursorError):  # ahead of the stream: not issued here
        await log.check("pw", "99999999999999-0")


async def test_a_gap_expires_older_positions(make_log: type) -> None:
    log: EventLog = make_log(max_events=100)
    fence = await log.acquire("pw", "a", 10)
    assert fence is not None
    ids = await log.append(fence, [event(1), event(2)], b"s")
    await log.append(fence, [], b"baseline", gap=True)
    await log.check("pw", ids[1])
    with pytest.raises(CursorExpired):
        await log.check("pw", ids[0])


async def test_one_lease_holder_and_a_stale_one_cannot_publish(make_log: type) -> None:
    one, two = make_log(), make_log()
    first = await one.acquire("pw", "replica-1", 0.2)
    assert first is not None
    assert await two.acquire("pw", "replica-2", 0.2) is None  # held
    assert await one.renew(first, 0.2)
    await asyncio.sleep(0.3)  # replica-1 stalls past its lease
    second = await two.acquire("pw", "replica-2", 10)
    assert second is not None and second.token > first.token
    assert not await one.renew(first, 10)
    before = await two.read("pw", "0-0", 10, 0)
    with pytest.raises(Fenced):
        await one.append(first, [event(1)], b"stale")
    assert await two.read("pw", "0-0", 10, 0) == before  # nothing published
    assert await two.state("pw") is None  # nor the poller state moved
    await two.append(second, [event(2)], b"fresh")
    assert [e.event.id for e in await one.read("pw", "0-0", 10, 0)] == ["2"]
    await one.release(first)  # not its lease any more: no effect
    assert await one.acquire("pw", "replica-1", 10) is None
    await two.release(second)
    assert await one.acquire("pw", "replica-1", 10) is not None


async def test_epoch_is_shared_by_the_store(make_log: type) -> None:
    one, two = make_log(), make_log()
    assert await one.epoch() == await two.epoch()


def test_event_payload_round_trip_without_raw() -> None:
    original = event(5)
    copy = event_from_json(event_to_json(original))
    assert copy == original and copy.project == original.project
    assert copy.actor is not None and copy.actor.username == "ann"


def test_cursor_round_trip() -> None:
    cursor = encode_cursor("0123456789abcdef", {"pw": "17-2", "gerrit": "0-0"})
    assert cursor == "ev1.0123456789abcdef.gerrit=0-0.pw=17-2"
    assert decode_cursor(cursor) == ("0123456789abcdef", {"pw": "17-2", "gerrit": "0-0"})
    assert "\n" not in cursor and cursor.isascii()  # usable as an SSE event id


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "ev1",
        "ev2.0123456789abcdef.pw=1-0",
        "ev1.0123456789ABCDEF.pw=1-0",
        "ev1.0123456789abcdef.pw=1",
        "ev1.0123456789abcdef.pw=01-0",
        "ev1.0123456789abcdef.pw=1-0.pw=2-0",
        "ev1.0123456789abcdef.PW=1-0",
        "ev1.0123456789abcdef.pw=1-0.",
        "ev1.0123456789abcdef.pw=99999999999999999-0",
        "ev1.0123456789abcdef.p\nw=1-0",
        "ev1.0123456789abcdef.pw=١-0",
        "ev1.0123456789abcdef." + "a=1-0." * 1000,
    ],
)
def test_malformed_cursors_are_refused(bad: str) -> None:
    with pytest.raises(CursorError):
        decode_cursor(bad)
