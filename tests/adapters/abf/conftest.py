"""The ABF simulator on loopback (in both its modes) and a source pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from adapters.abf.simulator import TOKEN, RunningSimulator, start_simulator
from adapters.abf.source import AbfSource, create_source
from adapters.http import Credentials, HttpClient, HttpConfig


@dataclass
class Abf:
    """A source and the simulator behind it."""

    source: AbfSource
    sim: RunningSimulator

    def paths(self, since: int = 0) -> list[str]:
        """Paths requested from the simulator (after the ``since``-th request)."""
        return [path for _, path, _ in self.sim.state.requests[since:]]

    def statuses(self, since: int = 0) -> list[int]:
        return [status for _, _, status in self.sim.state.requests[since:]]


async def make_source(
    url: str, credentials: Credentials | None = None, name: str = "abf"
) -> AbfSource:
    creds = credentials if credentials is not None else Credentials(token=TOKEN)
    http = HttpClient(HttpConfig(backend=name, base_url=url, credentials=creds, retries=0))
    source = create_source(name, url, http)
    await source.open()
    return source


@pytest.fixture(params=["real", "documented"])
async def abf(request: pytest.FixtureRequest) -> AsyncIterator[Abf]:
    """A source over the simulator in the real server's mode, then in the documented one."""
    sim = await start_simulator(real=request.param == "real")
    source = await make_source(sim.url)
    try:
        yield Abf(source, sim)
    finally:
        await source.close()
        await sim.close()
