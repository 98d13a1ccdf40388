"""Response-cache stores: a small ``Cache`` port, an in-process LRU and a Redis implementation.

A store keeps opaque byte values under ``(namespace, key)``; it knows nothing about HTTP
(``adapters.http_cache`` does). ``namespace`` is a backend instance name, ``key`` an opaque
digest built by the caller.

Invalidation by generation
    Every namespace has a generation counter that is part of each stored entry's real key.
    ``invalidate(namespace)`` bumps it: every entry of that namespace becomes unreachable at
    once, in O(1), on every replica sharing the store (Redis ``INCR``). Old entries are not
    hunted down: they expire on their own (Redis TTL) or fall out of the LRU (memory; the
    memory store also drops them eagerly, writes being rare). A per-path prefix rule
    (PATCH ``/patches/3/`` drops ``/patches/3/*`` and ``/patches/?…``) was rejected: a write
    also changes other resources' views (a patch's state shows up in its series, its
    project's lists, the events feed), so any narrower rule is a stale-read bug waiting to
    happen, and writes are rare next to reads.

Freshness is the caller's business (it is inside the value). ``set(…, keep)`` only says how
long the store may keep the bytes at all (a stale entry with an ETag is still worth keeping
for a conditional request).

Failure policy
    The cache is an optimisation: a store that cannot reach Redis answers "miss", drops
    writes and counts ``stats.errors`` (each failure logged at WARNING on ``revgate.cache``),
    so a Redis outage never fails a query. A call gives up after a short timeout without
    retrying, and after a failure the Redis store leaves Redis alone for ``REDIS_BACKOFF``
    seconds (lookups are misses at once, no timeout paid per GET); invalidations are always
    attempted. The same policy as the rate limiter's (``adapters.redis_store``).

Counters (``stats``) are plain attributes — hits, misses, revalidated, coalesced,
invalidations, evictions, errors — meant to be scraped (Prometheus is wired elsewhere).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from adapters.redis_store import REDIS_BACKOFF, REDIS_TIMEOUT, FailOpen, Skipped, redis_client

__all__ = [
    "Cache",
    "CacheStats",
    "Clock",
    "MemoryCache",
    "RedisCache",
    "open_cache",
]

log = logging.getLogger("revgate.cache")

Clock = Callable[[], float]

DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
REDIS_PREFIX = "revgate:cache:v1:"


@dataclass
class CacheStats:
    """Counters of one store, shared by every backend that uses it."""

    hits: int = 0  # answered from a fresh entry, no upstream request
    misses: int = 0  # a full upstream GET was needed
    revalidated: int = 0  # a stale entry confirmed by 304 Not Modified
    coalesced: int = 0  # a GET that joined an identical one already in flight
    invalidations: int = 0  # generation bumps (one per write)
    evictions: int = 0  # entries dropped to stay within the memory bounds
    errors: int = 0  # store operations that failed (Redis unreachable …)
    # (namespace, counter name) -> count, for the per-backend counters above (all but
    # evictions and errors, which belong to the store); what /metrics exports
    by_backend: dict[tuple[str, str], int] = field(default_factory=dict)

    def count(self, namespace: str, what: str) -> None:
        """Add one to counter ``what`` (``hits``, ``misses``, …), in total and for ``namespace``."""
        setattr(self, what, getattr(self, what) + 1)
        key = (namespace, what)
        self.by_backend[key] = self.by_backend.get(key, 0) + 1


@runtime_checkable
class Cache(Protocol):
    """The store port. Methods never raise on a store failure: they count it and go on."""

    stats: CacheStats

    def now(self) -> float:
        """The store's clock in seconds (wall-clock: entries are shared across processes)."""
        ...

    async def get(self, namespace: str, key: str) -> tuple[int, bytes | None]:
        """``(generation, value)`` of ``key`` in the namespace's current generation.

        ``value`` is ``None`` on a miss. The generation is returned so that the caller can
        ``set`` under the generation it read (a write in between makes that entry moot).
        """
        ...

    async def set(
        self, namespace: str, generation: int, key: str, value: bytes, keep: float
    ) -> None:
        """Store ``value`` for at most ``keep`` seconds (it may be evicted sooner)."""
        ...

    async def invalidate(self, namespace: str) -> None:
        """Make every entry of ``namespace`` unreachable (bump its generation)."""
        ...

    async def close(self) -> None:
        """Release connections; the store must not be used afterwards."""
        ...


