"""Slow clients are bounded (issue 15 item 14), against the real server ``revgate serve``
runs (``gateway.cli.uvicorn_server``) on loopback, with raw sockets:

- a request body sent in half: ``408 REQUEST_TIMEOUT`` after ``body_timeout`` (GraphQL and
  compat alike), while ``/healthz`` keeps answering;
- a request head sent in half: the connection is closed after ``header_timeout``;
- a websocket that never authenticates (``anonymous = false``) or never sends
  ``connection_init``: closed with 4408 after ``socket_init_timeout``, in either subprotocol.

The timeouts are set to 1 s; the bounds asserted are generous (the machine is shared), and
each test also asserts the deterministic outcome (status, code, close code).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from adapters.patchwork.simulator import start_simulator
from gateway.app import create_app
from gateway.cli import uvicorn_server
from gateway.settings import settings_from_dict

BOUND = 15.0  # seconds: far above the 1 s timeouts, far below "held forever"
TIMEOUTS = {"header_timeout": 1, "body_timeout": 1, "socket_init_timeout": 1}


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def served(**server: Any) -> AsyncIterator[int]:
    """The gateway over a Patchwork simulator under ``uvicorn_server``; its port."""
    sim = await start_simulator()
    settings = settings_from_dict(
        {
            "server": {**TIMEOUTS, **server},
            "limits": {"requests_per_minute": 0},
            "backends": [{"name": "pw", "kind": "patchwork", "url": sim.url}],
        },
        env={},
    )
    port = _port()
    server_ = uvicorn_server(create_app(settings), "127.0.0.1", port)
    task = asyncio.create_task(server_.serve())
    try:
        for _ in range(500):  # uvicorn offers no event for "listening"; poll, bounded
            if server_.started or task.done():
                break
            await asyncio.sleep(0.02)
        assert server_.started
        yield port
    finally:
        server_.should_exit = True
        await task
        await sim.close()


async def _read_all(reader: asyncio.StreamReader) -> bytes:
    """Everything until the server closes the connection (bounded by ``BOUND``)."""
    return await asyncio.wait_for(reader.read(), BOUND)


async def _half_body(port: int, path: str) -> tuple[float, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = b'{"query": "{ backends { name } }"}'
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    start = time.monotonic()
    writer.write(head + body[: len(body) // 2])
    await writer.drain()
    answer = await _read_all(reader)
    writer.close()
    return time.monotonic() - start, answer


async def test_half_sent_bodies_get_408_and_the_loop_stays_responsive() -> None:
    async with served() as port:
        paths = ["/graphql", "/rest/pw/api/1.3/projects/"] * 25
        tasks = [asyncio.create_task(_half_body(port, path)) for path in paths]
        await asyncio.sleep(0.2)
        # While 50 bodies hang, the process serves others.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert (await _read_all(reader)).startswith(b"HTTP/1.1 200")
        writer.close()
        results = await asyncio.gather(*tasks)
    for (elapsed, answer), path in zip(results, paths, strict=True):
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        body = orjson.loads(answer.split(b"\r\n\r\n", 1)[1])
        if path.startswith("/rest/"):  # the kind's own form there (adapters/native.py)
            assert body["detail"].startswith("request body not received within")
        else:
            assert body["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"
        assert 0.5 < elapsed < BOUND


async def test_half_sent_head_is_closed() -> None:
    async with served() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        start = time.monotonic()
        writer.write(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Ty")
        await writer.drain()
        assert await _read_all(reader) == b""  # closed, nothing answered
        assert 0.5 < time.monotonic() - start < BOUND
        writer.close()
        # A keep-alive connection that starts its next head and stalls: closed too.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = await asyncio.wait_for(reader.readuntil(b'{"status":"ok"}'), BOUND)
        assert first.startswith(b"HTTP/1.1 200")
        writer.write(b"GET /hea")
        await writer.drain()
        assert await _read_all(reader) == b""
        writer.close()


async def _socket_close_code(port: int, protocol: str, init: bool) -> int | None:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"ws://127.0.0.1:{port}/graphql", protocols=[protocol]) as ws,
    ):
        if init:  # graphql-ws (legacy): an init without a key
            await ws.send_json({"type": "connection_init", "payload": {}})
        while True:
            message = await asyncio.wait_for(ws.receive(), BOUND)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                return ws.close_code
            if message.type is aiohttp.WSMsgType.CLOSING:
                continue


async def test_unauthenticated_websockets_are_closed() -> None:
    async with served(anonymous=False) as port:
        # no connection_init at all, either subprotocol
        for protocol in ("graphql-transport-ws", "graphql-ws"):
            start = time.monotonic()
            code = await _socket_close_code(port, protocol, init=False)
            assert code == 4408, (protocol, code)
            assert time.monotonic() - start < BOUND
        # legacy protocol with a keyless init: refused at once (strawberry's graphql-ws
        # handler answers connection_error and closes with 1011, that protocol's way)
        start = time.monotonic()
        code = await _socket_close_code(port, "graphql-ws", init=True)
        assert code == 1011, code
        assert time.monotonic() - start < BOUND


async def test_websocket_without_connection_init_is_closed_when_anonymous() -> None:
    async with served() as port:
        code = await _socket_close_code(port, "graphql-transport-ws", init=False)
        assert code == 4408
