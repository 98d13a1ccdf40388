"""Live events across replicas (issue 23): polls per interval, latency, memory per event.

``python -m bench.events [--interval S] [--seconds S] [--redis-url URL]``

Replicas are ``EventHub``s in this process sharing one throw-away ``redis-server`` (as N
``revgate serve`` processes do; ``tests/gateway/test_events_cluster.py`` runs real processes
and prints the same poll counts). The backend is a counting event source, so a poll is one
"upstream request" here (Patchwork/Gerrit: 1 request per poll, fdo: 1 per project, ABF: 35).

1. Backend polls per interval for 1 and 3 replicas, each with a live subscriber: with the
   shared log (one lease holder polls) and, for comparison, with per-replica in-process logs
   (what every replica did before: each polls for its own subscribers).
2. Latency from a backend change to a subscriber (3 replicas, a subscriber on each):
   changes at random times; dominated by the poll interval (a change waits for the next poll).
3. Memory per 10,000 retained events: Redis ``used_memory`` growth for one stream, and the
   in-process log's Python allocations (tracemalloc), for Patchwork-like events.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from adapters.base import EventFilter
from adapters.eventlog import EventLog, MemoryEventLog, RedisEventLog
from adapters.model import Event, Page, PageRequest, Person, Project
from bench.cache import redis_url
from schema.live import EventHub, Feed


def sample_event(n: int) -> Event:
    """A Patchwork ``patch-state-changed`` event as the mapping builds it (without ``raw``)."""
    project = Project(
        "patchwork",
        "1",
        "Linux kernel mailing list",
        "linux-kernel",
        web_url="https://patchwork.example.org/project/linux-kernel/",
        list_email="linux-kernel@vger.kernel.org",
        list_id="linux-kernel.vger.kernel.org",
    )
    actor = Person("patchwork", "u12", "Maintainer Name", "maintainer@example.org", "maint")
    return Event(
        "patchwork",
        str(100_000 + n),
        "patch-state-changed",
        datetime(2026, 1, 1, tzinfo=UTC),
        project,
        actor,
        patch_id=str(5_000_000 + n),
        previous_state="new",
        current_state="accepted",
    )


class CountingSource:
    """A backend's event log that counts polls and remembers when each event happened."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.polls = 0
        self.changed_at: dict[str, float] = {}

    def change(self) -> None:
        n = len(self.events)
        event = sample_event(n)
        self.events.append(
            Event(
                event.backend,
                event.id,
                event.category,
                datetime.now(UTC),
                event.project,
                event.actor,
                patch_id=event.patch_id,
            )
        )
        self.changed_at[event.id] = time.monotonic()

    async def list_events(self, flt: EventFilter, page: PageRequest) -> Page[Event]:
        self.polls += 1
        found = [e for e in self.events if flt.since is None or e.date >= flt.since]
        return Page(tuple(reversed(found[-page.count :])), 0, False)


async def _drain(feed: Feed, source: CountingSource, latencies: list[float]) -> None:
    while True:
        entry, _ = await feed.next()
        latencies.append(time.monotonic() - source.changed_at[entry.event.id])


async def polls_per_interval(
    logs: Callable[[], EventLog], replicas: int, interval: float, seconds: float
) -> float:
    source = CountingSource()
    hubs = [EventHub(interval, logs(), lease=5.0) for _ in range(replicas)]
    async with contextlib.AsyncExitStack() as stack:
        for hub in hubs:
            await stack.enter_async_context(hub.subscribe({"patchwork": source}))
        await asyncio.sleep(interval * 2)  # leases taken, baselines polled
        before = source.polls
        await asyncio.sleep(seconds)
        polls = source.polls - before
    for hub in hubs:
        await hub.close()
    return polls / (seconds / interval)


async def latency(
    logs: Callable[[], EventLog], interval: float, changes: int
) -> tuple[float, float, int]:
    source = CountingSource()
    hubs = [EventHub(interval, logs(), lease=5.0) for _ in range(3)]
    latencies: list[float] = []
    rng = random.Random(23)
    async with contextlib.AsyncExitStack() as stack:
        feeds = [await stack.enter_async_context(h.subscribe({"patchwork": source})) for h in hubs]
        tasks = [asyncio.create_task(_drain(f, source, latencies)) for f in feeds]
        await asyncio.sleep(interval * 2)
        for _ in range(changes):
            source.change()
            await asyncio.sleep(rng.uniform(0, interval))
        for _ in range(200):  # the last ones delivered (bounded)
            if len(latencies) >= 3 * changes:
                break
            await asyncio.sleep(interval / 10)
        for task in tasks:
            task.cancel()
    for hub in hubs:
        await hub.close()
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), p99, len(ordered)


async def redis_memory_per_10k(url: str) -> float:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    log = RedisEventLog(client, max_events=20_000, prefix=f"bench:{uuid.uuid4().hex}:")
    fence = await log.acquire("patchwork", "bench", 60)
    assert fence is not None
    await log.append(fence, [sample_event(-1)], b"{}")  # the stream and its keys exist
    before = int((await client.info("memory"))["used_memory"])
    for start in range(0, 10_000, 500):
        await log.append(fence, [sample_event(n) for n in range(start, start + 500)], b"{}")
    after = int((await client.info("memory"))["used_memory"])
    await log.close()
    return (after - before) / 1024 / 1024


async def memory_log_per_10k() -> float:
    log = MemoryEventLog(max_events=20_000)
    fence = await log.acquire("patchwork", "bench", 60)
    assert fence is not None
    events = [sample_event(n) for n in range(10_000)]  # built before: the records exist anyway
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for start in range(0, 10_000, 500):
        await log.append(fence, events[start : start + 500], b"{}")
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / 1024 / 1024


async def run(args: argparse.Namespace) -> None:
    with redis_url(args.redis_url) as url:
        import redis.asyncio as aioredis

        prefix = f"bench:{uuid.uuid4().hex}:"

        def shared() -> EventLog:
            return RedisEventLog(aioredis.Redis.from_url(url), prefix=prefix)

        print(f"interval {args.interval} s, {args.seconds} s per measurement")
        for replicas in (1, 3):
            one = await polls_per_interval(shared, replicas, args.interval, args.seconds)
            own = await polls_per_interval(MemoryEventLog, replicas, args.interval, args.seconds)
            print(
                f"{replicas} replica(s): backend polls per interval {one:.2f} with the shared "
                f"log, {own:.2f} with one log per replica (before)"
            )
        p50, p99, n = await latency(shared, args.interval, args.changes)
        print(
            f"change -> subscriber, 3 replicas, {n} deliveries: p50 {p50 * 1000:.0f} ms, "
            f"p99 {p99 * 1000:.0f} ms"
        )
        print(f"Redis memory per 10k retained events: {await redis_memory_per_10k(url):.2f} MiB")
        print(f"in-process log per 10k retained events: {await memory_log_per_10k():.2f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--redis-url")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
