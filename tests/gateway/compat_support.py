"""Shared set-up for the REST compatibility tests: the gateway over the Patchwork simulator."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette

from adapters.patchwork.simulator import PatchworkData, RunningSimulator, start_simulator
from gateway.app import create_app
from gateway.cli import uvicorn_server
from gateway.settings import Settings, settings_from_dict

ADMIN = "a0" * 20  # the simulator's admin token; also a compat token that may write
BOT = "b0" * 20  # a compat token that may only read
BACKEND_TOKEN_ENV = {"PW_TOKEN": ADMIN}


def sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def compat_settings(
    url: str,
    env: Mapping[str, str] | None = None,
    backend: Mapping[str, Any] | None = None,
    top: Mapping[str, Any] | None = None,
    **compat: Any,
) -> Any:
    """Settings: backend ``pw`` at ``url`` (admin credentials) and the two compat tokens."""
    compat.setdefault(
        "tokens",
        [
            {"name": "admin", "sha256": sha(ADMIN)},
            {"name": "bot", "sha256": sha(BOT), "write": False},
        ],
    )
    data = {
        "backends": [
            {
                "name": "pw",
                "kind": "patchwork",
                "url": url,
                "retries": 0,
                "token_env": "PW_TOKEN",
                **(backend or {}),
            }
        ],
        "compat": compat,
        **(top or {}),
    }
    return settings_from_dict(data, env={**BACKEND_TOKEN_ENV, **(env or {})})


@dataclass
class CompatGateway:
    """The gateway app (in-process), an httpx client on it, and the simulator behind it."""

    app: Starlette
    client: httpx.AsyncClient
    sim: RunningSimulator

    def upstream(self) -> list[tuple[str, str]]:
        """The requests the simulator has received so far (method, path+query)."""
        return self.sim.state.requests


@contextlib.asynccontextmanager
async def settings_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the gateway built from ``settings`` (in-process, backends open)."""
    app = create_app(settings)
    await app.state.backends.open()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as client:
            yield client
    finally:
        await app.state.backends.close()


@contextlib.asynccontextmanager
async def compat_gateway(
    data: PatchworkData | None = None,
    env: Mapping[str, str] | None = None,
    backend: Mapping[str, Any] | None = None,
    top: Mapping[str, Any] | None = None,
    **compat: Any,
) -> AsyncIterator[CompatGateway]:
    """The gateway in-process over a fresh simulator (httpx ASGI transport, no lifespan)."""
    sim = await start_simulator(data)
    app = create_app(compat_settings(sim.url, env, backend, top, **compat))
    backends = app.state.backends
    try:
        await backends.open()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as client:
            yield CompatGateway(app, client, sim)
    finally:
        await backends.close()
        await sim.close()


@dataclass
class LiveGateway:
    """The gateway on a real loopback socket (uvicorn) over the simulator."""

    url: str
    sim: RunningSimulator


@contextlib.asynccontextmanager
async def live_gateway(
    data: PatchworkData | None = None, **compat: Any
) -> AsyncIterator[LiveGateway]:
    """uvicorn serving the gateway on 127.0.0.1:<free port>, started and stopped here."""
    sim = await start_simulator(data)
    app = create_app(compat_settings(sim.url, **compat))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn_server(
        app, "127.0.0.1", port, log_level="warning", lifespan="on", access_log=False
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        yield LiveGateway(f"http://127.0.0.1:{port}", sim)
    finally:
        server.should_exit = True
        await task
        sock.close()
        await sim.close()


@contextlib.asynccontextmanager
async def serve_app(app: Starlette, lifespan: str = "on") -> AsyncIterator[str]:
    """``app`` under uvicorn on 127.0.0.1:<free port>; yields its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn_server(
        app, "127.0.0.1", port, log_level="warning", lifespan=lifespan, access_log=False
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
