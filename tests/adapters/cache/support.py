"""The response-cache tests' upstream (a real aiohttp server on 127.0.0.1 counting what it is
asked), a fake clock and small helpers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from adapters.cache import Cache, MemoryCache, RedisCache
from adapters.http import HttpClient

SECRET = "tok-Zq9xW-cache-never-in-a-key"
OTHER = "tok-Other-user-7781"
TTL = 30.0


class FakeClock:
    """An injectable clock that only moves when told to."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Upstream:
    """The test server: its URL, what it saw, and a gate for slow answers."""

    url: str = ""
    hits: dict[str, int] = field(default_factory=dict)
    conditional: list[tuple[str, str]] = field(default_factory=list)
    not_modified: int = 0
    etag: str = '"v1"'
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def total(self) -> int:
        return sum(self.hits.values())


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", headers=headers
    )


async def _count(up: Upstream, request: web.Request) -> None:
    up.hits[request.path] = up.hits.get(request.path, 0) + 1
    for name in ("If-None-Match", "If-Modified-Since"):
        if name in request.headers:
            up.conditional.append((name, request.headers[name]))


def build_app(up: Upstream) -> web.Application:
    async def items(request: web.Request) -> web.Response:
        await _count(up, request)
        nxt = f'<http://{request.host}/items/?page=2>; rel="next"'
        return _json(
            [{"n": up.hits[request.path], "q": request.query_string}], headers={"Link": nxt}
        )

    async def whoami(request: web.Request) -> web.Response:
        await _count(up, request)
        return _json({"auth": request.headers.get("Authorization")})

    async def slow(request: web.Request) -> web.Response:
        await _count(up, request)
        await up.release.wait()
        return _json({"n": up.hits[request.path]})

    async def fail(request: web.Request) -> web.Response:
        await _count(up, request)
        await up.release.wait()
        return _json({"detail": "down"}, status=500)

    async def missing(request: web.Request) -> web.Response:
        await _count(up, request)
        return _json({"detail": "Not found."}, status=404)

    async def no_store(request: web.Request) -> web.Response:
        await _count(up, request)
        return _json({"n": up.hits[request.path]}, headers={"Cache-Control": "no-store"})

    async def write(request: web.Request) -> web.Response:
        await _count(up, request)
        return _json({"ok": True}, status=int(request.query.get("status", "200")))

    app = web.Application()
    app.router.add_get("/items/", items)
    app.router.add_get("/whoami", whoami)
    _validator_routes(app, up)
    app.router.add_get("/slow", slow)
    app.router.add_get("/fail", fail)
    app.router.add_get("/missing", missing)
    app.router.add_get("/nostore", no_store)
    app.router.add_patch("/items/1/", write)
    return app


def _validator_routes(app: web.Application, up: Upstream) -> None:
    """``/etag`` and ``/modified``: answers a client revalidates (304 when unchanged)."""

    async def etag(request: web.Request) -> web.Response:
        await _count(up, request)
        if request.headers.get("If-None-Match") == up.etag:
            up.not_modified += 1
            return web.Response(status=304, headers={"ETag": up.etag})
        return _json({"version": up.etag, "n": up.hits[request.path]}, headers={"ETag": up.etag})

    modified = "Wed, 21 Oct 2026 07:28:00 GMT"

    async def last_modified(request: web.Request) -> web.Response:
        await _count(up, request)
        if request.headers.get("If-Modified-Since") == modified:
            up.not_modified += 1
            return web.Response(status=304)
        return _json({"n": up.hits[request.path]}, headers={"Last-Modified": modified})

    app.router.add_get("/etag", etag)
    app.router.add_get("/modified", last_modified)


MakeClient = Callable[..., Awaitable[HttpClient]]


# -- helpers -------------------------------------------------------------------------------


async def _until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` (what a test server saw) for up to 5 s."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not met within 5 s")


async def _stored_keys(store: Cache) -> list[str]:
    if isinstance(store, MemoryCache):
        return [f"{ns}:{gen}:{key}" for ns, gen, key in store._entries]
    assert isinstance(store, RedisCache)
    raw = await store._redis.keys("*")
    return [k.decode() for k in raw]
