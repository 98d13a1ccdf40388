"""A gateway app with its full lifespan (caller sources included) over the simulator."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from adapters.patchwork.simulator import PatchworkData, RunningSimulator, start_simulator
from gateway.app import create_app
from gateway.auth import hash_key
from gateway.ratelimit import RateLimiter
from gateway.settings import settings_from_dict

ADMIN_TOKEN = "a0" * 20  # the simulator's maintainer of every project
BOT_TOKEN = "b0" * 20  # the simulator's bot: may not change patches
ALICE_KEY = "rgk-alice-Quetzal-5521-Lumen"
BOT_KEY = "rgk-bot-Pangolin-0917-Ember"
KEYS = [
    {"name": "alice", "sha256": hash_key(ALICE_KEY), "backend_tokens": {"pw": "ALICE_PW_TOKEN"}},
    {"name": "bot", "sha256": hash_key(BOT_KEY)},
]
ENV = {"PW_TOKEN": BOT_TOKEN, "ALICE_PW_TOKEN": ADMIN_TOKEN}


def bearer(key: str) -> dict[str, str]:
    """The ``Authorization`` header for an API key."""
    return {"Authorization": f"Bearer {key}"}


@dataclass
class Guarded:
    """The app in-process and the simulator behind it."""

    client: httpx.AsyncClient
    sim: RunningSimulator
    app: Any = None  # the Starlette app

    async def post(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST one GraphQL request; the raw response."""
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )

    async def data(
        self, query: str, variables: Mapping[str, Any] | None = None, key: str | None = ALICE_KEY
    ) -> dict[str, Any]:
        """POST as ``key``; the body of a 200 answer."""
        resp = await self.post(query, variables, bearer(key) if key else None)
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    def upstream_requests(self) -> int:
        """Requests the simulator has received so far."""
        return len(self.sim.state.requests)


@contextlib.asynccontextmanager
async def guarded(
    *,
    server: Mapping[str, Any] | None = None,
    limits: Mapping[str, Any] | None = None,
    api_keys: list[dict[str, Any]] | None = None,
    backend: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    limiter: RateLimiter | None = None,
    data: PatchworkData | None = None,
) -> AsyncIterator[Guarded]:
    """The gateway over one Patchwork backend ``pw`` (server token: the bot's)."""
    sim = await start_simulator(data)
    try:
        entry = {
            "name": "pw",
            "kind": "patchwork",
            "url": sim.url,
            "retries": 0,
            "token_env": "PW_TOKEN",
            **(backend or {}),
        }
        config: dict[str, Any] = {
            "server": dict(server or {}),
            "limits": dict(limits or {}),
            "api_keys": KEYS if api_keys is None else api_keys,
            "backends": [entry],
        }
        settings = settings_from_dict(config, env=ENV if env is None else env)
        app = create_app(settings, limiter=limiter)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as client:
                yield Guarded(client, sim, app)
    finally:
        await sim.close()
