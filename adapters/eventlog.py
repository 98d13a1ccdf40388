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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import orjson

from adapters.model import Event, Person, Project

log = logging.getLogger("revgate.events")

__all__ = [
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
    "stop_if_cancelled",
]

CURSOR_VERSION = "ev1"
ZERO = "0-0"
_ID_RE = re.compile(r"(0|[1-9][0-9]{0,15})-(0|[1-9][0-9]{0,15})")
_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")
_EPOCH_RE = re.compile(r"[0-9a-f]{16}")
MAX_CURSOR = 4096  # characters; a subscription names at most every configured backend


class EventLogError(Exception):
    """The log's store failed (Redis down): the message never holds the URL."""


class Fenced(EventLogError):
    """This process no longer holds the backend's lease: it must not publish."""


class CursorError(ValueError):
    """A cursor this server did not issue (malformed, or ahead of every stream)."""


class CursorExpired(Exception):
    """A cursor older than what is retained for ``backend`` (or from another epoch)."""

    def __init__(self, backend: str | None) -> None:
        super().__init__(backend)
        self.backend = backend


def stop_if_cancelled() -> None:
    """Raise ``CancelledError`` when the current task is being cancelled.

    Libraries (redis-py, aiohttp) may turn a cancellation that lands mid-call into their own
    error; a loop that catches errors to keep going would then never stop. Long-running loops
    call this after catching anything, and at the top of each round.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def parse_id(value: str) -> tuple[int, int]:
    """``"<ms>-<seq>"`` as a comparable pair; ``ValueError`` for anything else."""
    match = _ID_RE.fullmatch(value)
    if match is None:
        raise ValueError("not a stream id")
    return int(match[1]), int(match[2])


def encode_cursor(epoch: str, positions: Mapping[str, str]) -> str:
    """The resumable position of a subscription (see the module docstring)."""
    parts = [f"{name}={positions[name]}" for name in sorted(positions)]
    return ".".join([CURSOR_VERSION, epoch, *parts])


def decode_cursor(cursor: str) -> tuple[str, dict[str, str]]:
    """``(epoch, {backend: id})``; ``CursorError`` for anything not made by ``encode_cursor``."""
    if len(cursor) > MAX_CURSOR:
        raise CursorError("cursor too long")
    version, _, rest = cursor.partition(".")
    epoch, _, rest = rest.partition(".")
    if version != CURSOR_VERSION or not _EPOCH_RE.fullmatch(epoch):
        raise CursorError("not an event cursor")
    positions: dict[str, str] = {}
    for part in rest.split(".") if rest else ():
        name, eq, entry = part.partition("=")
        if not eq or not _NAME_RE.fullmatch(name) or name in positions:
            raise CursorError("not an event cursor")
        try:
            parse_id(entry)
        except ValueError:
            raise CursorError("not an event cursor") from None
        positions[name] = entry
    return epoch, positions


# -- events as stream payloads ------------------------------------------------------------


def _person(p: Person | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {"backend": p.backend, "id": p.id, "name": p.name, "email": p.email, "u": p.username}


def _project(p: Project | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "backend": p.backend,
        "id": p.id,
        "name": p.name,
        "link_name": p.link_name,
        "web_url": p.web_url,
        "list_email": p.list_email,
        "list_id": p.list_id,
        "scm_url": p.scm_url,
        "webscm_url": p.webscm_url,
        "list_archive_url": p.list_archive_url,
    }


_PLAIN = (
    "patch_id",
    "series_id",
    "cover_id",
    "check_id",
    "comment_id",
    "previous_state",
    "current_state",
)


def event_to_json(event: Event) -> bytes:
    """The stream payload: every field but ``raw`` (which would multiply memory per event)."""
    doc: dict[str, Any] = {
        "backend": event.backend,
        "id": event.id,
        "category": event.category,
        "date": event.date.isoformat(),
        "project": _project(event.project),
        "actor": _person(event.actor),
        "previous_delegate": _person(event.previous_delegate),
        "current_delegate": _person(event.current_delegate),
    }
    for name in _PLAIN:
        if (value := getattr(event, name)) is not None:
            doc[name] = value
    return orjson.dumps(doc)


def _read_person(doc: Any) -> Person | None:
    if doc is None:
        return None
    return Person(doc["backend"], doc["id"], doc["name"], doc["email"], doc["u"])


def event_from_json(data: bytes | str) -> Event:
    """The inverse of ``event_to_json``."""
    doc = orjson.loads(data)
    project = doc["project"]
    return Event(
        backend=doc["backend"],
        id=doc["id"],
        category=doc["category"],
        date=datetime.fromisoformat(doc["date"]),
        project=Project(**project) if project is not None else None,
        actor=_read_person(doc["actor"]),
        previous_delegate=_read_person(doc["previous_delegate"]),
        current_delegate=_read_person(doc["current_delegate"]),
        **{name: doc[name] for name in _PLAIN if name in doc},
    )


# -- the port ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One stream entry: the backend, its id in that backend's stream and the event."""

    backend: str
    id: str
    event: Event


