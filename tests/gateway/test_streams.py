"""Subscriptions over HTTP: Server-Sent Events (graphql-sse, distinct connections) and
multipart (``multipart/mixed; subscriptionSpec=1.0``), with the same auth and limits as the
websocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from adapters.patchwork.simulator import start_simulator
from gateway.auth import hash_key
from gateway.settings import Settings, settings_from_dict
from tests.reliability.harness import ADMIN_TOKEN, ServedGateway, capture_logs

SUBSCRIBE = """subscription { events(filter: {categories: ["patch-state-changed"]}) {
    category currentState patch { id } } }"""
KEY = "rgk-stream-Ocelot-4410-Birch"


class Sim:
    url = ""


def _setup(
    sim: Sim, limits: dict[str, Any] | None = None, **server: Any
) -> Callable[[], Awaitable[tuple[Settings, Callable[[], Awaitable[None]]]]]:
    async def setup() -> tuple[Settings, Callable[[], Awaitable[None]]]:
        running = await start_simulator()
        sim.url = running.url
        settings = settings_from_dict(
            {
                "server": {"poll_interval": 0.05, **server},
                "limits": limits or {},
                "api_keys": [{"name": "k", "sha256": hash_key(KEY)}],
                "backends": [
                    {"name": "pw", "kind": "patchwork", "url": running.url, "token_env": "T"}
                ],
            },
            env={"T": ADMIN_TOKEN},
        )
        return settings, running.close

    return setup


async def _set_state(sim: Sim, patch: int, state: str) -> None:
    headers = {"Authorization": f"Token {ADMIN_TOKEN}"}
    url = f"{sim.url}/api/1.3/patches/{patch}/"
    async with (
        aiohttp.ClientSession() as http,
        http.patch(url, json={"state": state}, headers=headers) as r,
    ):
        assert r.status == 200


async def _sse_events(resp: aiohttp.ClientResponse) -> AsyncIterator[tuple[str, str]]:
    event, data = "", ""
    async for raw in resp.content:
        line = raw.decode().rstrip("\r\n")
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data = line[5:].strip()
        elif line == "" and event:
            yield event, data
            event, data = "", ""


async def _changer(sim: Sim) -> None:
    """Keep changing a patch's state until cancelled: the stream sees a change whenever it
    has taken its baseline poll (no sleep-based ordering)."""
    states = ["accepted", "rejected"]
    for n in range(200):
        await _set_state(sim, 1, states[n % 2])
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_sse_subscription_delivers_events(method: str) -> None:
    sim = Sim()
    with ServedGateway(_setup(sim)) as gw:
        async with aiohttp.ClientSession() as http:
            kwargs: dict[str, Any] = (
                {"params": {"query": SUBSCRIBE}}
                if method == "GET"
                else {"json": {"query": SUBSCRIBE}}
            )
            async with http.request(
                method, f"{gw.url}/graphql", headers={"Accept": "text/event-stream"}, **kwargs
            ) as resp:
                assert resp.status == 200
                assert resp.headers["Content-Type"].startswith("text/event-stream")
                changer = asyncio.create_task(_changer(sim))
                try:
                    async with asyncio.timeout(20):
                        event, data = await anext(aiter(_sse_events(resp)))
                finally:
                    changer.cancel()
    assert event == "next"
    payload = json.loads(data)
    assert payload["data"]["events"]["category"] == "patch-state-changed"


async def test_sse_needs_a_key_when_anonymous_is_off() -> None:
    sim = Sim()
    with ServedGateway(_setup(sim, anonymous=False)) as gw:
        async with aiohttp.ClientSession() as http:
            url = f"{gw.url}/graphql"
            stream = {"Accept": "text/event-stream"}
            async with http.get(url, params={"query": SUBSCRIBE}, headers=stream) as resp:
                assert resp.status == 401
                body = await resp.json()
                assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            keyed = {**stream, "Authorization": f"Bearer {KEY}"}
            async with http.get(url, params={"query": SUBSCRIBE}, headers=keyed) as resp:
                assert resp.status == 200


async def test_sse_costly_subscription_is_refused_before_polling() -> None:
    sim = Sim()
    costly = """subscription { events { patch { id checks { state } comments(first: 5) {
        nodes { id } } } } }"""
    with ServedGateway(_setup(sim, limits={"max_cost": 1})) as gw:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{gw.url}/graphql",
                json={"query": costly},
                headers={"Accept": "text/event-stream"},
            ) as resp,
        ):
            async with asyncio.timeout(10):
                events = [e async for e in _sse_events(resp)]
    assert events[0][0] == "next" and events[-1][0] == "complete"
    assert json.loads(events[0][1])["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


async def test_multipart_subscription_delivers_events() -> None:
    sim = Sim()
    accept = 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json'
    with ServedGateway(_setup(sim)) as gw:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{gw.url}/graphql", json={"query": SUBSCRIBE}, headers={"Accept": accept}
            ) as resp,
        ):
            assert resp.headers["Content-Type"].startswith("multipart/mixed")
            changer = asyncio.create_task(_changer(sim))
            seen = b""
            try:
                async with asyncio.timeout(20):
                    while b"patch-state-changed" not in seen:
                        seen += await resp.content.readany()
            finally:
                changer.cancel()
    assert b'"payload"' in seen and b"--graphql" in seen


RESUMABLE = """subscription { events(filter: {categories: ["patch-state-changed"]}) {
    cursor category patch { id } } }"""


async def _ids(resp: aiohttp.ClientResponse, count: int) -> list[tuple[str, str]]:
    """The first ``count`` (SSE id, event cursor) pairs of a stream."""
    got: list[tuple[str, str]] = []
    sse_id = ""
    async for raw in resp.content:
        line = raw.decode().rstrip("\r\n")
        if line.startswith("id:"):
            sse_id = line[3:].strip()
        elif line.startswith("data:") and sse_id:
            got.append((sse_id, json.loads(line[5:])["data"]["events"]["cursor"]))
            sse_id = ""
            if len(got) == count:
                break
    return got


async def test_sse_event_ids_are_cursors_and_last_event_id_resumes() -> None:
    """An EventSource reconnecting with ``Last-Event-ID`` gets the events after it, from the
    event log: nothing lost, nothing twice."""
    sim = Sim()
    stream = {"Accept": "text/event-stream"}
    with ServedGateway(_setup(sim)) as gw:
        url = f"{gw.url}/graphql"
        async with aiohttp.ClientSession() as http:
            async with http.get(url, params={"query": RESUMABLE}, headers=stream) as resp:
                changer = asyncio.create_task(_changer(sim))
                try:
                    async with asyncio.timeout(20):
                        first_two = await _ids(resp, 2)
                finally:
                    changer.cancel()
            (id1, cursor1), (id2, cursor2) = first_two
            assert id1 == cursor1 and id2 == cursor2 and id1 != id2
            resumed_headers = {**stream, "Last-Event-ID": id1}
            async with http.get(url, params={"query": RESUMABLE}, headers=resumed_headers) as r:
                async with asyncio.timeout(20):
                    (resumed,) = await _ids(r, 1)
    assert resumed == (id2, cursor2)  # the event right after the last one seen


async def test_multipart_query_is_answered_in_one_part_without_a_traceback() -> None:
    """A query (not a subscription) sent with the multipart subscription Accept: its result
    in one part, no internal error logged (strawberry's transport raised inside the stream)."""
    sim = Sim()
    accept = 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json'
    with capture_logs() as logs, ServedGateway(_setup(sim)) as gw:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{gw.url}/graphql",
                json={"query": "{ backends { name } }"},
                headers={"Accept": accept},
            ) as resp,
        ):
            async with asyncio.timeout(10):
                body = await resp.read()
    assert b'"backends":[{"name":"pw"}]' in body.replace(b" ", b"")
    assert not [line for line in logs.lines if "Traceback" in line or "unexpected" in line]
