"""Gerrit in the federated ``changes`` and ``events`` lists: pushdown to ``q=``, order, paging."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from adapters.base import EventFilter
from adapters.gerrit.simulator import GerritData
from adapters.gerrit.source import GerritSource
from adapters.model import PageRequest
from tests.schema.gerrit.conftest import GerritGateway, gerrit_gateway

CHANGES = """
query($f: ChangeFilterInput, $o: ChangeOrder, $first: Int, $after: String) {
  changes(filter: $f, orderBy: $o, first: $first, after: $after) {
    nodes { __typename title state updatedAt backend { name } author { email } }
    pageInfo { hasNextPage endCursor } missingBackends
  }
}
"""


def _queries(gw: GerritGateway) -> list[str]:
    return [parse_qs(urlsplit(p).query)["q"][0] for _, p in gw.upstream() if "/changes/?" in p]


async def _walk(gw: GerritGateway, flt: dict[str, Any], **order: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after = None
    while True:
        v = {"f": flt, "first": 4, "after": after, **order}
        page = (await gw.data(CHANGES, v))["changes"]
        out += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return out
        after = page["pageInfo"]["endCursor"]


async def test_gerrit_and_patchwork_changes_in_one_list() -> None:
    async with gerrit_gateway(with_patchwork=True) as gw:
        flt = {"states": ["MERGED", "CLOSED"]}
        data = (await gw.data(CHANGES, {"f": flt, "first": 50}))["changes"]
        kinds = {n["__typename"] for n in data["nodes"]}
        assert kinds == {"Patch", "GerritChange"}
        assert all(n["state"] in ("MERGED", "CLOSED") for n in data["nodes"])
        stamps = [n["updatedAt"] for n in data["nodes"]]
        assert stamps == sorted(stamps, reverse=True)
        assert _queries(gw) == ["(status:merged OR status:abandoned)"]


async def test_filters_pushed_down_to_q(ggw: GerritGateway) -> None:
    flt = {
        "states": ["OPEN", "DRAFT"],
        "author": "John.Doe@example.com",
        "updatedSince": "2013-01-01T00:00:00.5Z",
        "updatedBefore": "2013-03-01T00:00:00Z",
        "gerritQuery": "project:myProject OR project:demo",
        "search": "feature",
    }
    nodes = (await ggw.data(CHANGES, {"f": flt, "first": 20}))["changes"]["nodes"]
    assert [n["title"] for n in nodes] == ["Implement Feature X", "Implementing Feature X"]
    assert _queries(ggw) == [
        "(status:open OR status:draft) owner:John.Doe@example.com "
        'after:"2013-01-01 00:00:00 +0000" before:"2013-03-01 00:00:00 +0000" '
        "(project:myProject OR project:demo)"
    ]


async def test_a_state_gerrit_never_has_costs_no_request(ggw: GerritGateway) -> None:
    data = await ggw.data(CHANGES, {"f": {"states": ["SUPERSEDED"]}, "first": 5})
    assert data["changes"]["nodes"] == []
    assert ggw.upstream() == []


async def test_project_changes_push_the_project_down(ggw: GerritGateway) -> None:
    q = """{ project(backend: "g", linkName: "myProject") {
        changes(first: 10) { nodes { title } } } }"""
    titles = [n["title"] for n in (await ggw.data(q))["project"]["changes"]["nodes"]]
    assert "Implement Feature X" in titles and len(titles) == 4
    assert _queries(ggw)[-1] == "(status:open OR status:closed) project:myProject"


async def test_walks_every_change_once_both_orders() -> None:
    async with gerrit_gateway(GerritData.generated(30)) as gw:
        gw.sim.state.data.query_limit = 7  # the server cuts pages short: has_next stays exact
        newest = await _walk(gw, {})
        oldest = await _walk(gw, {}, o={"direction": "ASC"})
        assert len(newest) == 38  # 8 seeded (the draft is admin's own) + 30 generated
        assert [n["updatedAt"] for n in newest] == sorted(
            (n["updatedAt"] for n in newest), reverse=True
        )
        assert [n["updatedAt"] for n in oldest] == sorted(n["updatedAt"] for n in oldest)
        assert len(oldest) == len(newest)
        assert {n["title"] for n in oldest} == {n["title"] for n in newest}


async def test_events_are_change_updates() -> None:
    async with gerrit_gateway(with_patchwork=True) as gw:
        q = """query($f: EventFilterInput) { events(first: 50, filter: $f) {
            nodes { category currentState project { name } backend { name } } } }"""
        merged = await gw.data(q, {"f": {"backend": "g", "categories": ["change-merged"]}})
        nodes = merged["events"]["nodes"]
        assert nodes and {n["category"] for n in nodes} == {"change-merged"}
        assert {n["currentState"] for n in nodes} == {"MERGED"}
        assert _queries(gw)[-1] == "status:merged"


async def test_event_reader_sees_a_new_update(ggw: GerritGateway) -> None:
    src = ggw.sources["g"]
    assert isinstance(src, GerritSource)
    first = await src.list_events(EventFilter(), PageRequest(0, 3))
    since = first.items[0].date
    await src.abandon("4799", "no longer needed")
    fresh = await src.list_events(EventFilter(since=since), PageRequest(0, 10))
    ids = {e.id for e in first.items}
    new = [e for e in fresh.items if e.id not in ids]
    assert [(e.category, e.current_state) for e in new] == [("change-abandoned", "ABANDONED")]
    none = await src.list_events(EventFilter(categories=("patch-created",)), PageRequest(0, 3))
    assert none.items == () and not none.has_next
