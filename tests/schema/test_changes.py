"""``changes`` across backends: merged order, filters, partial failure within the budget."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from adapters.patchwork.simulator import PatchworkData, RunningSimulator, start_simulator
from gateway.app import create_app
from gateway.settings import settings_from_dict
from schema import node
from tests.conftest import ADMIN_TOKEN

QUERY = """query($first: Int, $after: String, $filter: ChangeFilterInput, $order: ChangeOrder) {
  changes(first: $first, after: $after, filter: $filter, orderBy: $order) {
    missingBackends totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    nodes { __typename id title state updatedAt backend { name } author { email }
            project { linkName } checkState } } }"""


@dataclass
class Fleet:
    client: httpx.AsyncClient
    sims: dict[str, RunningSimulator]

    async def changes(self, **variables: Any) -> dict[str, Any]:
        resp = await self.client.post("/graphql", json={"query": QUERY, "variables": variables})
        assert resp.status_code == 200
        body: dict[str, Any] = resp.json()
        return body


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    """Three Patchwork backends: ``a`` (recorded data), ``b`` (+100 generated), ``c``."""
    sims = {
        "a": await start_simulator(),
        "b": await start_simulator(PatchworkData.generated(100)),
        "c": await start_simulator(),
    }
    settings = settings_from_dict(
        {
            "server": {"backend_budget": 1.5},
            "backends": [
                {
                    "name": name,
                    "kind": "patchwork",
                    "url": sim.url,
                    "token_env": "TOKEN",
                    "timeout": 0.5,
                    "retries": 0,
                }
                for name, sim in sims.items()
            ],
        },
        env={"TOKEN": ADMIN_TOKEN},
    )
    app = create_app(settings)
    backends = app.state.backends
    await backends.open()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as client:
            yield Fleet(client, sims)
    finally:
        await backends.close()
        for sim in sims.values():
            await sim.close()


async def test_changes_walk_all_backends_once_in_order(fleet: Fleet) -> None:
    seen: list[str] = []
    dates: list[str] = []
    after = None
    for _ in range(50):
        body = await fleet.changes(first=37, after=after)
        assert "errors" not in body, body["errors"]
        conn = body["data"]["changes"]
        seen += [n["id"] for n in conn["nodes"]]
        dates += [n["updatedAt"] for n in conn["nodes"]]
        assert conn["missingBackends"] == [] and conn["totalCount"] is None
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert len(seen) == 43 + 143 + 43 and len(set(seen)) == len(seen)
    assert dates == sorted(dates, reverse=True)
    assert {node.decode(i).backend for i in seen} == {"a", "b", "c"}


async def test_changes_ascending_and_filters(fleet: Fleet) -> None:
    body = await fleet.changes(
        first=100,
        filter={"backends": ["a", "c"], "states": ["CLOSED", "SUPERSEDED"], "search": "TEST"},
        order={"direction": "ASC"},
    )
    nodes = body["data"]["changes"]["nodes"]
    assert nodes and all(n["state"] in ("CLOSED", "SUPERSEDED") for n in nodes)
    assert all("test" in n["title"].lower() for n in nodes)
    assert {n["backend"]["name"] for n in nodes} == {"a", "c"}
    assert len(nodes) % 2 == 0  # the same records on both backends
    assert [n["updatedAt"] for n in nodes] == sorted(n["updatedAt"] for n in nodes)


async def test_changes_of_one_project(fleet: Fleet) -> None:
    project = node.encode("Project", "a", "netdev")
    query = """query($id: ID!) { node(id: $id) { ... on Project {
        changes(first: 100) { nodes { backend { name } project { linkName } } } } } }"""
    resp = await fleet.client.post("/graphql", json={"query": query, "variables": {"id": project}})
    nodes = resp.json()["data"]["node"]["changes"]["nodes"]
    assert nodes and all(
        n == {"backend": {"name": "a"}, "project": {"linkName": "netdev"}} for n in nodes
    )


async def test_changes_one_backend_500_one_hanging(fleet: Fleet) -> None:
    for name in ("b", "c"):  # detect versions first, so the faults hit the list requests
        await fleet.changes(first=1, filter={"backends": [name]})
    fleet.sims["b"].state.fault("/api/1.3/patches/", "500")
    fleet.sims["c"].state.fault("/api/1.3/patches/", "hang")
    started = time.monotonic()
    body = await fleet.changes(first=20)
    elapsed = time.monotonic() - started
    conn = body["data"]["changes"]
    assert conn["missingBackends"] == ["b", "c"]
    assert len(conn["nodes"]) == 20 and {n["backend"]["name"] for n in conn["nodes"]} == {"a"}
    errors = {e["extensions"]["backend"]: e for e in body["errors"]}
    assert errors["b"]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert errors["c"]["extensions"]["code"] == "UPSTREAM_TIMEOUT"
    assert all(e["path"] == ["changes"] for e in body["errors"])
    assert elapsed < 1.5 + 1.0, elapsed  # the budget, plus slack for a loaded machine


async def test_changes_bad_input(fleet: Fleet) -> None:
    body = await fleet.changes(first=5, filter={"backends": ["nope"]})
    assert body["errors"][0]["extensions"]["code"] == "BACKEND_NOT_FOUND"
    body = await fleet.changes(first=5, after="not-a-cursor")
    assert body["errors"][0]["extensions"]["code"] == "BAD_CURSOR"
    first = await fleet.changes(first=5)
    cursor = first["data"]["changes"]["pageInfo"]["endCursor"]
    body = await fleet.changes(first=5, after=cursor, filter={"search": "x"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_CURSOR"
    body = await fleet.changes(first=0)
    assert body["errors"][0]["extensions"]["code"] == "BAD_PAGE_SIZE"


async def _walk(fleet: Fleet, field: str, first: int, args: str = "") -> list[dict[str, Any]]:
    query = f"""query($after: String) {{ {field}(first: {first}, after: $after{args})
        {{ pageInfo {{ hasNextPage endCursor }} nodes {{ id date }} }} }}"""
    seen: list[dict[str, Any]] = []
    after = None
    for _ in range(100):
        resp = await fleet.client.post(
            "/graphql", json={"query": query, "variables": {"after": after}}
        )
        body = resp.json()
        assert "errors" not in body, body["errors"]
        conn = body["data"][field]
        seen += conn["nodes"]
        if not conn["pageInfo"]["hasNextPage"]:
            return seen
        after = conn["pageInfo"]["endCursor"]
    raise AssertionError("did not finish")


async def test_series_merged_across_backends(fleet: Fleet) -> None:
    seen = await _walk(fleet, "series", 13)
    ids = [s["id"] for s in seen]
    assert len(ids) == len(set(ids))
    per_backend = {b: sum(1 for i in ids if node.decode(i).backend == b) for b in "abc"}
    assert per_backend["a"] == per_backend["c"] == 30 and per_backend["b"] > 30
    dates = [s["date"] for s in seen]
    assert dates == sorted(dates, reverse=True)


async def test_events_merged_newest_first(fleet: Fleet) -> None:
    seen = await _walk(fleet, "events", 50, args=', filter: {categories: ["patch-created"]}')
    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids)) and {node.decode(i).backend for i in ids} == {"a", "b", "c"}
    dates = [e["date"] for e in seen]
    assert dates == sorted(dates, reverse=True)
