"""Bench: the cross-forge dashboard page's upstream requests and *waves*, per kind (issue 21).

A wave is a round trip the page has to wait for: a request's wave is one more than the
highest wave among the requests that had already answered when it was issued (1 when none
had). The page's waves are the highest wave; with every backend answering L ms late the page
cannot answer in less than waves × L ms. Each request's issue and answer are taken from the
gateway's own ``HttpClient`` hook (``on_request``: the attempt's end and duration, on one
monotonic clock), so the count is a fact of the code's ordering, not of the machine's speed.

Two parts:

- ``count``: in-process over the four demo simulators (the seeds ``revgate demo`` serves), the
  warm query's upstream requests and waves per backend (the test suite asserts these:
  tests/schema/test_dashboard_waves.py);
- ``--latency-ms L`` (default 20): ``revgate demo --latency-ms L`` (the simulators each in a
  process of their own answering L ms late, the gateway on its own CPU), the p50 of the query
  against waves × L + 15 ms, 3 rounds, medians.

Run: ``.venv/bin/python -m bench.waves`` (``--requests N`` per round, default 30).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import aiohttp
import httpx

from adapters.registry import RequestHook
from bench.procs import free_port, pinned, spawn

FIELDS = """__typename id title state updatedAt webUrl checkState
  author { name email } project { name linkName } backend { name }
  currentRevision { number sha }"""
QUERIES = {
    "changes(first: 50)": "query Page { changes(first: 50) { nodes { " + FIELDS + " } } }",
    "changes(first: 50) + checks": "query Page { changes(first: 50) { nodes { "
    + FIELDS
    + " ... on Patch { checks { context state } } } } }",
    "changes(first: 100)": "query Page { changes(first: 100) { nodes { " + FIELDS + " } } }",
}
BACKENDS = ("patchwork", "fdo", "gerrit", "abf")
SERVER_CPU, CLIENT_CPU = 0, 1


@dataclass
class WaveLog:
    """Upstream attempts as (backend, issued, answered) on the monotonic clock."""

    attempts: list[tuple[str, float, float]] = field(default_factory=list)

    def hook(self, backend: str, then: RequestHook | None = None) -> RequestHook:
        """An ``on_request`` hook recording ``backend``'s attempts (and calling ``then``)."""

        def record(method: str, url: str, status: int | None, seconds: float) -> None:
            # No await between the attempt's end and this call: "now" is its answer time.
            end = time.monotonic()
            self.attempts.append((backend, end - seconds, end))
            if then is not None:
                then(method, url, status, seconds)

        return record

    def clear(self) -> None:
        self.attempts.clear()

    def requests(self, backend: str | None = None) -> int:
        return sum(1 for b, _, _ in self.attempts if backend in (None, b))

    def waves(self, backend: str | None = None) -> int:
        """The critical path in round trips of ``backend``'s attempts (all when None)."""
        spans = sorted((s, e) for b, s, e in self.attempts if backend in (None, b))
        depth: list[tuple[float, int]] = []  # (answered, wave) of the attempts seen
        for start, end in spans:
            wave = 1 + max((w for answered, w in depth if answered <= start), default=0)
            depth.append((end, wave))
        return max((w for _, w in depth), default=0)


@contextmanager
def recording() -> Iterator[WaveLog]:
    """Record every upstream attempt of the gateways created inside (their metrics hook)."""
    from gateway.metrics import Metrics

    log = WaveLog()
    original = Metrics.upstream_hook

    def upstream_hook(self: Metrics, backend: str) -> RequestHook:
        return log.hook(backend, original(self, backend))

    with mock.patch.object(Metrics, "upstream_hook", upstream_hook):
        yield log


