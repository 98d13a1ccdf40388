"""Compat callers through the gateway's access machinery: [[api_keys]] work as compat tokens
(in the kind's own scheme), their backend_tokens apply, the Guard rate-limits compat
requests per caller, and [server] anonymous = false closes compat reads too."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from adapters.patchwork.simulator import start_simulator
from adapters.patchwork.simulator.data import PatchworkData
from gateway.app import create_app
from tests.gateway.compat_support import BOT, compat_settings, sha

KEY = "k1" * 20  # a gateway API key mapped to the simulator's "bot" user
PLAIN_KEY = "k2" * 20  # an API key without backend tokens (the backend's configured admin)


@contextlib.asynccontextmanager
async def _gateway(top: dict[str, Any]) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    data = PatchworkData.from_seed()
    data.patches[7]["delegate"] = 2  # bot may edit patch 7, not patch 6
    sim = await start_simulator(data)
    settings = compat_settings(sim.url, {"PW_KEY_TOKEN": BOT}, None, top)
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as c:
                yield c, sim
    finally:
        await sim.close()


KEYS = {
    "api_keys": [
        {"name": "ci", "sha256": sha(KEY), "backend_tokens": {"pw": "PW_KEY_TOKEN"}},
        {"name": "plain", "sha256": sha(PLAIN_KEY)},
    ]
}


def _token(key: str) -> dict[str, str]:
    return {"Authorization": f"Token {key}"}


async def test_api_key_acts_as_its_backend_user() -> None:
    async with _gateway(KEYS) as (client, sim):
        ok = await client.patch(
            "/rest/pw/api/1.3/patches/7/", headers=_token(KEY), json={"state": "accepted"}
        )
        assert ok.status_code == 200, ok.text
        refused = await client.patch(
            "/rest/pw/api/1.3/patches/6/", headers=_token(KEY), json={"state": "accepted"}
        )
        assert refused.status_code == 403  # the backend's answer for bot
        assert sim.state.data.patches[6]["state"] != "accepted"
        plain = await client.patch(
            "/rest/pw/api/1.3/patches/6/", headers=_token(PLAIN_KEY), json={"state": "accepted"}
        )
        assert plain.status_code == 200
        # The same key works on GraphQL as a Bearer key.
        gql = await client.post(
            "/graphql",
            headers={"Authorization": f"Bearer {KEY}"},
            json={"query": "{ backends { name } }"},
        )
        assert gql.json()["data"]["backends"] == [{"name": "pw"}]


async def test_compat_requests_are_rate_limited_per_caller() -> None:
    top = {**KEYS, "limits": {"requests_per_minute": 2, "cost_per_minute": 1000}}
    async with _gateway(top) as (client, _):
        statuses = [
            (await client.get("/rest/pw/api/1.3/projects/", headers=_token(KEY))).status_code
            for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        # Another caller has its own bucket.
        other = await client.get("/rest/pw/api/1.3/projects/", headers=_token(PLAIN_KEY))
        assert other.status_code == 200


async def test_compat_unknown_token_is_the_kinds_refusal_not_the_guards() -> None:
    async with _gateway(KEYS) as (client, _):
        resp = await client.get("/rest/pw/api/1.3/patches/", headers=_token("zz" * 20))
        assert resp.status_code == 403
        assert resp.json() == {"detail": "Invalid token."}
        assert "x-request-id" in resp.headers


@pytest.mark.parametrize("anonymous", [False])
async def test_compat_anonymous_off(anonymous: bool) -> None:
    async with _gateway({**KEYS, "server": {"anonymous": anonymous}}) as (client, _):
        resp = await client.get("/rest/pw/api/1.3/patches/")
        assert resp.status_code == 403
        assert resp.json() == {"detail": "Authentication credentials were not provided."}
        keyed = await client.get("/rest/pw/api/1.3/patches/", headers=_token(KEY))
        assert keyed.status_code == 200
