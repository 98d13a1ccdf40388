"""Fixtures: the Gerrit simulator on loopback and sources in front of it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from adapters.gerrit.simulator import GerritData, RunningSimulator, start_simulator
from adapters.gerrit.source import GerritSource
from adapters.http import Credentials
from adapters.registry import BackendSpec, build_source

ADMIN = Credentials(username="admin", password="secret")
JDOE = Credentials(username="jdoe", password="jdoe-secret")


@asynccontextmanager
async def gerrit(
    data: GerritData | None = None,
    credentials: Credentials | None = ADMIN,
    **sim: Any,
) -> AsyncIterator[tuple[GerritSource, RunningSimulator]]:
    """A simulator and a source over it (admin credentials unless told otherwise)."""
    running = await start_simulator(data, **sim)
    spec = BackendSpec(
        name="g",
        kind="gerrit",
        url=running.url,
        credentials=credentials or Credentials(),
        retries=0,
    )
    source = build_source(spec)
    assert isinstance(source, GerritSource)
    await source.open()
    try:
        yield source, running
    finally:
        await source.close()
        await running.close()


Factory = Callable[..., Any]


@pytest.fixture
async def src() -> AsyncIterator[GerritSource]:
    """An admin source over the seeded simulator (basic auth)."""
    async with gerrit() as (source, _):
        yield source


@pytest.fixture
async def anon() -> AsyncIterator[GerritSource]:
    """An anonymous source over the seeded simulator."""
    async with gerrit(credentials=None) as (source, _):
        yield source
