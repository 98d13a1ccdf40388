"""What every backend simulator shares: serving its aiohttp app on a loopback port, and
answering its API requests late (``--latency-ms``).

The simulators (``adapters/<kind>/simulator/``) serve a kind's documented API over in-memory
data for the demo, the tests and the benches; each keeps its state under its own ``AppKey``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiohttp import web

S = TypeVar("S")

# (seconds, path prefix): how late the app answers requests under that prefix.
LATENCY: web.AppKey[tuple[float, str]] = web.AppKey("LATENCY")


@web.middleware
async def _late(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    seconds, prefix = request.app[LATENCY]
    if not request.path.startswith(prefix):
        return await handler(request)
    # The answer leaves ``seconds`` after the request came in: the simulator's own work counts
    # within that service time, as a real server's would, instead of adding to it (a
    # simulator filtering its whole seed in Python would otherwise stretch every wave).
    due = _now() + seconds
    try:
        response = await handler(request)
    except web.HTTPException:  # aiohttp's error answers (404, 400…) are answers too
        await _until(due)
        raise
    await _until(due)
    return response


def _now() -> float:
    return time.monotonic()


async def _until(due: float) -> None:
    wait = due - _now()
    if wait > 0:
        await asyncio.sleep(wait)


def add_latency(app: web.Application, ms: float, prefix: str = "/") -> None:
    """Answer every request under ``prefix`` ``ms`` milliseconds after it came in (0: at
    once), as a real server with that service time would (``revgate demo --latency-ms``, the
    benches); the simulator's own work is counted within those ``ms``.
    Call before the app starts: aiohttp freezes its middlewares then."""
    if not 0 <= ms <= MAX_LATENCY_MS:
        raise ValueError(f"latency must be 0 to {MAX_LATENCY_MS:g} ms, got {ms:g}")
    app[LATENCY] = (ms / 1000, prefix)
    if ms > 0 and _late not in app.middlewares:
        app.middlewares.append(_late)


def latency_of(app: web.Application) -> float:
    """The latency (ms) ``add_latency`` installed on ``app``; 0 when none."""
    if _late not in app.middlewares:
        return 0.0
    return app[LATENCY][0] * 1000


MAX_LATENCY_MS = 60_000.0


def latency_ms(text: str) -> float:
    """An argparse type: milliseconds, finite, 0 to ``MAX_LATENCY_MS`` (a usage error, not a
    traceback, otherwise)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of milliseconds: {text[:40]!r}") from None
    if not 0 <= value <= MAX_LATENCY_MS:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be 0 to {MAX_LATENCY_MS:g} ms, got {text[:40]}")
    return value


def latency_argument(parser: argparse.ArgumentParser, what: str = "answer") -> None:
    """``--latency-ms N`` on a command line (a simulator's, ``revgate demo``'s)."""
    parser.add_argument(
        "--latency-ms",
        type=latency_ms,
        default=0.0,
        metavar="N",
        help=f"{what} every API request N ms late (a real server's service time)",
    )


def command_line(description: str, port: int) -> argparse.ArgumentParser:
    """A simulator's ``python -m`` options: ``--host``, ``--port`` (its default ``port``),
    ``--latency-ms`` and ``--demo`` (serve what ``revgate demo`` serves: the kind's
    ``simulator/demo.py``); the kind adds its own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    latency_argument(parser)
    parser.add_argument(
        "--demo", action="store_true", help="the demo's data (revgate demo's timeline)"
    )
    return parser


def run(app: web.Application, args: argparse.Namespace, prefix: str = "/") -> None:
    """Serve ``app`` in the foreground as ``command_line``'s ``args`` say (API requests under
    ``prefix`` answered ``--latency-ms`` late)."""
    add_latency(app, args.latency_ms, prefix)
    web.run_app(app, host=args.host, port=args.port, loop=_new_loop())


def _new_loop() -> asyncio.AbstractEventLoop:
    # uvloop where installed (the gateway's loop too): a simulator's own overhead then adds
    # least to the latency it is asked to model
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


@dataclass
class RunningSimulator(Generic[S]):
    """A simulator listening on a TCP port; ``state`` is its in-memory data and log."""

    url: str
    state: S
    runner: web.AppRunner

    async def close(self) -> None:
        """Stop listening."""
        await self.runner.cleanup()


async def serve(
    app: web.Application, key: web.AppKey[S], host: str = "127.0.0.1", port: int = 0
) -> RunningSimulator[S]:
    """Serve ``app`` on ``host:port`` (0: any free port); the URL has no trailing slash."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = getattr(site._server, "sockets", None)
    assert sockets, "simulator did not bind"
    bound = int(sockets[0].getsockname()[1])
    return RunningSimulator(url=f"http://{host}:{bound}", state=app[key], runner=runner)


@dataclass
class ChildSimulator:
    """A simulator serving its kind's demo in a process of its own (``start_child``)."""

    url: str
    process: asyncio.subprocess.Process

    async def close(self) -> None:
        """Stop the process (terminate, then kill if it lingers)."""
        if self.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), CHILD_STOP_SECONDS)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()


CHILD_START_SECONDS = 60.0
CHILD_STOP_SECONDS = 10.0


async def start_child(module: str, latency_ms: float, host: str = "127.0.0.1") -> ChildSimulator:
    """``python -m MODULE --demo`` on a free port of ``host``, answering ``latency_ms`` late;
    returned once it accepts connections. In a process of its own, the simulator's work does
    not share the gateway's event loop and core, as a real server's does not."""
    with socket.socket() as probe:  # a free port, handed to the child
        probe.bind((host, 0))
        port = int(probe.getsockname()[1])
    args = ["--demo", "--host", host, "--port", str(port), "--latency-ms", repr(latency_ms)]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,  # aiohttp's "Running on" banner
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    child = ChildSimulator(url=f"http://{host}:{port}", process=process)
    try:
        async with asyncio.timeout(CHILD_START_SECONDS):
            while not await _accepts(host, port):
                if process.returncode is not None:
                    raise RuntimeError(f"{module} exited with status {process.returncode}")
                await asyncio.sleep(0.05)
    except BaseException:
        await child.close()
        raise
    return child


async def _accepts(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def _die_with_parent() -> None:
    # In the child before exec: ask Linux to end it when the demo's process goes, however it
    # goes (a SIGKILL leaves no ``finally`` to stop it).
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


PR_SET_PDEATHSIG = 1
