"""Live events over graphql-transport-ws, from two backends, through a real socket."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import uvicorn

from adapters.patchwork.simulator import RunningSimulator, start_simulator
from gateway.app import create_app
from gateway.settings import settings_from_dict
from schema.live import EventHub
from tests.conftest import ADMIN_TOKEN

SUBSCRIBE = """subscription { events(filter: {categories: ["patch-state-changed"]}) {
    category currentState backend { name } patch { id } } }"""


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def _serve(sims: dict[str, RunningSimulator]) -> AsyncIterator[tuple[str, EventHub]]:
    settings = settings_from_dict(
        {
            "server": {"poll_interval": 0.05},
            "backends": [
                {"name": n, "kind": "patchwork", "url": s.url, "token_env": "T"}
                for n, s in sims.items()
            ],
        },
        env={"T": ADMIN_TOKEN},
    )
    app = create_app(settings)
    port = _port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # uvicorn offers no event for "listening"; poll, bounded
        if server.started:
            break
        await asyncio.sleep(0.02)
    assert server.started
    try:
        yield f"ws://127.0.0.1:{port}/graphql", app.state.hub
    finally:
        server.should_exit = True
        await task


async def _set_state(sim: RunningSimulator, patch: int, state: str) -> None:
    headers = {"Authorization": f"Token {ADMIN_TOKEN}"}
    async with (
        aiohttp.ClientSession() as http,
        http.patch(
            f"{sim.url}/api/1.3/patches/{patch}/", json={"state": state}, headers=headers
        ) as r,
    ):
        assert r.status == 200


async def _next(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive_json(), 10)
    assert message["type"] == "next", message
    data: dict[str, Any] = message["payload"]["data"]["events"]
    return data


@pytest.fixture
async def sims() -> AsyncIterator[dict[str, RunningSimulator]]:
    running = {"a": await start_simulator(), "b": await start_simulator()}
    yield running
    for sim in running.values():
        await sim.close()


async def test_subscription_events_from_two_backends_in_order(
    sims: dict[str, RunningSimulator],
) -> None:
    async with _serve(sims) as (url, hub), aiohttp.ClientSession() as http:
        async with http.ws_connect(url, protocols=["graphql-transport-ws"]) as ws:
            await ws.send_json({"type": "connection_init"})
            assert (await ws.receive_json())["type"] == "connection_ack"
            await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
            for _ in range(100):  # both pollers have taken their baseline
                if all(p.polls >= 1 for p in hub.pollers.values()) and len(hub.pollers) == 2:
                    break
                await asyncio.sleep(0.02)
            assert sorted(hub.running()) == ["a", "b"]
            plan = [("a", 1, "accepted"), ("b", 2, "rejected"), ("a", 3, "deferred")]
            received = []
            for backend, patch, state in plan:
                await _set_state(sims[backend], patch, state)
                received.append(await _next(ws))
            await asyncio.sleep(0.3)  # several more polls: nothing may be delivered twice
            await _set_state(sims["b"], 4, "accepted")
            received.append(await _next(ws))
        expected = [*plan, ("b", 4, "accepted")]
        got = [(e["backend"]["name"], e["currentState"]) for e in received]
        assert got == [(b, s) for b, _, s in expected]
        for _ in range(100):  # the client is gone: both pollers stop
            if not hub.running():
                break
            await asyncio.sleep(0.02)
        assert hub.running() == [] and hub.pollers == {}
