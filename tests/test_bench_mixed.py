"""bench/load stays runnable: its driver against a served gateway, small and bounded."""

from __future__ import annotations

import asyncio
import os

import aiohttp

from bench.mixed import MIX, Driver, percentile, report, rss_mb
from tests.reliability.harness import ServedGateway, simulator_setup


def test_bench_load_driver_mixes_every_kind_without_errors() -> None:
    async def drive(url: str) -> Driver:
        async with aiohttp.ClientSession() as http:
            driver = Driver(url, http)
            await driver.discover()
            await driver.run(120, 8)
            return driver

    # anonymous_writes: the mix's updates are anonymous, as against the demo (gateway/cli.py)
    with ServedGateway(simulator_setup(anonymous_writes=True)) as served:
        driver = asyncio.run(drive(served.url))
    stats = driver.stats
    assert sum(len(v) for v in stats.latencies.values()) == 120
    assert not stats.errors, stats.examples
    assert set(stats.latencies) >= set(MIX) - {"update"}  # every kind drawn (writes are rare)
    lines = report(stats, 1.0, 8)
    assert lines[0].startswith("requests: 120 at concurrency 8")
    assert lines[1].startswith("errors:   0 ")


def test_bench_load_percentiles_and_rss() -> None:
    samples = [float(x) for x in range(1, 101)]
    assert (percentile(samples, 50), percentile(samples, 99)) == (50.0, 99.0)
    assert percentile([3.0], 99) == 3.0
    assert 1 < rss_mb(os.getpid()) < 10_000
