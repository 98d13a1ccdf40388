"""The floor for ``bench.fresh``: the benchmark's three queries answered by hand-written code.

A raw ASGI app on the server stack revgate runs on (uvicorn, httptools, uvloop; one pooled
aiohttp session upstream) that answers each shape of ``bench.fresh`` — list of 100, list of
20, one patch — with the very fields ``bench/queries.py`` asks, from one upstream GET: read
the POST body, GET the upstream, ``orjson.loads``, pick the fields, ``orjson.dumps``. No
GraphQL parse, validation or execution, no authentication, limits, metrics, logging or
scrubbing, and no ``checkState`` vocabulary (Patchwork's own ``check`` word, as Mesh serves
it). No GraphQL gateway on this stack can use less CPU per request than this, so its CPU
beside Mesh's says how far below Mesh a Python gateway can go on this upstream exchange.

Served paths: ``/list-100``, ``/list-20``, ``/single`` (the request body is read and ignored).
Run: ``python -m bench.floor PORT UPSTREAM_URL TOKEN`` (``bench.fresh`` starts it).
"""

from __future__ import annotations

import sys
from typing import Any

import aiohttp
import orjson
import uvicorn

from bench.queries import PROJECT, SINGLE_ID

PATHS = {
    "/list-100": f"/api/1.3/patches/?project={PROJECT}&per_page=100",
    "/list-20": f"/api/1.3/patches/?project={PROJECT}&per_page=20",
    "/single": f"/api/1.3/patches/{SINGLE_ID}/",
}


def _patch(p: dict[str, Any]) -> dict[str, Any]:
    submitter, project = p["submitter"], p["project"]
    return {
        "id": p["id"],
        "title": p["name"],
        "state": p["state"],
        "createdAt": p["date"],
        "webUrl": p["web_url"],
        "check": p["check"],
        "author": {"name": submitter["name"], "email": submitter["email"]},
        "project": {"name": project["name"], "linkName": project["link_name"]},
    }


def make_app(upstream: str, token: str) -> Any:
    """The ASGI app over ``upstream`` (scheme, host and port; no trailing slash)."""
    session: list[aiohttp.ClientSession] = []
    headers = {"Authorization": f"Token {token}"}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    session.append(aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()))
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await session[0].close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        more = True
        while more:  # the body, as any server must read it
            message = await receive()
            more = message.get("more_body", False)
        path = PATHS.get(scope["path"])
        if path is None:
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        async with session[0].get(upstream + path, headers=headers) as answer:
            payload = orjson.loads(await answer.read())
        if isinstance(payload, list):
            data: dict[str, Any] = {"patches": {"nodes": [_patch(p) for p in payload]}}
        else:
            data = {"node": _patch(payload)}
        body = orjson.dumps({"data": data})
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


def main() -> None:
    port, upstream, token = int(sys.argv[1]), sys.argv[2].rstrip("/"), sys.argv[3]
    uvicorn.run(
        make_app(upstream, token),
        host="127.0.0.1",
        port=port,
        http="httptools",
        loop="uvloop",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
