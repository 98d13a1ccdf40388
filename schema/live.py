"""Live events: one poller per backend across the cluster, an event log, resumable feeds.

Publishing (``Poller``)
    A replica with *demand* for a backend (a live subscriber on it, or a webhook) contends
    for the backend's lease in the event log (``adapters.eventlog``); the holder polls the
    backend every ``interval`` seconds and appends the new events to the backend's stream.
    The append is fenced: it happens only while the lease is still held, atomically with the
    poller state (where polling resumes), so a stale leader can neither publish nor rewind
    the state, and a new leader continues exactly where the last accepted append stopped.
    The others retry every ``lease / 5`` seconds and take over when the holder dies.

    A poll asks the backend's event source (``EventReader.list_events``) for events since the
    newest date seen; ``since`` is inclusive, so events at the boundary date come back and are
    de-duplicated by id. A backend implementing ``EventPoller`` is polled through it instead,
    from the cursor it returned last (fdo: strictly-newer ``since`` and equal timestamps).
    When nobody has polled a backend for ``stale_after`` seconds (no demand anywhere), the
    first poll only takes a baseline and marks a gap: events of the pause were not recorded,
    so cursors from before it are expired rather than silently incomplete. A backend that
    fails a poll is retried on the next tick; subscribers are not disconnected for it.

Reading (``Tail``, ``Feed``)
    Each replica reads each stream its subscribers need once (``Tail``) and fans the entries
    out to its feeds. A feed starts at a cursor (or at the streams' ends), first catches up
    from the log, then takes the fan-out, skipping what it already delivered: per backend,
    entry ids only grow, so nothing is lost or repeated. A feed too slow for its queue is not
    dropped events: it catches up from the log again (within retention).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import secrets
import time
from collections import Counter as CounterDict
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from adapters import base
from adapters.base import EventFilter, EventPoller, EventReader
from adapters.errors import UpstreamError
from adapters.eventlog import (
    CursorError,
    CursorExpired,
    Entry,
    EventLog,
    EventLogError,
    Fence,
    Fenced,
    MemoryEventLog,
    decode_cursor,
    encode_cursor,
    parse_id,
    stop_if_cancelled,
)
from adapters.model import Event, EventCursor, PageRequest
from schema.errors import UserInputError

log = logging.getLogger("revgate.live")

POLL_PAGE = 100
SEEN_IDS = 2000  # ids remembered per backend for de-duplication
SAVED_IDS = 500  # of which kept in the shared poller state (a poll returns at most 100)
QUEUE_SIZE = 1000  # entries a feed may fall behind before it re-reads from the log
READ_BATCH = 500
TAIL_BLOCK = 1.0  # seconds a tail's blocking read waits (shutdown notices it within that)
RETRY = 1.0  # seconds before a tail retries after the log failed

Readers = Callable[[], Mapping[str, EventReader]]


@dataclass(eq=False)
class Poller:
    """Polls one backend while it holds the backend's lease; publishes to the event log."""

    name: str
    reader: EventReader
    interval: float
    subscribers: set[object] = field(default_factory=set)  # local demand (feeds, webhooks)
    task: asyncio.Task[None] | None = None
    since: datetime | None = None
    seen: deque[str] = field(default_factory=lambda: deque(maxlen=SEEN_IDS))
    polls: int = 0
    cursor: EventCursor | None = None
    fence: Fence | None = None
    published: int = 0

    async def _poll(self) -> list[Event]:
        if isinstance(self.reader, EventPoller):
            # A backend with its own loss-free polling (fdo: strictly-newer ``since`` and
            # equal timestamps) keeps its cursor; ids are still de-duplicated.
            events, self.cursor = await self.reader.poll_events(EventFilter(), self.cursor)
            self.polls += 1
            fresh = [e for e in events if e.id not in self.seen]
            self.seen.extend(e.id for e in fresh)
            return fresh
        page = await self.reader.list_events(
            EventFilter(since=self.since), PageRequest(0, POLL_PAGE)
        )
        self.polls += 1
        fresh = [e for e in page.items if e.id not in self.seen]
        fresh.sort(key=lambda e: (e.date, e.id))
        for event in fresh:
            self.seen.append(event.id)
            if self.since is None or event.date > self.since:
                self.since = event.date
        return fresh

    def dump_state(self) -> bytes:
        """Where polling resumes, for whichever replica polls next."""
        cursor = None
        if self.cursor is not None:
            since = self.cursor.since.isoformat() if self.cursor.since else None
            cursor = {"since": since, "seen": sorted(self.cursor.seen_at_since)}
        return orjson.dumps(
            {
                "at": time.time(),
                "since": self.since.isoformat() if self.since else None,
                "seen": list(self.seen)[-SAVED_IDS:],
                "cursor": cursor,
            }
        )

    def load_state(self, data: bytes | None, stale_after: float) -> bool:
        """Resume from a stored state; ``False`` (nothing loaded) when there is none, it is
        unreadable or older than ``stale_after`` seconds."""
        try:
            doc = orjson.loads(data) if data else None
            if not isinstance(doc, dict) or time.time() - float(doc["at"]) > stale_after:
                return False
            since = datetime.fromisoformat(doc["since"]) if doc["since"] else None
            seen = [str(i) for i in doc["seen"]]
            cursor = None
            if (c := doc["cursor"]) is not None:
                at = datetime.fromisoformat(c["since"]) if c["since"] else None
                cursor = EventCursor(at, frozenset(str(i) for i in c["seen"]))
        except (ValueError, KeyError, TypeError):
            log.warning("event poller state of %s unreadable: taking a new baseline", self.name)
            return False
        self.since, self.cursor = since, cursor
        self.seen.clear()
        self.seen.extend(seen)
        return True


