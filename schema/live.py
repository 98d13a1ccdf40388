"""Live events: one poller per backend, shared by every subscriber, stopped with the last one.

A poller asks its backend's event source (``EventReader.list_events``) for events since the
newest date it has seen, every ``interval`` seconds. The first poll only sets the baseline
(a subscription starts *now*). Events are de-duplicated by id — ``since`` is inclusive, so
the events at the boundary date come back on the next poll — and delivered oldest first to
every subscriber's queue. A backend that fails a poll is retried on the next tick; the
subscribers are not disconnected for it. A backend implementing ``EventPoller`` is polled
through it instead, from the cursor it returned last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from adapters.base import EventFilter, EventPoller, EventReader
from adapters.errors import UpstreamError
from adapters.model import Event, EventCursor, PageRequest

log = logging.getLogger("revgate.live")

POLL_PAGE = 100
SEEN_IDS = 2000  # ids remembered per backend for de-duplication
QUEUE_SIZE = 1000  # events a slow subscriber may fall behind before losing the oldest


@dataclass(eq=False)
class Poller:
    """Polls one backend and fans its new events out to subscriber queues."""

    name: str
    reader: EventReader
    interval: float
    subscribers: set[asyncio.Queue[Event]] = field(default_factory=set)
    task: asyncio.Task[None] | None = None
    since: datetime | None = None
    seen: deque[str] = field(default_factory=lambda: deque(maxlen=SEEN_IDS))
    polls: int = 0

    cursor: EventCursor | None = None

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

    async def run(self) -> None:
        """Poll until cancelled."""
        baseline = True
        while True:
            try:
                events = await self._poll()
            except UpstreamError as exc:
                log.warning("event poll of %s failed: %s", self.name, exc)
            else:
                if not baseline:
                    for event in events:
                        for queue in self.subscribers:
                            if queue.full():
                                queue.get_nowait()  # drop the oldest for a subscriber too slow
                            queue.put_nowait(event)
                baseline = False
            await asyncio.sleep(self.interval)


class EventHub:
    """Starts a backend's poller with its first subscriber and stops it with its last."""

    def __init__(self, interval: float = 30.0) -> None:
        self.interval = interval
        self.pollers: dict[str, Poller] = {}

    def running(self) -> list[str]:
        """Backends whose poller is running (for tests and metrics)."""
        return [n for n, p in self.pollers.items() if p.task and not p.task.done()]

    @contextlib.asynccontextmanager
    async def subscribe(
        self, readers: Mapping[str, EventReader]
    ) -> AsyncIterator[asyncio.Queue[Event]]:
        """A queue receiving the new events of ``readers`` until the block exits."""
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        joined: list[Poller] = []
        try:
            for name, reader in readers.items():
                poller = self.pollers.get(name)
                if poller is None or poller.reader is not reader:
                    poller = Poller(name, reader, self.interval)
                    self.pollers[name] = poller
                poller.subscribers.add(queue)
                if poller.task is None or poller.task.done():
                    poller.task = asyncio.create_task(poller.run(), name=f"poll-{name}")
                joined.append(poller)
            yield queue
        finally:
            await self._leave(joined, queue)

    async def _leave(self, pollers: Sequence[Poller], queue: asyncio.Queue[Event]) -> None:
        for poller in pollers:
            poller.subscribers.discard(queue)
            if not poller.subscribers and poller.task is not None:
                poller.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poller.task
                poller.task = None
                if self.pollers.get(poller.name) is poller:
                    del self.pollers[poller.name]

    async def close(self) -> None:
        """Stop every poller (app shutdown)."""
        for poller in list(self.pollers.values()):
            if poller.task is not None:
                poller.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poller.task
        self.pollers.clear()
