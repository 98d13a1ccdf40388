"""Every backend kind in one query: the demo's four simulators (upstream Patchwork, fdo
Patchwork, Gerrit, ABF) behind one gateway, asked for a cross-forge dashboard of changes with
author, project, check state and current revision."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest

from adapters.abf.simulator import RunningSimulator as AbfSim
from adapters.gerrit.simulator import GerritData
from adapters.gerrit.simulator import RunningSimulator as GerritSim
from adapters.patchwork.simulator import RunningSimulator as PwSim
from adapters.patchwork_fdo.simulator import FdoData, RunningFdoSimulator
from tests.schema.four_kinds import four_kinds

DASHBOARD = """query($first: Int!, $after: String) {
  changes(first: $first, after: $after) {
    missingBackends
    pageInfo { hasNextPage endCursor }
    nodes {
      __typename id title state updatedAt checkState
      author { name email } project { name } backend { name }
      checks { context state }
      currentRevision { __typename id number sha }
    }
  }
}"""


@dataclass
class Fleet:
    client: httpx.AsyncClient
    pw: PwSim
    fdo: RunningFdoSimulator
    gerrit: GerritSim
    abf: AbfSim

    def counts(self) -> dict[str, int]:
        """Upstream requests each simulator has received so far."""
        return {
            "patchwork": len(self.pw.state.requests),
            "fdo": len(self.fdo.state.requests),
            "gerrit": len(self.gerrit.state.requests),
            "abf": len(self.abf.state.requests),
        }

    async def query(self, variables: dict[str, Any]) -> dict[str, Any]:
        resp = await self.client.post("/graphql", json={"query": DASHBOARD, "variables": variables})
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        assert "errors" not in body, body["errors"]
        found: dict[str, Any] = body["data"]["changes"]
        return found


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    async with four_kinds(None, FdoData.generated(6), GerritData.generated(8)) as sims:
        yield Fleet(sims.client, sims.pw, sims.fdo, sims.gerrit, sims.abf)


async def test_dashboard_spans_every_kind_with_current_revisions(fleet: Fleet) -> None:
    page = await fleet.query({"first": 100})
    assert page["missingBackends"] == []
    nodes = page["nodes"]
    assert len(nodes) == 100
    stamps = [datetime.fromisoformat(n["updatedAt"]) for n in nodes]
    assert stamps == sorted(stamps, reverse=True)
    by_backend: dict[str, list[dict[str, Any]]] = {}
    for n in nodes:
        by_backend.setdefault(n["backend"]["name"], []).append(n)
    assert set(by_backend) == {"patchwork", "fdo", "gerrit", "abf"}, sorted(by_backend)

    for n in by_backend["gerrit"]:
        rev = n["currentRevision"]
        assert n["__typename"] == "GerritChange"
        assert rev["__typename"] == "GerritRevision" and rev["number"] >= 1
        assert len(rev["sha"]) == 40
    for n in by_backend["abf"]:
        rev = n["currentRevision"]
        assert n["__typename"] == "PullRequest"
        assert rev["__typename"] == "PullRequestRevision" and rev["number"] is None
        # The mergeable check is an open pull request's one contributing check (none once
        # merged or closed: adapters/abf/records.merge_check).
        wanted = ["abf/mergeable"] if n["state"] == "OPEN" else []
        assert [c["context"] for c in n["checks"]] == wanted, n
    upstream = [n for n in by_backend["patchwork"] if n["currentRevision"] is not None]
    assert upstream, "recorded upstream patches belong to series"
    for n in upstream:
        assert n["currentRevision"]["__typename"] == "Revision"
        assert n["currentRevision"]["number"] >= 1
        sha = n["currentRevision"]["sha"]  # the commit_ref of an applied patch
        assert sha is None or re.fullmatch("[0-9a-f]{40}", sha), sha
    fdo_revs = [n["currentRevision"] for n in by_backend["fdo"] if n["currentRevision"]]
    assert fdo_revs and all(r["__typename"] == "Revision" for r in fdo_revs)
    # Rollup and contributing checks agree on every change that has checks (upstream
    # Patchwork reports its own combined state: the newest check per context counts).
    order = ["SUCCESS", "WARNING", "PENDING", "FAILURE"]  # failure wins, then pending
    for n in nodes:
        if n["checks"] and n["backend"]["name"] != "patchwork":
            worst = max((c["state"] for c in n["checks"]), key=order.index)
            assert n["checkState"] == worst, n


async def test_current_revision_costs_no_extra_upstream_request(fleet: Fleet) -> None:
    """currentRevision shares its loaders with checks: asking for both costs what checks cost."""
    without = DASHBOARD.replace("currentRevision { __typename id number sha }", "")
    for _ in range(2):  # the first also learns one-time facts (API version, project ids)
        start = fleet.counts()
        resp = await fleet.client.post(
            "/graphql", json={"query": without, "variables": {"first": 100}}
        )
        assert "errors" not in resp.json()
    before = fleet.counts()
    await fleet.query({"first": 100})
    after = fleet.counts()
    first_cost = {k: before[k] - start[k] for k in after}
    second_cost = {k: after[k] - before[k] for k in after}
    print(f"\nupstream requests without currentRevision {first_cost}, with {second_cost}")
    for name in ("patchwork", "fdo", "gerrit", "abf"):
        assert second_cost[name] == first_cost[name], (name, first_cost, second_cost)
    # fdo places listed patches in revisions from the list itself: no per-patch re-read.
    recent = [path for _, path in fleet.fdo.state.requests[-second_cost["fdo"] :]]
    assert not [p for p in recent if re.fullmatch(r"/api/1\.0/patches/\d+/", p)], recent


@pytest.mark.parametrize("descending", [True, False])
async def test_walk_every_kind_page_by_page_returns_each_change_once(
    fleet: Fleet, descending: bool
) -> None:
    """Small pages over four kinds that page at their own sizes: no drop, no repeat."""
    order = "{field: UPDATED_AT, direction: %s}" % ("DESC" if descending else "ASC")
    walk = DASHBOARD.replace(
        "changes(first: $first, after: $after)",
        f"changes(first: $first, after: $after, orderBy: {order})",
    ).replace("currentRevision { __typename id number sha }", "")
    seen: list[str] = []
    stamps: list[datetime] = []
    after: str | None = None
    for _ in range(100):
        resp = await fleet.client.post(
            "/graphql", json={"query": walk, "variables": {"first": 7, "after": after}}
        )
        body = resp.json()
        assert "errors" not in body, body["errors"]
        page = body["data"]["changes"]
        seen += [n["id"] for n in page["nodes"]]
        stamps += [datetime.fromisoformat(n["updatedAt"]) for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)), "a change came twice"
    total = 0
    for name in ("patchwork", "fdo", "gerrit", "abf"):
        one = DASHBOARD.replace(
            "changes(first: $first, after: $after)",
            f'changes(first: $first, after: $after, filter: {{backends: ["{name}"]}})',
        )
        resp = await fleet.client.post("/graphql", json={"query": one, "variables": {"first": 100}})
        only = resp.json()["data"]["changes"]
        assert not only["pageInfo"]["hasNextPage"]
        total += len(only["nodes"])
    assert len(seen) == total, (len(seen), total)
    assert stamps == sorted(stamps, reverse=descending)
