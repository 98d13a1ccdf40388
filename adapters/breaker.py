"""Per-backend circuit breakers: stop asking a backend that keeps failing, probe it later.

    closed ──(``threshold`` failures in a row)──▶ open ──(``reset_seconds``)──▶ half-open
      ▲                                                                          │
      └──────────────── probe succeeds ◀──── one probe allowed ──────────────────┘
                                                  (probe fails → open again)

Only backend failures count (unavailable, timeout, bad payload); a 404 or a 403 is an answer.
Written out rather than taken from a library: it is thirty lines with an injectable clock, and
the libraries on PyPI either wrap calls in ways that fight asyncio cancellation or are unkept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from adapters.errors import BadPayload, Timeout, Unavailable, UpstreamError

TRIPPING = (Unavailable, Timeout, BadPayload)


@dataclass
class CircuitBreaker:
    """One backend's breaker."""

    threshold: int = 5
    reset_seconds: float = 30.0
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_at: float | None = None
    probing: bool = False

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half-open``."""
        if self.opened_at is None:
            return "closed"
        if self.clock() - self.opened_at >= self.reset_seconds:
            return "half-open"
        return "open"

    def allow(self) -> bool:
        """Whether a request may go out now (in half-open, only one probe at a time)."""
        state = self.state
        if state == "closed":
            return True
        if state == "half-open" and not self.probing:
            self.probing = True
            return True
        return False

    def record(self, error: UpstreamError | None) -> None:
        """Feed the outcome of a request that ``allow`` let through."""
        self.probing = False
        if error is None or not isinstance(error, TRIPPING):
            self.failures = 0
            self.opened_at = None
            return
        self.failures += 1
        if self.opened_at is not None or self.failures >= self.threshold:
            self.opened_at = self.clock()


@dataclass
class Breakers:
    """The breakers of every backend, shared by all requests of one app."""

    threshold: int = 5
    reset_seconds: float = 30.0
    clock: Callable[[], float] = time.monotonic
    by_backend: dict[str, CircuitBreaker] = field(default_factory=dict)

    def __call__(self, backend: str) -> CircuitBreaker:
        """The breaker of ``backend``."""
        breaker = self.by_backend.get(backend)
        if breaker is None:
            breaker = CircuitBreaker(self.threshold, self.reset_seconds, self.clock)
            self.by_backend[backend] = breaker
        return breaker
