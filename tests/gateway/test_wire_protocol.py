"""``gateway/wire.py``: uvicorn's httptools protocol writing header names as spelled.

A real uvicorn server on 127.0.0.1 read with a raw socket: names keep their case, framing
headers (``Content-Length``, ``Transfer-Encoding``, ``Connection``) still drive keep-alive
and chunking whatever case the app used."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from starlette.types import Receive, Scope, Send

from gateway.cli import uvicorn_server
from gateway.wire import CasedName, cased

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers ``/fixed`` with a Content-Length (spelled mixed-case) and ``/stream`` chunked."""
    if scope["type"] != "http":
        return
    await receive()
    if scope["path"] == "/fixed":
        body = b"hello"
        headers = [
            (b"Content-Length", str(len(body)).encode()),
            (b"Link", b'<http://x/?page=2>; rel="next"'),
            (b"X-Mixed-Case", b"1"),
            (b"content-type", b"text/plain"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"Allow", b"GET")]})
    await send({"type": "http.response.body", "body": b"ab", "more_body": True})
    await send({"type": "http.response.body", "body": b"cd"})


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def port() -> AsyncIterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn_server(app, "127.0.0.1", 0, log_level="warning", lifespan="off")
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task
        sock.close()


async def _read_response(reader: asyncio.StreamReader) -> tuple[list[bytes], bytes]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    lines = head.split(b"\r\n")[1:-2]
    names = {line.split(b":", 1)[0].lower(): line.split(b": ", 1)[1] for line in lines}
    if b"content-length" in names:
        body = await reader.readexactly(int(names[b"content-length"]))
    else:
        assert names.get(b"transfer-encoding") == b"chunked"
        body = b""
        while (size := int((await reader.readline()).strip(), 16)) > 0:
            body += await reader.readexactly(size)
            await reader.readline()
        await reader.readline()
    return lines, body


async def test_names_keep_their_case_and_keep_alive_works(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for path in ("/fixed", "/stream", "/fixed"):  # one connection: framing must be right
            writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            lines, body = await _read_response(reader)
            names = [line.split(b":", 1)[0] for line in lines]
            if path == "/fixed":
                assert body == b"hello"
                assert b"Link" in names and b"X-Mixed-Case" in names
                assert b"content-length" in names and b"content-type" in names
                assert b"transfer-encoding" not in names
            else:
                assert body == b"abcd"
                assert b"Allow" in names and b"transfer-encoding" in names
    finally:
        writer.close()
        await writer.wait_closed()


async def test_cased_wraps_only_mixed_case_non_framing_names() -> None:
    out = cased(
        [(b"Link", b"1"), (b"Content-Length", b"2"), (b"vary", b"3"), (b"Connection", b"c")]
    )
    assert [type(n) for n, _ in out] == [CasedName, bytes, bytes, bytes]
    assert [n for n, _ in out] == [b"Link", b"content-length", b"vary", b"connection"]
    assert CasedName(b"Link").lower() == b"Link"
