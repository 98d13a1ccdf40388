"""A fdo source over the fdo simulator (generated data) on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from adapters.http import Credentials, HttpClient, HttpConfig
from adapters.patchwork_fdo.simulator import FdoData, RunningFdoSimulator, start_simulator
from adapters.patchwork_fdo.source import FdoSource, create_source

CI_TOKEN = "fd" * 20
GUEST_TOKEN = "0e" * 20


@dataclass
class Fdo:
    """The simulator and a source in front of it."""

    sim: RunningFdoSimulator
    source: FdoSource

    def paths(self) -> list[str]:
        """Request paths (with query) the simulator has seen."""
        return [p for _, p in self.sim.state.requests]


def make_source(url: str, token: str | None = CI_TOKEN, name: str = "fdo") -> FdoSource:
    """A source at ``url``; ``token=None`` is anonymous."""
    creds = Credentials(token=token) if token else Credentials()
    http = HttpClient(HttpConfig(backend=name, base_url=url, credentials=creds, retries=0))
    return create_source(name, url, http)


@pytest.fixture
async def fdo() -> AsyncIterator[Fdo]:
    sim = await start_simulator(FdoData.generated(12))
    source = make_source(sim.url)
    await source.open()
    try:
        yield Fdo(sim, source)
    finally:
        await source.close()
        await sim.close()
