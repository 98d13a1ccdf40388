"""Where the gateway's CPU goes: N queries through the ASGI app in-process, profiled.

Starts the simulator (100 generated patches) in a child process, builds the app over it and
sends each query straight to the ASGI callable (no HTTP client in the measurement; the
upstream call is real). Prints CPU milliseconds per request with the fast path on and off,
and with ``--profile`` a pyinstrument report (``pip install pyinstrument``) or, without
pyinstrument, cProfile's top functions.

Run: ``.venv/bin/python -m bench.profile [--requests 300] [--profile] [--slow]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import hashlib
import os
import pstats
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson

from bench.procs import free_port, spawn, stop
from bench.queries import BENCH_AUTH, BENCH_KEY, LIST_QUERY, SINGLE_QUERY, TOKEN
from gateway.app import create_app
from gateway.settings import settings_from_dict


async def _asgi_post(
    app: Any, body: bytes, path: str = "/graphql", query_string: bytes | None = None
) -> tuple[int, bytes]:
    """POST ``body`` to ``path``; with ``query_string``, a GET with that query string."""
    sent: list[dict[str, Any]] = []
    get = query_string is not None
    messages = [{"type": "http.request", "body": b"" if get else body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET" if get else "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query_string or b"",
        "root_path": "",
        "headers": [
            (b"accept" if get else b"content-type", b"application/json"),
            (b"host", b"revgate"),
            *((k.lower().encode(), v.encode()) for k, v in BENCH_AUTH),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


@contextlib.asynccontextmanager
async def bench_app(
    fast: bool, memo: bool = True, changing: str | None = None
) -> AsyncIterator[Any]:
    """The app over a simulator child process (100 generated patches), its backends open;
    ``memo=False`` sets ``content_memo = false``; ``changing`` puts ``bench.changing``'s
    rewriting proxy (a child process too) in between, in that mode (``one``, ``all``)."""
    port = free_port()
    # the simulator package has no ``__main__`` since it became a sub-package
    run_simulator = "from adapters.patchwork.simulator import main; main()"
    sim = await spawn(
        ["-c", run_simulator, "--port", str(port), "--generated", "100"],
        f"http://127.0.0.1:{port}/api/",
    )
    children = [sim]
    try:
        if changing is not None:
            upstream, port = f"http://127.0.0.1:{port}", free_port()
            args = ["-m", "bench.changing", "--upstream", upstream, "--port", str(port)]
            proxy = await spawn([*args, "--mode", changing], f"http://127.0.0.1:{port}/api/")
            children.append(proxy)
        settings = settings_from_dict(
            {
                "backends": [
                    {
                        "name": "pw",
                        "kind": "patchwork",
                        "url": f"http://127.0.0.1:{port}",
                        "token_env": "T",
                        "content_memo": memo,
                    }
                ],
                "api_keys": [
                    {
                        "name": "bench",
                        "sha256": hashlib.sha256(BENCH_KEY.encode()).hexdigest(),
                        "requests_per_minute": 10**9,
                        "cost_per_minute": 10**9,
                    }
                ],
            },
            env={"T": TOKEN},
        )
        app = create_app(settings)
        app.state.fast_path.enabled = fast
        app.state.bench_upstream = f"http://127.0.0.1:{port}"  # the floor's (bench.instructions)
        await app.state.backends.open()
        try:
            yield app
        finally:
            await app.state.backends.close()
    finally:
        await stop(children)


async def warm(app: Any, query: str) -> bytes:
    """The request body of ``query``, after 20 warm-up requests (connections, version
    detection, caches)."""
    body = orjson.dumps({"query": query})
    for _ in range(20):
        status, out = await _asgi_post(app, body)
        assert status == 200 and b'"errors"' not in out, out[-600:]
    gc.collect()
    return body


async def run(requests: int, profile: bool, fast: bool, memo: bool = True) -> None:
    """Measure (and optionally profile) both queries."""
    async with bench_app(fast, memo) as app:
        for name, query in (("list-100", LIST_QUERY), ("single", SINGLE_QUERY)):
            body = await warm(app, query)
            prof = cProfile.Profile() if profile else None
            start = time.process_time()
            if prof:
                prof.enable()
            for _ in range(requests):
                status, _ = await _asgi_post(app, body)
                assert status == 200, status
            if prof:
                prof.disable()
            cpu = (time.process_time() - start) * 1000 / requests
            mode = "fast path" if fast else "normal execution"
            print(f"{name:9} {mode:17} {cpu:6.2f} ms CPU per request (gateway process)")
            if prof:
                pstats.Stats(prof).sort_stats(os.environ.get("BENCH_SORT", "tottime")).print_stats(
                    int(os.environ.get("BENCH_TOP", "25"))
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    parser.add_argument("--slow", action="store_true", help="only normal execution")
    parser.add_argument("--memo-off", action="store_true", help="content_memo = false")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    modes = [False] if args.slow else [True] if args.profile else [False, True]
    for fast in modes:
        asyncio.run(run(args.requests, args.profile, fast, not args.memo_off))


if __name__ == "__main__":
    main()
