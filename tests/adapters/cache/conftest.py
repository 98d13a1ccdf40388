"""Fixtures of the response-cache tests: the upstream, the clock, each store kind (memory, and
the session's real ``redis-server``: a fresh key prefix per test) and HttpClients sharing it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from adapters.cache import Cache, MemoryCache, RedisCache
from adapters.http import Credentials, HttpClient, HttpConfig
from tests.adapters.cache.support import (
    SECRET,
    TTL,
    FakeClock,
    MakeClient,
    Upstream,
    build_app,
)
from tests.redis_server import RedisServer


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    up = Upstream()
    server = TestServer(build_app(up), host="127.0.0.1", port=0)
    await server.start_server()
    up.url = str(server.make_url("")).rstrip("/")
    try:
        yield up
    finally:
        up.release.set()
        await server.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[Cache]:
    """Each store kind behind the same contract (Redis: a fresh key prefix per test)."""
    if request.param == "memory":
        yield MemoryCache(clock=clock)
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    cache = RedisCache.from_url(server.url, clock=clock, prefix=f"test:{uuid.uuid4().hex}:")
    try:
        yield cache
    finally:
        await cache.close()


@pytest.fixture
async def make_client(upstream: Upstream, store: Cache) -> AsyncIterator[MakeClient]:
    """HttpClients on the upstream sharing ``store`` (token ``SECRET`` unless told)."""
    clients: list[HttpClient] = []

    async def make(token: str | None = SECRET, ttl: float = TTL, **config: Any) -> HttpClient:
        values: dict[str, Any] = {
            "backend": "pw",
            "base_url": upstream.url,
            "credentials": Credentials(token=token),
            "cache_ttl": ttl,
            "retries": 0,
        }
        values.update(config)
        client = HttpClient(HttpConfig(**values), cache=store)
        clients.append(client)
        return client

    try:
        yield make
    finally:
        for client in clients:
            await client.close()
