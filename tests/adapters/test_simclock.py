"""Simulator clocks start at the present and only move forward (issue 23).

A clock that started behind the simulator's own data made writes move ``updated`` backwards,
so pollers asking "what changed after the newest time I saw" never saw them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.abf.simulator.data import AbfData
from adapters.gerrit.simulator.data import GerritData
from adapters.patchwork.simulator.data import now_str
from adapters.patchwork_fdo.simulator.data import FdoData, parse_time
from adapters.simclock import SimClock

SLACK = timedelta(seconds=5)  # readings are truncated to the backend's resolution


def test_readings_increase_even_when_the_wall_clock_steps_back() -> None:
    walls = iter([datetime(2030, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC)] * 3)
    clock = SimClock(timedelta(seconds=1), wall=lambda: next(walls))
    readings = [clock.now() for _ in range(6)]
    assert readings == sorted(set(readings))
    assert readings[0] == datetime(2030, 1, 1, tzinfo=UTC)
    assert readings[-1] == datetime(2030, 1, 1, 0, 0, 5, tzinfo=UTC)


def test_advance_past_data_newer_than_the_wall_clock() -> None:
    clock = SimClock(timedelta(milliseconds=1), wall=lambda: datetime(2020, 1, 1, tzinfo=UTC))
    clock.advance_past(datetime(2021, 1, 1))  # naive = UTC, as Patchwork renders
    assert clock.now() == datetime(2021, 1, 1, 0, 0, 0, 1000, tzinfo=UTC)


def test_step_must_be_positive() -> None:
    with pytest.raises(ValueError):
        SimClock(timedelta(0))


@pytest.mark.parametrize("count", [0, 40, 3000])
def test_gerrit_writes_are_newer_than_every_change(count: int) -> None:
    data = GerritData.generated(count) if count else GerritData.from_seed()
    newest = max(c.updated for c in data.changes.values())
    first, second = data.now(), data.now()
    assert first > newest
    assert first >= datetime.now(UTC) - SLACK
    assert second > first


def test_fdo_writes_are_newer_than_every_event_and_series() -> None:
    data = FdoData.generated()
    newest = max(parse_time(e["event_time"]) for e in data.events)
    first, second = parse_time(data.now()), parse_time(data.now())
    assert first > newest
    assert first >= datetime.now(UTC).replace(tzinfo=None) - SLACK
    assert second > first


@pytest.mark.parametrize("generated", [40, 2000])
def test_abf_writes_are_newer_than_every_pull_request(generated: int) -> None:
    data = AbfData.from_seed(generated)
    newest = max(p.updated_at for p in data.pulls.values())
    first, second = data.tick(), data.tick()
    assert first > newest
    assert first >= datetime.now(UTC).timestamp() - SLACK.total_seconds()
    assert second > first


def test_patchwork_dates_never_repeat_or_go_back() -> None:
    stamps = [datetime.fromisoformat(now_str()) for _ in range(200)]
    assert stamps == sorted(set(stamps))
    assert stamps[0] >= datetime.now(UTC).replace(tzinfo=None) - SLACK
