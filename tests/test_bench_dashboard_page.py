"""The dashboard's requests in the performance bench (``bench.dashboard_page``): its first
screen and a live update run by hash (each answer free of errors: ``send`` asserts it)
against the four demo simulators, the first screen asking every backend."""

from __future__ import annotations

from bench.dashboard_page import count
from bench.waves import BACKENDS


async def test_bench_dashboard_page_counts_both_screens() -> None:
    counted = await count()
    assert set(counted) == {"first screen", "live update"}
    first, live = counted["first screen"], counted["live update"]
    assert all(first[b][0] >= 1 for b in BACKENDS), first  # the list asks every backend
    assert live["all"][0] >= 1 and live["all"][1] >= 1, live
