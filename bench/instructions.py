"""Instructions per GraphQL request, counted by callgrind: the measure that sees a 1 % change.

Wall and CPU time on the shared VM drift by up to 2× between runs; an instruction count is
the same for the same code and inputs. The in-process driver (``bench.profile``'s ASGI call,
fast path on, real simulator upstream in an uncounted child process, ``PYTHONHASHSEED=0``)
runs under ``valgrind --tool=callgrind`` for N and N+200 requests after the same warm-up;
the difference divided by 200 is what one request costs, start-up and warm-up cancelled out.

Run: ``.venv/bin/python -m bench.instructions [single|list-100|list-20 ...] [--base 20]
[--upstream static|memo-off|one|all]`` (needs valgrind; ~2 minutes a query). ``one``/``all``
put ``bench.changing``'s proxy (an uncounted child) in front of the simulator.
``drive`` is the child the recipe runs under callgrind.
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

QUERIES = {
    "single": SINGLE_QUERY,
    "list-100": LIST_QUERY,
    "list-20": LIST_QUERY.replace("first: 100", "first: 20"),
}
EXTRA = 200  # requests the second run adds


async def drive(name: str, requests: int, upstream: str) -> None:
    """Warm up, then send ``requests`` copies of query ``name`` (the counted child).
    ``upstream``: ``static``, ``memo-off`` (``content_memo = false``), or a mode of
    ``bench.changing`` (``one``, ``all``: every answer changed, memo on)."""
    memo, changing = upstream != "memo-off", upstream if upstream in ("one", "all") else None
    async with bench_app(fast=True, memo=memo, changing=changing) as app:
        body = await warm(app, QUERIES[name])
        for _ in range(requests):
            status, _ = await _asgi_post(app, body)
            assert status == 200, status


def count(name: str, requests: int, upstream: str) -> int:
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
            upstream,
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
    parser.add_argument(
        "--upstream",
        default="static",
        choices=("static", "memo-off", "one", "all"),
        help="unchanged answers, memo off, or answers changed by bench.changing",
    )
    args = parser.parse_args()
    if args.queries[:1] == ["drive"]:
        asyncio.run(drive(args.queries[1], int(args.queries[2]), args.queries[3]))
        return
    for name in args.queries:
        low = count(name, args.base, args.upstream)
        high = count(name, args.base + EXTRA, args.upstream)
        print(f"{name:9} {args.upstream:8} {(high - low) // EXTRA:>12,} instructions per request")


if __name__ == "__main__":
    main()
