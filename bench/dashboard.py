"""Bench: the 100-change cross-forge dashboard query vs the direct REST calls it replaces.

Starts three Patchwork simulators (recorded data, +100 generated patches, recorded data) and
the gateway over them, each in its own process on 127.0.0.1, then measures:

- upstream requests per dashboard query, by backend (from the gateway's /metrics);
- the gateway's latency for the query vs the sum of the direct REST calls a client would make
  for the same data (one `patches/?order=-date&per_page=100` per backend).

Bounded: a fixed number of requests per round, 3 rounds, medians printed. No network but
loopback. Run: `make bench-dashboard` or `.venv/bin/python -m bench.dashboard`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from bench.procs import free_port, spawn

TOKEN = "a0" * 20
QUERY = """query Dashboard { changes(first: 100) { missingBackends nodes {
  __typename id title state updatedAt webUrl checkState
  author { name email } project { name linkName } backend { name } } } }"""
BACKENDS = {"alpha": 0, "beta": 100, "gamma": 0}  # name -> generated patches


@asynccontextmanager
async def fleet() -> AsyncIterator[tuple[str, dict[str, str]]]:
    """The simulators and the gateway; yields the GraphQL URL and each backend's URL."""
    sims: dict[str, str] = {}
    procs: list[asyncio.subprocess.Process] = []
    try:
        for name, generated in BACKENDS.items():
            port = free_port()
            args = ["-m", "adapters.patchwork.simulator", "--port", str(port)]
            if generated:
                args += ["--generated", str(generated)]
            procs.append(await spawn(args, f"http://127.0.0.1:{port}/api/"))
            sims[name] = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "revgate.toml"
            config.write_text(
                "".join(
                    f'[[backends]]\nname = "{n}"\nkind = "patchwork"\nurl = "{u}"\n'
                    'token_env = "BENCH_TOKEN"\n'
                    for n, u in sims.items()
                )
            )
            port = free_port()
            os.environ["BENCH_TOKEN"] = TOKEN
            args = ["-m", "gateway.cli", "serve", "--config", str(config), "--port", str(port)]
            procs.append(await spawn(args, f"http://127.0.0.1:{port}/healthz"))
            yield f"http://127.0.0.1:{port}", sims
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            await proc.wait()


def _upstream_counts(metrics: str) -> dict[str, float]:
    counts: dict[str, float] = {}
    for m in re.finditer(
        r'revgate_upstream_requests_total\{backend="([^"]+)"[^}]*\} (\S+)', metrics
    ):
        counts[m.group(1)] = counts.get(m.group(1), 0.0) + float(m.group(2))
    return counts


async def _timed(call: Callable[[], Awaitable[None]], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


async def run(requests: int) -> None:
    """Measure and print the table."""
    async with fleet() as (gateway, sims), aiohttp.ClientSession() as http:

        async def dashboard() -> None:
            async with http.post(f"{gateway}/graphql", json={"query": QUERY}) as resp:
                body = await resp.json()
                assert "errors" not in body and len(body["data"]["changes"]["nodes"]) == 100

        async def direct() -> None:
            for url in sims.values():  # what a client does without the gateway, one by one
                params = {"order": "-date", "per_page": "100"}
                headers = {"Authorization": f"Token {TOKEN}"}
                async with http.get(f"{url}/api/1.3/patches/", params=params, headers=headers) as r:
                    await r.read()

        await dashboard()  # warm-up: version detection, connection pools
        async with http.get(f"{gateway}/metrics") as resp:
            before = _upstream_counts(await resp.text())
        await dashboard()
        async with http.get(f"{gateway}/metrics") as resp:
            after = _upstream_counts(await resp.text())
        per_backend = {b: after.get(b, 0) - before.get(b, 0) for b in sims}

        rounds = []
        for _ in range(3):
            gw = statistics.median(await _timed(dashboard, requests))
            rest = statistics.median(await _timed(direct, requests))
            rounds.append((gw, rest))
        gw = statistics.median(r[0] for r in rounds)
        rest = statistics.median(r[1] for r in rounds)
        print(f"dashboard query: changes(first: 100) over {len(sims)} Patchwork backends")
        print(
            "upstream requests per query:",
            ", ".join(f"{b}={n:g}" for b, n in per_backend.items()),
            f"(total {sum(per_backend.values()):g})",
        )
        print(f"gateway latency (median of 3x{requests}): {gw:.2f} ms")
        print(f"sum of direct REST calls (median):        {rest:.2f} ms")
        print(f"ratio gateway / direct REST:              {gw / rest:.2f}")


async def _bounded(work: Awaitable[None]) -> None:
    async with asyncio.timeout(600):
        await work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30, help="requests per round (default 30)")
    args = parser.parse_args()
    asyncio.run(_bounded(run(args.requests)))


if __name__ == "__main__":
    main()
