"""Reload applies everything derived from the config (issue 15 item 5): the reload matrix.

Anonymous access flipped both ways (gateway-wide and per backend), anonymous writes, a
hidden backend added, a backend removed, API keys changed, a per-key ``backend_tokens``
source whose backend moved to another URL (the new URL is used, the old session closed once
idle), and settings that need a restart (kept, and said so in one log line).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from adapters.patchwork.simulator import RunningSimulator, start_simulator
from gateway.app import create_app
from gateway.auth import hash_key
from gateway.reload import reload_now
from gateway.settings import Settings, settings_from_dict
from schema import node

ADMIN_TOKEN = "a0" * 20  # the simulator's maintainer
ALICE = "rgk-alice-Heron-1188-Quartz"
BOB = "rgk-bob-Lynx-2290-Fennel"
CAROL = "rgk-carol-Wren-3391-Garnet"
ENV = {"PW_TOKEN": ADMIN_TOKEN, "ALICE_PW": ADMIN_TOKEN}
BACKENDS = "{ backends { name } }"
PATCHES = """query($b: String!) { patches(first: 1, filter: {backend: $b}) { nodes { id } } }"""
UPDATE = """mutation($i: UpdatePatchInput!) { updatePatch(input: $i) { errors { code } } }"""


@dataclass
class Reloadable:
    """The gateway in-process with a config that the test rewrites, then reloads."""

    app: Any
    client: httpx.AsyncClient
    sims: list[RunningSimulator]
    config: dict[str, Any] = field(default_factory=dict)

    def settings(self) -> Settings:
        return settings_from_dict(self.config, env=ENV)

    async def reload(self) -> None:
        assert await reload_now(self.app.state.backends, self.app.state.reload)

    async def post(self, query: str, variables: Any = None, key: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        resp = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        return resp

    async def names(self, key: str | None = None) -> list[str]:
        body = (await self.post(BACKENDS, key=key)).json()
        return [b["name"] for b in body["data"]["backends"]]

    async def codes(self, query: str, variables: Any = None, key: str | None = None) -> list[str]:
        body = (await self.post(query, variables, key)).json()
        found = [e["extensions"]["code"] for e in body.get("errors") or []]
        for value in (body.get("data") or {}).values():
            if isinstance(value, dict):
                found += [e["code"] for e in value.get("errors") or []]
        return found


def _backend(name: str, sim: RunningSimulator, **extra: Any) -> dict[str, Any]:
    entry = {"name": name, "kind": "patchwork", "url": sim.url, "token_env": "PW_TOKEN"}
    return {**entry, "retries": 0, **extra}


@contextlib.asynccontextmanager
async def reloadable() -> AsyncIterator[Reloadable]:
    sims = [await start_simulator(), await start_simulator()]
    holder: list[Reloadable] = []
    config: dict[str, Any] = {
        "api_keys": [
            {"name": "alice", "sha256": hash_key(ALICE), "backend_tokens": {"pw": "ALICE_PW"}},
            {"name": "bob", "sha256": hash_key(BOB)},
        ],
        "backends": [_backend("pw", sims[0])],
    }
    app = create_app(
        settings_from_dict(config, env=ENV), reload_settings=lambda: holder[0].settings()
    )
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as c:
                holder.append(Reloadable(app, c, sims, config))
                yield holder[0]
    finally:
        for sim in sims:
            await sim.close()


async def test_reload_flips_anonymous_access_both_ways() -> None:
    async with reloadable() as gw:
        assert await gw.names() == ["pw"]
        gw.config["backends"] = [_backend("pw", gw.sims[0], anonymous=False)]
        await gw.reload()
        assert await gw.names() == []
        assert await gw.codes(PATCHES, {"b": "pw"}) == ["UNAUTHENTICATED"]
        assert await gw.names(BOB) == ["pw"]
        gw.config["backends"] = [_backend("pw", gw.sims[0])]
        await gw.reload()
        assert await gw.names() == ["pw"]
        assert await gw.codes(PATCHES, {"b": "pw"}) == []
        # gateway-wide: [server] anonymous = false needs a key everywhere, and back.
        gw.config["server"] = {"anonymous": False}
        await gw.reload()
        assert (await gw.post(BACKENDS)).status_code == 401
        gw.config["server"] = {}
        await gw.reload()
        assert (await gw.post(BACKENDS)).status_code == 200


async def test_reload_flips_anonymous_writes_both_ways() -> None:
    async with reloadable() as gw:
        variables = {"i": {"id": node.encode("Patch", "pw", "3"), "state": "accepted"}}
        assert await gw.codes(UPDATE, variables) == ["UNAUTHENTICATED"]
        gw.config["backends"] = [_backend("pw", gw.sims[0], anonymous_writes=True)]
        await gw.reload()
        assert await gw.codes(UPDATE, variables) == []
        gw.config["backends"] = [_backend("pw", gw.sims[0])]
        await gw.reload()
        before = len(gw.sims[0].state.requests)
        assert await gw.codes(UPDATE, variables) == ["UNAUTHENTICATED"]
        assert len(gw.sims[0].state.requests) == before


async def test_reload_adds_a_hidden_backend_then_removes_it() -> None:
    async with reloadable() as gw:
        gw.config["backends"] = [_backend("pw", gw.sims[0]), _backend("new", gw.sims[1])]
        gw.config["backends"][1]["anonymous"] = False
        await gw.reload()
        assert await gw.names() == ["pw"]
        assert await gw.codes(PATCHES, {"b": "new"}) == ["UNAUTHENTICATED"]
        assert await gw.names(BOB) == ["pw", "new"]
        assert await gw.codes(PATCHES, {"b": "new"}, BOB) == []
        gw.config["backends"] = [_backend("pw", gw.sims[0])]
        await gw.reload()
        assert await gw.names(BOB) == ["pw"]
        assert await gw.codes(PATCHES, {"b": "new"}, BOB) == ["BACKEND_NOT_FOUND"]


async def test_reload_changes_api_keys() -> None:
    async with reloadable() as gw:
        assert (await gw.post(BACKENDS, key=CAROL)).status_code == 401
        gw.config["api_keys"] = [
            {"name": "carol", "sha256": hash_key(CAROL), "write": False},
        ]
        await gw.reload()
        assert (await gw.post(BACKENDS, key=BOB)).status_code == 401
        assert (await gw.post(BACKENDS, key=CAROL)).status_code == 200
        variables = {"i": {"id": node.encode("Patch", "pw", "3"), "state": "accepted"}}
        assert await gw.codes(UPDATE, variables, CAROL) == ["FORBIDDEN"]


async def test_reload_moves_per_key_sources_and_closes_the_old_ones() -> None:
    async with reloadable() as gw:
        old = gw.app.state.backends.current.policy.caller_sources["alice"]["pw"]
        assert await gw.codes(PATCHES, {"b": "pw"}, ALICE) == []
        assert old.http._session is not None  # opened and used
        gw.config["backends"] = [_backend("pw", gw.sims[1], timeout=7)]
        await gw.reload()
        new = gw.app.state.backends.current.policy.caller_sources["alice"]["pw"]
        assert new is not old and new.url == gw.sims[1].url
        before = [len(s.state.requests) for s in gw.sims]
        assert await gw.codes(PATCHES, {"b": "pw"}, ALICE) == []
        after = [len(s.state.requests) for s in gw.sims]
        assert after[0] == before[0] and after[1] > before[1]  # alice's own source moved
        # The old generation had no request in flight: its per-key session is closed.
        for task in list(gw.app.state.backends._closing):
            await task
        assert old.http._session is None


async def test_reload_reports_what_needs_a_restart(caplog: pytest.LogCaptureFixture) -> None:
    async with reloadable() as gw:
        gw.config["limits"] = {"max_depth": 3}
        gw.config["server"] = {"port": 9123}
        with caplog.at_level(logging.WARNING, logger="revgate.reload"):
            await gw.reload()
        lines = [r.getMessage() for r in caplog.records if r.name == "revgate.reload"]
        assert any("[server] port" in m and "[limits] max_depth" in m for m in lines), lines
        # kept: the running depth limit still allows a deeper query than 3
        deep = '{ patches(first: 1, filter: {backend: "pw"}) { nodes { project { name } } } }'
        assert await gw.codes(deep) == []


async def test_reload_rejects_a_bad_config_and_keeps_the_policy() -> None:
    async with reloadable() as gw:
        gw.config["api_keys"] = [{"name": "broken"}]  # no sha256
        assert not await reload_now(gw.app.state.backends, gw.app.state.reload)
        assert (await gw.post(BACKENDS, key=BOB)).status_code == 200


async def test_reload_changes_the_people_map() -> None:
    """[[people]] follows reloads with the rest of the generation (schema/identity.py)."""
    query = "{ people { nodes { id displayName } } }"
    async with reloadable() as gw:
        assert (await gw.post(query)).json()["data"]["people"]["nodes"] == []
        gw.config["people"] = [{"name": "Ada Lovelace", "accounts": {"pw": "ada@example.org"}}]
        await gw.reload()
        nodes = (await gw.post(query)).json()["data"]["people"]["nodes"]
        assert nodes == [
            {"id": node.encode("Identity", "*", "map:ada-lovelace"), "displayName": "Ada Lovelace"}
        ]
        gw.config["people"] = [{"name": "Ada", "accounts": {"gone": "ada"}}]
        assert not await reload_now(gw.app.state.backends, gw.app.state.reload)  # refused
        assert (await gw.post(query)).json()["data"]["people"]["nodes"] == nodes
