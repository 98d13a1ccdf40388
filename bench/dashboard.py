"""Bench: the 100-change cross-forge dashboard query vs the direct REST calls it replaces.

Starts the four demo backends (upstream Patchwork with recorded + generated patches, fdo
Patchwork, Gerrit, ABF), each in its own process on 127.0.0.1, and the gateway over them, then
measures:

- upstream requests per dashboard query, by backend (from the gateway's /metrics);
- the gateway's latency for the query vs the sum of the direct REST calls a client would make
  for the same data. Those calls are the very requests the gateway makes (recorded once by an
  in-process run over the same seeds: the least a client needs, since the gateway batches),
  issued one after the other with each backend's own credentials.

Bounded: a fixed number of requests per round, 3 rounds, medians printed. No network but
loopback. Run: `make bench-dashboard` or `.venv/bin/python -m bench.dashboard`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from bench.procs import free_port, spawn

QUERY = """query Dashboard { changes(first: 100) { missingBackends nodes {
  __typename id title state updatedAt webUrl checkState
  author { name email } project { name linkName } backend { name }
  currentRevision { number sha } } } }"""

# Sizes chosen so the newest 100 changes hold every kind (their seeds span different years).
PW_GENERATED, FDO_SERIES, GERRIT_CHANGES = 0, 1, 10
PW_TOKEN, FDO_TOKEN = "a0" * 20, "fd" * 20
GERRIT_USER, GERRIT_PASSWORD = "admin", "secret"


def _abf_token() -> str:
    from adapters.abf.simulator import TOKEN

    return TOKEN


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def headers_for(kind: str) -> dict[str, str]:
    """The credentials a direct client sends to each backend."""
    return {
        "patchwork": {"Authorization": f"Token {PW_TOKEN}"},
        "fdo": {"Authorization": f"Token {FDO_TOKEN}"},
        "gerrit": {"Authorization": _basic(GERRIT_USER, GERRIT_PASSWORD)},
        "abf": {"Authorization": _basic(_abf_token(), "")},
    }[kind]


CONFIG = """
[[backends]]
name = "patchwork"
kind = "patchwork"
url = "{patchwork}"
token_env = "BENCH_PW_TOKEN"

[[backends]]
name = "fdo"
kind = "patchwork-fdo"
url = "{fdo}"
token_env = "BENCH_FDO_TOKEN"

[[backends]]
name = "gerrit"
kind = "gerrit"
url = "{gerrit}"
username_env = "BENCH_GERRIT_USER"
password_env = "BENCH_GERRIT_PASSWORD"

[[backends]]
name = "abf"
kind = "abf"
url = "{abf}"
token_env = "BENCH_ABF_TOKEN"
"""


async def record_direct_calls() -> dict[str, list[str]]:
    """The upstream GETs one (warm) dashboard query makes, per backend: run in-process over
    simulators with the same seeds as the fleet's."""
    from adapters.abf.simulator import start_simulator as start_abf
    from adapters.gerrit.simulator import GerritData
    from adapters.gerrit.simulator import start_simulator as start_gerrit
    from adapters.patchwork.simulator import start_simulator as start_pw
    from adapters.patchwork.simulator.data import PatchworkData
    from adapters.patchwork_fdo.simulator import FdoData
    from adapters.patchwork_fdo.simulator import start_simulator as start_fdo
    from gateway.app import create_app
    from gateway.cli import demo_settings

    pw_data = PatchworkData.generated(PW_GENERATED) if PW_GENERATED else PatchworkData.from_seed()
    pw = await start_pw(pw_data)
    fdo = await start_fdo(FdoData.generated(FDO_SERIES))
    gerrit = await start_gerrit(GerritData.generated(GERRIT_CHANGES))
    abf = await start_abf()
    sims: dict[str, Any] = {"patchwork": pw, "fdo": fdo, "gerrit": gerrit, "abf": abf}
    app = create_app(demo_settings(pw.url, fdo.url, "127.0.0.1", 8000, abf.url, gerrit.url))
    backends = app.state.backends
    await backends.open()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as client:
            calls: dict[str, list[str]] = {}
            for _ in range(2):  # the second is warm, as in the timed rounds
                marks = {name: len(sim.state.requests) for name, sim in sims.items()}
                body = (await client.post("/graphql", json={"query": QUERY})).json()
                assert "errors" not in body, body["errors"]
                calls = {
                    name: [entry[1] for entry in sim.state.requests[marks[name] :]]
                    for name, sim in sims.items()
                }
            return calls
    finally:
        await backends.close()
        for sim in sims.values():
            await sim.close()


