"""The floor for ``bench.compat``: a pass-through proxy that does nothing but forward bytes.

An aiohttp server on uvloop (the same event loop revgate runs on) that sends each
``GET /rest/pw/<path>`` to the backend with one pooled aiohttp client session and answers
with the backend's status, body, ``Content-Type`` and ``Link`` — no authentication, no rate
limit, no metrics, no logging, no parsing, no translation of URLs. No real gateway can be
cheaper than this on the same upstream exchange, so its latency over the backend's is the
least any proxy adds here: ``bench.compat`` prints it beside revgate's compat layer.

Run: ``python -m bench.bare_proxy PORT BACKEND_URL`` (``bench.compat`` starts it).
"""

from __future__ import annotations

import sys

import aiohttp
import uvloop
from aiohttp import web

PREFIX = "/rest/pw"
PASSED = ("Content-Type", "Link")


def make_app(backend: str) -> web.Application:
    """The proxy for ``backend`` (scheme, host and port; no trailing slash)."""
    app = web.Application()
    session_key = web.AppKey("session", aiohttp.ClientSession)

    async def open_session(app: web.Application) -> None:
        app[session_key] = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())

    async def close_session(app: web.Application) -> None:
        await app[session_key].close()

    async def forward(request: web.Request) -> web.Response:
        headers = {"Authorization": request.headers.get("Authorization", "")}
        url = backend + request.path_qs.removeprefix(PREFIX)
        async with app[session_key].get(url, headers=headers) as upstream:
            body = await upstream.read()
            passed = {name: upstream.headers[name] for name in PASSED if name in upstream.headers}
            return web.Response(body=body, status=upstream.status, headers=passed)

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.on_startup.append(open_session)
    app.on_cleanup.append(close_session)
    app.router.add_get(PREFIX + "/{path:.*}", forward)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    port, backend = int(sys.argv[1]), sys.argv[2].rstrip("/")
    uvloop.install()
    web.run_app(make_app(backend), host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
