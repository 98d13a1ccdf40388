"""Shared pieces of the reliability tests: the gateway over a fault server and a healthy
simulator, a recorder of every response and log line, and uvicorn on a real loopback socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from adapters.patchwork.simulator import PatchworkData, RunningSimulator, start_simulator
from gateway.app import create_app
from gateway.settings import Settings, settings_from_dict
from tests.reliability.faultserver import (
    SCENARIO_NAMES,
    FaultServer,
    KindProfile,
    closed_port_url,
    start_fault_server,
)

ADMIN_TOKEN = "a0" * 20  # the simulator's recorded admin token
FAULT_TIMEOUT = 0.3  # read/connect timeout of the faulty backends: a hang fails fast
FAULT_MAX_BYTES = 1024 * 1024  # the faulty backend's cap: the 10 MB answer must hit it
LOGGERS: tuple[str, ...] = (
    "",
    "revgate",
    "revgate.upstream",
    "strawberry",
    "strawberry.execution",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "aiohttp",
)


@dataclass
class Exchange:
    """One request the test client made and the answer it got, as text."""

    method: str
    url: str
    request_body: str
    status: int
    headers: list[tuple[str, str]]
    body: str

    def text(self) -> str:
        """Everything the client saw: status, headers and body."""
        head = "\n".join(f"{k}: {v}" for k, v in self.headers)
        return f"{self.status}\n{head}\n\n{self.body}"


class LogCapture(logging.Handler):
    """Keeps every record's formatted message (args applied, exception text included)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextlib.contextmanager
def capture_logs() -> Iterator[LogCapture]:
    """Every log record at DEBUG and above on the loggers that matter, for the duration."""
    handler = LogCapture()
    saved: list[tuple[logging.Logger, int, bool]] = []
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.disabled))
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        # Handlers on the root see child records through propagation; add it once only
        # to loggers that do not propagate, so that every line is recorded exactly once.
        if name == "" or not logger.propagate:
            logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger, level, disabled in saved:
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.disabled = disabled


@dataclass
class Recorder:
    """Every exchange made through ``FaultGateway.post``/``request``."""

    exchanges: list[Exchange] = field(default_factory=list)

    def add(self, request: httpx.Request, response: httpx.Response) -> None:
        self.exchanges.append(
            Exchange(
                method=request.method,
                url=str(request.url),
                request_body=request.content.decode("utf-8", "replace"),
                status=response.status_code,
                headers=list(response.headers.multi_items()),
                body=response.text,
            )
        )


def backend_of(scenario: str) -> str:
    """The backend that misbehaves as ``scenario`` says (``refused``: a closed port)."""
    return f"f-{scenario}"


@dataclass
class FaultGateway:
    """The gateway in-process over ``good`` (the simulator) and one backend per fault
    scenario, ``f-<scenario>``, each on its own fault server (``f-refused``: a closed port),
    so that every scenario can run at the same time."""

    client: httpx.AsyncClient
    servers: dict[str, FaultServer]  # scenario -> its server (none for "refused")
    sim: RunningSimulator
    recorder: Recorder
    profile: KindProfile

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Any request to the gateway, recorded."""
        resp = await self.client.request(method, url, **kwargs)
        self.recorder.add(resp.request, resp)
        return resp

    async def graphql(self, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        """POST one GraphQL request, recorded."""
        return await self.request("POST", "/graphql", json={"query": query, "variables": variables})

    def hits(self, scenario: str, path: str) -> int:
        """Requests the scenario's server got for ``path`` (0 for a closed port)."""
        server = self.servers.get(scenario)
        return server.hits[path] if server is not None else 0

    def authorizations(self) -> list[str]:
        """Every ``Authorization`` header any fault server received."""
        return [a for server in self.servers.values() for a in server.authorizations]


def fault_settings(
    sim_url: str,
    fault_urls: dict[str, str],
    *,
    good_auth: dict[str, str] | None = None,
    faulty_auth: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    kind: str = "patchwork",
) -> Settings:
    """``good`` (healthy) plus ``f-<scenario>`` of ``kind`` for each URL in ``fault_urls``."""
    fast: dict[str, Any] = {
        "timeout": FAULT_TIMEOUT,
        "connect_timeout": FAULT_TIMEOUT,
        "retries": 1,
        "max_body_bytes": FAULT_MAX_BYTES,
    }
    environment = {"GOOD_TOKEN": ADMIN_TOKEN, **(env or {})}
    good: dict[str, Any] = {"name": "good", "kind": "patchwork", "url": sim_url}
    backends = [{**good, **(good_auth or {"token_env": "GOOD_TOKEN"})}]
    for scenario, url in fault_urls.items():
        entry: dict[str, Any] = {"name": backend_of(scenario), "kind": kind, "url": url}
        backends.append({**entry, **fast, **(faulty_auth or {})})
    return settings_from_dict({"backends": backends}, env=environment)


