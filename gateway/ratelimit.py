"""Per-caller rate limiting: token buckets behind a small pluggable port.

The port
========

``RateLimiter.take(key, amount, per_minute)`` takes ``amount`` tokens from the bucket named
``key`` — a bucket holds at most ``per_minute`` tokens and refills continuously at
``per_minute / 60`` tokens a second — or, when fewer are left, takes nothing and says how
long to wait. It answers a ``Decision``. The gateway keeps two buckets per caller:
``req:<caller>`` (one token per HTTP request) and ``cost:<caller>`` (the query's cost
points, see ``schema/limits.py``); a caller is ``key:<api key name>`` or
``anon:<client address>``. ``per_minute <= 0`` means unlimited and never touches a bucket.

``MemoryRateLimiter`` is the in-process implementation (one replica); ``RedisRateLimiter``
keeps the buckets in one Redis shared by every replica (``[limits] store = "redis://…"``),
the refill-and-take done atomically by a Lua script on the Redis clock. ``create_app``
accepts any ``RateLimiter``; ``rate_limiter(url)`` picks one from the settings.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from adapters.redis_store import REDIS_TIMEOUT, FailOpen, Skipped, redis_client
from schema.request import Allowance


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one ``take``: allowed or not, and the bucket afterwards."""

    allowed: bool
    limit: int | None  # bucket size (per minute); None = unlimited
    remaining: int | None  # whole tokens left
    reset_after: float  # seconds until the bucket is full again
    retry_after: float  # seconds until ``amount`` tokens are there (0 when allowed)

    def retry_after_header(self) -> str:
        """``Retry-After`` in whole seconds, rounded up, at least 1."""
        return str(max(1, math.ceil(self.retry_after)))

    def allowance(self, now: datetime | None = None) -> Allowance:
        """The schema-level view of this decision (``schema.request.Allowance``)."""
        if self.limit is None:
            return Allowance(allowed=self.allowed)
        if now is None:
            reset_at = _whole_second(int(time.time() + self.reset_after))
        else:
            reset_at = (now + timedelta(seconds=self.reset_after)).replace(microsecond=0)
        return Allowance(
            allowed=self.allowed,
            limit=self.limit,
            remaining=self.remaining,
            reset_at=reset_at,
            retry_after=None if self.allowed else self.retry_after,
        )


@functools.lru_cache(maxsize=8)
def _whole_second(epoch: int) -> datetime:
    """The UTC datetime of ``epoch`` (whole seconds): the requests of one second share their
    reset time instead of building it anew (``datetime.now`` + ``timedelta`` + ``replace``)."""
    return datetime.fromtimestamp(epoch, UTC)


log = logging.getLogger("revgate.ratelimit")

UNLIMITED = Decision(allowed=True, limit=None, remaining=None, reset_after=0.0, retry_after=0.0)


class RateLimiter(Protocol):
    """A store of named token buckets (see the module docstring for the contract)."""

    async def take(self, key: str, amount: int, per_minute: int) -> Decision:
        """Take ``amount`` tokens from bucket ``key`` of size ``per_minute``, or refuse."""
        ...

    async def close(self) -> None:
        """Release connections (called once at shutdown)."""
        ...


