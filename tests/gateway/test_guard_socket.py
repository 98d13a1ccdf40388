"""The guard on the websocket endpoint (graphql-transport-ws), through a real socket: API key
by header or in the connection_init payload, the request rate, and query limits and cost on
subscriptions and queries sent over the socket."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import pytest
import uvicorn

from adapters.patchwork.simulator import RunningSimulator, start_simulator
from gateway.app import create_app
from gateway.auth import hash_key
from gateway.settings import settings_from_dict
from schema.live import EventHub
from tests.gateway.guarded import ALICE_KEY, BOT_KEY, ENV, bearer

PROTOCOL = ["graphql-transport-ws"]
RATE = "{ rateLimit { limit } backends { name } }"
EVENTS = """subscription { events { category
    patch { id checks { state } comments(first: 5) { nodes { id } } } } }"""


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def _serve(
    sim: RunningSimulator,
    *,
    limits: Mapping[str, Any] | None = None,
    anonymous: bool = False,
) -> AsyncIterator[tuple[str, EventHub]]:
    """The gateway on a loopback port (anonymous access off unless asked); its ws URL."""
    keys: list[dict[str, Any]] = [
        # alice's own cost budget tells her apart in rateLimit { limit }
        {"name": "alice", "sha256": hash_key(ALICE_KEY), "cost_per_minute": 4321},
        {"name": "bot", "sha256": hash_key(BOT_KEY)},
    ]
    settings = settings_from_dict(
        {
            "server": {"poll_interval": 0.05, "anonymous": anonymous},
            "limits": dict(limits or {}),
            "api_keys": keys,
            "backends": [
                {"name": "pw", "kind": "patchwork", "url": sim.url, "token_env": "PW_TOKEN"}
            ],
        },
        env=ENV,
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


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    running = await start_simulator()
    yield running
    await running.close()


async def _receive(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive(), 10)
    if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
        return {"type": "closed", "code": ws.close_code}
    assert message.type == aiohttp.WSMsgType.TEXT, message
    body: dict[str, Any] = message.json()
    return body


async def _init(ws: aiohttp.ClientWebSocketResponse, payload: dict[str, Any] | None) -> str:
    await ws.send_json({"type": "connection_init", **({"payload": payload} if payload else {})})
    return str((await _receive(ws))["type"])


async def _run(ws: aiohttp.ClientWebSocketResponse, query: str, op: str = "1") -> dict[str, Any]:
    await ws.send_json({"id": op, "type": "subscribe", "payload": {"query": query}})
    return await _receive(ws)


async def test_guard_socket_key_in_header(sim: RunningSimulator) -> None:
    async with (
        _serve(sim) as (url, _),
        aiohttp.ClientSession() as http,
        http.ws_connect(url, protocols=PROTOCOL, headers=bearer(ALICE_KEY)) as ws,
    ):
        assert await _init(ws, None) == "connection_ack"
        result = await _run(ws, RATE)
        assert result["type"] == "next"
        assert result["payload"]["data"]["rateLimit"] == {"limit": 4321}


@pytest.mark.parametrize(
    "payload",
    [{"Authorization": f"Bearer {ALICE_KEY}"}, {"apiKey": ALICE_KEY}, {"X-Api-Key": ALICE_KEY}],
)
async def test_guard_socket_key_in_connection_init(
    sim: RunningSimulator, payload: dict[str, str]
) -> None:
    async with (
        _serve(sim) as (url, _),
        aiohttp.ClientSession() as http,
        http.ws_connect(url, protocols=PROTOCOL) as ws,  # no header, as from a browser
    ):
        assert await _init(ws, payload) == "connection_ack"
        result = await _run(ws, RATE)
        assert result["payload"]["data"] == {
            "rateLimit": {"limit": 4321},  # alice's own budget: the caller is alice
            "backends": [{"name": "pw"}],
        }


@pytest.mark.parametrize("payload", [None, {"apiKey": "rgk-not-a-key"}, {"other": "x"}])
async def test_guard_socket_without_a_valid_key_is_closed(
    sim: RunningSimulator, payload: dict[str, str] | None
) -> None:
    async with _serve(sim) as (url, hub), aiohttp.ClientSession() as http:
        async with http.ws_connect(url, protocols=PROTOCOL) as ws:
            assert await _init(ws, payload) == "closed"
            assert ws.close_code == 4403
        assert hub.pollers == {}


async def test_guard_socket_bad_header_key_is_closed_4401(sim: RunningSimulator) -> None:
    async with _serve(sim, anonymous=True) as (url, _), aiohttp.ClientSession() as http:
        headers = bearer("rgk-wrong-Key-0000")
        async with http.ws_connect(url, protocols=PROTOCOL, headers=headers) as ws:
            assert (await _receive(ws))["type"] == "closed"
            assert ws.close_code == 4401


async def test_guard_socket_anonymous_when_allowed(sim: RunningSimulator) -> None:
    async with (
        _serve(sim, anonymous=True) as (url, _),
        aiohttp.ClientSession() as http,
        http.ws_connect(url, protocols=PROTOCOL) as ws,
    ):
        assert await _init(ws, None) == "connection_ack"
        result = await _run(ws, RATE)
        assert result["payload"]["data"]["rateLimit"] == {"limit": 10_000}  # the default


async def test_guard_socket_request_rate(sim: RunningSimulator) -> None:
    limits = {"requests_per_minute": 1}
    async with _serve(sim, limits=limits) as (url, _), aiohttp.ClientSession() as http:
        headers = bearer(BOT_KEY)
        async with http.ws_connect(url, protocols=PROTOCOL, headers=headers) as ws:
            assert await _init(ws, None) == "connection_ack"
        async with http.ws_connect(url, protocols=PROTOCOL, headers=headers) as ws:
            assert (await _receive(ws))["type"] == "closed"
            assert ws.close_code == 4429
        async with http.ws_connect(url, protocols=PROTOCOL) as ws:  # the same, by payload
            assert await _init(ws, {"apiKey": BOT_KEY}) == "closed"


async def test_guard_socket_subscription_over_max_cost_polls_nothing(
    sim: RunningSimulator,
) -> None:
    # per event: one read for the patch's checks, one for its comments page = 2
    async with (
        _serve(sim, limits={"max_cost": 1}) as (url, hub),
        aiohttp.ClientSession() as http,
        http.ws_connect(url, protocols=PROTOCOL, headers=bearer(BOT_KEY)) as ws,
    ):
        assert await _init(ws, None) == "connection_ack"
        result = await _run(ws, EVENTS)
        errors = result["payload"]["errors"] if result["type"] == "next" else result["payload"]
        assert errors[0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
        assert errors[0]["extensions"]["cost"] == 2
        await asyncio.sleep(0.2)  # several poll intervals
        assert hub.pollers == {} and sim.state.requests == []


async def test_guard_socket_subscription_too_deep_and_query_over_budget(
    sim: RunningSimulator,
) -> None:
    limits = {"max_depth": 2, "cost_per_minute": 2, "max_cost": 2}
    async with (
        _serve(sim, limits=limits) as (url, hub),
        aiohttp.ClientSession() as http,
        http.ws_connect(url, protocols=PROTOCOL, headers=bearer(BOT_KEY)) as ws,
    ):
        assert await _init(ws, None) == "connection_ack"
        deep = await _run(ws, EVENTS)
        assert deep["type"] == "error"
        assert deep["payload"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
        # Each operation on the socket is charged to the caller's cost budget.
        assert (await _run(ws, "{ backends { name } }", "2"))["type"] == "next"
        assert (await _receive(ws))["type"] == "complete"
        assert (await _run(ws, "{ backends { name } }", "3"))["type"] == "next"
        assert (await _receive(ws))["type"] == "complete"
        refused = await _run(ws, "{ backends { name } }", "4")
        assert refused["payload"]["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert hub.pollers == {}
