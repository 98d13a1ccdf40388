"""What the Redis-backed stores share: a client that gives up fast and a skip window.

The response cache (``adapters.cache.RedisCache``) and the rate limiter
(``gateway.ratelimit.RedisRateLimiter``) are both optional to a request: when Redis fails
they answer "miss" / "not limiting" and the request goes on (fail open). What makes that
cheap is in one place here, so both behave the same:

- ``redis_client``: one short timeout for connecting and for every reply, and no retries.
  redis-py 6+ retries a timed-out command 3 times by default, so a Redis that accepts
  connections but never answers (hung, paused, a full network buffer) cost a request
  4 × the timeout per call — several seconds per request with two rate-limit buckets.
- ``FailOpen``: after a failure, Redis is not asked again for ``backoff`` seconds (every
  call in that window fails open at once), then one call probes it again; each call is
  also bounded as a whole (``deadline``), whatever the socket timeouts let through.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

__all__ = ["REDIS_BACKOFF", "REDIS_TIMEOUT", "FailOpen", "redis_client"]

T = TypeVar("T")

REDIS_TIMEOUT = 0.5  # a Redis on the local network answers in about a millisecond
REDIS_BACKOFF = 5.0


def redis_client(url: str, timeout: float = REDIS_TIMEOUT) -> Any:
    """A redis-py asyncio client for ``url`` (no I/O until first use), failing fast."""
    import redis.asyncio as aioredis  # only Redis deployments need it
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return aioredis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


class Skipped(Exception):
    """Redis is inside its skip window: not asked."""


class FailOpen:
    """Runs Redis calls with a hard deadline, and skips Redis for a while after a failure.

    ``call`` raises ``Skipped`` inside the window and re-raises a failure after starting a
    window (the caller turns both into its fail-open answer). ``failures`` counts failures;
    ``should_warn`` throttles the caller's warning to one per ``warn_every`` seconds.
    """

    def __init__(
        self,
        *,
        backoff: float = REDIS_BACKOFF,
        deadline: float = 2 * REDIS_TIMEOUT,
        warn_every: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backoff = backoff
        self.deadline = deadline
        self.warn_every = warn_every
        self.clock = clock
        self.skip_until = 0.0
        self.failures = 0
        self._warned_at: float | None = None

    @property
    def skipping(self) -> bool:
        """Whether Redis is inside its skip window now."""
        return self.clock() < self.skip_until

    async def call(self, make: Callable[[], Awaitable[T]], force: bool = False) -> T:
        """``await make()`` unless skipping (``force``: even then); a failure starts a window.

        Any exception is a failure (redis errors, ``OSError``, timeouts); a cancellation is
        not (the caller went away, Redis did nothing wrong)."""
        if self.skipping and not force:
            raise Skipped
        try:
            async with asyncio.timeout(self.deadline):
                return await make()
        except Exception:
            self.failed()
            raise

    def failed(self) -> None:
        """Record a failure: skip Redis for ``backoff`` seconds."""
        self.failures += 1
        self.skip_until = self.clock() + self.backoff

    def should_warn(self) -> bool:
        """Whether to log this failure (at most once per ``warn_every`` seconds)."""
        now = self.clock()
        if self._warned_at is not None and now - self._warned_at < self.warn_every:
            return False
        self._warned_at = now
        return True
