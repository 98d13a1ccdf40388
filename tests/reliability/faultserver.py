"""A small upstream that speaks just enough of a backend's API and misbehaves on request.

``start_fault_server(kind)`` listens on ``127.0.0.1:0``. Its *index* path (e.g. Patchwork's
``/api/1.3/``) always answers 200 so that version detection succeeds; every other path
answers according to the current ``scenario`` (see ``SCENARIOS``), or, for ``"ok"``, with
recorded payloads of the real server (``tests/fixtures/``). The server counts requests per
path and remembers every ``Authorization`` header it saw, so tests can assert retries and
that credentials were sent (and then never leaked).

A backend kind is described by a ``KindProfile`` (index path, list path, canned payloads and a
GraphQL query that lists through the backend); adding a kind to the fault matrix is adding a
profile to ``PROFILES``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HANG_SECONDS = 10.0  # far beyond the read timeout the tests configure (≈ 0.3 s)
DRIP_INTERVAL = 0.1  # below the read timeout: each read succeeds, the answer never ends
DRIP_BYTES = 200
HUGE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class KindProfile:
    """What the fault server must speak of one backend kind, and how the gateway lists it."""

    kind: str
    index_path: str
    index_body: Any
    routes: dict[str, Any]  # exact path -> JSON body served in the "ok" scenario
    list_path: str
    list_query: str  # GraphQL; ``$backend: String!`` selects the faulty backend
    node_type: str  # a type whose global ID ``node_id`` the backend can fetch
    node_id: str

    def payload(self, path: str, query: dict[str, str]) -> Any:
        """The "ok" body for ``path`` (a list is cut to ``per_page``); ``None`` if unknown."""
        body = self.routes.get(path)
        if isinstance(body, list):
            per_page = int(query.get("per_page", "30") or "30")
            page = int(query.get("page", "1") or "1")
            return body[(page - 1) * per_page : page * per_page]
        return body


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / "patchwork-3.2.1" / "v1.3" / name).read_text())


def patchwork_profile() -> KindProfile:
    """Upstream Patchwork, API 1.3, answering with the recorded 3.2.1 payloads."""
    return KindProfile(
        kind="patchwork",
        index_path="/api/1.3/",
        index_body=_fixture("index.json"),
        routes={
            "/api/1.3/patches/": _fixture("patches.json"),
            "/api/1.3/patches/3/": _fixture("patch-3.json"),
        },
        list_path="/api/1.3/patches/",
        list_query=(
            "query($backend: String!) { patches(first: 5, filter: {backend: $backend})"
            " { nodes { id title state author { name } } } }"
        ),
        node_type="Patch",
        node_id="3",
    )


PROFILES: dict[str, Callable[[], KindProfile]] = {"patchwork": patchwork_profile}


@dataclass(frozen=True)
class Scenario:
    """One way the upstream misbehaves and what the gateway must turn it into."""

    name: str
    code: str | None  # the expected extensions.code; None: the query succeeds
    what: str


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("ok", None, "well-behaved upstream"),
    Scenario("refused", "UPSTREAM_UNAVAILABLE", "nothing listens on the port"),
    Scenario("reset", "UPSTREAM_UNAVAILABLE", "connection closed before any answer"),
    Scenario("hang", "UPSTREAM_TIMEOUT", "no answer until long after the read timeout"),
    Scenario("drip", "UPSTREAM_TIMEOUT", "200, then one byte every 0.1 s, for ever"),
    Scenario("500", "UPSTREAM_UNAVAILABLE", "HTTP 500 with an HTML body"),
    Scenario("429-once", None, "429 Retry-After: 0, then success (retried)"),
    Scenario("429", "UPSTREAM_UNAVAILABLE", "429 Retry-After: 0 on every attempt"),
    Scenario("truncated", "UPSTREAM_UNAVAILABLE", "Content-Length larger than the body sent"),
    Scenario("non-json", "BAD_UPSTREAM_PAYLOAD", "200 with an HTML page"),
    Scenario("empty", "BAD_UPSTREAM_PAYLOAD", "200 with an empty body"),
    Scenario("huge", "BAD_UPSTREAM_PAYLOAD", "10 MB JSON body with Content-Length"),
    Scenario("huge-chunked", "BAD_UPSTREAM_PAYLOAD", "10 MB JSON body, chunked"),
    Scenario("echo-auth", "FORBIDDEN", "403 whose detail echoes the Authorization header"),
)
SCENARIO_NAMES = tuple(s.name for s in SCENARIOS)


@dataclass
class FaultServer:
    """A running fault server: set ``scenario`` to change how it behaves."""

    profile: KindProfile
    scenario: str = "ok"
    url: str = ""
    hits: Counter[str] = field(default_factory=Counter)
    authorizations: list[str] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    def reset(self, scenario: str) -> None:
        """Switch to ``scenario`` and forget the request counts."""
        if scenario not in SCENARIO_NAMES:
            raise ValueError(f"unknown scenario {scenario!r}")
        self.scenario = scenario
        self.hits.clear()

    async def close(self) -> None:
        """Release hanging handlers and stop listening."""
        self._stop.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.hits[request.path] += 1
        auth = request.headers.get("Authorization")
        if auth:
            self.authorizations.append(auth)
        if request.path == self.profile.index_path:
            return web.json_response(self.profile.index_body)
        handler = _BEHAVIOURS.get(self.scenario, _ok)
        return await handler(self, request)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake up at once when the server closes (no lingering handler)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)


Behaviour = Callable[[FaultServer, web.Request], Awaitable[web.StreamResponse]]


async def _ok(server: FaultServer, request: web.Request) -> web.StreamResponse:
    body = server.profile.payload(request.path, dict(request.query))
    if body is None:
        return web.json_response({"detail": "Not found."}, status=404)
    return web.json_response(body)


async def _reset(server: FaultServer, request: web.Request) -> web.StreamResponse:
    if request.transport is not None:
        request.transport.abort()
    # aiohttp needs a response object; the connection is already gone.
    return web.Response(status=500)


async def _hang(server: FaultServer, request: web.Request) -> web.StreamResponse:
    await server._sleep(HANG_SECONDS)
    return web.Response(status=504, text="gave up hanging")


async def _drip(server: FaultServer, request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    resp.content_length = DRIP_BYTES
    await resp.prepare(request)
    for _ in range(DRIP_BYTES):
        if server._stop.is_set():
            break
        await resp.write(b" ")
        await server._sleep(DRIP_INTERVAL)
    return resp


async def _status_500(server: FaultServer, request: web.Request) -> web.StreamResponse:
    return web.Response(status=500, text="<h1>Server Error (500)</h1>", content_type="text/html")


async def _rate_limited() -> web.StreamResponse:
    return web.json_response(
        {"detail": "Request was throttled."}, status=429, headers={"Retry-After": "0"}
    )


async def _429_once(server: FaultServer, request: web.Request) -> web.StreamResponse:
    if server.hits[request.path] == 1:
        return await _rate_limited()
    return await _ok(server, request)


async def _429(server: FaultServer, request: web.Request) -> web.StreamResponse:
    return await _rate_limited()


async def _truncated(server: FaultServer, request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    resp.content_length = 5000
    await resp.prepare(request)
    await resp.write(b'[{"id": 1, "name": "cut off')
    await asyncio.sleep(0.01)  # let the partial body reach the client before the close
    if request.transport is not None:
        request.transport.close()
    return resp


async def _non_json(server: FaultServer, request: web.Request) -> web.StreamResponse:
    return web.Response(
        text="<html><body>Maintenance</body></html>", content_type="application/json"
    )


async def _empty(server: FaultServer, request: web.Request) -> web.StreamResponse:
    return web.Response(body=b"", content_type="application/json")


def _huge_body() -> bytes:
    item = b'{"id": 1, "name": "' + b"x" * 1000 + b'"},'
    count = HUGE_BYTES // len(item)
    return b"[" + item * count + b'{"id": 0}]'


async def _huge(server: FaultServer, request: web.Request) -> web.StreamResponse:
    return web.Response(body=_huge_body(), content_type="application/json")


async def _huge_chunked(server: FaultServer, request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    body = _huge_body()
    step = 256 * 1024
    try:
        for start in range(0, len(body), step):
            await resp.write(body[start : start + step])
    except (ConnectionResetError, RuntimeError):
        return resp  # the client stopped reading at its cap, as it should
    await resp.write_eof()
    return resp


async def _echo_auth(server: FaultServer, request: web.Request) -> web.StreamResponse:
    auth = request.headers.get("Authorization", "")
    return web.json_response({"detail": f"Invalid credentials: {auth}"}, status=403)


_BEHAVIOURS: dict[str, Behaviour] = {
    "ok": _ok,
    "reset": _reset,
    "hang": _hang,
    "drip": _drip,
    "500": _status_500,
    "429-once": _429_once,
    "429": _429,
    "truncated": _truncated,
    "non-json": _non_json,
    "empty": _empty,
    "huge": _huge,
    "huge-chunked": _huge_chunked,
    "echo-auth": _echo_auth,
}


async def start_fault_server(kind: str = "patchwork", scenario: str = "ok") -> FaultServer:
    """A fault server for ``kind`` on ``127.0.0.1``, any free port, playing ``scenario``."""
    server = FaultServer(PROFILES[kind]())
    server.reset(scenario)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server._handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sockets = getattr(site._server, "sockets", None)
    assert sockets, "fault server did not bind"
    server.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
    server._runner = runner
    return server


def closed_port_url() -> str:
    """A loopback URL on which nothing listens (the port was bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
