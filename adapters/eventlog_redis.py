"""The event log in Redis Streams (``RedisEventLog``): its Lua scripts and client side.

Shared by every replica; it implements the port in ``adapters.eventlog_port``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from adapters.eventlog_port import (
    ZERO,
    CursorError,
    CursorExpired,
    Entry,
    EventLogError,
    Fence,
    Fenced,
    _new_epoch,
    event_from_json,
    event_to_json,
    parse_id,
    stop_if_cancelled,
)
from adapters.model import Event

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
