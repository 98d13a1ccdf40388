"""What every backend simulator shares: serving its aiohttp app on a loopback port.

The simulators (``adapters/<kind>/simulator/``) serve a kind's documented API over in-memory
data for the demo, the tests and the benches; each keeps its state under its own ``AppKey``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from aiohttp import web

S = TypeVar("S")


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
