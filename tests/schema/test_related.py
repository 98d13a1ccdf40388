"""``Change.related`` and ``changes(filter: {relatedTo:})`` over the four simulators, with the
twins and decoys of ``tests/schema/linked_data.py``: every evidence kind found where it is and
not where only a look-alike is, and the upstream reads it costs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from adapters.abf.simulator import AbfData
from adapters.abf.simulator import RunningSimulator as AbfSim
from adapters.gerrit.simulator import GerritData
from adapters.gerrit.simulator import RunningSimulator as GerritSim
from adapters.patchwork.simulator import PatchworkData
from adapters.patchwork.simulator import RunningSimulator as PwSim
from adapters.patchwork_fdo.simulator import FdoData, RunningFdoSimulator
from schema import node
from tests.schema import linked_data
from tests.schema.four_kinds import four_kinds
from tests.schema.linked_data import S1, Twins

RELATED = """query($id: ID!) { node(id: $id) { ... on Change {
  id title related { confidence evidence change { __typename id title backend { name } } }
  currentRevision { sha } } } }"""


@dataclass
class Fleet:
    client: httpx.AsyncClient
    twins: Twins
    pw: PwSim
    fdo: RunningFdoSimulator
    gerrit: GerritSim
    abf: AbfSim

    def requests(self) -> dict[str, list[str]]:
        """What each simulator was asked so far (method and path with query)."""
        return {
            "patchwork": [f"{m} {p}" for m, p in self.pw.state.requests],
            "fdo": [f"{m} {p}" for m, p in self.fdo.state.requests],
            "gerrit": [f"{m} {p}" for m, p in self.gerrit.state.requests],
            "abf": [f"{m} {p}" for m, p, _ in self.abf.state.requests],
        }

    def clear(self) -> None:
        for sim in (self.pw, self.fdo, self.gerrit, self.abf):
            sim.state.requests.clear()

    async def ask(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        resp = await self.client.post("/graphql", json={"query": query, "variables": variables})
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def related(self, gid: str) -> dict[str, Any]:
        found: dict[str, Any] = (await self.ask(RELATED, {"id": gid}))["node"]
        return found


def ids(twins: Twins) -> dict[str, str]:
    """Global IDs of the twins and decoys."""
    return {
        "p1": node.encode("Patch", "patchwork", str(twins.p1)),
        "p2": node.encode("Patch", "patchwork", str(twins.p2)),
        "p3": node.encode("Patch", "patchwork", str(twins.p3)),
        "f1": node.encode("Patch", "fdo", str(twins.f1)),
        "g1": node.encode("GerritChange", "gerrit", str(twins.g1)),
        "g2": node.encode("GerritChange", "gerrit", str(twins.g2)),
        "g3": node.encode("GerritChange", "gerrit", str(twins.g3)),
        "pr": node.encode("PullRequest", "abf", twins.pr),
    }


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    pw_data, fdo_data = PatchworkData.from_seed(), FdoData.from_seed()
    gerrit_data, abf_data = GerritData.from_seed(), AbfData.from_seed(generated=5)
    twins = linked_data.build(pw_data, fdo_data, gerrit_data, abf_data)
    async with four_kinds(pw_data, fdo_data, gerrit_data, abf_data) as sims:
        yield Fleet(sims.client, twins, sims.pw, sims.fdo, sims.gerrit, sims.abf)


def links_of(change: dict[str, Any]) -> dict[str, tuple[float, list[str]]]:
    return {
        link["change"]["id"]: (link["confidence"], link["evidence"]) for link in change["related"]
    }


async def test_a_patch_finds_its_gerrit_change_and_fdo_copy(fleet: Fleet) -> None:
    g = ids(fleet.twins)
    found = links_of(await fleet.related(g["p1"]))
    assert found[g["g1"]] == (1.0, ["CHANGE_ID_TRAILER", "COMMIT_SHA", "LINK_TRAILER", "PATCH_ID"])
    assert found[g["f1"]] == (1.0, ["MESSAGE_ID", "CHANGE_ID_TRAILER", "PATCH_ID"])
    # Decoys: same title, other diff, Change-Id only quoted, a prefix of the sha; a Gerrit
    # change naming the mail in its text, not in a Link trailer.
    assert g["p3"] not in found and g["g3"] not in found
    assert g["pr"] not in found  # S1 is in the pull request, but not its head
    assert set(found) == {g["g1"], g["f1"]}


async def test_links_are_symmetric_and_reach_the_pull_request(fleet: Fleet) -> None:
    g = ids(fleet.twins)
    from_g1 = links_of(await fleet.related(g["g1"]))
    assert from_g1[g["p1"]][1] == ["CHANGE_ID_TRAILER", "COMMIT_SHA", "LINK_TRAILER", "PATCH_ID"]
    assert from_g1[g["f1"]] == (1.0, ["CHANGE_ID_TRAILER", "LINK_TRAILER", "PATCH_ID"])
    from_p2 = links_of(await fleet.related(g["p2"]))
    assert from_p2[g["g2"]] == (1.0, ["CHANGE_ID_TRAILER", "LINK_TRAILER", "PATCH_ID"])
    # The pull request is found through G2's sha (ABF searches shas only); the evidence is
    # direct: its head commit carries P2's Change-Id.
    assert from_p2[g["pr"]] == (1.0, ["CHANGE_ID_TRAILER"])
    from_pr = links_of(await fleet.related(g["pr"]))
    assert from_pr[g["g2"]] == (1.0, ["CHANGE_ID_TRAILER", "COMMIT_SHA"])
    assert g["p2"] in from_pr


async def test_decoys_link_nothing(fleet: Fleet) -> None:
    g = ids(fleet.twins)
    assert links_of(await fleet.related(g["p3"])) == {}
    assert links_of(await fleet.related(g["g3"])) == {}


async def test_patch_current_revision_sha_is_its_commit_ref(fleet: Fleet) -> None:
    g = ids(fleet.twins)
    assert (await fleet.related(g["p1"]))["currentRevision"] == {"sha": S1}
    assert (await fleet.related(g["p2"]))["currentRevision"] is None  # no series, no commit
    recorded = await fleet.related(node.encode("Patch", "patchwork", "1"))
    assert recorded["currentRevision"] == {"sha": None}  # in a series, not applied


async def test_related_to_filter_lists_the_linked_changes(fleet: Fleet) -> None:
    g = ids(fleet.twins)
    query = """query($f: ChangeFilterInput) { changes(first: 10, filter: $f) {
      pageInfo { hasNextPage } nodes { id } } }"""
    page = (await fleet.ask(query, {"f": {"relatedTo": g["p1"]}}))["changes"]
    assert {n["id"] for n in page["nodes"]} == {g["g1"], g["f1"]}
    only = await fleet.ask(query, {"f": {"relatedTo": g["p1"], "backends": ["gerrit"]}})
    assert [n["id"] for n in only["changes"]["nodes"]] == [g["g1"]]


async def test_related_to_a_non_change_is_a_coded_error(fleet: Fleet) -> None:
    query = "query($f: ChangeFilterInput) { changes(filter: $f) { nodes { id } } }"
    project = node.encode("Project", "patchwork", "1")
    resp = await fleet.client.post(
        "/graphql", json={"query": query, "variables": {"f": {"relatedTo": project}}}
    )
    body = resp.json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


LINK_READS = ("/mbox", "/patch?", "msgid=", "message:", "/commits", "name=")


def _link_read(request: str) -> bool:
    return any(mark in request + "?" for mark in LINK_READS)


async def test_the_list_path_reads_nothing_for_links_unless_asked(fleet: Fleet) -> None:
    fleet.clear()
    await fleet.ask("{ changes(first: 20) { nodes { id title } } }", {})
    for reads in fleet.requests().values():
        assert not [r for r in reads if _link_read(r)], reads
    fleet.clear()
    await fleet.ask("{ changes(first: 20) { nodes { id related { confidence } } } }", {})
    asked = [r for reads in fleet.requests().values() for r in reads]
    assert any(_link_read(r) for r in asked)


async def test_a_list_asking_related_searches_each_backend_once_per_hop(fleet: Fleet) -> None:
    g = ids(fleet.twins)
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { ... on Change {
      related { evidence change { id } } } } }"""
    fleet.clear()
    nodes = (await fleet.ask(query, {"ids": [g["p1"], g["p2"], g["g1"]]}))["nodes"]
    assert all(n["related"] for n in nodes)
    reads = fleet.requests()
    gerrit_queries = [r for r in reads["gerrit"] if r.startswith("GET /changes/?")]
    # keys of G1 come with it? no: one keys query for the asked change, then one search per
    # hop (the keys of every asked change ORed into one query)
    assert len([q for q in gerrit_queries if "message" in q]) <= 2, gerrit_queries
    abf_lists = [r for r in reads["abf"] if "/pull_requests.json" in r or "pull_requests?" in r]
    assert len(abf_lists) <= 4, reads["abf"]  # open and closed, per hop


async def test_a_forge_that_fails_hides_only_its_links(fleet: Fleet) -> None:
    g = ids(fleet.twins)
    await fleet.abf.close()
    resp = await fleet.client.post(
        "/graphql", json={"query": RELATED, "variables": {"id": g["p2"]}}
    )
    body = resp.json()
    found = links_of(body["data"]["node"])
    assert g["g2"] in found and g["pr"] not in found
    assert {e["extensions"]["backend"] for e in body["errors"]} == {"abf"}
    assert all(e["extensions"]["code"].startswith("UPSTREAM") for e in body["errors"])
