"""Per-backend circuit breakers: stop asking a backend that keeps failing, probe it later.

    closed ──(``threshold`` failures in a row)──▶ open ──(``reset_seconds``)──▶ half-open
      ▲                                                                          │
      └──────────────── probe succeeds ◀──── one probe allowed ──────────────────┘
                                                  (probe fails → open again)

Only backend failures count (unavailable, timeout, bad payload); a 404 or a 403 is an answer.

The half-open probe is a token that must come back on every exit path: callers take it with
``attempt()`` and use the result as a context manager, so a probe that ends in anything but an
outcome (a bug in mapping, ``asyncio.CancelledError`` from a client that went away, a sibling's
failure cancelling it) releases the token without changing the state. A token is also only
leased for ``reset_seconds``: a probe that somehow never comes back cannot keep the backend out
of every list until restart.
Written out rather than taken from a library: it is thirty lines with an injectable clock, and
the libraries on PyPI either wrap calls in ways that fight asyncio cancellation or are unkept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

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
    probe_started: float = 0.0

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
        now = self.clock()
        # A probe out for longer than a reset period is presumed lost (see the module doc).
        if state == "half-open" and (
            not self.probing or now - self.probe_started >= self.reset_seconds
        ):
            self.probing = True
            self.probe_started = now
            return True
        return False

    def attempt(self) -> Attempt | None:
        """An admitted request (a context manager releasing the probe), or None if refused."""
        return Attempt(self) if self.allow() else None

    def release(self) -> None:
        """The admitted request ended without an outcome: let the next one probe."""
        self.probing = False

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


class Attempt:
    """One request let through a breaker; leaving the ``with`` block unrecorded releases it."""

    __slots__ = ("breaker", "done")

    def __init__(self, breaker: CircuitBreaker) -> None:
        self.breaker = breaker
        self.done = False

    def record(self, error: UpstreamError | None) -> None:
        """The request's outcome (``None``: it succeeded)."""
        self.done = True
        self.breaker.record(error)

    def __enter__(self) -> Attempt:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.done:
            self.breaker.release()


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
