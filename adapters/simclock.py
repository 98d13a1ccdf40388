"""A simulator's server clock: it starts at the present and only moves forward.

Pollers ask a backend for what changed *after* the newest time they saw (Gerrit ``after:``,
Patchwork ``since``, ABF ``updated_at``). A simulator whose clock started in the past — behind
its own seeded or generated data — stamped writes with times older than that data, so a write
moved a change's ``updated`` backwards and no poller ever saw it (issue 23). Every reading is
therefore at least the wall clock, strictly after the previous reading and after the newest
timestamp the simulator was built with (``advance_past``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta


def utc_now() -> datetime:
    return datetime.now(UTC)


class SimClock:
    """Strictly increasing aware-UTC times, never behind the wall clock.

    ``step`` is the resolution of the backend's timestamps (Gerrit and ABF: one second; the
    fdo fork: a millisecond): two readings differ by at least one step, so two writes never
    share a time, and readings are truncated to it, so what the API renders round-trips.
    """

    def __init__(self, step: timedelta, wall: Callable[[], datetime] = utc_now) -> None:
        if step <= timedelta(0):
            raise ValueError("step must be positive")
        self._step = step
        self._wall = wall
        self._last: datetime | None = None

    def _truncate(self, value: datetime) -> datetime:
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        return epoch + ((value - epoch) // self._step) * self._step

    def advance_past(self, value: datetime) -> None:
        """Never answer ``value`` or anything before it (data newer than the wall clock)."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = self._truncate(value)
        if self._last is None or value > self._last:
            self._last = value

    def now(self) -> datetime:
        """The next time: the wall clock, or one step after the previous reading if later."""
        wall = self._truncate(self._wall())
        value = wall if self._last is None else max(wall, self._last + self._step)
        self._last = value
        return value

    def now_naive(self) -> datetime:
        """``now()`` without a zone (Patchwork's and the fdo fork's naive-UTC dates)."""
        return self.now().replace(tzinfo=None)

    def now_seconds(self) -> int:
        """``now()`` as Unix seconds (ABF)."""
        return int(self.now().timestamp())
