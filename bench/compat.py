"""Bench: the REST compat layer (``/rest/<backend>/…``) vs the backend's own endpoint.

Issue 9 asks for the compat layer's overhead over the backend it re-serves to stay ≤ 1.3×.

It starts the simulator (100 generated patches) and three revgate servers over it — one with
no response cache (``cache_ttl = 0``: every compat request goes upstream; an answer
identical to the previous one is re-served from its memoised rendering, ``adapters/stamps.py``),
the same with ``content_memo = false`` (every answer parsed into records and rendered) and
one with the backend's response cache on (``cache_ttl = 60``, measured warm) — then loads
the same list (``patches/?project=generated&per_page=100``) and one patch directly and
through ``/rest/pw/api/1.3/…``, side by side, ≥ 3 rounds, medians, and prints
compat/backend ratios for each. All figures are printed, always: the warm one says what a
cache hit costs, the memo-off one what the compat layer itself costs on a changed answer.

Beside them runs the floor (``bench.bare_proxy``): a pass-through proxy that only forwards
bytes (aiohttp server and client on uvloop; no authentication, metrics, logging, parsing or
translation). Its ratio is the least any proxy adds to this backend's latency on this
machine — against a simulator that answers in a fraction of a millisecond it is far above
the 1.3x target by itself (bench/README.md) — and each revgate row also prints its latency as
a multiple of the floor's.

The compat caller presents the bench API key in Patchwork's ``Token`` scheme, so the whole
access path (authentication, request-rate bucket) runs per request; every run counts
non-2xx answers and socket errors and prints them (a run with errors is flagged, never
reported as a fast one).

Run: ``.venv/bin/python -m bench.compat [--seconds 5] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import statistics
import tempfile
from pathlib import Path

import aiohttp

from bench import queries as q
from bench.load import Result, Target, measure
from bench.procs import free_port, spawn, stop

SERVER_CPU, CLIENT_CPU = 0, 1
WARM_TTL = 60  # seconds: longer than a whole bench run, so the warm server never misses


def compat_available() -> bool:
    """Whether this tree has the compat layer (``gateway/compat.py``)."""
    return importlib.util.find_spec("gateway.compat") is not None


def _config(sim: str, ttl: float, memo: bool) -> str:
    return (
        f'[[backends]]\nname = "pw"\nkind = "patchwork"\nurl = "{sim}"\n'
        f'token_env = "BENCH_TOKEN"\ncache_ttl = {ttl}\n'
        f"content_memo = {str(memo).lower()}\n" + q.access_toml()
    )


# label, cache_ttl, content_memo: uncached (every request upstream; an unchanged answer
# re-served from its memoised rendering, adapters/stamps.py), the same with the memo off
# (every answer parsed, mapped, rendered), and the response cache measured warm.
SERVERS = (("uncached", 0, True), ("memo off", 0, False), ("warm cache", WARM_TTL, True))


def _errors(results: list[Result]) -> str:
    failed = sum(r.errors for r in results)
    total = sum(r.requests for r in results)
    return f"errors {failed}/{total}" + (" — FAILED RUN, ignore its figures" if failed else "")


AUTH = (("Authorization", f"Token {q.TOKEN}"),)  # the backend's own token
# A compat client presents a gateway API key in Patchwork's own scheme (docs/compat.md)
GW_AUTH = (("Authorization", f"Token {q.BENCH_KEY}"),)


async def _gateways(sim: str, tmp: str, procs: list[asyncio.subprocess.Process]) -> dict[str, str]:
    """One revgate per ``SERVERS`` entry over ``sim``: label → its compat mount URL."""
    gateways: dict[str, str] = {}
    for label, ttl, memo in SERVERS:
        config = Path(tmp) / f"revgate-{len(procs)}.toml"
        config.write_text(_config(sim, ttl, memo))
        gw_port = free_port()
        procs.append(
            await spawn(
                [
                    *("-m", "gateway.cli", "serve", "--config", str(config)),
                    *("--port", str(gw_port)),
                ],
                f"http://127.0.0.1:{gw_port}/healthz",
                cpu=SERVER_CPU,
                env={"BENCH_TOKEN": q.TOKEN},
            )
        )
        gateways[label] = f"http://127.0.0.1:{gw_port}/rest/pw"
    return gateways


async def _warmed(gateways: dict[str, str]) -> bool:
    """One request per gateway and path (also warms the cache of the warm server); False,
    saying why, when one does not answer 200."""
    async with aiohttp.ClientSession() as http:
        for gw in gateways.values():
            for path in (q.REST_LIST_PATH, q.REST_SINGLE_PATH):
                async with http.get(gw + path, headers=dict(GW_AUTH)) as resp:
                    await resp.read()
                    if resp.status != 200:
                        print(f"compat layer: {gw}{path} answered {resp.status}; skipped")
                        return False
    return True


async def _point(
    urls: tuple[str, str, dict[str, str]],
    path: str,
    what: str,
    conns: int,
    timing: tuple[float, int],
) -> None:
    """One (query, concurrency) point: backend, floor and every gateway side by side."""
    sim, floor, gateways = urls
    seconds, rounds = timing
    direct: list[Result] = []
    bare: list[Result] = []
    compat: dict[str, list[Result]] = {label: [] for label in gateways}
    for _ in range(rounds):
        direct.append(await measure(Target(sim + path, headers=AUTH), conns, seconds, 1))
        bare.append(await measure(Target(floor + path, headers=AUTH), conns, seconds, 1))
        for label, gw in gateways.items():
            target = Target(gw + path, headers=GW_AUTH)
            compat[label].append(await measure(target, conns, seconds, 1))
    d = statistics.median(r.rps for r in direct)
    dl = statistics.median(r.p50_ms for r in direct)
    print(f"{what} c={conns}: backend {d:,.0f} req/s (p50 {dl:.2f} ms) [{_errors(direct)}]")
    f = statistics.median(r.rps for r in bare)
    fl = statistics.median(r.p50_ms for r in bare)
    print(
        f"  floor, bare proxy : {f:,.0f} req/s (p50 {fl:.2f} ms);"
        f" latency {fl / dl:.2f}x, throughput {f / d:.2f}x [{_errors(bare)}]"
    )
    for label, results in compat.items():
        c = statistics.median(r.rps for r in results)
        cl = statistics.median(r.p50_ms for r in results)
        print(
            f"  compat, {label:10}: {c:,.0f} req/s (p50 {cl:.2f} ms);"
            f" latency {cl / dl:.2f}x, throughput {c / d:.2f}x;"
            f" {cl / fl:.2f}x the floor's latency [{_errors(results)}]"
        )


async def run(seconds: float, rounds: int, latency_ms: float = 0.0) -> None:
    """Measure and print (``latency_ms``: the simulator answers API requests that late)."""
    port = free_port()
    sim_args = ["--port", str(port), "--generated", "100", "--latency-ms", str(latency_ms)]
    procs = [
        await spawn(
            ["-m", "adapters.patchwork.simulator", *sim_args],
            f"http://127.0.0.1:{port}/api/",
            cpu=CLIENT_CPU,
        )
    ]
    try:
        sim = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory() as tmp:
            gateways = await _gateways(sim, tmp, procs)
            floor_port = free_port()
            procs.append(
                await spawn(
                    ["-m", "bench.bare_proxy", str(floor_port), sim],
                    f"http://127.0.0.1:{floor_port}/healthz",
                    cpu=SERVER_CPU,
                )
            )
            floor = f"http://127.0.0.1:{floor_port}/rest/pw"
            if not await _warmed(gateways):
                return
            print(
                "compat vs backend: p50 latency ratio (goal <= 1.3) and throughput ratio;"
                f" {rounds} rounds x {seconds:g} s, medians"
                + (f"; backend answers {latency_ms:g} ms late" if latency_ms else "")
            )
            for what, path in (("list", q.REST_LIST_PATH), ("single", q.REST_SINGLE_PATH)):
                for conns in (1, 32):
                    await _point((sim, floor, gateways), path, what, conns, (seconds, rounds))
    finally:
        await stop(procs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--backend-latency-ms",
        type=float,
        default=0.0,
        help="the simulator answers API requests this late (a real server's service time)",
    )
    args = parser.parse_args()
    if not compat_available():
        print("compat layer not in this tree (gateway/compat.py): compat vs backend skipped")
        return
    asyncio.run(run(args.seconds, max(3, args.rounds), args.backend_latency_ms))


if __name__ == "__main__":
    main()
