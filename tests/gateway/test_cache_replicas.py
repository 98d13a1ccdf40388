"""The response cache as an operator runs it: apps built from settings, Redis shared by replicas.

Each app here builds its own store from ``[cache] url`` (as ``revgate serve`` does), so two
apps are two replicas with separate Redis clients on the session's real ``redis-server``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from adapters.patchwork.simulator import PatchworkData, RunningSimulator, start_simulator
from gateway.app import create_app
from gateway.settings import Settings, settings_from_dict
from schema import node
from tests.conftest import ADMIN_TOKEN, Gateway, anonymous_writes
from tests.redis_server import RedisServer, free_port

BOT_TOKEN = "b0" * 20  # the simulator's second user
LIST = "{ patches(first: 10) { nodes { id title rawState } } }"
PATCH3 = node.encode("Patch", "pw", "3")
ONE = "query($id: ID!) { node(id: $id) { ... on Patch { rawState } } }"
UPDATE = """mutation($input: UpdatePatchInput!) { updatePatch(input: $input) {
    patch { rawState } errors { code message } } }"""
DB = 3  # a database of its own on the session's server, flushed per test


def settings(sim: RunningSimulator, cache_url: str, token: str = ADMIN_TOKEN) -> Settings:
    """One Patchwork backend ``pw`` with ``cache_ttl = 60``; the cache URL via the environment."""
    entry: dict[str, Any] = {
        "name": "pw",
        "kind": "patchwork",
        "url": sim.url,
        "retries": 0,
        "token_env": "PW_TOKEN",
        "cache_ttl": 60,
    }
    env = {"PW_TOKEN": token, "REVGATE_CACHE_URL": cache_url}
    return anonymous_writes(settings_from_dict({"backends": [entry]}, env=env))


@contextlib.asynccontextmanager
async def replica(config: Settings, sim: RunningSimulator) -> AsyncIterator[Gateway]:
    """One gateway app (its own sources and cache store), in-process."""
    app = create_app(config)
    backends = app.state.backends  # httpx's ASGITransport runs no lifespan: open them here
    await backends.open()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as client:
            yield Gateway(client, dict(backends.sources), sim)
    finally:
        await backends.close()
        await app.state.cache.close()


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    running = await start_simulator(PatchworkData.generated(20))
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture
async def redis_url(redis_server: RedisServer) -> AsyncIterator[str]:
    """A flushed database of the session's Redis, and a client to inspect it afterwards."""
    url = f"redis://127.0.0.1:{redis_server.port}/{DB}"
    client = aioredis.Redis.from_url(url)
    try:
        await client.flushdb()
        yield url
    finally:
        await client.aclose()


async def _keys(url: str) -> list[str]:
    client = aioredis.Redis.from_url(url)
    try:
        raw = await client.keys("revgate:cache:v1:e:*")
        return sorted(k.decode() if isinstance(k, bytes) else k for k in raw)
    finally:
        await client.aclose()


def _data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


async def test_second_replica_is_served_from_the_shared_redis(
    sim: RunningSimulator, redis_url: str
) -> None:
    config = settings(sim, redis_url)
    async with replica(config, sim) as first, replica(config, sim) as second:
        _data(await first.query("{ backends { apiVersion } }"))  # each replica's version probe
        _data(await second.query("{ backends { apiVersion } }"))
        cold = _data(await first.query(LIST))
        assert await _keys(redis_url)  # replica 1 stored its answers in Redis
        before = second.upstream_requests()
        warm = _data(await second.query(LIST))
        assert second.upstream_requests() == before  # 0 upstream requests on replica 2
        assert warm == cold and len(warm["patches"]["nodes"]) == 10

        # A write through replica 2 invalidates replica 1's view too (one INCR in Redis).
        state = _data(await first.query(ONE, {"id": PATCH3}))["node"]["rawState"]
        new_state = "rejected" if state != "rejected" else "accepted"
        payload = _data(await second.query(UPDATE, {"input": {"id": PATCH3, "state": new_state}}))
        assert payload["updatePatch"]["errors"] == []
        again = _data(await first.query(ONE, {"id": PATCH3}))["node"]
        assert again["rawState"] == new_state
        metrics = (await second.client.get("/metrics")).text
        assert 'revgate_cache_hits_total{backend="pw"}' in metrics
        assert 'revgate_cache_invalidations_total{backend="pw"} 1.0' in metrics


async def test_two_callers_credentials_never_share_an_entry(
    sim: RunningSimulator, redis_url: str
) -> None:
    """Two users' gateways (admin and bot tokens) on one Redis: same query, separate entries."""
    async with (
        replica(settings(sim, redis_url, ADMIN_TOKEN), sim) as admin,
        replica(settings(sim, redis_url, BOT_TOKEN), sim) as bot,
    ):
        _data(await admin.query(LIST))
        admin_keys = await _keys(redis_url)
        before = bot.upstream_requests()
        _data(await bot.query(LIST))
        assert bot.upstream_requests() > before  # not answered from the admin's entries
        all_keys = await _keys(redis_url)
        bot_keys = set(all_keys) - set(admin_keys)
        assert admin_keys and bot_keys

        def digests(keys: Any) -> set[str]:  # …:e:<backend>:<generation>:<creds>:<request>
            return {key.split(":")[-2] for key in keys}

        assert digests(admin_keys).isdisjoint(digests(bot_keys))
        for key in all_keys:
            assert ADMIN_TOKEN not in key and BOT_TOKEN not in key
        before = bot.upstream_requests()
        _data(await bot.query(LIST))  # the bot's own entries do serve the bot
        assert bot.upstream_requests() == before


async def test_redis_down_degrades_to_no_cache_with_a_warning(
    sim: RunningSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="revgate.cache")
    dead = f"redis://:hunter2-secret@127.0.0.1:{free_port()}/0"  # nothing listens there
    async with replica(settings(sim, dead), sim) as gw:
        first = _data(await gw.query(LIST))
        cold = gw.upstream_requests()
        second = _data(await gw.query(LIST))
        assert second == first
        assert gw.upstream_requests() >= 2 * cold - 1  # every query went upstream (no cache)
        metrics = (await gw.client.get("/metrics")).text
    warnings = [r for r in caplog.records if r.name == "revgate.cache"]
    assert warnings and all(r.levelno == logging.WARNING for r in warnings)
    assert "Redis get failed" in caplog.text
    assert "hunter2" not in caplog.text and str(dead) not in caplog.text
    errors = [line for line in metrics.splitlines() if line.startswith("revgate_cache_errors")]
    assert errors and float(errors[0].split()[-1]) >= 1
