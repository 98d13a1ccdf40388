"""Bench: revgate vs GraphQL Mesh when the upstream answer changes on every request.

``bench.throughput`` measures an upstream whose answers are byte-identical from one request
to the next, the case revgate's content memo (adapters/stamps.py) is built for. Dashboards and
bots re-read lists that *change*; this bench puts a small rewriting proxy (``ChangingProxy``)
between every server and the Patchwork simulator, so that each upstream answer differs from
the previous one in the way each shape names:

- ``static``: answers passed on unchanged (the memo's best case, for reference);
- ``one``: one item of each list answer changed per request (the first patch's name gets the
  request's number; a single object is then changed every time);
- ``all``: every item changed per request.

The proxy drops ``ETag``/``Last-Modified`` so no server can revalidate an answer that changed.
Queries: list of 100 and of 20 patches with author and project, and one patch by ID, each at
c=1 and c=32, side by side (each round loads every server once in turn; ≥ 3 rounds; medians).
Servers: revgate as configured by default, revgate with ``content_memo = false``, GraphQL Mesh
(``bench/mesh``; skipped with a note without npm/node), and the floor (``bench/floor.py``: the
three answers by hand-written code on revgate's server stack, no GraphQL at all — the least CPU
per request a Python server can spend on this upstream exchange). Servers on CPU 0; the
simulator, the proxy and the load generator on CPU 1. Figures: bench/README.md.

Run: ``.venv/bin/python -m bench.fresh [--seconds 5] [--modes static,one,all]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

import aiohttp
import orjson

from bench import queries as q
from bench.changing import changing_proxy
from bench.load import Result, Target, count_requests, have_wrk
from bench.procs import free_port, interpreter, spawn, stop
from bench.throughput import Fleet, _graphql, _mesh, measure_point, start_revgates

SERVER_CPU, CLIENT_CPU = 0, 1
MODES = ("static", "one", "all")
SHAPES = ("list-100", "list-20", "single")


def _queries(first: int) -> tuple[str, str]:
    """revgate's and Mesh's list query for ``first`` patches (the throughput bench's fields)."""
    ours = q.LIST_QUERY.replace("first: 100", f"first: {first}")
    mesh = q.MESH_LIST_QUERY.replace("per_page: 100", f"per_page: {first}")
    return ours, mesh


async def _start(
    upstream: str, with_mesh: bool, procs: list[Any], with_floor: bool = True
) -> Fleet:
    out = Fleet()
    await start_revgates(
        upstream,
        procs,
        out,
        lambda url: {
            "list-100": _graphql(url, q.LIST_QUERY, q.BENCH_AUTH),
            "list-20": _graphql(url, _queries(20)[0], q.BENCH_AUTH),
            "single": _graphql(url, q.SINGLE_QUERY, q.BENCH_AUTH),
        },
    )
    if with_floor:  # hand-written answers on revgate's server stack (bench/floor.py)
        port = free_port()
        args = ["-m", "bench.floor", str(port), upstream, q.TOKEN]
        floor = await spawn(args, f"http://127.0.0.1:{port}/", cpu=SERVER_CPU)
        procs.append(floor)
        out.pids["floor"] = floor.pid
        out.targets["floor"] = {
            what: Target(url=f"http://127.0.0.1:{port}/{what}", body=b"{}", headers=())
            for what in SHAPES
        }
    if with_mesh:
        await _mesh(upstream, procs, out)
        if "mesh" in out.targets:
            url = out.targets["mesh"]["list"].url
            out.targets["mesh"] = {
                "list-100": _graphql(url, q.MESH_LIST_QUERY),
                "list-20": _graphql(url, _queries(20)[1]),
                "single": _graphql(url, q.MESH_SINGLE_QUERY),
            }
    else:
        out.notes.append("GraphQL Mesh skipped (--no-mesh)")
    return out


async def _checked(target: Target, what: str, expect: int) -> None:
    """One request that must answer ``expect`` items without errors (no fast-but-wrong)."""
    headers = dict(target.headers) | {"Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(target.url, data=target.body, headers=headers) as resp,
    ):
        body = orjson.loads(await resp.read())
    assert resp.status == 200 and not body.get("errors"), (what, resp.status, body)
    data = body["data"]
    if "node" in data:
        assert data["node"] and data["node"]["title"], (what, data)
    if "patches" in data:
        got = data["patches"]
        items = got["nodes"] if isinstance(got, dict) else got
        assert len(items) == expect, (what, len(items))


Table = dict[tuple[str, str, str, int], Result]


async def run(seconds: float, rounds: int, with_mesh: bool, modes: list[str]) -> None:
    """Measure every (mode, shape, concurrency) point and print the tables."""
    if (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {CLIENT_CPU})  # the proxy runs here: keep it off the servers' CPU
    procs: list[Any] = []
    try:
        port = free_port()
        args = ["-m", "adapters.patchwork.simulator", "--port", str(port), "--generated", "100"]
        procs.append(await spawn(args, f"http://127.0.0.1:{port}/api/", cpu=CLIENT_CPU))
        async with changing_proxy(f"http://127.0.0.1:{port}") as (proxy, proxy_url):
            fleet = await _start(proxy_url, with_mesh, procs)
            for name, targets in fleet.targets.items():
                for what, target in targets.items():
                    await _checked(target, f"{name} {what}", 20 if what == "list-20" else 100)
                    await count_requests(target, 50, 1)  # warm-up (JIT, pools, caches)
            generator = "wrk" if have_wrk() else "Python load generator (wrk not installed)"
            print(f"load generator: {generator}; {rounds} rounds x {seconds:g} s per point")
            print(f"Python servers on {interpreter()}")
            for note in fleet.notes:
                print(note)
            table: Table = {}
            cpu: dict[tuple[str, str, str, int], float] = {}
            for mode in modes:
                proxy.mode = mode
                for what in SHAPES:
                    for conns in (1, 32):
                        await _point(fleet, (mode, what, conns), seconds, rounds, table, cpu)
            _print(table, cpu, list(fleet.targets), modes)
    finally:
        await stop(procs)


async def _point(
    fleet: Fleet,
    point: tuple[str, str, int],
    seconds: float,
    rounds: int,
    table: Table,
    cpu: dict[tuple[str, str, str, int], float],
) -> None:
    mode, what, conns = point
    for name, (result, ms) in (await measure_point(fleet, what, conns, seconds, rounds)).items():
        table[(name, mode, what, conns)] = result
        cpu[(name, mode, what, conns)] = ms


def _print(
    table: Table,
    cpu: dict[tuple[str, str, str, int], float],
    names: list[str],
    modes: list[str],
) -> None:
    print(
        "\n| upstream | query | server | req/s c=1 | p99 ms c=1 | CPU ms/req c=1 | req/s c=32"
        " | p99 ms c=32 | CPU ms/req c=32 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for mode in modes:
        for what in SHAPES:
            for name in names:
                one, many = table[(name, mode, what, 1)], table[(name, mode, what, 32)]
                flag = " (errors!)" if one.errors or many.errors else ""
                print(
                    f"| {mode} | {what} | {name}{flag} | {one.rps:,.0f} | {one.p99_ms:.2f}"
                    f" | {cpu[(name, mode, what, 1)]:.2f} | {many.rps:,.0f}"
                    f" | {many.p99_ms:.2f} | {cpu[(name, mode, what, 32)]:.2f} |"
                )
    if "mesh" not in names:
        return
    print(
        "\n| upstream | query | server | throughput /Mesh c=1 | c=32 | CPU per request /Mesh"
        " c=1 | c=32 |"
    )
    print("|---|---|---|---|---|---|---|")
    for mode in modes:
        for what in SHAPES:
            for name in names:
                if name == "mesh":
                    continue
                mesh = [table[("mesh", mode, what, c)].rps for c in (1, 32)]
                mesh_cpu = [cpu[("mesh", mode, what, c)] for c in (1, 32)]
                ratios = [
                    _ratio(table[(name, mode, what, c)].rps, m)
                    for c, m in zip((1, 32), mesh, strict=True)
                ]
                ratios += [
                    _ratio(cpu[(name, mode, what, c)], m)
                    for c, m in zip((1, 32), mesh_cpu, strict=True)
                ]
                print(f"| {mode} | {what} | {name} | " + " | ".join(ratios) + " |")


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if theirs > 0 else "n/a (no answers)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per load run (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per point (>= 3)")
    parser.add_argument("--no-mesh", action="store_true", help="skip GraphQL Mesh")
    parser.add_argument("--modes", default=",".join(MODES), help="static,one,all")
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    if not modes or any(m not in MODES for m in modes):
        sys.exit(f"--modes: choose from {', '.join(MODES)}")
    asyncio.run(
        asyncio.wait_for(run(args.seconds, max(3, args.rounds), not args.no_mesh, modes), 7200)
    )


if __name__ == "__main__":
    main()
