"""The event log: one append-only stream per backend, a lease per backend, resumable cursors.

Port (``EventLog``) with two implementations: ``MemoryEventLog`` (one process, the default:
``make demo`` needs nothing) and ``RedisEventLog`` (Redis Streams, shared by every replica).

Stream entries
    Each backend has one stream of normalized events (``adapters.model.Event`` without
    ``raw``), entry ids ``<ms>-<seq>`` as Redis makes them (the memory log makes the same).
    The stream is trimmed to ``max_events`` entries and ``max_age`` seconds. The *floor* of a
    stream is the newest id that can no longer be resumed after: the last trimmed entry, or
    the tail when polling restarted after a pause (events were not recorded in between).

Cursors (``encode_cursor``)
    ``ev1.<epoch>.<backend>=<id>.<backend>=<id>…`` — the position in every stream of a
    subscription. ASCII without spaces, so it is usable as an SSE ``id:`` (``Last-Event-ID``)
    as it is. The epoch is chosen when the log is created (Redis: stored once, ``SET NX``),
    so a cursor from a restarted in-process log or a flushed Redis is *expired*, not silently
    resumed at the wrong place. Resuming after an id below the floor is ``CursorExpired``.

Leases and fencing
    ``acquire`` gives a ``Fence`` (token from a per-backend counter, owner id) for ``ttl``
    seconds; ``renew`` extends it only while it is still held. ``append`` checks the fence
    *in the same Lua script* as the ``XADD``s and the poller-state write, so a leader that
    lost its lease (paused, partitioned, slow) cannot publish nor move the poller state:
    ``Fenced``. The poller state (where polling resumes) lives next to the stream, so a new
    leader continues from exactly where the last accepted append stopped.

Where the parts live
    ``adapters.eventlog_port``: the errors, stream ids and cursors, event payloads, ``Entry``,
    ``Fence`` and the ``EventLog`` protocol; ``adapters.eventlog_redis``: ``RedisEventLog``;
    here: ``MemoryEventLog`` and ``open_event_log``. Every name stays importable from here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from adapters.eventlog_port import (
    CURSOR_VERSION,
    MAX_CURSOR,
    ZERO,
    CursorError,
    CursorExpired,
    Entry,
    EventLog,
    EventLogError,
    Fence,
    Fenced,
    _new_epoch,
    decode_cursor,
    encode_cursor,
    event_from_json,
    event_to_json,
    parse_id,
    stop_if_cancelled,
)
from adapters.eventlog_redis import REDIS_PREFIX, RedisEventLog
from adapters.model import Event

log = logging.getLogger("revgate.events")

__all__ = [
    "CURSOR_VERSION",
    "MAX_CURSOR",
    "REDIS_PREFIX",
    "ZERO",
    "CursorError",
    "CursorExpired",
    "Entry",
    "EventLog",
    "EventLogError",
    "Fence",
    "Fenced",
    "MemoryEventLog",
    "RedisEventLog",
    "decode_cursor",
    "encode_cursor",
    "event_from_json",
    "event_to_json",
    "open_event_log",
    "parse_id",
    "stop_if_cancelled",
]


# -- in-process ----------------------------------------------------------------------------


@dataclass
class _Stream:
    entries: deque[tuple[tuple[int, int], str, Event]] = field(default_factory=deque)
    last: tuple[int, int] = (0, 0)
    floor: tuple[int, int] = (0, 0)
    state: bytes | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class MemoryEventLog:
    """The log of one process: same behaviour as Redis, nothing shared."""

    def __init__(
        self, max_events: int = 10_000, max_age: float = 3600.0, clock: Any = time.time
    ) -> None:
        self.max_events = max_events
        self.max_age = max_age
        self._clock = clock
        self._epoch = _new_epoch()
        self._streams: dict[str, _Stream] = {}
        self._leases: dict[str, tuple[str, float]] = {}
        self._tokens: dict[str, int] = {}

    def _stream(self, backend: str) -> _Stream:
        stream = self._streams.get(backend)
        if stream is None:
            stream = self._streams[backend] = _Stream()
        return stream

    async def epoch(self) -> str:
        return self._epoch

    async def tail(self, backend: str) -> str:
        ms, seq = self._stream(backend).last
        return f"{ms}-{seq}"

    async def check(self, backend: str, after: str) -> None:
        stream = self._stream(backend)
        position = parse_id(after)
        if position < stream.floor:
            raise CursorExpired(backend)
        if position > stream.last:
            raise CursorError("cursor is ahead of the stream")

    async def read(self, backend: str, after: str, count: int, block: float) -> list[Entry]:
        stream = self._stream(backend)
        position = parse_id(after)
        if block > 0 and stream.last <= position:
            changed = stream.changed  # replaced (not cleared) by every append
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), block)
        found: list[Entry] = []
        # Readers are near the end: scan back from the newest entry to the position.
        for key, entry_id, event in reversed(stream.entries):
            if key <= position:
                break
            found.append(Entry(backend, entry_id, event))
        found.reverse()
        return found[:count]

    async def state(self, backend: str) -> bytes | None:
        return self._stream(backend).state

    def _holds(self, fence: Fence) -> bool:
        held = self._leases.get(fence.backend)
        return held is not None and held[0] == fence.value and held[1] > time.monotonic()

    async def append(
        self, fence: Fence, events: Sequence[Event], state: bytes, *, gap: bool = False
    ) -> list[str]:
        if not self._holds(fence):
            raise Fenced(fence.backend)
        stream = self._stream(fence.backend)
        ids = []
        for event in events:
            ms = int(self._clock() * 1000)
            last_ms, last_seq = stream.last
            key = (ms, 0) if ms > last_ms else (last_ms, last_seq + 1)
            entry_id = f"{key[0]}-{key[1]}"
            stream.entries.append((key, entry_id, event))
            stream.last = key
            ids.append(entry_id)
        if gap:
            stream.floor = max(stream.floor, stream.last)
        cutoff = (int((self._clock() - self.max_age) * 1000), 0)
        while stream.entries and (
            len(stream.entries) > self.max_events or stream.entries[0][0] < cutoff
        ):
            key, _, _ = stream.entries.popleft()
            stream.floor = max(stream.floor, key)
        stream.state = state
        if events:
            stream.changed.set()
            stream.changed = asyncio.Event()
        return ids

    async def acquire(self, backend: str, owner: str, ttl: float) -> Fence | None:
        held = self._leases.get(backend)
        if held is not None and held[1] > time.monotonic():
            return None
        token = self._tokens[backend] = self._tokens.get(backend, 0) + 1
        fence = Fence(backend, owner, token)
        self._leases[backend] = (fence.value, time.monotonic() + ttl)
        return fence

    async def renew(self, fence: Fence, ttl: float) -> bool:
        if not self._holds(fence):
            return False
        self._leases[fence.backend] = (fence.value, time.monotonic() + ttl)
        return True

    async def release(self, fence: Fence) -> None:
        if self._holds(fence):
            del self._leases[fence.backend]

    async def close(self) -> None:
        pass


def open_event_log(url: str, max_events: int = 10_000, max_age: float = 3600.0) -> EventLog:
    """``memory://`` → ``MemoryEventLog``; ``redis://…`` (``rediss://``, ``unix://``) →
    ``RedisEventLog``."""
    if url.lower() == "memory://":
        return MemoryEventLog(max_events, max_age)
    return RedisEventLog.from_url(url, max_events, max_age)