@dataclass(frozen=True, slots=True)
class Fence:
    """A held lease: ``token`` grows with every acquisition of the backend's lease."""

    backend: str
    owner: str
    token: int

    @property
    def value(self) -> str:
        return f"{self.token}:{self.owner}"


class EventLog(Protocol):
    """Streams, floors, poller state and leases (see the module docstring)."""

    max_events: int
    max_age: float

    async def epoch(self) -> str:
        """This log's epoch (part of every cursor)."""

    async def tail(self, backend: str) -> str:
        """The newest entry id of ``backend``'s stream (``0-0`` when empty)."""

    async def check(self, backend: str, after: str) -> None:
        """``CursorExpired`` when entries after ``after`` were trimmed or never recorded;
        ``CursorError`` when ``after`` is ahead of the stream."""

    async def read(self, backend: str, after: str, count: int, block: float) -> list[Entry]:
        """Up to ``count`` entries after ``after``, oldest first; waits up to ``block``
        seconds for one when there is none (0: do not wait)."""

    async def state(self, backend: str) -> bytes | None:
        """The poller state stored by the last accepted ``append``."""

    async def append(
        self, fence: Fence, events: Sequence[Event], state: bytes, *, gap: bool = False
    ) -> list[str]:
        """Append ``events`` and store ``state``, atomically, if ``fence`` still holds the
        lease (else ``Fenced``); ``gap``: nothing before this append may be resumed after.
        Trims the stream. The new entries' ids."""

    async def acquire(self, backend: str, owner: str, ttl: float) -> Fence | None:
        """The backend's lease for ``ttl`` seconds, or ``None`` while another owner holds it."""

    async def renew(self, fence: Fence, ttl: float) -> bool:
        """Extend a lease still held; ``False`` when it was lost."""

    async def release(self, fence: Fence) -> None:
        """Give the lease up (shutdown) so another replica takes over at once."""

    async def close(self) -> None:
        """Release connections."""


def _new_epoch() -> str:
    return secrets.token_hex(8)


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


# -- Redis Streams -------------------------------------------------------------------------

REDIS_PREFIX = "revgate:ev:v1:"

# Ids compare as (ms, seq) pairs; Lua numbers are doubles, exact up to 2^53 (ms fits).
_LUA_IDS = """
local function split(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local function later(a, b)
  local am, as = split(a)
  local bm, bs = split(b)
  return am > bm or (am == bm and as > bs)
end
local function raise_floor(key, id)
  local floor = redis.call('GET', key)
  if not floor or later(id, floor) then redis.call('SET', key, id) end
end
"""

# KEYS: lease, stream, state, floor. ARGV: fence, max_events, min_id (age cutoff, '' = none),
# state, gap ('1'/'0'), then one payload per event.
_APPEND = (
    _LUA_IDS
    + """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('FENCED') end
local ids = {}
for i = 6, #ARGV do
  ids[#ids + 1] = redis.call('XADD', KEYS[2], '*', 'e', ARGV[i])
end
if ARGV[5] == '1' then
  local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
  if #last > 0 then raise_floor(KEYS[4], last[1][1]) end
end
local excess = redis.call('XLEN', KEYS[2]) - tonumber(ARGV[2])
if excess > 0 then
  local old = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', excess)
  raise_floor(KEYS[4], old[#old][1])
  redis.call('XTRIM', KEYS[2], 'MAXLEN', ARGV[2])
end
if ARGV[3] ~= '' then
  local old = redis.call('XRANGE', KEYS[2], '-', '(' .. ARGV[3])
  if #old > 0 then
    raise_floor(KEYS[4], old[#old][1])
    redis.call('XTRIM', KEYS[2], 'MINID', ARGV[3])
  end
end
redis.call('SET', KEYS[3], ARGV[4])
return ids
"""
)

