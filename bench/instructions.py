"""Instructions per GraphQL request, counted by callgrind: the measure that sees a 1 % change.

Wall and CPU time on the shared VM drift by up to 2× between runs; an instruction count is
the same for the same code and inputs. The in-process driver (``bench.profile``'s ASGI call,
fast path on, real simulator upstream in an uncounted child process, ``PYTHONHASHSEED=0``)
runs under ``valgrind --tool=callgrind`` for N and N+200 requests after the same warm-up;
the difference divided by 200 is what one request costs, start-up and warm-up cancelled out.

Run: ``.venv/bin/python -m bench.instructions [single|list-100 ...] [--base 20]`` (needs
valgrind; ~2 minutes a query). ``drive`` is the child the recipe runs under callgrind.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.profile import _asgi_post, bench_app, warm
from bench.queries import LIST_QUERY, SINGLE_QUERY

QUERIES = {"single": SINGLE_QUERY, "list-100": LIST_QUERY}
EXTRA = 200  # requests the second run adds


async def drive(name: str, requests: int) -> None:
    """Warm up, then send ``requests`` copies of query ``name`` (the counted child)."""
    async with bench_app(fast=True) as app:
        body = await warm(app, QUERIES[name])
        for _ in range(requests):
            status, _ = await _asgi_post(app, body)
            assert status == 200, status


def count(name: str, requests: int) -> int:
    """Instructions of one driver run of ``requests`` requests under callgrind."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        cmd = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-m",
            "bench.instructions",
            "drive",
            name,
            str(requests),
        ]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        subprocess.run(cmd, check=True, env=env, capture_output=True)
        found = re.search(r"^(?:summary|totals):\s*(\d+)", out.read_text(), re.MULTILINE)
        assert found is not None, "no totals in callgrind's output"
        return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("queries", nargs="*", default=list(QUERIES))
    parser.add_argument("--base", type=int, default=20, help="requests of the first run")
    args = parser.parse_args()
    if args.queries[:1] == ["drive"]:
        asyncio.run(drive(args.queries[1], int(args.queries[2])))
        return
    for name in args.queries:
        low, high = count(name, args.base), count(name, args.base + EXTRA)
        print(f"{name:9} {(high - low) // EXTRA:>12,} instructions per request")


if __name__ == "__main__":
    main()
