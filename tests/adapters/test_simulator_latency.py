"""``--latency-ms``: every simulator (and ``revgate demo``) answers API requests N ms late, so
the dashboard's upstream waves can be seen and reproduced (issue 21)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from adapters import simulator_common
from adapters.abf import simulator as abf
from adapters.gerrit import simulator as gerrit
from adapters.patchwork import simulator as patchwork
from adapters.patchwork_fdo import simulator as fdo
from bench.waves import demo_gateway

KINDS: dict[str, Any] = {"patchwork": patchwork, "fdo": fdo, "gerrit": gerrit, "abf": abf}
# An API path each simulator answers (Gerrit's REST API is the whole server).
API_PATHS = {
    "patchwork": "/api/1.3/projects/",
    "fdo": "/api/1.0/projects/",
    "gerrit": "/config/server/version",
    "abf": "/api/v1/user.json",
}
LATENCY_MS = 60.0


@pytest.mark.parametrize("kind", list(KINDS))
async def test_start_simulator_installs_the_latency_on_every_kind(kind: str) -> None:
    start: Callable[..., Awaitable[Any]] = KINDS[kind].start_simulator
    plain, late = await start(), await start(latency_ms=LATENCY_MS)
    try:
        assert simulator_common.latency_of(plain.runner.app) == 0
        assert simulator_common.latency_of(late.runner.app) == LATENCY_MS
        async with aiohttp.ClientSession() as http:
            began = time.monotonic()
            async with http.get(late.url + API_PATHS[kind]) as resp:
                await resp.read()
            took_ms = (time.monotonic() - began) * 1000
        assert resp.status < 500
        assert took_ms >= LATENCY_MS  # a lower bound only: the machine may be slower
    finally:
        await plain.close()
        await late.close()


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_simulator_command_line_takes_latency_ms(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[web.Application] = []
    monkeypatch.setattr(web, "run_app", lambda app, **_: served.append(app))
    KINDS[kind].main(["--latency-ms", "7.5"])
    KINDS[kind].main([])
    assert [simulator_common.latency_of(app) for app in served] == [7.5, 0.0]


@pytest.mark.parametrize("bad", ["-1", "nan", "inf", "1e9", "soon"])
def test_bad_latency_is_a_usage_error_not_a_traceback(bad: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "demo", "--latency-ms", bad],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--latency-ms" in done.stderr and "Traceback" not in done.stderr
    with pytest.raises(ValueError):
        simulator_common.add_latency(web.Application(), float(bad) if bad != "soon" else -1)


async def test_latency_spares_paths_outside_the_prefix() -> None:
    key = web.AppKey("unused", object)
    app = web.Application()
    app[key] = object()
    simulator_common.add_latency(app, 30_000, "/api/")  # 30 s: only a bug would wait for it

    async def ok(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_get("/{tail:.*}", ok)
    running = await simulator_common.serve(app, key)
    try:
        async with aiohttp.ClientSession() as http, asyncio.timeout(10):
            async with http.get(running.url + "/web/x") as resp:
                assert resp.status == 200
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.5), http.get(running.url + "/api/x"):
                    pass
    finally:
        await running.close()


async def test_demo_setup_with_latency_answers_and_waits_for_its_backends() -> None:
    query = "{ changes(first: 5) { nodes { title backend { name } } } }"
    async with demo_gateway(latency_ms=LATENCY_MS) as (client, sims):
        assert {simulator_common.latency_of(s.runner.app) for s in sims.values()} == {LATENCY_MS}
        began = time.monotonic()
        body = (await client.post("/graphql", json={"query": query})).json()
        took_ms = (time.monotonic() - began) * 1000
    assert "errors" not in body and len(body["data"]["changes"]["nodes"]) == 5, body
    assert took_ms >= LATENCY_MS


def test_revgate_demo_passes_its_latency_to_every_simulator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each kind's simulator is started in a process of its own (``Demo.module``) with the
    demo's latency, and every one is stopped when the demo ends, however it ends."""
    from gateway import cli

    seen: dict[str, float] = {}
    closed: list[str] = []

    class Stop(Exception):
        pass

    class Child:
        def __init__(self, module: str) -> None:
            self.url, self.module = f"http://127.0.0.1:1/{module}", module

        async def close(self) -> None:
            closed.append(self.module)

    async def start_child(module: str, latency_ms: float) -> Child:
        seen[module] = latency_ms
        return Child(module)

    def no_server(*_: Any) -> Any:
        raise Stop

    monkeypatch.setattr(simulator_common, "start_child", start_child)
    monkeypatch.setattr(cli, "listen", lambda host, port: socket.socket())  # no port taken
    monkeypatch.setattr(cli, "uvicorn_server", no_server)
    with pytest.raises(Stop):
        asyncio.run(cli._demo("127.0.0.1", 8000, latency_ms=12.0))
    assert seen == {
        f"adapters.{k}.simulator": 12.0 for k in ("patchwork", "patchwork_fdo", "gerrit", "abf")
    }, seen
    assert sorted(closed) == sorted(seen)


@pytest.mark.parametrize(
    ("work_ms", "fails", "slept_ms"),
    [(0.0, False, 20.0), (15.0, False, 5.0), (15.0, True, 5.0), (30.0, False, None)],
)
async def test_the_simulators_own_work_counts_within_the_latency(
    work_ms: float, fails: bool, slept_ms: float | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer leaves the latency after its request came in, not the latency after the
    simulator's own work (a slow handler is not made slower; an error answer waits too)."""
    clock = [100.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds * 1000)
        clock[0] += seconds

    async def handler(_: web.Request) -> web.StreamResponse:
        clock[0] += work_ms / 1000
        if fails:
            raise web.HTTPNotFound()
        return web.Response(text="ok")

    monkeypatch.setattr(simulator_common, "_now", lambda: clock[0])
    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    app = web.Application()
    simulator_common.add_latency(app, 20, "/api/")
    request = make_mocked_request("GET", "/api/x", app=app)
    if fails:
        with pytest.raises(web.HTTPNotFound):
            await simulator_common._late(request, handler)
    else:
        assert isinstance(await simulator_common._late(request, handler), web.Response)
    assert slept == ([] if slept_ms is None else [pytest.approx(slept_ms)])
    assert clock[0] == pytest.approx(100.0 + max(work_ms, 20.0) / 1000)
