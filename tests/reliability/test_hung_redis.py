"""Issue 15 item 9: a hung (not dead) Redis costs one short timeout, then nothing.

The fake Redis is a TCP proxy on 127.0.0.1 in front of the session's real ``redis-server``:
while ``hung`` it accepts connections and reads every byte but never answers (a paused or
wedged Redis: the kernel completes the handshake, nothing comes back); otherwise it forwards
both ways. It counts what it receives, so "Redis was not touched" is an exact assertion,
not a timing. Both Redis users are checked, the rate limiter and the response cache: the
first call is bounded by the configured timeout, every call inside the skip window leaves
Redis alone, and after the window a working Redis is used again (recovery).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from adapters.cache import RedisCache
from adapters.redis_store import REDIS_BACKOFF
from gateway.app import create_app
from gateway.ratelimit import RedisRateLimiter
from gateway.settings import settings_from_dict
from tests.redis_server import RedisServer

TIMEOUT = 0.2  # the configured socket timeout of the stores under test
BOUND = 1.5  # generous wall-clock bound for the first (timed-out) call on a loaded machine


@dataclass
class HungRedis:
    """A proxy to ``target`` that swallows everything while ``hung``."""

    target: int
    hung: bool = True
    received: int = 0  # chunks read from clients (commands, handshakes)
    connections: int = 0
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self.hung:
                while chunk := await reader.read(65536):
                    self.received += 1
                    del chunk  # never answered
                return
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
            await asyncio.gather(
                self._pipe(reader, up_writer, count=True), self._pipe(up_reader, writer)
            )
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: bool = False
    ) -> None:
        while chunk := await reader.read(65536):
            if count:
                self.received += 1
            writer.write(chunk)
            await writer.drain()
        writer.close()


@pytest.fixture
async def hung(redis_server: RedisServer) -> AsyncIterator[HungRedis]:
    proxy = HungRedis(target=redis_server.port)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


class Clock:
    """The skip window's clock, moved by hand (the window is 5 s of real time)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_rate_limiter_fails_open_fast_then_leaves_redis_alone_then_recovers(
    hung: HungRedis,
) -> None:
    limiter = RedisRateLimiter.from_url(hung.url, timeout=TIMEOUT)
    clock = Clock()
    limiter.redis_calls.clock = clock
    key = f"req:key:{uuid.uuid4().hex}"
    try:
        start = time.monotonic()
        decision = await limiter.take(key, 1, 3)
        assert decision.allowed and decision.limit is None  # failed open
        assert time.monotonic() - start < BOUND
        assert hung.received >= 1 and limiter.redis_calls.failures == 1  # Redis was asked once
        touched = (hung.connections, hung.received)
        for _ in range(50):  # inside the window: not one byte goes to Redis
            decision = await limiter.take(key, 1, 3)
            assert decision.allowed and decision.limit is None
        assert (hung.connections, hung.received) == touched
        assert limiter.redis_calls.failures == 1

        hung.hung = False  # Redis is back; the window ends: limiting works again
        clock.now += REDIS_BACKOFF
        decisions = [await limiter.take(key, 1, 3) for _ in range(4)]
        assert [d.limit for d in decisions] == [3] * 4
        assert [d.allowed for d in decisions] == [True, True, True, False]
        assert hung.received > touched[1]
    finally:
        await limiter.close()


async def test_rate_limiter_hung_again_after_recovery_fails_open_again(hung: HungRedis) -> None:
    limiter = RedisRateLimiter.from_url(hung.url, timeout=TIMEOUT)
    clock = Clock()
    limiter.redis_calls.clock = clock
    key = f"req:key:{uuid.uuid4().hex}"
    try:
        hung.hung = False
        assert (await limiter.take(key, 1, 10)).limit == 10
        hung.hung = True  # new connections hang; the pooled one still works: drop it
        await limiter._client.connection_pool.disconnect()
        start = time.monotonic()
        assert (await limiter.take(key, 1, 10)).limit is None
        assert time.monotonic() - start < BOUND
        assert limiter.redis_calls.failures == 1
    finally:
        await limiter.close()


async def test_response_cache_fails_open_fast_then_leaves_redis_alone_then_recovers(
    hung: HungRedis,
) -> None:
    store = RedisCache.from_url(hung.url, timeout=TIMEOUT, prefix=f"t:{uuid.uuid4().hex}:")
    clock = Clock()
    store.redis_calls.clock = clock
    try:
        start = time.monotonic()
        assert await store.get("pw", "k") == (-1, None)
        assert time.monotonic() - start < BOUND
        assert store.stats.errors == 1
        touched = (hung.connections, hung.received)
        for _ in range(50):
            generation, value = await store.get("pw", "k")
            assert value is None
            await store.set("pw", generation, "k", b"v", 60)
        assert (hung.connections, hung.received) == touched and store.stats.errors == 1

        hung.hung = False
        clock.now += REDIS_BACKOFF
        generation, value = await store.get("pw", "k")
        assert generation >= 0 and value is None
        await store.set("pw", generation, "k", b"cached", 60)
        assert await store.get("pw", "k") == (generation, b"cached")
        assert store.stats.errors == 1
    finally:
        await store.close()


async def test_gateway_requests_are_not_stalled_by_a_hung_rate_store(hung: HungRedis) -> None:
    """Through the app: one request pays the timeout, the next ones do not touch Redis."""
    settings = settings_from_dict(
        {
            "backends": [{"name": "pw", "kind": "patchwork", "url": "http://127.0.0.1:9"}],
            "limits": {"store": hung.url, "requests_per_minute": 100, "cost_per_minute": 1000},
        }
    )
    limiter = RedisRateLimiter.from_url(hung.url, timeout=TIMEOUT)
    clock = Clock()
    limiter.redis_calls.clock = clock
    app = create_app(settings, limiter=limiter)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as client:
            start = time.monotonic()
            first = await client.post("/graphql", json={"query": "{ backends { name } }"})
            assert first.status_code == 200 and "errors" not in first.json()
            assert time.monotonic() - start < BOUND
            touched = (hung.connections, hung.received)
            for _ in range(10):
                resp = await client.post("/graphql", json={"query": "{ backends { name } }"})
                assert resp.status_code == 200 and "errors" not in resp.json()
            assert (hung.connections, hung.received) == touched
            assert limiter.redis_calls.failures == 1
    finally:
        await limiter.close()