@dataclass(eq=False)
class Feed:
    """One subscriber's resumable position in every stream it reads."""

    epoch: str
    positions: dict[str, str]
    log: EventLog
    queue: asyncio.Queue[Entry | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    pending: deque[Entry] = field(default_factory=deque)
    lagged: bool = False

    def resync(self) -> None:
        """Re-read from the log (waking ``next`` if it waits: ``None`` is a wake-up)."""
        self.lagged = True
        if not self.queue.full():
            self.queue.put_nowait(None)

    def push(self, entry: Entry) -> None:
        if self.lagged:
            return
        if self.queue.full():
            self.lagged = True  # re-read from the log instead of losing entries
            return
        self.queue.put_nowait(entry)

    async def catch_up(self) -> None:
        """Everything after the positions, from the log, oldest first across backends."""
        found: list[Entry] = []
        for backend, position in self.positions.items():
            try:
                await self.log.check(backend, position)
            except CursorExpired as exc:  # fell behind by more than the retention
                raise _expired(exc.backend) from None
            while True:
                batch = await self.log.read(backend, position, READ_BATCH, 0)
                found += batch
                if len(batch) < READ_BATCH:
                    break
                position = batch[-1].id
        found.sort(key=lambda e: parse_id(e.id))
        self.pending.extend(found)

    async def next(self) -> tuple[Entry, str]:
        """The next entry not delivered yet and the cursor that resumes right after it."""
        while True:
            if self.lagged and not self.pending:
                while not self.queue.empty():
                    self.queue.get_nowait()
                self.lagged = False
                await self.catch_up()
            entry = self.pending.popleft() if self.pending else await self.queue.get()
            if entry is None:
                continue
            current = self.positions.get(entry.backend)
            if current is None or parse_id(entry.id) <= parse_id(current):
                continue
            self.positions[entry.backend] = entry.id
            return entry, encode_cursor(self.epoch, self.positions)


@dataclass(eq=False)
class Tail:
    """One replica's reader of one backend's stream, fanning entries out to feeds."""

    backend: str
    position: str
    feeds: set[Feed] = field(default_factory=set)
    task: asyncio.Task[None] | None = None

    async def run(self, log_: EventLog) -> None:
        while True:
            stop_if_cancelled()
            before = self.position
            try:
                entries = await log_.read(self.backend, before, READ_BATCH, TAIL_BLOCK)
                if entries:
                    # More than the retention appended between two reads (a burst) trims
                    # entries before they are read: the feeds must not skip them silently.
                    await log_.check(self.backend, before)
            except CursorExpired:
                for feed in self.feeds:
                    feed.resync()  # its catch-up reports EVENTS_CURSOR_EXPIRED
            except EventLogError as exc:
                log.warning("reading the event stream of %s failed: %s", self.backend, exc)
                await asyncio.sleep(RETRY)
                continue
            except Exception as exc:  # a bug must not stop every feed of this replica
                log.error("event stream of %s: %s", self.backend, type(exc).__name__)
                await asyncio.sleep(RETRY)
                continue
            for entry in entries:
                self.position = entry.id
                for feed in self.feeds:
                    feed.push(entry)


def event_readers(sources: Mapping[str, object]) -> dict[str, EventReader]:
    """The sources that have an event log."""
    found: dict[str, EventReader] = {}
    for name, source in sources.items():
        if base.provides(source, base.EventReader):
            found[name] = source
    return found


class EventHub:
    """Pollers (one per backend in the cluster), tails and feeds of one replica."""

    def __init__(
        self,
        interval: float = 30.0,
        event_log: EventLog | None = None,
        *,
        lease: float = 15.0,
        readers: Readers | None = None,
        owner: str | None = None,
    ) -> None:
        self.interval = interval
        self.log: EventLog = event_log if event_log is not None else MemoryEventLog()
        self.lease = lease
        self.owner = owner or secrets.token_hex(6)  # this process, for the lease value
        self._readers = readers
        self.pollers: dict[str, Poller] = {}
        self.tails: dict[str, Tail] = {}
        # Per backend, for /metrics (they outlive pollers, which stop with their demand).
        self.polls: CounterDict[str] = CounterDict()
        self.published: CounterDict[str] = CounterDict()
        self.fenced: CounterDict[str] = CounterDict()
        # Polling resumes from the stored state unless nobody polled for this long.
        self.stale_after = 2 * lease + 3 * interval

    def event_readers(self) -> dict[str, EventReader]:
        """The configured backends with events (empty without a ``readers`` provider)."""
        return dict(self._readers()) if self._readers is not None else {}

    def running(self) -> list[str]:
        """Backends this replica contends for (a running poller task; tests and metrics)."""
        return [n for n, p in self.pollers.items() if p.task and not p.task.done()]

    def feeds(self) -> int:
        """Live feeds (subscriptions) on this replica."""
        return len(set().union(*(t.feeds for t in self.tails.values())))

    def leading(self) -> list[str]:
        """Backends whose lease this replica holds (it polls them)."""
        return [n for n, p in self.pollers.items() if p.fence is not None]

    # -- demand and pollers ---------------------------------------------------------------

    def hold(self, readers: Mapping[str, EventReader], holder: object) -> list[Poller]:
        """Demand for ``readers``' backends by ``holder`` (a feed or a webhook worker):
        their pollers run (contending for the lease) until ``release``."""
        joined = []
        for name, reader in readers.items():
            poller = self.pollers.get(name)
            if poller is None:
                poller = self.pollers[name] = Poller(name, reader, self.interval)
            poller.subscribers.add(holder)
            if poller.task is None or poller.task.done():
                # A fresh context: the poller outlives the subscription that started it and
                # must not log with its request id nor parent its upstream spans under it.
                poller.task = asyncio.create_task(
                    self._run(poller), name=f"poll-{name}", context=contextvars.Context()
                )
            joined.append(poller)
        return joined

    async def release(self, pollers: Sequence[Poller], holder: object) -> None:
        for poller in pollers:
            poller.subscribers.discard(holder)
            if not poller.subscribers and poller.task is not None:
                await self._stop(poller)
                if self.pollers.get(poller.name) is poller:
                    del self.pollers[poller.name]

    async def _stop(self, poller: Poller) -> None:
        if poller.task is not None:
            poller.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller.task
            poller.task = None
        if poller.fence is not None:
            # Hand over at once rather than after the lease runs out.
            with contextlib.suppress(EventLogError):
                await self.log.release(poller.fence)
            poller.fence = None

    async def _run(self, poller: Poller) -> None:
        """Contend for the lease; poll and publish while holding it."""
        due = 0.0
        while True:
            stop_if_cancelled()
            try:
                if poller.fence is None:
                    poller.fence = await self.log.acquire(poller.name, self.owner, self.lease)
                    if poller.fence is not None:
                        log.info("polling %s (lease %d)", poller.name, poller.fence.token)
                elif not await self.log.renew(poller.fence, self.lease):
                    log.warning("lost the lease of %s: another replica polls it", poller.name)
                    poller.fence = None
                if poller.fence is not None and time.monotonic() >= due:
                    due = time.monotonic() + self.interval
                    await self._publish(poller, poller.fence)
            except Fenced:
                log.warning("lease of %s lost before publishing: poll discarded", poller.name)
                self.fenced[poller.name] += 1
                poller.fence = None
            except EventLogError as exc:
                log.warning("event log: %s", exc)
            except Exception as exc:  # a mapping bug must not stop polling for good
                log.error("event poll of %s failed: %s", poller.name, type(exc).__name__)
            if poller.fence is None:
                await asyncio.sleep(self.lease / 5)
            else:
                wait = min(max(due - time.monotonic(), 0.0), self.lease / 3)
                await asyncio.sleep(wait)

    async def _publish(self, poller: Poller, fence: Fence) -> None:
        if self._readers is not None and (reader := self._readers().get(poller.name)):
            poller.reader = reader  # the current generation's source (SIGHUP reload)
        resumed = poller.load_state(await self.log.state(poller.name), self.stale_after)
        try:
            events = await poller._poll()
        except UpstreamError as exc:
            log.warning("event poll of %s failed: %s", poller.name, exc)
            return
        finally:
            self.polls[poller.name] += 1
        if resumed:
            await self.log.append(fence, events, poller.dump_state())
            poller.published += len(events)
            self.published[poller.name] += len(events)
        else:  # a baseline: what happened before it was not recorded
            await self.log.append(fence, [], poller.dump_state(), gap=True)

    # -- feeds ----------------------------------------------------------------------------

    async def _start_positions(self, names: Sequence[str], after: str | None) -> Feed:
        epoch = await self.log.epoch()
        given: dict[str, str] = {}
        if after is not None:
            try:
                cursor_epoch, given = decode_cursor(after)
            except CursorError:
                raise UserInputError(
                    "after: not an event cursor issued by this server", "BAD_CURSOR"
                ) from None
            if cursor_epoch != epoch:
                raise _expired(None)
        positions = {}
        for name in names:
            if name in given:
                try:
                    await self.log.check(name, given[name])
                except CursorExpired as exc:
                    raise _expired(exc.backend) from None
                except CursorError:
                    raise UserInputError(
                        "after: not an event cursor issued by this server", "BAD_CURSOR"
                    ) from None
                positions[name] = given[name]
            else:  # a backend new to this client: from now on
                positions[name] = await self.log.tail(name)
        return Feed(epoch, positions, self.log)

    async def _tail(self, name: str) -> Tail:
        tail = self.tails.get(name)
        if tail is None:
            # The position is read before any feed joins: a feed catches up to at least it.
            tail = Tail(name, await self.log.tail(name))
            if (raced := self.tails.get(name)) is not None:
                return raced
            self.tails[name] = tail
            tail.task = asyncio.create_task(
                tail.run(self.log), name=f"tail-{name}", context=contextvars.Context()
            )
        return tail

    @contextlib.asynccontextmanager
    async def subscribe(
        self, readers: Mapping[str, EventReader], after: str | None = None
    ) -> AsyncIterator[Feed]:
        """A feed of ``readers``' backends from ``after`` (a cursor; default: now).
        ``UserInputError`` (BAD_CURSOR, EVENTS_CURSOR_EXPIRED, EVENTS_UNAVAILABLE) before any
        entry when it cannot start."""
        joined: list[Poller] = []
        feed: Feed | None = None
        try:
            try:
                feed = await self._start_positions(list(readers), after)
                joined = self.hold(readers, feed)
                for name in readers:
                    (await self._tail(name)).feeds.add(feed)
                await feed.catch_up()
            except EventLogError as exc:
                log.warning("live events unavailable: %s", exc)
                raise UserInputError(
                    "live events are unavailable right now (the event store does not answer); "
                    "retry later",
                    "EVENTS_UNAVAILABLE",
                ) from None
            yield feed
        finally:
            if feed is not None:
                await self._leave(feed)
            await self.release(joined, feed)

    async def _leave(self, feed: Feed) -> None:
        for name, tail in list(self.tails.items()):
            tail.feeds.discard(feed)
            if not tail.feeds and self.tails.get(name) is tail:
                del self.tails[name]
                if tail.task is not None:
                    tail.task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await tail.task

    async def close(self) -> None:
        """Stop every poller and tail (app shutdown), handing leases over."""
        for poller in list(self.pollers.values()):
            await self._stop(poller)
        self.pollers.clear()
        for tail in list(self.tails.values()):
            if tail.task is not None:
                tail.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await tail.task
        self.tails.clear()
        await self.log.close()


def _expired(backend: str | None) -> UserInputError:
    where = f" of backend {backend!r}" if backend else ""
    return UserInputError(
        f"after: this cursor is older than the retained events{where}; list what you missed "
        "with the events query (filter: {since: …}) and subscribe again without after",
        "EVENTS_CURSOR_EXPIRED",
        **({"backend": backend} if backend else {}),
    )
