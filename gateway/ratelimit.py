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

``MemoryRateLimiter`` is the in-process implementation (one replica). A shared one — e.g.
over Redis, with the refill-and-take done atomically in a Lua script keyed by the same
names — only has to implement ``take``; ``create_app`` accepts any ``RateLimiter``.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

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
        at = (now or datetime.now(UTC)) + timedelta(seconds=self.reset_after)
        return Allowance(
            allowed=self.allowed,
            limit=self.limit,
            remaining=self.remaining,
            reset_at=at.replace(microsecond=0),
            retry_after=None if self.allowed else self.retry_after,
        )


UNLIMITED = Decision(allowed=True, limit=None, remaining=None, reset_after=0.0, retry_after=0.0)


class RateLimiter(Protocol):
    """A store of named token buckets (see the module docstring for the contract)."""

    async def take(self, key: str, amount: int, per_minute: int) -> Decision:
        """Take ``amount`` tokens from bucket ``key`` of size ``per_minute``, or refuse."""
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
