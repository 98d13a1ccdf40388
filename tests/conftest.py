"""Shared fixtures: the Patchwork simulator on loopback and the gateway in front of it."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from adapters.base import Source
from adapters.patchwork.simulator import PatchworkData, RunningSimulator, start_simulator
from gateway.app import create_app
from gateway.settings import Settings, settings_from_dict
from tests.secrets_watch import SecretsWatch

ADMIN_TOKEN = "a0" * 20

pytest_plugins = ["tests.redis_server"]  # the session's real redis-server (response cache tests)


def pytest_configure(config: pytest.Config) -> None:
    """Every response and log line of the suite is checked for credentials (secrets_watch)."""
    config.pluginmanager.register(SecretsWatch(), "revgate-secrets-watch")


def anonymous_writes(settings: Settings) -> Settings:
    """``settings`` with ``anonymous_writes = true`` on every backend: for schema tests that
    send mutations without an API key (access itself: tests/reliability/test_access.py)."""
    backends = tuple(dataclasses.replace(b, anonymous_writes=True) for b in settings.backends)
    return dataclasses.replace(settings, backends=backends)


def gateway_settings(url: str, *, token: bool = True, **backend: Any) -> Settings:
    """Settings with one Patchwork backend ``pw`` at ``url``; anonymous callers may write
    (these tests are about the schema, not about access)."""
    entry: dict[str, Any] = {
        "name": "pw",
        "kind": "patchwork",
        "url": url,
        "retries": 1,
        "anonymous_writes": True,
    }
    env = {}
    if token:
        entry["token_env"] = "PW_TOKEN"
        env["PW_TOKEN"] = ADMIN_TOKEN
    entry.update(backend)
    return settings_from_dict({"backends": [entry]}, env=env)


@dataclass
class Gateway:
    """The gateway app in-process, its backends and the simulator behind them."""

    client: httpx.AsyncClient
    sources: dict[str, Source]
    sim: RunningSimulator
    app: Any = None  # the Starlette app (its ``state``: fast path, backends …)

    async def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a GraphQL request; the decoded response body."""
        resp = await self.client.post("/graphql", json={"query": query, "variables": variables})
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    def upstream_requests(self) -> int:
        """Requests the simulator has received so far."""
        return len(self.sim.state.requests)


async def _gateway(data: PatchworkData | None, **backend: Any) -> AsyncIterator[Gateway]:
    sim = await start_simulator(data)
    settings = gateway_settings(sim.url, **backend)
    app = create_app(settings)
    backends = app.state.backends  # httpx's ASGITransport runs no lifespan: open them here
    try:
        await backends.open()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as client:
            yield Gateway(client, dict(backends.sources), sim, app)
    finally:
        await backends.close()
        await sim.close()


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    """The gateway over the simulator's recorded data."""
    async for gw in _gateway(None):
        yield gw


@pytest.fixture
async def big_gateway() -> AsyncIterator[Gateway]:
    """The gateway over the recorded data plus 100 generated patches."""
    async for gw in _gateway(PatchworkData.generated(100)):
        yield gw


def count_calls(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[int]:
    """``owner.name`` wrapped to count its calls (for the rest of the test): a one-item
    list, read by reference."""
    count = [0]
    real = getattr(owner, name)

    def counting(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counting)
    return count
