"""adapters.http: the whole-attempt deadline that stops an upstream dripping its answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.errors import Timeout
from adapters.http import HttpClient, HttpConfig


async def drip(request: web.Request) -> web.StreamResponse:
    """``count`` bytes of a JSON string, one every ``every`` seconds."""
    count = int(request.query["count"])
    every = float(request.query["every"])
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    resp.content_length = count + 2
    await resp.prepare(request)
    await resp.write(b'"')
    for _ in range(count):
        await asyncio.sleep(every)
        await resp.write(b"x")
    await resp.write(b'"')
    return resp


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/drip", drip)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


def test_attempt_deadline_defaults_to_connect_plus_two_reads() -> None:
    config = HttpConfig(backend="pw", base_url="http://h", connect_timeout=1, read_timeout=3)
    assert config.attempt_deadline == 7
    assert HttpConfig(backend="pw", base_url="http://h", total_timeout=2.5).attempt_deadline == 2.5


async def test_dripping_answer_times_out_and_is_retried(base_url: str) -> None:
    attempts: list[int | None] = []
    config = HttpConfig(
        backend="pw", base_url=base_url, connect_timeout=0.2, read_timeout=0.2, retries=1
    )
    client = HttpClient(config, on_request=lambda m, u, s, t: attempts.append(s))
    start = time.monotonic()
    try:
        with pytest.raises(Timeout) as info:
            await client.get("/drip", {"count": 1000, "every": "0.05"})
    finally:
        await client.close()
    assert time.monotonic() - start < 3  # 2 attempts x 0.6 s, not 2 x 50 s
    # How it failed, not where: the path stays in the log (issue 15 item 13).
    assert str(info.value) == "pw: timed out waiting for the whole answer (0.6s)"
    assert info.value.status is None
    assert len(attempts) == 2


async def test_slow_answer_within_the_deadline_is_read(base_url: str) -> None:
    config = HttpConfig(backend="pw", base_url=base_url, read_timeout=0.2, total_timeout=2.0)
    client = HttpClient(config)
    try:
        body, _ = await client.get_json("/drip", {"count": 5, "every": "0.05"})
    finally:
        await client.close()
    assert body == "xxxxx"
