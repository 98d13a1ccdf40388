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
import cProfile
import gc
import os
import pstats
import time
from typing import Any

import orjson

from bench.procs import free_port, spawn, stop
from bench.queries import LIST_QUERY, SINGLE_QUERY, TOKEN
from gateway.app import create_app
from gateway.settings import settings_from_dict


async def _asgi_post(app: Any, body: bytes) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"host", b"revgate")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


async def run(requests: int, profile: bool, fast: bool) -> None:
    """Measure (and optionally profile) both queries."""
    port = free_port()
    sim = await spawn(
        ["-m", "adapters.patchwork.simulator", "--port", str(port), "--generated", "100"],
        f"http://127.0.0.1:{port}/api/",
    )
    try:
        settings = settings_from_dict(
            {
                "backends": [
                    {
                        "name": "pw",
                        "kind": "patchwork",
                        "url": f"http://127.0.0.1:{port}",
                        "token_env": "T",
                    }
                ]
            },
            env={"T": TOKEN},
        )
        app = create_app(settings)
        app.state.fast_path.enabled = fast
        await app.state.backends.open()
        try:
            for name, query in (("list-100", LIST_QUERY), ("single", SINGLE_QUERY)):
                body = orjson.dumps({"query": query})
                for _ in range(20):  # warm-up: connections, version detection, caches
                    status, out = await _asgi_post(app, body)
                    assert status == 200 and b'"errors"' not in out, out[:300]
                gc.collect()
                prof = cProfile.Profile() if profile else None
                start = time.process_time()
                if prof:
                    prof.enable()
                for _ in range(requests):
                    await _asgi_post(app, body)
                if prof:
                    prof.disable()
                cpu = (time.process_time() - start) * 1000 / requests
                mode = "fast path" if fast else "normal execution"
                print(f"{name:9} {mode:17} {cpu:6.2f} ms CPU per request (gateway process)")
                if prof:
                    pstats.Stats(prof).sort_stats(
                        os.environ.get("BENCH_SORT", "tottime")
                    ).print_stats(int(os.environ.get("BENCH_TOP", "25")))
        finally:
            await app.state.backends.close()
    finally:
        await stop([sim])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    parser.add_argument("--slow", action="store_true", help="only normal execution")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    modes = [False] if args.slow else [True] if args.profile else [False, True]
    for fast in modes:
        asyncio.run(run(args.requests, args.profile, fast))


if __name__ == "__main__":
    main()
