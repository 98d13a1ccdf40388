"""One vocabulary and consistent roots (issue 16, points 3 and 4), over the simulators:
``checkState`` null without checks on every kind (the backend's own word in
``rawCheckState``), upstream Patchwork's ``updatedAt`` as its last activity (``updatedSince``
finds a patch whose state just changed), ``webUrl`` on every change, root ``patches``
merged across Patchwork backends, ``covers`` and ``users``, and a Gerrit/ABF project's
``patches`` empty with a notice so a query over every backend's projects answers data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest

from adapters.patchwork import presence
from adapters.patchwork import source as pw_source
from schema import node
from schema.context import Context
from tests.conftest import Gateway
from tests.schema.test_federation_all import Fleet, fleet  # noqa: F401  (the fixture)
from tests.schema.test_mutations import CREATE_CHECK, UPDATE


async def _data(gw: Fleet, query: str, variables: dict[str, Any] | None = None) -> Any:
    resp = await gw.client.post("/graphql", json={"query": query, "variables": variables or {}})
    body = resp.json()
    assert "errors" not in body, body["errors"]
    return body


CHANGES = """{ changes(first: 100) { nodes { __typename checkState rawCheckState webUrl
  checks { state } backend { name } } } }"""


async def test_check_state_is_null_without_checks_on_every_kind(fleet: Fleet) -> None:  # noqa: F811
    nodes = (await _data(fleet, CHANGES))["data"]["changes"]["nodes"]
    kinds = set()
    for n in nodes:
        kinds.add(n["backend"]["name"])
        assert (n["checkState"] is None) == (not n["checks"]), n
        assert n["webUrl"], n  # every kind has a page for its changes (fdo included)
    assert {"patchwork", "fdo"} <= kinds
    upstream = [n for n in nodes if n["backend"]["name"] == "patchwork"]
    assert {n["rawCheckState"] for n in upstream} <= {"pending", "success", "warning", "fail"}
    assert [n for n in upstream if n["rawCheckState"] == "pending" and n["checkState"] is None]
    assert all(n["rawCheckState"] is None for n in nodes if n["backend"]["name"] == "fdo")


async def test_raw_check_state_of_gerrit_and_abf(fleet: Fleet) -> None:  # noqa: F811
    query = """{ g: changes(first: 5, filter: {backends: ["gerrit"]}) { nodes { rawCheckState } }
      a: changes(first: 20, filter: {backends: ["abf"]}) { nodes { state rawCheckState
        ... on PullRequest { mergeability } } } }"""
    data = (await _data(fleet, query))["data"]
    assert data["g"]["nodes"] and all(n["rawCheckState"] is None for n in data["g"]["nodes"])
    for n in data["a"]["nodes"]:
        assert (n["rawCheckState"] is None) == (n["state"] != "OPEN"), n


async def test_updated_since_finds_a_patch_whose_state_just_changed(gateway: Gateway) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    query = """query($since: DateTime!) { changes(first: 50, filter: {updatedSince: $since}) {
      nodes { id updatedAt createdAt rawState checkState } } }"""
    before = await gateway.query(query, {"since": since.isoformat()})
    assert before["data"]["changes"]["nodes"] == []  # recorded mails are years old
    patch = node.encode("Patch", "pw", "3")
    done = await gateway.query(UPDATE, {"input": {"id": patch, "state": "deferred"}})
    assert done["data"]["updatePatch"]["errors"] == []
    after = (await gateway.query(query, {"since": since.isoformat()}))["data"]["changes"]
    (found,) = after["nodes"]
    assert found["id"] == patch and found["rawState"] == "deferred"
    assert datetime.fromisoformat(found["updatedAt"]) >= since
    assert datetime.fromisoformat(found["createdAt"]) < since  # its mail date stays
    newest = await gateway.query("{ changes(first: 1) { nodes { id } } }")
    assert newest["data"]["changes"]["nodes"][0]["id"] == patch  # newest activity first


async def test_a_first_pending_check_turns_null_into_pending(gateway: Gateway) -> None:
    query = """query($id: ID!) { node(id: $id) { ... on Patch { checkState rawCheckState } } }"""
    lonely = None
    listed = await gateway.query(
        "{ patches(first: 100) { nodes { id checkState rawCheckState } } }"
    )
    for n in listed["data"]["patches"]["nodes"]:
        if n["rawCheckState"] == "pending" and n["checkState"] is None:
            lonely = n["id"]
            break
    assert lonely is not None, "the recorded data has a patch without checks"
    assert (await gateway.query(query, {"id": lonely}))["data"]["node"]["checkState"] is None
    check = {"patchId": lonely, "context": "ci", "state": "PENDING"}
    made = await gateway.query(CREATE_CHECK, {"input": check})
    assert made["data"]["createCheck"]["errors"] == []
    got = (await gateway.query(query, {"id": lonely}))["data"]["node"]
    assert got == {"checkState": "PENDING", "rawCheckState": "pending"}


async def test_root_patches_merge_every_patchwork_backend(fleet: Fleet) -> None:  # noqa: F811
    query = """query($after: String) { patches(first: 7, after: $after) {
      missingBackends totalCount pageInfo { hasNextPage endCursor }
      nodes { id createdAt backend { name } } } }"""
    seen: list[str] = []
    dates: list[datetime] = []
    backends: set[str] = set()
    after = None
    for _ in range(200):
        page = (await _data(fleet, query, {"after": after}))["data"]["patches"]
        assert page["missingBackends"] == [] and page["totalCount"] is None
        seen += [n["id"] for n in page["nodes"]]
        dates += [datetime.fromisoformat(n["createdAt"]) for n in page["nodes"]]
        backends |= {n["backend"]["name"] for n in page["nodes"]}
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert backends == {"patchwork", "fdo"}
    assert len(seen) == len(set(seen)) and dates == sorted(dates, reverse=True)
    one = """{ patches(first: 100, filter: {backend: "fdo"}) { totalCount nodes { id } } }"""
    fdo = (await _data(fleet, one))["data"]["patches"]
    assert fdo["totalCount"] is not None  # one backend: its own list, as before
    assert {n["id"] for n in fdo["nodes"]} <= set(seen)


async def test_root_patches_of_several_backends_refuse_other_orders(fleet: Fleet) -> None:  # noqa: F811
    resp = await fleet.client.post(
        "/graphql", json={"query": '{ patches(filter: {order: "name"}) { nodes { id } } }'}
    )
    body = resp.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "merge by date" in body["errors"][0]["message"]


async def test_covers_and_users_roots(fleet: Fleet) -> None:  # noqa: F811
    query = """{ covers(first: 5) { missingBackends nodes { id date backend { name } } }
      users(first: 3) { nodes { id username } } }"""
    data = (await _data(fleet, query))["data"]
    covers = data["covers"]["nodes"]
    assert covers and {c["backend"]["name"] for c in covers} == {"patchwork"}
    dates = [c["date"] for c in covers]
    assert dates == sorted(dates, reverse=True)
    assert data["users"]["nodes"] == []  # an anonymous caller: Patchwork shows users to members


async def test_users_for_an_authenticated_caller(gateway: Gateway) -> None:
    body = await gateway.query('{ users(first: 50, search: "") { nodes { id username } } }')
    assert "errors" not in body, body["errors"]


async def test_projects_of_every_backend_answer_data(fleet: Fleet) -> None:  # noqa: F811
    query = """{ projects(first: 100) { nodes { name backend { kind }
      patches(first: 2) { nodes { id } }
      changes(first: 2) { nodes { id } } } } }"""
    body = await _data(fleet, query)
    nodes = body["data"]["projects"]["nodes"]
    kinds = {n["backend"]["kind"] for n in nodes}
    assert kinds == {"PATCHWORK", "PATCHWORK_FDO", "GERRIT", "ABF"}
    for n in nodes:
        if n["backend"]["kind"] in ("GERRIT", "ABF"):
            assert n["patches"]["nodes"] == []
    notices = body["extensions"]["notices"]
    assert notices and {x["code"] for x in notices} == {"NO_PATCHES"}
    assert all(x["path"][-1] == "patches" for x in notices)


async def test_check_presence_read_is_bounded_and_agrees(
    big_gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past CHECK_EVENT_PAGES pages of events, the older patches are asked one by one: the
    answer is the same as from the whole events read."""
    query = "{ patches(first: 100) { nodes { id checkState rawCheckState } } }"
    whole = await big_gateway.query(query)
    assert "errors" not in whole, whole["errors"]
    monkeypatch.setattr(presence, "CHECK_EVENT_PAGES", 1)
    src = big_gateway.sources["pw"]
    assert isinstance(src, pw_source.PatchworkSource)
    src.presence = presence.Presence()  # forget what the first read covered
    before = len(big_gateway.sim.state.requests)
    bounded = await big_gateway.query(query)
    paths = [p for _, p in big_gateway.sim.state.requests[before:]]
    assert bounded["data"] == whole["data"]
    assert len([p for p in paths if "/events/" in p]) == 1
    assert [p for p in paths if "/checks/" in p], "older patches asked one by one"
    nodes = whole["data"]["patches"]["nodes"]
    assert {n["checkState"] for n in nodes if n["rawCheckState"] == "pending"} == {None, "PENDING"}


