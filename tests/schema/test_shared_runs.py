"""Identical planned queries in flight share one run of their plan (``schema/shared_runs.py``,
issue 21): each request keeps its own cost charge, metrics and masking, and gets the same
whole answer it would have got alone — but the plan walks once, with one set of reads."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from unittest import mock

import pytest

from adapters.errors import Unavailable
from adapters.http_flights import Flights
from adapters.patchwork.source import PatchworkSource
from bench.waves import demo_gateway, recording
from gateway.auth import hash_key
from gateway.settings import Settings
from gateway.settings_access import ApiKeySettings
from schema.shared_runs import SharedRuns

QUERY = """query Listed($n: Int!) { patches(first: $n, filter: {backend: "patchwork"}) {
  nodes { id title state checkState author { name } project { name } } } }"""


def _post(n: int = 10, key: str | None = None) -> dict[str, Any]:
    body = {"json": {"query": QUERY, "variables": {"n": n}}}
    return {**body, "headers": {"Authorization": f"Bearer {key}"}} if key else body


KEYS = ("k-one", "k-two")


def _with_keys(settings: Settings) -> Settings:
    keys = tuple(ApiKeySettings(name=k, sha256=hash_key(k)) for k in KEYS)
    return dataclasses.replace(settings, api_keys=keys)


@asynccontextmanager
async def _gateway() -> AsyncIterator[tuple[Any, SharedRuns]]:
    async with demo_gateway(latency_ms=30, tune=_with_keys) as (client, _):
        runs = _app(client).state.graphql.lean.queries.runs
        first = (await client.post("/graphql", **_post())).json()  # plans it, detects versions
        assert not first.get("errors"), first
        yield client, runs


async def _together(client: Any, *posts: dict[str, Any]) -> list[dict[str, Any]]:
    return [r.json() for r in await asyncio.gather(*(client.post("/graphql", **p) for p in posts))]


async def test_identical_queries_at_once_run_once_and_each_gets_the_whole_answer() -> None:
    with recording() as log:
        async with _gateway() as (client, runs):
            log.clear()
            await client.post("/graphql", **_post())
            reads = log.requests()
            log.clear()
            answers = await _together(client, *[_post()] * 6)
            reads_together = log.requests()
            exported = (await client.get("/metrics")).text
            _app(client).state.graphql.lean = None  # strawberry's view and pipeline
            normal = (await client.post("/graphql", **_post())).json()
    assert runs.joined == 5 and "revgate_shared_runs_total 5.0" in exported
    # whole bodies: data, no errors, the same extensions (each its own cost report)
    shape = {"data": normal["data"], "extensions": set(normal["extensions"])}
    assert [{"data": a["data"], "extensions": set(a["extensions"])} for a in answers] == [shape] * 6
    assert "errors" not in normal and not any("errors" in a for a in answers)
    assert not any(a.get("errors") for a in answers)
    assert reads_together == reads  # one run's reads, not six


async def test_different_variables_or_a_switched_off_backend_run_apart() -> None:
    async with _gateway() as (client, runs):
        answers = await _together(client, _post(3), _post(4), _post(5))
        assert [len(a["data"]["patches"]["nodes"]) for a in answers] == [3, 4, 5]
        assert runs.joined == 0
        sources = _app(client).state.backends.sources
        sources["patchwork"].http.flights.enabled = False  # coalesce_reads = false
        await _together(client, *[_post()] * 3)  # each its own reads, so its own run
        assert runs.joined == 0
        sources["patchwork"].http.flights.enabled = True
        await _together(client, *[_post()] * 3)
        assert runs.joined == 2


async def test_a_run_that_began_before_a_write_is_not_joined() -> None:
    # Freshness: a request made after a write must not get what was read before it.
    async with _gateway() as (client, runs):
        real = PatchworkSource.list_patches
        started = asyncio.Event()
        hold = asyncio.Event()

        async def slow(self: Any, *args: Any, **kwargs: Any) -> Any:
            started.set()
            await hold.wait()
            return await real(self, *args, **kwargs)

        with mock.patch.object(PatchworkSource, "list_patches", slow):
            first = asyncio.ensure_future(client.post("/graphql", **_post()))
            await started.wait()
            Flights().clear()  # what a write through any backend client does
            second = asyncio.ensure_future(client.post("/graphql", **_post()))
            await asyncio.sleep(0.05)
            hold.set()
            answers = [(await first).json(), (await second).json()]
    assert runs.joined == 0
    assert answers[0]["data"] == answers[1]["data"]


async def test_an_answer_with_errors_is_not_shared() -> None:
    # Each request meets the failure itself: its own error objects, logged with its own id.
    async def down(*_: Any, **__: Any) -> Any:
        await asyncio.sleep(0.05)
        raise Unavailable("patchwork", "down for the test")

    async with _gateway() as (client, runs):
        with mock.patch.object(PatchworkSource, "list_patches", down):
            answers = await _together(client, *[_post()] * 3)
    assert runs.joined == 0
    assert all(a["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE" for a in answers)


@pytest.mark.parametrize("caller", ["anonymous", "other key"])
async def test_other_callers_do_not_share_a_run(caller: str) -> None:
    async with _gateway() as (client, runs):
        posts = [_post(key="k-one"), _post(key=None if caller == "anonymous" else "k-two")]
        await _together(client, *posts)
    assert runs.joined == 0


async def test_a_joiner_runs_on_its_own_when_the_run_it_joined_goes_away() -> None:
    async with _gateway() as (client, runs):
        real = PatchworkSource.list_patches
        calls = 0

        async def slow(self: Any, *args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            await asyncio.sleep(0.2 if calls == 1 else 0)
            return await real(self, *args, **kwargs)

        with mock.patch.object(PatchworkSource, "list_patches", slow):
            leader = asyncio.ensure_future(client.post("/graphql", **_post()))
            await asyncio.sleep(0.05)
            joiner = asyncio.ensure_future(client.post("/graphql", **_post()))
            await asyncio.sleep(0.05)
            leader.cancel()  # its client went away
            answer = (await joiner).json()
    assert calls == 2 and runs.joined == 0
    assert not answer.get("errors") and len(answer["data"]["patches"]["nodes"]) == 10


def _app(client: Any) -> Any:
    return client._transport.app
