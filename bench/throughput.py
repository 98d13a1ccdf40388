"""Bench: the same queries through revgate, GraphQL Mesh and the upstream REST API directly.

Starts, each in its own process on 127.0.0.1: the Patchwork simulator with 100 generated
patches, revgate over it, and GraphQL Mesh over it (``bench/mesh``: @graphql-mesh/openapi
over an OpenAPI description of the simulator's two endpoints; skipped with a message when
npm/node are missing). Servers are pinned to CPU 0, the simulator and the load generator to
CPU 1 (when there are two CPUs and ``taskset``), as in the measurements of issue 9.

For each query (list of 100 patches with nested author/project; one patch by ID) and each
concurrency (1 and 32) the servers are measured side by side: every round loads each server
once, in turn, and the round is repeated (≥ 3); medians of the rounds are printed with the
ratios. Then revgate's RSS is read before and after 10,000 requests.

Run: ``make bench`` (everything) or ``.venv/bin/python -m bench.throughput [--seconds 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import orjson

from bench import queries as q
from bench.load import Result, Target, count_requests, have_wrk, measure
from bench.procs import cpu_seconds, free_port, interpreter, rss_kib, spawn, stop

MESH_DIR = Path(__file__).with_name("mesh")
# revgate as configured by default; with the content memo off (adapters/stamps.py): every
# upstream answer parsed, mapped and built again, as if it had changed since the last; and
# with in-flight GETs not shared (adapters/http.py): each request its own upstream exchange.
REVGATES = (
    ("revgate", ""),
    ("revgate, memo off", "content_memo = false\n"),
    ("revgate, coalesce off", "coalesce_reads = false\n"),
)
SERVER_CPU, CLIENT_CPU = 0, 1


@dataclass
class Fleet:
    """The running servers: name -> (target per query), and revgate's pid."""

    targets: dict[str, dict[str, Target]] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)  # the process serving each name
    revgate_pid: int = 0
    notes: list[str] = field(default_factory=list)


def _graphql(url: str, query: str, headers: tuple[tuple[str, str], ...] = ()) -> Target:
    return Target(url=url, body=orjson.dumps({"query": query}), headers=headers)


async def _mesh(sim_url: str, procs: list[asyncio.subprocess.Process], fleet: Fleet) -> None:
    """Build and start GraphQL Mesh, or leave a note saying why not."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        fleet.notes.append("GraphQL Mesh skipped: npm/node not installed")
        return
    env = {"PATCHWORK_URL": sim_url, "PATCHWORK_TOKEN": q.TOKEN, "NODE_ENV": "production"}
    if not (MESH_DIR / "node_modules" / ".bin" / "mesh").exists():
        print("installing GraphQL Mesh (npm ci in bench/mesh) …", flush=True)
        done = await asyncio.to_thread(
            subprocess.run,
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=MESH_DIR,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            fleet.notes.append(f"GraphQL Mesh skipped: npm ci failed ({done.stderr[-200:]})")
            return
    mesh = str(MESH_DIR / "node_modules" / ".bin" / "mesh")
    built = await asyncio.to_thread(
        subprocess.run,
        [mesh, "build"],
        cwd=MESH_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    if built.returncode != 0:
        fleet.notes.append(f"GraphQL Mesh skipped: mesh build failed ({built.stdout[-300:]})")
        return
    port = free_port()
    started = await spawn(
        ["start", "--port", str(port)],
        f"http://127.0.0.1:{port}/healthcheck",
        60,
        cpu=SERVER_CPU,
        env=env,
        program=mesh,
        cwd=MESH_DIR,
    )
    procs.append(started)
    fleet.pids["mesh"] = started.pid
    url = f"http://127.0.0.1:{port}/graphql"
    fleet.targets["mesh"] = {
        "list": _graphql(url, q.MESH_LIST_QUERY),
        "single": _graphql(url, q.MESH_SINGLE_QUERY),
    }


async def start_revgates(
    upstream: str,
    procs: list[asyncio.subprocess.Process],
    out: Fleet,
    targets: Callable[[str], dict[str, Target]],
) -> None:
    """Start one revgate per ``REVGATES`` entry over ``upstream`` (one Patchwork backend);
    ``targets`` gives each one's queries from its GraphQL URL."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in REVGATES:
            config = Path(tmp) / f"revgate-{len(procs)}.toml"
            config.write_text(
                f'[[backends]]\nname = "pw"\nkind = "patchwork"\nurl = "{upstream}"\n'
                f'token_env = "BENCH_TOKEN"\n{extra}' + q.access_toml()
            )
            gw_port = free_port()
            serve = ["serve", "--config", str(config), "--port", str(gw_port)]
            gw = await spawn(
                ["-m", "gateway.cli", *serve],
                f"http://127.0.0.1:{gw_port}/healthz",
                cpu=SERVER_CPU,
                env={"BENCH_TOKEN": q.TOKEN},
            )
            procs.append(gw)
            out.pids[name] = gw.pid
            out.targets[name] = targets(f"http://127.0.0.1:{gw_port}/graphql")


