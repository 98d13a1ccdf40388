"""End to end: GraphQL queries through the gateway over the Patchwork simulator."""

from __future__ import annotations

from typing import Any

from schema import node
from tests.conftest import Gateway

PROJECTS_PATCHES = """
{ projects(first: 10) {
    totalCount
    nodes { id name linkName
      patches(first: 5) {
        pageInfo { hasNextPage endCursor }
        nodes { id title state rawState checkState
          author { name email } submitter { email }
          checks { context state targetUrl user { username } } } } } } }
"""


def _data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body.get("errors")
    data: dict[str, Any] = body["data"]
    return data


async def test_query_projects_patches_submitter_checks(gateway: Gateway) -> None:
    data = _data(await gateway.query(PROJECTS_PATCHES))
    projects = data["projects"]["nodes"]
    assert [p["linkName"] for p in projects][:2] == ["patchwork", "netdev"]
    first = projects[0]["patches"]["nodes"]
    assert first[0]["title"] == "[1/2] test: Add some lorem ipsum"
    assert first[0]["author"] == {"name": "Stephen Finucane", "email": "stephenfinucane@gmail.com"}
    assert first[0]["submitter"] == {"email": "stephenfinucane@gmail.com"}
    patch3 = next(p for p in first if p["title"] == "[v2,1/2] test: Add some lorem ipsum")
    assert patch3["rawState"] == "under-review" and patch3["state"] == "OPEN"
    assert patch3["checkState"] == "SUCCESS"
    assert {c["context"] for c in patch3["checks"]} >= {"build"}
    assert all(c["state"] in {"SUCCESS", "WARNING", "FAILURE", "PENDING"} for c in patch3["checks"])


async def test_query_backends(gateway: Gateway) -> None:
    data = _data(await gateway.query("{ backends { id name kind url apiVersion } }"))
    [backend] = data["backends"]
    assert backend["name"] == "pw" and backend["kind"] == "PATCHWORK"
    assert backend["apiVersion"] == "1.3" and backend["url"] == gateway.sim.url
    assert node.decode(backend["id"]).type == "Backend"


async def test_query_node_round_trip(gateway: Gateway) -> None:
    pid = node.encode("Patch", "pw", "3")
    query = """query($id: ID!) { node(id: $id) { id __typename
        ... on Patch { title diff content headers { name value } project { linkName }
                       series { name version total complete cover { title } } } } }"""
    data = _data(await gateway.query(query, {"id": pid}))
    patch = data["node"]
    assert patch["__typename"] == "Patch" and patch["id"] == pid
    assert patch["diff"].startswith("diff") or "---" in patch["diff"]
    assert patch["project"]["linkName"] == "patchwork"
    [series] = patch["series"]
    assert series["version"] == 2 and series["total"] == 2 and series["complete"] is True
    assert series["cover"]["title"] == "[v2,0/2] A sample series"
    assert any(h["name"] == "Message-ID" for h in patch["headers"])


async def test_query_nodes_mixed_types_and_missing(gateway: Gateway) -> None:
    ids = [
        node.encode("Patch", "pw", "3"),
        node.encode("Series", "pw", "2"),
        node.encode("Patch", "pw", "99999"),
        node.encode("Project", "pw", "netdev"),
    ]
    data = _data(
        await gateway.query("query($ids:[ID!]!){ nodes(ids:$ids){ __typename id } }", {"ids": ids})
    )
    types = [n and n["__typename"] for n in data["nodes"]]
    assert types == ["Patch", "Series", None, "Project"]


async def test_query_patch_filters(gateway: Gateway) -> None:
    query = """query($f: PatchFilterInput) { patches(first: 50, filter: $f) {
        totalCount nodes { id rawState archived project { linkName } } } }"""
    data = _data(await gateway.query(query, {"f": {"states": ["accepted"]}}))
    assert data["patches"]["nodes"] and {p["rawState"] for p in data["patches"]["nodes"]} == {
        "accepted"
    }
    data = _data(await gateway.query(query, {"f": {"project": "netdev"}}))
    assert {p["project"]["linkName"] for p in data["patches"]["nodes"]} == {"netdev"}
    msgid = "<1473632795-9971-2-git-send-email-stephenfinucane@gmail.com>"
    data = _data(await gateway.query(query, {"f": {"msgid": msgid}}))
    assert [p["id"] for p in data["patches"]["nodes"]] == [node.encode("Patch", "pw", "3")]
    data = _data(await gateway.query(query, {"f": {"project": "nope"}}))
    assert data["patches"] == {"totalCount": 0, "nodes": []}


async def test_query_pagination_walks_every_patch_once(gateway: Gateway) -> None:
    query = """query($after: String) { patches(first: 7, after: $after) {
        pageInfo { hasNextPage hasPreviousPage endCursor } nodes { id } } }"""
    seen: list[str] = []
    after = None
    for _ in range(20):
        conn = _data(await gateway.query(query, {"after": after}))["patches"]
        seen += [n["id"] for n in conn["nodes"]]
        assert conn["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert len(seen) == 43 and len(set(seen)) == 43


async def test_query_series_and_events(gateway: Gateway) -> None:
    data = _data(
        await gateway.query(
            """{ series(first: 3) { nodes { name version total complete submitter { name }
                   patches { title } } }
                 events(first: 5) { nodes { category date actor { username } } } }"""
        )
    )
    assert len(data["series"]["nodes"]) == 3
    assert all(s["patches"] for s in data["series"]["nodes"])
    assert len(data["events"]["nodes"]) == 5
    dates = [e["date"] for e in data["events"]["nodes"]]
    assert dates == sorted(dates, reverse=True)


async def test_query_patch_comments(gateway: Gateway) -> None:
    pid = node.encode("Patch", "pw", "3")
    query = """query($id: ID!) { node(id: $id) { ... on Patch {
        comments(first: 10) { nodes { subject author { name } content } } } } }"""
    data = _data(await gateway.query(query, {"id": pid}))
    comments = data["node"]["comments"]["nodes"]
    assert comments and any("Looks good" in (c["content"] or "") for c in comments)


async def test_query_patch_and_series_mbox(gateway: Gateway) -> None:
    pid = node.encode("Patch", "pw", "3")
    query = """query($id: ID!) { node(id: $id) { ... on Patch { mbox series { mbox } } } }"""
    data = _data(await gateway.query(query, {"id": pid}))
    mbox = data["node"]["mbox"]
    assert mbox.startswith("From ") and "Subject: [PATCH v2 1/2]" in mbox
    series_mbox = data["node"]["series"][0]["mbox"]
    assert series_mbox.count("\nFrom ") + series_mbox.startswith("From ") >= 2
