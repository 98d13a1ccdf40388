"""The demo's four simulators (upstream Patchwork, fdo, Gerrit, ABF) behind one in-process
gateway, each with the data a test gives it: what the cross-forge tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from adapters.abf.simulator import AbfData
from adapters.abf.simulator import RunningSimulator as AbfSim
from adapters.abf.simulator import start_simulator as start_abf
from adapters.gerrit.simulator import GerritData
from adapters.gerrit.simulator import RunningSimulator as GerritSim
from adapters.gerrit.simulator import start_simulator as start_gerrit
from adapters.patchwork.simulator import PatchworkData
from adapters.patchwork.simulator import RunningSimulator as PwSim
from adapters.patchwork.simulator import start_simulator as start_pw
from adapters.patchwork_fdo.simulator import FdoData, RunningFdoSimulator
from adapters.patchwork_fdo.simulator import start_simulator as start_fdo
from gateway.app import create_app
from gateway.cli import demo_settings


@dataclass
class FourKinds:
    """The gateway's client and the simulators behind it."""

    client: httpx.AsyncClient
    pw: PwSim
    fdo: RunningFdoSimulator
    gerrit: GerritSim
    abf: AbfSim


@asynccontextmanager
async def four_kinds(
    pw_data: PatchworkData | None = None,
    fdo_data: FdoData | None = None,
    gerrit_data: GerritData | None = None,
    abf_data: AbfData | None = None,
) -> AsyncIterator[FourKinds]:
    """Start the four simulators (``None``: a kind's default data) and the demo's gateway
    over them; everything is stopped on the way out."""
    pw, fdo = await start_pw(pw_data), await start_fdo(fdo_data)
    gerrit, abf = await start_gerrit(gerrit_data), await start_abf(abf_data)
    settings = demo_settings(
        pw.url, fdo.url, "127.0.0.1", 8000, abf_url=abf.url, gerrit_url=gerrit.url
    )
    app = create_app(settings)
    backends = app.state.backends
    await backends.open()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as client:
            yield FourKinds(client, pw, fdo, gerrit, abf)
    finally:
        await backends.close()
        for sim in (pw, fdo, gerrit, abf):
            await sim.close()
