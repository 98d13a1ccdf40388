"""Bench: the REST compat layer (``/rest/<backend>/…``) vs the backend's own endpoint.

Issue 9 asks for the compat layer's overhead over the backend it re-serves to stay ≤ 1.3×.
The compat layer is on branch ``compat-patchwork``; until it is in this tree this bench says
so and exits 0 (the hook is here so that ``make bench`` measures it as soon as it lands).

It starts the simulator (100 generated patches) and revgate over it, then loads the same list
(``patches/?project=generated&per_page=100``) and one patch directly and through
``/rest/pw/api/1.3/…``, side by side, ≥ 3 rounds, medians, and prints compat/backend ratios.

Run: ``.venv/bin/python -m bench.compat [--seconds 5]``.
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


def compat_available() -> bool:
    """Whether this tree has the compat layer (``gateway/compat.py``)."""
    return importlib.util.find_spec("gateway.compat") is not None


async def run(seconds: float, rounds: int) -> None:
    """Measure and print."""
    port = free_port()
    procs = [
        await spawn(
            ["-m", "adapters.patchwork.simulator", "--port", str(port), "--generated", "100"],
            f"http://127.0.0.1:{port}/api/",
            cpu=CLIENT_CPU,
        )
    ]
    try:
        sim = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "revgate.toml"
            config.write_text(
                f'[[backends]]\nname = "pw"\nkind = "patchwork"\nurl = "{sim}"\n'
                'token_env = "BENCH_TOKEN"\n' + q.access_toml()
            )
            gw_port = free_port()
            procs.append(
                await spawn(
                    ["-m", "gateway.cli", "serve", "--config", str(config), "--port", str(gw_port)],
                    f"http://127.0.0.1:{gw_port}/healthz",
                    cpu=SERVER_CPU,
                    env={"BENCH_TOKEN": q.TOKEN},
                )
            )
            gw = f"http://127.0.0.1:{gw_port}/rest/pw"
            auth = (("Authorization", f"Token {q.TOKEN}"),)  # the backend's own token
            # A compat client presents a gateway API key in Patchwork's own scheme (docs/compat.md)
            gw_auth = (("Authorization", f"Token {q.BENCH_KEY}"),)
            async with aiohttp.ClientSession() as http:
                probe = f"{gw}{q.REST_SINGLE_PATH}"
                async with http.get(probe, headers=dict(gw_auth)) as resp:
                    if resp.status != 200:
                        print(f"compat layer: {probe} answered {resp.status}; skipped")
                        return
            for what, path in (("list", q.REST_LIST_PATH), ("single", q.REST_SINGLE_PATH)):
                for conns in (1, 32):
                    direct: list[Result] = []
                    compat: list[Result] = []
                    for _ in range(rounds):
                        direct.append(
                            await measure(Target(sim + path, headers=auth), conns, seconds, 1)
                        )
                        compat.append(
                            await measure(Target(gw + path, headers=gw_auth), conns, seconds, 1)
                        )
                    d = statistics.median(r.rps for r in direct)
                    c = statistics.median(r.rps for r in compat)
                    dl = statistics.median(r.p50_ms for r in direct)
                    cl = statistics.median(r.p50_ms for r in compat)
                    print(
                        f"{what} c={conns}: backend {d:,.0f} req/s (p50 {dl:.2f} ms), compat"
                        f" {c:,.0f} req/s (p50 {cl:.2f} ms); compat/backend latency"
                        f" {cl / dl:.2f}x, throughput {c / d:.2f}x"
                    )
    finally:
        await stop(procs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not compat_available():
        print(
            "compat layer not in this tree (branch compat-patchwork): compat vs backend skipped;"
            " bench/compat.py measures it once gateway/compat.py lands"
        )
        return
    asyncio.run(run(args.seconds, max(3, args.rounds)))


if __name__ == "__main__":
    main()
