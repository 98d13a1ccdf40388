"""Fixtures: the gateway in-process over a Gerrit simulator (and a Patchwork one) on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from adapters.base import Source
from adapters.gerrit.simulator import GerritData, RunningSimulator, start_simulator
from adapters.patchwork.simulator import RunningSimulator as PatchworkSimulator
from adapters.patchwork.simulator import start_simulator as start_patchwork
from gateway.app import create_app
from gateway.auth import hash_key
from gateway.settings import settings_from_dict
from tests.conftest import ADMIN_TOKEN

ENV = {"G_USER": "admin", "G_PASS": "secret", "PW_TOKEN": ADMIN_TOKEN}
KEY = "rgk-tester-Gerrit-5150-Alder"  # the gateway API key the test client sends


@dataclass
class GerritGateway:
    """The gateway app in-process with a Gerrit backend ``g`` (and maybe Patchwork ``pw``)."""

    client: httpx.AsyncClient
    sources: dict[str, Source]
    sim: RunningSimulator
    patchwork: PatchworkSimulator | None = None

    async def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a GraphQL request; the decoded response body."""
        resp = await self.client.post("/graphql", json={"query": query, "variables": variables})
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``data`` of a request that must not fail."""
        body = await self.query(query, variables)
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]
        return result

    def upstream(self) -> list[tuple[str, str]]:
        """Requests the Gerrit simulator has received so far (method, path and query)."""
        return list(self.sim.state.requests)


@asynccontextmanager
async def gerrit_gateway(
    data: GerritData | None = None,
    *,
    with_patchwork: bool = False,
    anonymous: bool = False,
    keyed: bool = True,
    **sim: Any,
) -> AsyncIterator[GerritGateway]:
    """A Gerrit simulator, maybe a Patchwork one, and the gateway over them. ``keyed``: the
    client sends an API key (the account's drafts are hidden from anonymous callers);
    ``anonymous``: the backend has no credential."""
    running = await start_simulator(data, **sim)
    pw = await start_patchwork(None) if with_patchwork else None
    # anonymous_writes: these tests are about the schema; access: tests/reliability/test_access.py
    entry: dict[str, Any] = {
        "name": "g",
        "kind": "gerrit",
        "url": running.url,
        "retries": 0,
        "anonymous_writes": True,
    }
    if not anonymous:
        entry.update(username_env="G_USER", password_env="G_PASS")
    backends = [entry]
    if pw is not None:
        backends.append({"name": "pw", "kind": "patchwork", "url": pw.url, "token_env": "PW_TOKEN"})
    keys = [{"name": "tester", "sha256": hash_key(KEY)}]
    app = create_app(settings_from_dict({"api_keys": keys, "backends": backends}, env=ENV))
    opened = app.state.backends
    try:
        await opened.open()
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {KEY}"} if keyed else {}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://revgate", headers=headers
        ) as client:
            yield GerritGateway(client, dict(opened.sources), running, pw)
    finally:
        await opened.close()
        await running.close()
        if pw is not None:
            await pw.close()


@pytest.fixture
async def ggw() -> AsyncIterator[GerritGateway]:
    """The gateway over the seeded Gerrit simulator, signed in as admin."""
    async with gerrit_gateway() as gw:
        yield gw