class MemoryRateLimiter:
    """Token buckets in this process. At most ``max_buckets`` are kept: the least recently
    used is dropped first (a dropped bucket restarts full, which only ever errs towards
    letting a long-idle caller in)."""

    def __init__(
        self, *, max_buckets: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max = max_buckets
        self._clock = clock

    async def take(self, key: str, amount: int, per_minute: int) -> Decision:
        """See ``RateLimiter.take``; atomic because it never awaits."""
        if per_minute <= 0:
            return UNLIMITED
        now = self._clock()
        rate = per_minute / 60.0
        tokens, stamp = self._buckets.pop(key, (float(per_minute), now))
        tokens = min(float(per_minute), tokens + (now - stamp) * rate)
        allowed = tokens >= amount
        if allowed:
            tokens -= amount
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        return Decision(
            allowed=allowed,
            limit=per_minute,
            remaining=int(tokens),
            reset_after=(per_minute - tokens) / rate,
            retry_after=0.0 if allowed else (amount - tokens) / rate,
        )

    async def close(self) -> None:
        """Nothing to release."""


# KEYS[1] = bucket; ARGV = amount, size (tokens per minute). The Redis server's clock is the
# one clock every replica shares. Answers {allowed (0/1), tokens left (string: Lua numbers
# would be truncated to integers)}. The key expires once the bucket would be full again.
_TAKE_SCRIPT = """
local amount = tonumber(ARGV[1])
local size = tonumber(ARGV[2])
local rate = size / 60.0
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or size
local stamp = tonumber(state[2]) or now
tokens = math.min(size, tokens + math.max(0, now - stamp) * rate)
local allowed = 0
if tokens >= amount then
  tokens = tokens - amount
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((size - tokens) / rate * 1000) + 1000)
return {allowed, tostring(tokens)}
"""


class RedisRateLimiter:
    """Token buckets in Redis (redis-py asyncio), shared by every replica.

    Buckets are hashes named ``<prefix><key>``. When Redis cannot be reached, or does not
    answer within ``timeout``, the request is let through (logged as a warning, at most once
    per ``warn_every`` seconds), and Redis is not asked again for ``REDIS_BACKOFF`` seconds
    (the response cache's policy, ``adapters.redis_store``): a rate limiter outage must
    neither take the gateway down nor slow every request by a timeout.
    """

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = "revgate:rate:",
        warn_every: float = 60.0,
        timeout: float = REDIS_TIMEOUT,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._script = client.register_script(_TAKE_SCRIPT)
        self.redis_calls = FailOpen(deadline=2 * timeout, warn_every=warn_every)

    @classmethod
    def from_url(cls, url: str, timeout: float = REDIS_TIMEOUT) -> RedisRateLimiter:
        """A limiter over the Redis at ``url`` (connections are made lazily)."""
        return cls(redis_client(url, timeout), timeout=timeout)

    async def take(self, key: str, amount: int, per_minute: int) -> Decision:
        """See ``RateLimiter.take``; atomic across replicas (one Lua script)."""
        if per_minute <= 0:
            return UNLIMITED
        try:
            allowed, left = await self.redis_calls.call(
                lambda: self._script(keys=[self._prefix + key], args=[amount, per_minute])
            )
        except Skipped:
            return UNLIMITED
        except Exception as exc:  # redis.RedisError, OSError, timeouts: fail open
            if self.redis_calls.should_warn():
                # the type only: a redis message can carry the URL and its password
                log.warning("rate limiter store unavailable, not limiting: %s", type(exc).__name__)
            return UNLIMITED
        tokens = float(left)
        rate = per_minute / 60.0
        return Decision(
            allowed=bool(int(allowed)),
            limit=per_minute,
            remaining=int(tokens),
            reset_after=(per_minute - tokens) / rate,
            retry_after=0.0 if int(allowed) else (amount - tokens) / rate,
        )

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


def rate_limiter(url: str) -> RateLimiter:
    """The limiter for ``[limits] store``: ``memory://`` or a Redis URL."""
    if url.startswith("memory:"):
        return MemoryRateLimiter()
    return RedisRateLimiter.from_url(url)


class CallerBudget:
    """One request's view of a caller's cost bucket: a ``schema.request.CostBudget``.

    ``on_refusal`` lets the transport answer 429 with ``Retry-After`` when a charge is
    refused.
    """

    def __init__(
        self,
        limiter: RateLimiter,
        key: str,
        per_minute: int,
        on_refusal: Callable[[Decision], None] | None = None,
    ) -> None:
        self._limiter = limiter
        self._key = key
        self._per_minute = per_minute
        self._on_refusal = on_refusal

    async def charge(self, cost: int) -> Allowance:
        """Take ``cost`` points from the caller's cost bucket, or refuse."""
        decision = await self._limiter.take(self._key, cost, self._per_minute)
        if not decision.allowed and self._on_refusal is not None:
            self._on_refusal(decision)
        return decision.allowance()