# KEYS: lease, token counter. ARGV: owner, ttl ms. The lease value is "<token>:<owner>".
_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local value = redis.call('INCR', KEYS[2]) .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return value
"""

_RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisEventLog:
    """The log in Redis, shared by every replica (keys under ``revgate:ev:v1:``).

    Per backend ``b`` (one hash tag, so one cluster slot per backend): ``{b}:stream``,
    ``{b}:floor``, ``{b}:state``, ``{b}:lease``, ``{b}:token``; plus ``epoch``. None has a
    TTL but the lease: use a ``volatile-*`` ``maxmemory-policy`` so Redis never evicts them.
    Every Redis failure is an ``EventLogError`` naming only the exception type.
    """

    def __init__(
        self,
        client: Any,
        max_events: int = 10_000,
        max_age: float = 3600.0,
        prefix: str = REDIS_PREFIX,
        owns_client: bool = True,
    ) -> None:
        self.max_events = max_events
        self.max_age = max_age
        self._redis = client
        self._prefix = prefix
        self._owns_client = owns_client
        self._append = client.register_script(_APPEND)
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    @classmethod
    def from_url(
        cls, url: str, max_events: int = 10_000, max_age: float = 3600.0, timeout: float = 5.0
    ) -> RedisEventLog:
        """A log over a new client (no I/O until first use). ``timeout`` must exceed the
        longest blocking read (``read(block=…)``)."""
        import redis.asyncio as aioredis  # only Redis deployments need it

        client = aioredis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=min(timeout, 2.0)
        )
        return cls(client, max_events, max_age)

    def _key(self, backend: str, what: str) -> str:
        return f"{self._prefix}{{{backend}}}:{what}"

    async def _call(self, what: str, coro: Any) -> Any:
        try:
            return await coro
        except Exception as exc:
            stop_if_cancelled()  # not a Redis failure: the task is being stopped
            if "FENCED" in str(exc):
                raise Fenced(what) from None
            # Only the type: a redis error message can carry the URL (and its password).
            raise EventLogError(f"event log: Redis {what} failed ({type(exc).__name__})") from None

    async def epoch(self) -> str:
        key = f"{self._prefix}epoch"
        await self._call("epoch", self._redis.set(key, _new_epoch(), nx=True))
        return _text(await self._call("epoch", self._redis.get(key)))

    async def tail(self, backend: str) -> str:
        last = await self._call(
            "tail", self._redis.xrevrange(self._key(backend, "stream"), count=1)
        )
        return _text(last[0][0]) if last else ZERO

    async def check(self, backend: str, after: str) -> None:
        position = parse_id(after)
        floor = await self._call("check", self._redis.get(self._key(backend, "floor")))
        if floor is not None and position < parse_id(_text(floor)):
            raise CursorExpired(backend)
        if position > parse_id(await self.tail(backend)):
            raise CursorError("cursor is ahead of the stream")

    async def read(self, backend: str, after: str, count: int, block: float) -> list[Entry]:
        stream = self._key(backend, "stream")
        if block > 0:
            answer = await self._call(
                "read",
                self._redis.xread({stream: after}, count=count, block=max(1, int(block * 1000))),
            )
            rows = answer[0][1] if answer else []
        else:
            rows = await self._call(
                "read", self._redis.xrange(stream, min=f"({after}", count=count)
            )
        return [Entry(backend, _text(i), event_from_json(fields[b"e"])) for i, fields in rows]

    async def state(self, backend: str) -> bytes | None:
        value: bytes | None = await self._call(
            "state", self._redis.get(self._key(backend, "state"))
        )
        return value

    async def append(
        self, fence: Fence, events: Sequence[Event], state: bytes, *, gap: bool = False
    ) -> list[str]:
        b = fence.backend
        min_id = f"{int((time.time() - self.max_age) * 1000)}-0" if self.max_age > 0 else ""
        args: list[Any] = [fence.value, self.max_events, min_id, state, "1" if gap else "0"]
        args += [event_to_json(e) for e in events]
        keys = [self._key(b, k) for k in ("lease", "stream", "state", "floor")]
        ids = await self._call(b, self._append(keys=keys, args=args))
        return [_text(i) for i in ids]

    async def acquire(self, backend: str, owner: str, ttl: float) -> Fence | None:
        keys = [self._key(backend, "lease"), self._key(backend, "token")]
        value = await self._call("lease", self._acquire(keys=keys, args=[owner, int(ttl * 1000)]))
        if not value:
            return None
        token, _, _ = _text(value).partition(":")
        return Fence(backend, owner, int(token))

    async def renew(self, fence: Fence, ttl: float) -> bool:
        keys = [self._key(fence.backend, "lease")]
        held = await self._call(
            "lease", self._renew(keys=keys, args=[fence.value, int(ttl * 1000)])
        )
        return bool(held)

    async def release(self, fence: Fence) -> None:
        keys = [self._key(fence.backend, "lease")]
        await self._call("lease", self._release(keys=keys, args=[fence.value]))

    async def close(self) -> None:
        if self._owns_client:
            await self._redis.aclose()


def open_event_log(url: str, max_events: int = 10_000, max_age: float = 3600.0) -> EventLog:
    """``memory://`` → ``MemoryEventLog``; ``redis://…`` (``rediss://``, ``unix://``) →
    ``RedisEventLog``."""
    if url.lower() == "memory://":
        return MemoryEventLog(max_events, max_age)
    return RedisEventLog.from_url(url, max_events, max_age)