@asynccontextmanager
async def fleet(with_mesh: bool) -> AsyncIterator[Fleet]:
    """Start the simulator, revgate and (when possible) Mesh; stop them afterwards."""
    procs: list[asyncio.subprocess.Process] = []
    out = Fleet()
    try:
        port = free_port()
        args = ["-m", "adapters.patchwork.simulator", "--port", str(port), "--generated", "100"]
        sim_proc = await spawn(args, f"http://127.0.0.1:{port}/api/", cpu=CLIENT_CPU)
        procs.append(sim_proc)
        out.pids["direct REST"] = sim_proc.pid
        sim = f"http://127.0.0.1:{port}"
        auth = (("Authorization", f"Token {q.TOKEN}"),)
        out.targets["direct REST"] = {
            "list": Target(sim + q.REST_LIST_PATH, headers=auth),
            "single": Target(sim + q.REST_SINGLE_PATH, headers=auth),
        }
        await start_revgates(
            sim,
            procs,
            out,
            lambda url: {
                "list": _graphql(url, q.LIST_QUERY, q.BENCH_AUTH),
                "single": _graphql(url, q.SINGLE_QUERY, q.BENCH_AUTH),
            },
        )
        out.revgate_pid = out.pids["revgate"]
        if with_mesh:
            await _mesh(sim, procs, out)
        else:
            out.notes.append("GraphQL Mesh skipped (--no-mesh)")
        yield out
    finally:
        await stop(procs)


async def _check(target: Target, what: str) -> None:
    """One request that must succeed with the expected shape (no fast-but-wrong servers)."""
    async with aiohttp.ClientSession() as http:
        method = http.post if target.body is not None else http.get
        headers = dict(target.headers) | {"Content-Type": "application/json"}
        async with method(target.url, data=target.body, headers=headers) as resp:
            body = orjson.loads(await resp.read())
    assert resp.status == 200, (what, resp.status, body)
    if target.body is not None:
        assert not body.get("errors"), (what, body)
        data = body["data"]
        if "patches" in data:
            items = (
                data["patches"]["nodes"] if isinstance(data["patches"], dict) else data["patches"]
            )
            assert len(items) == 100, (what, len(items))


