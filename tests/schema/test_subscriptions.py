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


RESUMABLE = """subscription($after: String) { events(after: $after) {
    category currentState cursor backend { name } } }"""


async def _subscribe(ws: aiohttp.ClientWebSocketResponse, after: str | None, op: str = "1") -> None:
    await ws.send_json({"type": "connection_init"})
    assert (await ws.receive_json())["type"] == "connection_ack"
    payload = {"query": RESUMABLE, "variables": {"after": after}}
    await ws.send_json({"id": op, "type": "subscribe", "payload": payload})


async def test_reconnect_with_the_last_cursor_loses_and_repeats_nothing(
    sims: dict[str, RunningSimulator],
) -> None:
    """graphql-transport-ws: a client drops, events happen, it resubscribes with ``after``."""
    async with _serve(sims) as (url, hub), aiohttp.ClientSession() as http:
        async with http.ws_connect(url, protocols=["graphql-transport-ws"]) as ws:
            await _subscribe(ws, None)
            for _ in range(250):  # both pollers have taken their baseline
                if len(hub.pollers) == 2 and all(p.polls >= 1 for p in hub.pollers.values()):
                    break
                await asyncio.sleep(0.02)
            await _set_state(sims["a"], 1, "accepted")
            first = await _next(ws)
        assert first["cursor"] and first["currentState"] == "accepted"
        # Disconnected: two changes on two backends.
        await _set_state(sims["b"], 2, "rejected")
        await _set_state(sims["a"], 3, "deferred")
        await asyncio.sleep(0.3)  # polled and published while nobody listens here
        async with http.ws_connect(url, protocols=["graphql-transport-ws"]) as ws:
            await _subscribe(ws, first["cursor"])
            got = [await _next(ws), await _next(ws)]
            await _set_state(sims["b"], 4, "accepted")
            got.append(await _next(ws))
            with pytest.raises(TimeoutError):  # nothing repeated
                await asyncio.wait_for(ws.receive_json(), 0.3)
        states = sorted((e["backend"]["name"], e["currentState"]) for e in got)
        assert states == [("a", "deferred"), ("b", "accepted"), ("b", "rejected")]
        assert len({e["cursor"] for e in got}) == 3


@pytest.mark.parametrize(
    ("after", "code"),
    [
        ("not-a-cursor", "BAD_CURSOR"),
        ("ev1.0123456789abcdef.a=1-0", "EVENTS_CURSOR_EXPIRED"),  # another epoch
        ("ev1." + "a" * 5000, "BAD_CURSOR"),
        ("\u0000\n", "BAD_CURSOR"),
    ],
)
async def test_unusable_cursor_is_a_coded_error(
    sims: dict[str, RunningSimulator], after: str, code: str
) -> None:
    async with _serve(sims) as (url, hub), aiohttp.ClientSession() as http:
        async with http.ws_connect(url, protocols=["graphql-transport-ws"]) as ws:
            await _subscribe(ws, after)
            message = await asyncio.wait_for(ws.receive_json(), 10)
            assert message["type"] in ("error", "next"), message
            errors = (
                message["payload"] if message["type"] == "error" else message["payload"]["errors"]
            )
            assert [e["extensions"]["code"] for e in errors] == [code]
            assert "Traceback" not in str(message)
        assert hub.pollers == {}  # a refused subscription polls nothing


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_subscription_over_http_is_a_coded_error(
    sims: dict[str, RunningSimulator], method: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Sent as an HTTP query, strawberry would answer a masked null-for-non-null error; the
    HTTP layer refuses it with a code (gateway/over_http.py), before any event machinery."""
    query = 'subscription { events(after: "x") { id cursor } }'
    async with _serve(sims) as (url, hub), aiohttp.ClientSession() as http:
        endpoint = url.replace("ws://", "http://")
        if method == "POST":
            request = http.post(endpoint, json={"query": query})
        else:
            request = http.get(endpoint, params={"query": query})
        async with request as resp:
            body = await resp.json()
        assert hub.pollers == {}
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["OPERATION_NOT_ALLOWED"]
    assert all(not s.state.requests for s in sims.values())  # nothing went upstream
    assert "Traceback" not in caplog.text
