"""End to end through GraphQL: the response cache seen from the simulator's request log."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from adapters.cache import Cache, MemoryCache, RedisCache
from adapters.patchwork.simulator import PatchworkData, start_simulator
from gateway.app import create_app
from gateway.lifespan import build_sources
from schema import node
from tests.conftest import Gateway, gateway_settings
from tests.redis_server import RedisServer

LIST = """{ patches(first: 20) { nodes { id title rawState checkState
    author { name } project { name } series { name version } } } }"""
PATCH3 = node.encode("Patch", "pw", "3")
ONE = "query($id: ID!) { node(id: $id) { ... on Patch { rawState archived } } }"
UPDATE = """mutation($input: UpdatePatchInput!) { updatePatch(input: $input) {
    patch { rawState } errors { code message } } }"""


@pytest.fixture(params=["memory", "redis"])
async def cached(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Gateway, Cache]]:
    """The gateway with ``cache_ttl = 60`` over the simulator, on each store kind."""
    store: Cache
    if request.param == "memory":
        store = MemoryCache()
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        store = RedisCache.from_url(server.url, prefix=f"test:{uuid.uuid4().hex}:")
    sim = await start_simulator(PatchworkData.generated(30))
    settings = gateway_settings(sim.url, cache_ttl=60)
    sources = build_sources(settings, cache=store)
    app = create_app(settings, sources, cache=store)
    backends = app.state.backends  # httpx's ASGITransport runs no lifespan: open them here
    try:
        await backends.open()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as client:
            yield Gateway(client, sources, sim), store
    finally:
        await backends.close()
        await store.close()
        await sim.close()


def _data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


async def test_second_identical_query_makes_no_upstream_request(
    cached: tuple[Gateway, Cache],
) -> None:
    gw, store = cached
    first = _data(await gw.query(LIST))
    # checkState's events read after the first asks only since what the first covered
    # (adapters/patchwork/presence.py): a new URL once, then the same one again
    before = gw.upstream_requests()
    assert _data(await gw.query(LIST)) == first
    made = gw.sim.state.requests[before:]
    assert len(made) == 1 and "/events/?category=check-created&" in made[0][1]
    cold = gw.upstream_requests()
    second = _data(await gw.query(LIST))
    assert gw.upstream_requests() == cold
    assert second == first and len(second["patches"]["nodes"]) == 20
    assert store.stats.hits >= 1
    metrics = (await gw.client.get("/metrics")).text  # the counters, per backend
    assert f'revgate_cache_hits_total{{backend="pw"}} {float(store.stats.hits)}' in metrics
    assert f'revgate_cache_misses_total{{backend="pw"}} {float(store.stats.misses)}' in metrics
    assert "revgate_cache_errors_total 0.0" in metrics


async def test_mutation_invalidates_what_was_cached(cached: tuple[Gateway, Cache]) -> None:
    gw, store = cached
    before = _data(await gw.query(ONE, {"id": PATCH3}))["node"]
    await gw.query(ONE, {"id": PATCH3})
    warm = gw.upstream_requests()
    new_state = "rejected" if before["rawState"] != "rejected" else "accepted"
    payload = _data(await gw.query(UPDATE, {"input": {"id": PATCH3, "state": new_state}}))
    assert payload["updatePatch"]["errors"] == []
    after_write = gw.upstream_requests()
    assert after_write > warm and store.stats.invalidations >= 1
    again = _data(await gw.query(ONE, {"id": PATCH3}))["node"]
    assert again["rawState"] == new_state  # not the cached pre-write answer
    assert gw.upstream_requests() > after_write


async def test_no_cache_by_default(gateway: Gateway) -> None:
    """``cache_ttl`` defaults to 0: every query goes upstream, as before the cache existed."""
    await gateway.query("{ backends { apiVersion } }")  # the version probe happens once
    start = gateway.upstream_requests()
    _data(await gateway.query(LIST))
    first = gateway.upstream_requests() - start
    _data(await gateway.query(LIST))
    assert first >= 1 and gateway.upstream_requests() - start == 2 * first