@contextlib.asynccontextmanager
async def fault_gateway(
    data: PatchworkData | None = None,
    *,
    good_auth: dict[str, str] | None = None,
    faulty_auth: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    kind: str = "patchwork",
) -> AsyncIterator[FaultGateway]:
    """The gateway (in-process, httpx.ASGITransport) over a simulator and the fault servers.

    The faulty backends are of ``kind``; the fault servers speak Patchwork's paths, which is
    all the "ok" scenario needs, and every other scenario fails alike for any kind.
    """
    sim = await start_simulator(data)
    servers: dict[str, FaultServer] = {}
    try:
        for scenario in SCENARIO_NAMES:
            if scenario != "refused":
                servers[scenario] = await start_fault_server("patchwork", scenario)
        urls = {s: servers[s].url if s in servers else closed_port_url() for s in SCENARIO_NAMES}
        settings = fault_settings(
            sim.url, urls, good_auth=good_auth, faulty_auth=faulty_auth, env=env, kind=kind
        )
        app = create_app(settings)
        backends = app.state.backends  # httpx's ASGITransport runs no lifespan: open them here
        try:
            await backends.open()
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://revgate", timeout=30.0
            ) as client:
                profile = servers["ok"].profile
                yield FaultGateway(client, servers, sim, Recorder(), profile)
        finally:
            await backends.close()
    finally:
        for server in servers.values():
            await server.close()
        await sim.close()


# -- a real socket: uvicorn in a background thread -------------------------------------------


Setup = Callable[[], Awaitable[tuple[Settings, Callable[[], Awaitable[None]]]]]


class ServedGateway:
    """The gateway under uvicorn on ``127.0.0.1:0`` in a thread with its own event loop.

    ``setup`` runs on that loop and returns the settings plus an async cleanup (it starts the
    simulator the settings point at). Usable from sync tests (schemathesis, requests).
    """

    def __init__(self, setup: Setup) -> None:
        self._setup = setup
        self._ready = threading.Event()
        self._server: uvicorn.Server | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="revgate-test-server", daemon=True)
        self.url = ""

    def __enter__(self) -> ServedGateway:
        self._thread.start()
        if not self._ready.wait(20):
            raise RuntimeError("the gateway did not start within 20 s")
        if self._error is not None:
            raise RuntimeError("the gateway failed to start") from self._error
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(20)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        settings, cleanup = await self._setup()
        try:
            config = uvicorn.Config(
                create_app(settings),
                host="127.0.0.1",
                port=0,
                log_level="debug",
                log_config=None,  # keep the process-wide logging set-up untouched
                lifespan="on",
            )
            server = uvicorn.Server(config)
            self._server = server
            task = asyncio.create_task(server.serve())
            # uvicorn offers no start-up event to wait on, only the `started` flag.
            while not server.started and not task.done():  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            if task.done():
                await task
                raise RuntimeError("uvicorn stopped during start-up")
            port = server.servers[0].sockets[0].getsockname()[1]
            self.url = f"http://127.0.0.1:{port}"
            self._ready.set()
            await task
        finally:
            await cleanup()


def simulator_setup(data: PatchworkData | None = None, **backend: Any) -> Setup:
    """A ``Setup`` serving one Patchwork backend ``pw`` over a fresh simulator."""

    async def setup() -> tuple[Settings, Callable[[], Awaitable[None]]]:
        sim = await start_simulator(data)
        entry = {"name": "pw", "kind": "patchwork", "url": sim.url, "token_env": "PW_TOKEN"}
        # No rate limit: the fuzzers send thousands of requests from one address.
        limits = {"requests_per_minute": 0, "cost_per_minute": 0}
        settings = settings_from_dict(
            {"limits": limits, "backends": [{**entry, **backend}]}, env={"PW_TOKEN": ADMIN_TOKEN}
        )
        return settings, sim.close

    return setup
