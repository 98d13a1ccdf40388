"""Response-cache benchmark: the same GraphQL list query cold (cache just invalidated) vs warm.

Starts the Patchwork simulator on 127.0.0.1 (generated data) and the gateway in-process (httpx
over ASGI, so the gateway ↔ client hop costs nothing and upstream is real loopback HTTP), then
for each query shape and store runs a fixed number of identical queries:

- uncached: a gateway whose backend has ``cache_ttl = 0`` (no cache at all);
- cold:     cache on, the backend's entries invalidated before every query (every GET misses);
- warm:     cache on and populated (every GET is a hit: zero upstream requests).

It prints the median latency of each and the warm/cold throughput ratio (cold median / warm
median). Nothing is asserted: numbers depend on the machine. ``--latency MS`` delays every
upstream answer by MS milliseconds (the simulator's ``slow`` fault), standing in for a backend
that is not on loopback.

    .venv/bin/python -m bench.cache [--queries 30] [--patches 100] [--latency 0]
                                    [--store memory|redis|both] [--redis-url URL]

``--store redis`` starts a throw-away ``redis-server`` on 127.0.0.1 (it must be installed;
``make test`` installs it), or uses ``--redis-url`` when given.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from adapters.cache import Cache, MemoryCache, RedisCache
from adapters.patchwork.simulator import PatchworkData, RunningSimulator, start_simulator
from gateway.app import create_app
from gateway.lifespan import build_sources
from gateway.settings import settings_from_dict

TOKEN = "a0" * 20  # the simulator's admin token
QUERIES: dict[str, str] = {
    "list": """{ patches(first: 100) { nodes { id title rawState checkState
        author { name email } project { name } series { name version } } } }""",
    "list+checks": """{ patches(first: 100) { nodes { id title rawState checkState
        author { name email } project { name } checks { context state } } } }""",
}


@dataclass
class Result:
    """Median milliseconds per query of one query shape on one store."""

    query: str
    store: str
    upstream_cold: int
    uncached_ms: float
    cold_ms: float
    warm_ms: float

    @property
    def ratio(self) -> float:
        """Warm/cold throughput (queries per second warm ÷ cold)."""
        return self.cold_ms / self.warm_ms


@contextlib.asynccontextmanager
async def gateway(
    sim: RunningSimulator, ttl: float, store: Cache | None
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway in-process over ``sim`` (``store`` is closed by the caller)."""
    entry = {"name": "pw", "kind": "patchwork", "url": sim.url, "token_env": "T", "cache_ttl": ttl}
    settings = settings_from_dict({"backends": [entry]}, env={"T": TOKEN})
    sources = build_sources(settings, cache=store)
    app = create_app(settings, sources, cache=store)
    backends = app.state.backends  # ASGITransport runs no lifespan: open and close them here
    await backends.open()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as client:
            yield client
    finally:
        await backends.close()


async def run_query(client: httpx.AsyncClient, query: str) -> float:
    """Seconds for one GraphQL request (which must succeed)."""
    start = time.perf_counter()
    resp = await client.post("/graphql", json={"query": query})
    elapsed = time.perf_counter() - start
    body: dict[str, Any] = resp.json()
    if resp.status_code != 200 or "errors" in body:
        raise SystemExit(f"query failed: {resp.status_code} {body.get('errors')}")
    return elapsed


async def measure(
    sim: RunningSimulator, name: str, store_name: str, store: Cache, runs: int
) -> Result:
    """Uncached, cold and warm medians of query ``name``.

    The three are interleaved round by round (uncached, then cold right after an
    invalidation, then warm from what the cold query stored), so that a machine busy with
    something else slows all three alike instead of skewing one of them.
    """
    query = QUERIES[name]
    uncached: list[float] = []
    cold: list[float] = []
    warm: list[float] = []
    upstream_cold = 0
    async with gateway(sim, 0, None) as plain, gateway(sim, 300, store) as cached:
        await run_query(plain, query)  # version probe, pool warm-up
        await run_query(cached, query)
        for _ in range(runs):
            uncached.append(await run_query(plain, query))
            await store.invalidate("pw")
            before = len(sim.state.requests)
            cold.append(await run_query(cached, query))
            upstream_cold = len(sim.state.requests) - before
            before = len(sim.state.requests)
            warm.append(await run_query(cached, query))
            if len(sim.state.requests) != before:
                raise SystemExit("warm queries went upstream: the cache is not working")
    ms = [statistics.median(t) * 1000 for t in (uncached, cold, warm)]
    return Result(name, store_name, upstream_cold, *ms)


@contextlib.contextmanager
def redis_url(given: str | None) -> Iterator[str]:
    """``given``, or the URL of a throw-away redis-server started (and stopped) here."""
    if given:
        yield given
        return
    from tests.redis_server import start_redis, stop_redis  # dev tooling shared with the tests

    with tempfile.TemporaryDirectory(prefix="revgate-bench-redis-") as tmp:
        proc, port = start_redis(Path(tmp))
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            stop_redis(proc)


async def main_async(args: argparse.Namespace) -> list[Result]:
    stores = ["memory", "redis"] if args.store == "both" else [args.store]
    sim = await start_simulator(PatchworkData.generated(args.patches))
    if args.latency > 0:
        sim.state.slow_seconds = args.latency / 1000
        sim.state.fault("/api/", "slow")
    results: list[Result] = []
    try:
        with contextlib.ExitStack() as stack:
            url = stack.enter_context(redis_url(args.redis_url)) if "redis" in stores else ""
            for store_name in stores:
                for name in QUERIES:
                    store: Cache = (
                        MemoryCache()
                        if store_name == "memory"
                        else RedisCache.from_url(url, prefix=f"bench:{uuid.uuid4().hex}:")
                    )
                    try:
                        results.append(await measure(sim, name, store_name, store, args.queries))
                    finally:
                        await store.close()
    finally:
        await sim.close()
    return results


def report(results: list[Result], args: argparse.Namespace) -> str:
    """The results as a fixed-width table."""
    lines = [
        f"revgate response cache: {args.patches} generated patches, "
        f"{args.queries} identical queries per run, upstream latency {args.latency:g} ms, medians",
        f"{'query':<12} {'store':<7} {'upstream GETs':>13} {'uncached ms':>12} "
        f"{'cold ms':>9} {'warm ms':>9} {'warm/cold':>10}",
    ]
    for r in results:
        lines.append(
            f"{r.query:<12} {r.store:<7} {r.upstream_cold:>13} {r.uncached_ms:>12.2f} "
            f"{r.cold_ms:>9.2f} {r.warm_ms:>9.2f} {r.ratio:>9.1f}x"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=30, help="queries per run (default 30)")
    parser.add_argument("--patches", type=int, default=100, help="generated patches (100)")
    parser.add_argument("--latency", type=float, default=0.0, help="ms added per upstream GET")
    parser.add_argument("--store", choices=["memory", "redis", "both"], default="both")
    parser.add_argument("--redis-url", help="use this Redis instead of starting one")
    args = parser.parse_args()
    if args.queries < 1 or args.latency < 0:
        parser.error("--queries must be >= 1 and --latency >= 0")
    print(report(asyncio.run(main_async(args)), args))


if __name__ == "__main__":
    main()
