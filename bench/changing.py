"""The rewriting proxy of ``bench.fresh``: every upstream answer differs from the previous one.

Between a server and the Patchwork simulator it changes one item (``one``) or every item
(``all``) of each JSON answer, or none (``static``), and drops ``ETag``/``Last-Modified`` so
no server can revalidate an answer that changed. In a bench process (``changing_proxy``), or
as a child process for the in-process drivers (``bench.instructions --changing all``):
``python -m bench.changing --upstream URL --port N --mode all``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from bench.procs import free_port

# Headers a rewritten body cannot keep: validators of the old bytes, and framing.
_DROP = {"etag", "last-modified", "content-length", "transfer-encoding", "content-encoding"}


class ChangingProxy:
    """Forwards to ``upstream`` and rewrites JSON answers according to ``mode``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.mode = "static"
        self.counter = 0
        self.session: aiohttp.ClientSession | None = None

    def _rewrite(self, payload: Any) -> Any:
        self.counter += 1
        mark = f" #{self.counter}"
        if isinstance(payload, dict) and "name" in payload:
            payload["name"] += mark
        elif isinstance(payload, list) and payload:
            for item in payload if self.mode == "all" else payload[:1]:
                if isinstance(item, dict) and "name" in item:
                    item["name"] += mark
        return payload

    async def handle(self, request: web.Request) -> web.StreamResponse:
        assert self.session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        # Conditional requests would let a server keep an answer the proxy is about to change.
        headers.pop("If-None-Match", None)
        headers.pop("If-Modified-Since", None)
        async with self.session.request(
            request.method,
            self.upstream + request.path_qs,
            headers=headers,
            data=await request.read(),
            allow_redirects=False,
        ) as up:
            body = await up.read()
            out = {k: v for k, v in up.headers.items() if k.lower() not in _DROP}
            if "Link" in out:  # next/prev links name the proxy, as a real upstream's would
                out["Link"] = out["Link"].replace(self.upstream, f"http://{request.host}")
            if self.mode != "static" and up.content_type == "application/json" and body:
                body = orjson.dumps(self._rewrite(orjson.loads(body)))
            return web.Response(status=up.status, body=body, headers=out)


@asynccontextmanager
async def changing_proxy(
    upstream: str, port: int | None = None
) -> AsyncIterator[tuple[ChangingProxy, str]]:
    """The proxy served on 127.0.0.1 (in this process, which runs on the client CPU)."""
    proxy = ChangingProxy(upstream)
    proxy.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = port or free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield proxy, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
        await proxy.session.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="the simulator's base URL")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", default="all", choices=("static", "one", "all"))
    args = parser.parse_args()

    async def serve() -> None:
        async with changing_proxy(args.upstream, args.port) as (proxy, _):
            proxy.mode = args.mode
            await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