def _median(results: list[Result]) -> Result:
    return Result(
        rps=statistics.median(r.rps for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        requests=sum(r.requests for r in results),
        errors=sum(r.errors for r in results),
    )


async def measure_point(
    f: Fleet, what: str, conns: int, seconds: float, rounds: int
) -> dict[str, tuple[Result, float]]:
    """Each server's median result and CPU ms per request for query ``what`` at ``conns``
    connections: ``rounds`` rounds, each loading every server once, in turn."""
    runs: dict[str, list[Result]] = {n: [] for n in f.targets}
    cpus: dict[str, list[float]] = {n: [] for n in f.targets}
    for _ in range(rounds):
        for name, targets in f.targets.items():
            before = cpu_seconds(f.pids[name])
            result = await measure(targets[what], conns, seconds, CLIENT_CPU)
            used = cpu_seconds(f.pids[name]) - before
            runs[name].append(result)
            cpus[name].append(used * 1000 / max(1, result.requests))
    return {n: (_median(runs[n]), statistics.median(cpus[n])) for n in f.targets}


async def run(seconds: float, rounds: int, with_mesh: bool, rss_requests: int) -> None:
    """Measure and print the tables."""
    async with fleet(with_mesh) as f:
        for name, targets in f.targets.items():
            for what, target in targets.items():
                await _check(target, f"{name} {what}")
                for _ in range(50):  # warm-up (JIT, pools, caches)
                    await count_requests(target, 1, 1)
        generator = "wrk" if have_wrk() else "Python load generator (wrk not installed)"
        print(f"load generator: {generator}; {rounds} rounds x {seconds:g} s per point")
        print(f"Python servers on {interpreter()}")
        for note in f.notes:
            print(note)
        table: dict[tuple[str, str, int], Result] = {}
        cpu: dict[tuple[str, str, int], float] = {}
        for what in ("list", "single"):
            for conns in (1, 32):
                for name, (result, ms) in (
                    await measure_point(f, what, conns, seconds, rounds)
                ).items():
                    table[(name, what, conns)] = result
                    cpu[(name, what, conns)] = ms
        _print_table(table, cpu, list(f.targets))
        await _rss(f, rss_requests)


def _print_table(
    table: dict[tuple[str, str, int], Result],
    cpu: dict[tuple[str, str, int], float],
    names: list[str],
) -> None:
    print()
    print(
        "| query | server | req/s c=1 | p50 ms c=1 | p99 ms c=1 | CPU ms/req c=1"
        " | req/s c=32 | p99 ms c=32 | CPU ms/req c=32 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for what in ("list", "single"):
        for name in names:
            one, many = table[(name, what, 1)], table[(name, what, 32)]
            flag = " (errors!)" if one.errors or many.errors else ""
            print(
                f"| {what} | {name}{flag} | {one.rps:,.0f} | {one.p50_ms:.2f} | {one.p99_ms:.2f}"
                f" | {cpu[(name, what, 1)]:.2f} | {many.rps:,.0f} | {many.p99_ms:.2f}"
                f" | {cpu[(name, what, 32)]:.2f} |"
            )
    print()
    for what in ("list", "single"):
        for rg, _ in REVGATES:
            rg1, rg32 = table[(rg, what, 1)], table[(rg, what, 32)]
            if ("mesh", what, 1) in table:
                m1, m32 = table[("mesh", what, 1)], table[("mesh", what, 32)]
                print(
                    f"{what}: {rg}/Mesh throughput  c=1 {rg1.rps / m1.rps:.2f}x"
                    f"   c=32 {rg32.rps / m32.rps:.2f}x;   Mesh/{rg} CPU per request"
                    f"  c=1 {cpu[('mesh', what, 1)] / cpu[(rg, what, 1)]:.2f}x"
                    f"   c=32 {cpu[('mesh', what, 32)] / cpu[(rg, what, 32)]:.2f}x"
                )
            d1 = table[("direct REST", what, 1)]
            print(
                f"{what}: {rg}/direct REST latency (p50, c=1) {rg1.p50_ms / d1.p50_ms:.2f}x"
                f"   throughput {rg}/direct c=1 {rg1.rps / d1.rps:.2f}"
            )


async def _rss(f: Fleet, total: int) -> None:
    targets = f.targets["revgate"]
    before = rss_kib(f.revgate_pid)
    half = total // 2
    failed = await count_requests(targets["list"], half, 8)
    failed += await count_requests(targets["single"], total - half, 8)
    middle = rss_kib(f.revgate_pid)
    failed += await count_requests(targets["list"], half, 8)
    failed += await count_requests(targets["single"], total - half, 8)
    after = rss_kib(f.revgate_pid)
    print()
    print(
        f"revgate RSS: {before / 1024:.1f} MiB after warm-up, {middle / 1024:.1f} MiB after"
        f" {total:,} requests (half list, half single), {after / 1024:.1f} MiB after"
        f" {2 * total:,}; growth over the second {total:,}: {(after - middle) / 1024:+.1f} MiB"
        f" ({failed} failed)"
    )


async def _bounded(seconds: float, rounds: int, with_mesh: bool, rss_requests: int) -> None:
    async with asyncio.timeout(3600):
        await run(seconds, rounds, with_mesh, rss_requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per load run (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per point (>= 3)")
    parser.add_argument("--no-mesh", action="store_true", help="skip GraphQL Mesh")
    parser.add_argument("--rss-requests", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(_bounded(args.seconds, max(3, args.rounds), not args.no_mesh, args.rss_requests))


if __name__ == "__main__":
    main()
