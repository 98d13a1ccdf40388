"""The upstream response cache's stores: the contract both run (memory, Redis), the in-process
store's bounds, Redis failures and sharing, and the keys."""

from __future__ import annotations

import logging
import uuid

import pytest

from adapters.cache import Cache, MemoryCache, RedisCache, open_cache
from adapters.http import HttpClient, HttpConfig, Response
from adapters.http_cache import ResponseCache, credentials_digest
from tests.adapters.cache.support import (
    SECRET,
    TTL,
    FakeClock,
    Upstream,
)
from tests.redis_server import RedisServer, free_port

# -- the store contract ------------------------------------------------------------------


async def test_store_miss_set_hit(store: Cache) -> None:
    generation, value = await store.get("pw", "k")
    assert value is None
    await store.set("pw", generation, "k", b"\x00bytes\xff", 60)
    assert await store.get("pw", "k") == (generation, b"\x00bytes\xff")
    assert (await store.get("other", "k"))[1] is None


async def test_store_invalidate_bumps_generation_of_one_namespace(store: Cache) -> None:
    generation, _ = await store.get("pw", "k")
    await store.set("pw", generation, "k", b"v", 60)
    other_generation, _ = await store.get("other", "k")
    await store.set("other", other_generation, "k", b"w", 60)
    await store.invalidate("pw")
    new_generation, value = await store.get("pw", "k")
    assert value is None and new_generation == generation + 1
    assert (await store.get("other", "k"))[1] == b"w"
    assert store.stats.invalidations == 1


async def test_store_set_under_a_retired_generation_is_never_read(store: Cache) -> None:
    generation, _ = await store.get("pw", "k")
    await store.invalidate("pw")  # a write lands while the GET was upstream
    await store.set("pw", generation, "k", b"pre-write", 60)
    assert (await store.get("pw", "k"))[1] is None


def test_open_cache_by_url() -> None:
    assert isinstance(open_cache("memory://", max_entries=3), MemoryCache)
    with pytest.raises(ValueError, match="memory://, redis://"):
        open_cache("memcached://127.0.0.1")


# -- the in-process store: TTL and LRU bounds ---------------------------------------------


async def test_memory_entry_expires_after_keep(clock: FakeClock) -> None:
    cache = MemoryCache(clock=clock)
    await cache.set("pw", 0, "k", b"v", 10)
    clock.advance(9.9)
    assert (await cache.get("pw", "k"))[1] == b"v"
    clock.advance(0.2)
    assert (await cache.get("pw", "k"))[1] is None
    assert len(cache) == 0 and cache.size_bytes == 0


async def test_memory_lru_bound_on_entries_evicts_least_recently_used() -> None:
    cache = MemoryCache(max_entries=2)
    await cache.set("pw", 0, "a", b"1", 60)
    await cache.set("pw", 0, "b", b"2", 60)
    assert (await cache.get("pw", "a"))[1] == b"1"  # a is now the most recently used
    await cache.set("pw", 0, "c", b"3", 60)
    assert (await cache.get("pw", "b"))[1] is None
    assert (await cache.get("pw", "a"))[1] == b"1"
    assert (await cache.get("pw", "c"))[1] == b"3"
    assert cache.stats.evictions == 1 and len(cache) == 2


async def test_memory_bound_on_bytes() -> None:
    cache = MemoryCache(max_bytes=100)
    await cache.set("pw", 0, "a", b"x" * 40, 60)
    await cache.set("pw", 0, "b", b"x" * 40, 60)
    await cache.set("pw", 0, "c", b"x" * 40, 60)
    assert cache.size_bytes <= 100 and len(cache) == 2
    assert (await cache.get("pw", "a"))[1] is None
    await cache.set("pw", 0, "huge", b"x" * 200, 60)  # larger than the whole cache: skipped
    assert (await cache.get("pw", "huge"))[1] is None and len(cache) == 2


async def test_memory_invalidate_drops_entries_eagerly() -> None:
    cache = MemoryCache()
    await cache.set("pw", 0, "a", b"1", 60)
    await cache.set("other", 0, "a", b"2", 60)
    await cache.invalidate("pw")
    assert len(cache) == 1 and cache.size_bytes == len("a") + 1