async def test_a_list_reads_no_checks_of_patches_its_presence_read_found_without(
    gateway: Gateway,
) -> None:
    # A pending patch that the presence read (asked for checkState) found without checks
    # answers checks [] unread; the answer is the one every patch's own read gives.
    query = "{ patches(first: 100) { nodes { id checkState rawCheckState checks { state } } } }"
    await gateway.query(query)  # versions detected, presence covered

    def checks_reads() -> int:
        return sum(1 for r in gateway.sim.state.requests if r[1].split("?")[0].endswith("/checks/"))

    before = checks_reads()
    told = await gateway.query(query)
    unread = checks_reads() - before
    with mock.patch.object(Context, "without_checks", lambda *_: False):
        assert (await gateway.query(query))["data"] == told["data"]
    every = checks_reads() - before - unread
    nodes = told["data"]["patches"]["nodes"]
    empty = [n for n in nodes if n["checks"] == []]
    assert empty and all(n["checkState"] is None for n in empty)
    assert every - unread == len(empty) and unread == len(nodes) - len(empty)


async def test_a_promoted_patch_keeps_checks_older_than_the_events_read(gateway: Gateway) -> None:
    # An old patch with recent activity joins a newest-first page (promoted) although the
    # events read starts after its mail: its pending check, older than that read, is not in
    # it. The patch still shows the check and PENDING (a presence read settles it), not
    # "no checks".
    data = gateway.sim.state.data
    # (no checkState asked first: no presence read has covered the patch yet)
    listed = await gateway.query("{ patches(first: 100) { nodes { id createdAt rawCheckState } } }")
    nodes = listed["data"]["patches"]["nodes"]
    oldest = min(
        (n for n in nodes if n["rawCheckState"] == "pending"), key=lambda n: n["createdAt"]
    )
    patch_id = int(node.decode(oldest["id"]).native)
    patch = data.patches[patch_id]
    made = datetime.fromisoformat(oldest["createdAt"]) + timedelta(days=1)
    check_id = max(data.checks, default=0) + 1
    data.checks[check_id] = {
        "id": check_id,
        "patch": patch_id,
        "user": 1,
        "date": made.replace(tzinfo=None).isoformat(),
        "state": "pending",
        "target_url": None,
        "context": "old-ci",
        "description": "queued long ago",
    }
    data.add_event(
        "check-created", patch["project"], made.replace(tzinfo=None), patch=patch_id, check=check_id
    )
    data.add_event(
        "patch-delegated",
        patch["project"],
        datetime.now(UTC).replace(tzinfo=None),
        patch=patch_id,
        previous_delegate=None,
        current_delegate=1,
    )
    page = await gateway.query(
        "{ changes(first: 3) { nodes { id checkState rawCheckState checks { context state } } } }"
    )
    (found,) = [n for n in page["data"]["changes"]["nodes"] if n["id"] == oldest["id"]]
    assert found["rawCheckState"] == "pending"
    assert {"context": "old-ci", "state": "PENDING"} in found["checks"]
    assert found["checkState"] == "PENDING"
