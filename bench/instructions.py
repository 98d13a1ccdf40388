"""Instructions per GraphQL request, counted by callgrind: the measure that sees a 1 % change.

Wall and CPU time on the shared VM drift by up to 2× between runs; an instruction count is
the same for the same code and inputs. The in-process driver (``bench.profile``'s ASGI call,
fast path on, real simulator upstream in an uncounted child process, ``PYTHONHASHSEED=0``)
runs under ``valgrind --tool=callgrind`` for N and N+200 requests after the same warm-up;
the difference divided by 200 is what one request costs, start-up and warm-up cancelled out.

Run: ``.venv/bin/python -m bench.instructions [single|list-100|list-20|typename ...] [--base 20]
[--upstream static|memo-off|one|all] [--server revgate|floor|get|get-strawberry]``
(needs valgrind; ~2 minutes a query). ``one``/``all`` put ``bench.changing``'s proxy (an
uncounted child) in front of the simulator; ``--server floor`` counts ``bench/floor.py``'s
hand-written answers instead; ``get`` the query sent as a GET (the lean entry answers it),
``get-strawberry`` the same GET through strawberry's view.
``drive`` is the child the recipe runs under callgrind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench.floor import PATHS, make_app
from bench.profile import _asgi_post, bench_app, warm
from bench.queries import LIST_QUERY, SINGLE_QUERY, TOKEN

QUERIES = {
    "single": SINGLE_QUERY,
    "list-100": LIST_QUERY,
    "list-20": LIST_QUERY.replace("first: 100", "first: 20"),
    "typename": "{ __typename }",  # no upstream: the fixed cost every POST pays
}
EXTRA = 200  # requests the second run adds


async def drive(name: str, requests: int, upstream: str, server: str = "revgate") -> None:
    """Warm up, then send ``requests`` copies of query ``name`` (the counted child).
    ``upstream``: ``static``, ``memo-off`` (``content_memo = false``), or a mode of
    ``bench.changing`` (``one``, ``all``: every answer changed, memo on; ``all-memo-off``:
    every answer changed, ``content_memo = false``). ``server``:
    ``floor``: the same exchange by ``bench/floor.py``'s hand-written app instead."""
    memo = upstream not in ("memo-off", "all-memo-off")
    changing = (
        "all" if upstream == "all-memo-off" else upstream if upstream in ("one", "all") else None
    )
    async with bench_app(fast=True, memo=memo, changing=changing) as app:
        body = await warm(app, QUERIES[name])
        if server in ("get", "get-strawberry"):  # the same query as a GET's query string
            if server == "get-strawberry":
                app.state.graphql.lean = None  # through strawberry's view
            query = urllib.parse.urlencode({"query": QUERIES[name]}).encode()
            await _send(app, body, "/graphql", 20, query)  # its plan and answers warmed
            await _send(app, body, "/graphql", requests, query)
            return
        if server != "floor":
            await _send(app, body, "/graphql", requests)
            return
        async with _floor(app.state.bench_upstream) as floor:
            await _send(floor, body, f"/{name}", 20)  # its warm-up
            await _send(floor, body, f"/{name}", requests)


async def _send(
    app: Any, body: bytes, path: str, requests: int, query_string: bytes | None = None
) -> None:
    for _ in range(requests):
        status, _ = await _asgi_post(app, body, path, query_string)
        assert status == 200, status


@contextlib.asynccontextmanager
async def _floor(upstream: str) -> AsyncIterator[Any]:
    """``bench/floor.py``'s app over ``upstream``, through its lifespan."""
    floor = make_app(upstream, TOKEN)
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.get_running_loop().create_task(
        floor({"type": "lifespan"}, inbox.get, outbox.put)
    )
    await inbox.put({"type": "lifespan.startup"})
    await outbox.get()
    try:
        yield floor
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


def count(name: str, requests: int, upstream: str, server: str = "revgate") -> int:
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
            server,
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
        choices=("static", "memo-off", "one", "all", "all-memo-off"),
        help="unchanged answers, memo off, or answers changed by bench.changing",
    )
    parser.add_argument(
        "--server",
        default="revgate",
        choices=("revgate", "floor", "get", "get-strawberry"),
        help="floor: bench/floor.py's hand-written answers over the same upstream; get: the "
        "query as a GET (the lean entry), get-strawberry: as a GET through strawberry's view",
    )
    args = parser.parse_args()
    if args.queries[:1] == ["drive"]:
        q = args.queries
        asyncio.run(drive(q[1], int(q[2]), q[3], q[4] if len(q) > 4 else "revgate"))
        return
    for name in args.queries:
        if args.server == "floor" and f"/{name}" not in PATHS:  # typename: no upstream to floor
            print(f"{name:9} {args.upstream:8} {args.server:8} (the floor does not answer it)")
            continue
        low = count(name, args.base, args.upstream, args.server)
        high = count(name, args.base + EXTRA, args.upstream, args.server)
        per = (high - low) // EXTRA
        print(f"{name:9} {args.upstream:8} {args.server:8} {per:>12,} instructions per request")


if __name__ == "__main__":
    main()