class MemoryCache:
    """An in-process TTL + LRU store bounded by entry count and total bytes (keys + values).

    Not shared between processes: with several replicas each has its own copy, and a write
    through one replica invalidates only that replica's entries — use Redis then.
    """

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Clock = time.time,
    ) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("max_entries and max_bytes must be >= 1")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.stats = CacheStats()
        self._clock = clock
        self._entries: OrderedDict[tuple[str, int, str], tuple[float, bytes]] = OrderedDict()
        self._generations: dict[str, int] = {}
        self.size_bytes = 0

    def now(self) -> float:
        """The injected clock."""
        return self._clock()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, namespace: str, key: str) -> tuple[int, bytes | None]:
        """See ``Cache.get``; an expired entry is dropped on the way."""
        generation = self._generations.get(namespace, 0)
        full = (namespace, generation, key)
        found = self._entries.get(full)
        if found is None:
            return generation, None
        expires, value = found
        if expires <= self._clock():
            self._drop(full)
            return generation, None
        self._entries.move_to_end(full)
        return generation, value

    async def set(
        self, namespace: str, generation: int, key: str, value: bytes, keep: float
    ) -> None:
        """See ``Cache.set``; a value larger than ``max_bytes`` on its own is not stored."""
        if generation != self._generations.get(namespace, 0) or keep <= 0:
            return  # written under a generation that a write has since retired
        size = _size(key, value)
        if size > self.max_bytes:
            return
        full = (namespace, generation, key)
        if full in self._entries:
            self._drop(full)
        self._entries[full] = (self._clock() + keep, value)
        self.size_bytes += size
        while len(self._entries) > self.max_entries or self.size_bytes > self.max_bytes:
            oldest = next(iter(self._entries))
            self._drop(oldest)
            self.stats.evictions += 1

    async def invalidate(self, namespace: str) -> None:
        """Bump the generation and drop the namespace's entries now (writes are rare)."""
        self._generations[namespace] = self._generations.get(namespace, 0) + 1
        self.stats.count(namespace, "invalidations")
        for full in [k for k in self._entries if k[0] == namespace]:
            self._drop(full)

    async def close(self) -> None:
        """Forget everything."""
        self._entries.clear()
        self.size_bytes = 0

    def _drop(self, full: tuple[str, int, str]) -> None:
        _, value = self._entries.pop(full)
        self.size_bytes -= _size(full[2], value)


def _size(key: str, value: bytes) -> int:
    return len(key) + len(value)


# One round trip per lookup: read the namespace's generation and the entry under it.
# (The entry key is built inside the script, so this needs a single Redis, not a Cluster.)
_GET_SCRIPT = """
local generation = redis.call('GET', KEYS[1]) or '0'
return {generation, redis.call('GET', ARGV[1] .. generation .. ':' .. ARGV[2])}
"""