def test_memory_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError):
        MemoryCache(max_entries=0)


# -- Redis-specific ------------------------------------------------------------------------


async def test_redis_down_degrades_to_no_cache(
    upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="revgate.cache")
    port = free_port()  # nothing listens there
    store = RedisCache.from_url(f"redis://127.0.0.1:{port}/0", timeout=0.5)
    client = HttpClient(
        HttpConfig(backend="pw", base_url=upstream.url, cache_ttl=TTL, retries=0), cache=store
    )
    try:
        await client.get("/items/")
        await client.get("/items/")
        await client.send("PATCH", "/items/1/", json={})
    finally:
        await client.close()
        await store.close()
    assert upstream.hits == {"/items/": 2, "/items/1/": 1}
    # The first lookup fails; the second is skipped (backoff) and nothing is stored after a
    # failed lookup; the invalidation is attempted anyway, and fails.
    assert store.stats.errors == 2 and store.stats.misses == 2
    logged = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "revgate.cache"]
    assert [level for level, _ in logged] == [logging.WARNING] * 2
    assert "Redis get failed" in logged[0][1] and "Redis invalidate failed" in logged[1][1]
    assert str(port) not in caplog.text  # only the exception type, never the URL


async def test_redis_invalidation_that_failed_is_retried_before_any_read(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A write while Redis is unreachable: its pre-write entries never come back with Redis."""
    monkeypatch.setattr("adapters.cache.REDIS_BACKOFF", 0.0)
    store = RedisCache.from_url(redis_server.url, prefix=f"test:{uuid.uuid4().hex}:")
    try:
        generation, _ = await store.get("pw", "k")
        await store.set("pw", generation, "k", b"before the write", 60)
        real_incr = store._redis.incr
        store._redis.incr = _refuse  # Redis unreachable during the invalidation …
        await store.invalidate("pw")
        assert await store.get("pw", "k") == (-1, None)  # … and still when read: a miss
        store._redis.incr = real_incr  # Redis is back: the INCR goes first, then the read
        new_generation, value = await store.get("pw", "k")
        assert value is None and new_generation == generation + 1
        assert store.stats.errors == 2 and "Redis invalidate failed" in caplog.text
    finally:
        await store.close()


async def _refuse(*args: object) -> None:
    raise ConnectionError("refused")


async def test_redis_entries_are_shared_between_stores(
    upstream: Upstream, redis_server: RedisServer
) -> None:
    """Two replicas, each with its own client on the same Redis: one fetch serves both."""
    prefix = f"test:{uuid.uuid4().hex}:"
    stores = [RedisCache.from_url(redis_server.url, prefix=prefix) for _ in range(2)]
    clients = [
        HttpClient(HttpConfig(backend="pw", base_url=upstream.url, cache_ttl=TTL), cache=s)
        for s in stores
    ]
    try:
        await clients[0].get("/items/")
        await clients[1].get("/items/")
        assert upstream.hits == {"/items/": 1}
        await clients[1].send("PATCH", "/items/1/", json={})  # a write on replica 2 …
        await clients[0].get("/items/")  # … is seen by replica 1
        assert upstream.hits["/items/"] == 2
    finally:
        for client in clients:
            await client.close()
        for store in stores:
            await store.close()


# -- keys ----------------------------------------------------------------------------------


def test_credentials_digest_is_salted_by_backend_and_stable() -> None:
    headers = {"Authorization": f"Token {SECRET}", "Accept": "application/json"}
    digest = credentials_digest("pw", headers)
    assert digest == credentials_digest("pw", {"authorization": f"Token {SECRET}"})
    assert digest != credentials_digest("other", headers)
    assert credentials_digest("pw", {"Accept": "application/json"}) == "anon"
    assert SECRET not in digest


def test_response_cache_refuses_ttl_zero() -> None:
    with pytest.raises(ValueError, match="ttl > 0"):
        ResponseCache(MemoryCache(), "pw", 0, lambda s, u, h, b, _: Response(s, u, h, b))