@asynccontextmanager
async def fleet() -> AsyncIterator[tuple[str, dict[str, str]]]:
    """The simulators and the gateway; yields the gateway URL and each backend's URL."""
    sims: dict[str, str] = {}
    procs: list[asyncio.subprocess.Process] = []
    servers = {
        "patchwork": (
            ["-m", "adapters.patchwork.simulator", "--generated", str(PW_GENERATED)],
            "/api/",
        ),
        "fdo": (["-m", "adapters.patchwork_fdo.simulator", "--generated", str(FDO_SERIES)], "/"),
        "gerrit": (["-m", "adapters.gerrit.simulator", "--generated", str(GERRIT_CHANGES)], "/"),
        "abf": (["-m", "adapters.abf.simulator"], "/"),
    }
    try:
        for name, (args, ready) in servers.items():
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            procs.append(await spawn([*args, "--port", str(port)], url + ready))
            sims[name] = url
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "revgate.toml"
            config.write_text(CONFIG.format(**sims))
            os.environ.update(
                BENCH_PW_TOKEN=PW_TOKEN,
                BENCH_FDO_TOKEN=FDO_TOKEN,
                BENCH_GERRIT_USER=GERRIT_USER,
                BENCH_GERRIT_PASSWORD=GERRIT_PASSWORD,
                BENCH_ABF_TOKEN=_abf_token(),
            )
            port = free_port()
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
    calls = await record_direct_calls()
    async with fleet() as (gateway, sims), aiohttp.ClientSession() as http:

        async def dashboard() -> None:
            async with http.post(f"{gateway}/graphql", json={"query": QUERY}) as resp:
                body = await resp.json()
                nodes = body["data"]["changes"]["nodes"]
                assert "errors" not in body and len(nodes) == 100, body.get("errors")

        async def direct() -> None:
            for name, paths in calls.items():  # a client without the gateway, one by one
                for path in paths:
                    url = sims[name] + path
                    async with http.get(url, headers=headers_for(name)) as r:
                        assert r.status == 200, (url, r.status)
                        await r.read()

        await dashboard()  # warm-up: version detection, connection pools
        async with http.get(f"{gateway}/metrics") as resp:
            before = _upstream_counts(await resp.text())
        async with http.post(f"{gateway}/graphql", json={"query": QUERY}) as resp:
            kinds: dict[str, int] = {}
            for node in (await resp.json())["data"]["changes"]["nodes"]:
                kinds[node["backend"]["name"]] = kinds.get(node["backend"]["name"], 0) + 1
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
        print("dashboard query: changes(first: 100) with author, project, checkState and")
        print("currentRevision over upstream Patchwork, fdo Patchwork, Gerrit and ABF")
        print("changes per backend in the page:", ", ".join(f"{b}={n}" for b, n in kinds.items()))
        print(
            "upstream requests per query:",
            ", ".join(f"{b}={n:g}" for b, n in per_backend.items()),
            f"(total {sum(per_backend.values()):g})",
        )
        n_direct = sum(len(p) for p in calls.values())
        print(f"gateway latency (median of 3x{requests}): {gw:.2f} ms")
        print(f"sum of the {n_direct} direct REST calls (median): {rest:.2f} ms")
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