class RedisCache:
    """The store on one Redis server (redis-py's asyncio client), shared by every replica.

    Keys: ``revgate:cache:v1:gen:<namespace>`` (the generation counter) and
    ``revgate:cache:v1:e:<namespace>:<generation>:<key>`` (entries, with a Redis TTL of
    ``keep``). Memory is bounded by Redis's own ``maxmemory`` policy, not here — use a
    ``volatile-*`` policy: entries carry a TTL and may be evicted, the generation counters
    carry none and must not be (an evicted counter restarts at 0 and could bring a
    pre-write generation back).
    """

    def __init__(
        self,
        client: Any,
        clock: Clock = time.time,
        prefix: str = REDIS_PREFIX,
        owns_client: bool = True,
        timeout: float = REDIS_TIMEOUT,
    ) -> None:
        self.stats = CacheStats()
        self._redis = client
        self._clock = clock
        self._prefix = prefix
        self._owns_client = owns_client
        self._script = client.register_script(_GET_SCRIPT)
        self.redis_calls = FailOpen(backoff=REDIS_BACKOFF, deadline=2 * timeout)
        # Namespaces whose invalidation failed: not read until an INCR for them succeeds.
        self._unflushed: set[str] = set()

    @classmethod
    def from_url(
        cls,
        url: str,
        clock: Clock = time.time,
        timeout: float = REDIS_TIMEOUT,
        prefix: str = REDIS_PREFIX,
    ) -> RedisCache:
        """A store over a new client for ``redis://host:port/db`` (no I/O until first use)."""
        return cls(redis_client(url, timeout), clock=clock, prefix=prefix, timeout=timeout)

    def now(self) -> float:
        """The injected clock (wall-clock by default: replicas share the entries)."""
        return self._clock()

    def _gen_key(self, namespace: str) -> str:
        return f"{self._prefix}gen:{namespace}"

    def _entry_prefix(self, namespace: str) -> str:
        return f"{self._prefix}e:{namespace}:"

    async def get(self, namespace: str, key: str) -> tuple[int, bytes | None]:
        """See ``Cache.get`` (one ``EVALSHA``)."""
        if self.redis_calls.skipping:
            return -1, None
        if namespace in self._unflushed and not await self._incr(namespace):
            return -1, None
        try:
            generation, value = await self.redis_calls.call(
                lambda: self._script(
                    keys=[self._gen_key(namespace)], args=[self._entry_prefix(namespace), key]
                )
            )
        except Skipped:
            return -1, None
        except Exception as exc:  # redis errors, OSError, timeouts: a miss, never a failure
            self._failed("get", exc)
            return -1, None
        return int(generation), value

    async def set(
        self, namespace: str, generation: int, key: str, value: bytes, keep: float
    ) -> None:
        """See ``Cache.set`` (``SET … PX``); nothing when the lookup had failed."""
        millis = int(keep * 1000)
        if generation < 0 or millis <= 0:
            return
        full = f"{self._entry_prefix(namespace)}{generation}:{key}"
        try:
            await self.redis_calls.call(lambda: self._redis.set(full, value, px=millis))
        except Skipped:
            return
        except Exception as exc:
            self._failed("set", exc)

    async def invalidate(self, namespace: str) -> None:
        """See ``Cache.invalidate`` (``INCR``, seen by every replica at once).

        If Redis cannot be told, the entries written before the write would come back with
        Redis: this store then reads nothing of ``namespace`` until a later ``INCR`` succeeds
        (retried on each lookup once the backoff is over). Other replicas cannot know; they
        serve such entries for at most their TTL, as for changes made outside revgate.
        """
        self.stats.count(namespace, "invalidations")
        self._unflushed.add(namespace)
        await self._incr(namespace)

    async def _incr(self, namespace: str) -> bool:
        try:  # forced: a write must try to tell every replica, even inside the skip window
            await self.redis_calls.call(lambda: self._redis.incr(self._gen_key(namespace)), True)
        except Exception as exc:
            self._failed("invalidate", exc)
            return False
        self._unflushed.discard(namespace)
        return True

    async def close(self) -> None:
        """Close the client's connection pool (when this store created the client)."""
        if self._owns_client:
            await self._redis.aclose()

    def _failed(self, what: str, exc: BaseException) -> None:
        self.stats.errors += 1  # (the skip window was started by ``FailOpen.call``)
        # Only the exception type: a redis error message can carry the URL (and its password).
        log.warning("response cache: Redis %s failed (%s)", what, type(exc).__name__)


def open_cache(
    url: str,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_bytes: int = DEFAULT_MAX_BYTES,
    clock: Clock = time.time,
) -> Cache:
    """The store for ``url``: ``memory://`` or ``redis://``/``rediss://``/``unix://``."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "memory":
        return MemoryCache(max_entries=max_entries, max_bytes=max_bytes, clock=clock)
    if scheme in ("redis", "rediss", "unix"):
        return RedisCache.from_url(url, clock=clock)
    raise ValueError("cache URL must start with memory://, redis://, rediss:// or unix://")
