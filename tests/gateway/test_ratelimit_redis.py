"""gateway.ratelimit.RedisRateLimiter against a real redis-server on 127.0.0.1.

The server is the session's (``tests/redis_server.py``); without ``redis-server`` installed
these tests skip and say so. Each test uses its own key prefix or database, so they never see
each other's buckets.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from gateway.ratelimit import RedisRateLimiter, rate_limiter
from tests.gateway.guarded import BOT_KEY, bearer, guarded
from tests.redis_server import RedisServer, free_port

QUERY = "{ backends { name } }"


@pytest.fixture
async def client(redis_server: RedisServer) -> AsyncIterator[redis.Redis]:
    """A redis-py asyncio client on the session's server."""
    conn = redis.Redis.from_url(redis_server.url)
    try:
        yield conn
    finally:
        await conn.aclose()


def _limiter(client: redis.Redis) -> RedisRateLimiter:
    return RedisRateLimiter(client, prefix=f"test:{uuid.uuid4().hex}:")


async def test_ratelimit_redis_burst_then_refused_then_refilled(client: redis.Redis) -> None:
    limiter = _limiter(client)
    first = await limiter.take("req:key:a", 60, 60)
    assert first.allowed and first.limit == 60 and first.remaining == 0
    refused = await limiter.take("req:key:a", 1, 60)
    assert not refused.allowed
    assert 0 < refused.retry_after <= 1.0  # one token a second
    assert refused.retry_after_header() == "1"
    fast = _limiter(client)  # 6000 a minute: 100 tokens a second
    assert (await fast.take("k", 6000, 6000)).allowed
    await asyncio.sleep(0.05)
    refilled = await fast.take("k", 2, 6000)
    assert refilled.allowed


async def test_ratelimit_redis_is_shared_by_replicas(client: redis.Redis) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    replica_a = RedisRateLimiter(client, prefix=prefix)
    replica_b = RedisRateLimiter(client, prefix=prefix)
    assert (await replica_a.take("req:key:bot", 3, 5)).allowed
    assert (await replica_b.take("req:key:bot", 2, 5)).allowed
    assert not (await replica_a.take("req:key:bot", 1, 5)).allowed
    assert not (await replica_b.take("req:key:bot", 1, 5)).allowed


async def test_ratelimit_redis_keys_are_separate_and_expire(client: redis.Redis) -> None:
    limiter = _limiter(client)
    assert (await limiter.take("cost:key:a", 10, 10)).allowed
    assert (await limiter.take("cost:key:b", 10, 10)).allowed
    keys = [k async for k in client.scan_iter(match=f"{limiter._prefix}*")]
    assert len(keys) == 2
    for key in keys:
        ttl = await client.pttl(key)
        assert 0 < ttl <= 61_000  # gone once the bucket would be full again


async def test_ratelimit_redis_zero_is_unlimited_and_stores_nothing(client: redis.Redis) -> None:
    limiter = _limiter(client)
    decision = await limiter.take("req:anon:1.2.3.4", 1000, 0)
    assert decision.allowed and decision.limit is None
    assert [k async for k in client.scan_iter(match=f"{limiter._prefix}*")] == []


async def test_ratelimit_redis_unreachable_lets_requests_through(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = rate_limiter(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    assert isinstance(limiter, RedisRateLimiter)
    try:
        with caplog.at_level(logging.WARNING, logger="revgate.ratelimit"):
            for _ in range(3):
                decision = await limiter.take("req:key:a", 1, 1)
                assert decision.allowed and decision.limit is None
    finally:
        await limiter.close()
    warnings = [r for r in caplog.records if r.name == "revgate.ratelimit"]
    assert len(warnings) == 1  # not one per request
    assert "not limiting" in warnings[0].getMessage()


async def test_ratelimit_redis_store_from_settings_shared_by_two_gateways(
    redis_server: RedisServer,
) -> None:
    url = f"redis://127.0.0.1:{redis_server.port}/7"
    scratch = redis.Redis.from_url(url)
    await scratch.flushdb()
    await scratch.aclose()
    limits = {"store": url, "requests_per_minute": 3}
    async with guarded(limits=limits) as one, guarded(limits=limits) as two:
        statuses = []
        for gw in (one, two, one, two):
            resp = await gw.post(QUERY, headers=bearer(BOT_KEY))
            statuses.append(resp.status_code)
        assert statuses == [200, 200, 200, 429]
        refused = await two.post(QUERY, headers=bearer(BOT_KEY))
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert int(refused.headers["retry-after"]) >= 1