@asynccontextmanager
async def demo_gateway(
    latency_ms: float = 0.0, tune: Callable[[Any], Any] | None = None
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """The demo's four simulators (in-process, ``latency_ms`` late, each started as ``revgate
    demo`` starts it: its kind's ``Demo.start``) and the gateway over them as an in-process
    client (its settings through ``tune`` when given); also yields the simulators by backend
    name."""
    from adapters.kinds import KINDS
    from gateway.app import create_app
    from gateway.cli import demo_settings_for

    sims: dict[str, Any] = {}
    try:
        for kind in KINDS:
            if kind.demo is not None:
                sims[str(kind.demo.backend["name"])] = await kind.demo.start(latency_ms)
        urls = {kind.name: sims[str(kind.demo.backend["name"])].url for kind in KINDS if kind.demo}
        settings = demo_settings_for(urls, "127.0.0.1", 8000)
        app = create_app(tune(settings) if tune is not None else settings)
        transport = httpx.ASGITransport(app=app)
        await app.state.backends.open()
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as c:
                yield c, sims
        finally:
            await app.state.backends.close()
    finally:
        for sim in sims.values():
            await sim.close()


async def count(query: str, latency_ms: float = 0.0) -> dict[str, tuple[int, int]]:
    """Per backend (and ``"all"``): (upstream requests, waves) of the warm ``query``."""
    with recording() as log:
        async with demo_gateway(latency_ms) as (client, _):
            for _ in range(2):  # the first also detects versions and warms pools
                log.clear()
                body = (await client.post("/graphql", json={"query": query})).json()
                assert not body.get("errors"), body["errors"]
    counts = {b: (log.requests(b), log.waves(b)) for b in BACKENDS}
    counts["all"] = (log.requests(), log.waves())
    return counts


@asynccontextmanager
async def fleet(latency_ms: float) -> AsyncIterator[str]:
    """``revgate demo --latency-ms latency_ms`` as anyone would run it (the gateway over the
    demo's simulators, each in a process of its own); yields the gateway's URL. As in the
    other benches the gateway has a CPU of its own (``SERVER_CPU``); the simulators and the
    timing client share the other: real backends run on their own machines."""
    if pinned(CLIENT_CPU):
        os.sched_setaffinity(0, {CLIENT_CPU})  # the timing client: off the gateway's CPU
    port = free_port()
    args = ["-m", "gateway.cli", "demo", "--port", str(port), "--latency-ms", str(latency_ms)]
    demo = await spawn(args, f"http://127.0.0.1:{port}/healthz", 60, cpu=SERVER_CPU)
    try:
        if pinned(CLIENT_CPU):
            for child in _children(demo.pid):  # they inherit the gateway's CPU: move them
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(child, {CLIENT_CPU})
        yield f"http://127.0.0.1:{port}"
    finally:
        demo.terminate()
        await demo.wait()


def _children(pid: int) -> list[int]:
    """The processes ``pid`` started (Linux ``/proc``; empty where it is not offered)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as listed:
                found += [int(c) for c in listed.read().split()]
    return found


async def timed(gateway: str, query: str, requests: int) -> float:
    """Median of 3 rounds' median latency (ms) of ``query``."""
    rounds = []
    async with aiohttp.ClientSession() as http:
        for _ in range(3):
            samples = []
            for _ in range(requests):
                start = time.perf_counter()
                async with http.post(f"{gateway}/graphql", json={"query": query}) as resp:
                    body = await resp.json()
                samples.append((time.perf_counter() - start) * 1000)
                assert not body.get("errors"), body["errors"]
            rounds.append(statistics.median(samples))
    return statistics.median(rounds)


def row(name: str, counts: Mapping[str, tuple[int, int]]) -> str:
    cells = ", ".join(f"{b} {counts[b][0]}/{counts[b][1]}" for b in BACKENDS)
    total = counts["all"]
    return f"{name}: requests/waves {cells}; all {total[0]} in {total[1]} waves"


async def run(latency_ms: float, requests: int) -> None:
    """Count, then time, and print the table."""
    # Counted at the timed latency (as the test suite counts them): with none, the order in
    # which answers arrive is the machine's, not the code's.
    counted = {name: await count(query, latency_ms) for name, query in QUERIES.items()}
    for name, counts in counted.items():
        print(row(name, counts))
    if requests <= 0:
        return
    async with fleet(latency_ms) as gateway:
        for name, query in QUERIES.items():
            await timed(gateway, query, 2)  # warm-up: versions, pools
            p50 = await timed(gateway, query, requests)
            floor = counted[name]["all"][1] * latency_ms + 15
            print(f"{name}: p50 {p50:.1f} ms with {latency_ms:g} ms latency (goal ≤ {floor:g})")


def main(
    bench: Callable[[float, int], Awaitable[None]] = run,
    doc: str | None = __doc__,
    requests: int = 30,
) -> None:
    """The command line of this bench (and of bench.dashboard_page: the same options)."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--requests", type=int, default=requests, help="per round; 0: count only")
    args = parser.parse_args()
    os.environ.setdefault("REVGATE_LOG_LEVEL", "WARNING")

    async def bounded() -> None:
        async with asyncio.timeout(900):
            await bench(args.latency_ms, args.requests)

    asyncio.run(bounded())


if __name__ == "__main__":
    main()
