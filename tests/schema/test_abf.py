"""ABF through GraphQL: pull requests (a ``Change``), lists, groups, federation, mutations.

The gateway runs in-process over an ABF simulator (real-server shapes) and a Patchwork one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from adapters.abf.records import PullRequestUpdate
from adapters.abf.simulator import TOKEN
from adapters.abf.simulator import RunningSimulator as AbfSim
from adapters.abf.simulator import start_simulator as start_abf
from adapters.patchwork.simulator import RunningSimulator as PwSim
from adapters.patchwork.simulator import start_simulator as start_pw
from gateway.app import create_app
from gateway.auth import hash_key
from gateway.settings import settings_from_dict
from schema import node
from schema.live import Poller
from tests.adapters.abf.conftest import make_source
from tests.conftest import ADMIN_TOKEN, anonymous_writes
from tests.gateway.guarded import bearer

KEY = "rgk-tester-Abf-4242-Birch"  # the gateway API key the test client sends

PR_11 = node.encode("PullRequest", "abf", "666/11")

PR_FIELDS = """
  __typename id number title state rawState mergeable mergeability webUrl checkState
  createdAt updatedAt body author { username } owner { username } assignee { username }
  fromRef { ref sha project { linkName } } toRef { ref sha project { id linkName } }
  mergedBy { username } closedBy { username } mergedAt closedAt
  checks { context state rawState description }
  backend { name kind } project { name linkName }
"""


@dataclass
class AbfGateway:
    client: httpx.AsyncClient
    abf: AbfSim
    pw: PwSim

    async def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        resp = await self.client.post("/graphql", json={"query": query, "variables": variables})
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = await self.query(query, variables)
        assert "errors" not in body, body["errors"]
        found: dict[str, Any] = body["data"]
        return found

    def requests(self) -> int:
        return len(self.abf.state.requests)


async def _gateway(token: str | None) -> AsyncIterator[AbfGateway]:
    abf, pw = await start_abf(), await start_pw()
    abf_entry: dict[str, Any] = {"name": "abf", "kind": "abf", "url": abf.url, "retries": 0}
    env = {"PW_TOKEN": ADMIN_TOKEN}
    if token is not None:
        abf_entry["token_env"] = "ABF_TOKEN"
        env["ABF_TOKEN"] = token
    pw_entry = {"name": "pw", "kind": "patchwork", "url": pw.url, "token_env": "PW_TOKEN"}
    # The caller sends an API key: these tests are about the schema over the gateway's
    # account; what an anonymous caller sees: tests/reliability/test_private_data.py.
    keys = [{"name": "tester", "sha256": hash_key(KEY)}]
    config = {"backends": [pw_entry, abf_entry], "api_keys": keys}
    settings = anonymous_writes(settings_from_dict(config, env=env))
    app = create_app(settings)
    backends = app.state.backends
    try:
        await backends.open()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://revgate", headers=bearer(KEY)
        ) as client:
            yield AbfGateway(client, abf, pw)
    finally:
        await backends.close()
        await abf.close()
        await pw.close()


@pytest.fixture
async def gw() -> AsyncIterator[AbfGateway]:
    """The gateway over ABF (with its token) and Patchwork."""
    async for g in _gateway(TOKEN):
        yield g


@pytest.fixture
async def anonymous() -> AsyncIterator[AbfGateway]:
    """The gateway over ABF without credentials."""
    async for g in _gateway(None):
        yield g


# -- reads ----------------------------------------------------------------------------------


async def test_abf_pull_request_by_id_is_a_change(gw: AbfGateway) -> None:
    q = (
        "query($id: ID!) { node(id: $id) { ... on Change { title } "
        f"... on PullRequest {{ {PR_FIELDS} }} }} }}"
    )
    pr = (await gw.data(q, {"id": PR_11}))["node"]
    assert pr["__typename"] == "PullRequest" and pr["id"] == PR_11
    assert (pr["number"], pr["title"], pr["state"], pr["rawState"]) == (
        11,
        "new feature",
        "OPEN",
        "open",
    )
    assert (
        pr["createdAt"] == "2012-09-20T19:18:25+00:00" and pr["body"] == "new cool feature for us"
    )
    assert pr["toRef"] == {
        "ref": "update-version",
        "sha": "3d1468bbb339c8b59234a5bbc35dedf3d89c2043",
        "project": {"id": node.encode("Project", "abf", "666"), "linkName": "abf/evil_tools"},
    }
    assert pr["fromRef"]["ref"] == "update-rails"
    assert pr["author"] == pr["owner"] == {"username": "ivan_aivazovsky"}
    assert pr["mergeability"] == "UNKNOWN" and pr["checkState"] == "PENDING"
    assert pr["checks"] == [
        {
            "context": "abf/mergeable",
            "state": "PENDING",
            "rawState": "open",
            "description": "not checked yet",
        }
    ]
    assert pr["backend"] == {"name": "abf", "kind": "ABF"}
    assert pr["mergedBy"] is None and pr["closedBy"] is None


async def test_abf_pull_request_by_project_and_number(gw: AbfGateway) -> None:
    q = """query($p: String) { pullRequest(backend: "abf", project: $p, number: 11) { id } }"""
    for project in ("666", "abf/evil_tools"):
        assert (await gw.data(q, {"p": project}))["pullRequest"]["id"] == PR_11
    missing = await gw.data(
        """{ pullRequest(backend: "abf", project: "666", number: 999) { id } }"""
    )
    assert missing["pullRequest"] is None


async def test_abf_pull_request_revision_commits_and_files(gw: AbfGateway) -> None:
    q = """query($id: ID!) { node(id: $id) { ... on PullRequest {
      commits { sha message author { name email date } parents }
      files { filename status additions deletions changes }
      revision { id sha additions deletions commits { sha } files { filename } } } } }"""
    before = gw.requests()
    pr = (await gw.data(q, {"id": PR_11}))["node"]
    [commit] = pr["commits"]
    assert commit["sha"].startswith("4c2553a5") and commit["author"]["date"]
    assert pr["files"] == [
        {
            "filename": "test.log",
            "status": "added",
            "additions": 42,
            "deletions": 24,
            "changes": 66,
        }
    ]
    assert pr["revision"]["additions"] == 42 and pr["revision"]["deletions"] == 24
    assert pr["revision"]["commits"] == [{"sha": commit["sha"]}]
    # detail, commits and files once each: the request's loaders share them
    assert gw.requests() - before == 3


async def test_abf_pull_request_states_and_checks(gw: AbfGateway) -> None:
    q = """{ pullRequests(first: 100, filter: {scope: PROJECT, project: "666", status: CLOSED}) {
      nodes { state rawState checkState checks { state }
              mergedBy { username } closedBy { username } } } }"""
    closed = (await gw.data(q))["pullRequests"]["nodes"]
    assert {n["state"] for n in closed} == {"MERGED", "CLOSED"}
    assert all(n["checkState"] is None and n["checks"] == [] for n in closed)
    assert all(n["closedBy"] for n in closed)
    assert all(n["mergedBy"] for n in closed if n["state"] == "MERGED")
    q_open = q.replace("CLOSED", "OPEN")
    opened = (await gw.data(q_open))["pullRequests"]["nodes"]
    by_raw = {n["rawState"]: n["checkState"] for n in opened}
    assert by_raw == {
        "open": "PENDING",
        "ready": "SUCCESS",
        "already": "SUCCESS",
        "blocked": "FAILURE",
    }
    assert {n["state"] for n in opened} == {"OPEN"}


@pytest.mark.parametrize(
    "flt",
    [
        {"scope": "ALL", "involvement": "ALL"},
        {"scope": "ALL", "involvement": "CREATED", "status": "CLOSED"},
        {"scope": "USER", "involvement": "ALL", "sort": "UPDATED", "direction": "ASC"},
        {"scope": "GROUP", "group": "3", "involvement": "ALL"},
        {"scope": "PROJECT", "project": "abf/evil_tools", "assignee": "*", "creator": "petr"},
        {"scope": "PROJECT", "project": "666", "assignee": "none", "since": "2012-09-21T00:00:00Z"},
    ],
)
async def test_abf_pull_request_lists(gw: AbfGateway, flt: dict[str, Any]) -> None:
    q = """query($f: PullRequestFilterInput) { pullRequests(first: 5, filter: $f) {
      totalCount pageInfo { hasNextPage endCursor } nodes { id title createdAt } } }"""
    page = (await gw.data(q, {"f": flt}))["pullRequests"]
    assert page["nodes"] and all(n["createdAt"] for n in page["nodes"])


async def test_abf_pull_request_list_pages(gw: AbfGateway) -> None:
    q = """query($after: String) { pullRequests(first: 4, after: $after,
      filter: {involvement: ALL, status: CLOSED}) {
        pageInfo { hasNextPage endCursor } nodes { id } } }"""
    seen: list[str] = []
    after = None
    while True:
        page = (await gw.data(q, {"after": after}))["pullRequests"]
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) > 4


@pytest.mark.parametrize(
    "flt, code",
    [
        ({"scope": "GROUP"}, "BAD_USER_INPUT"),
        ({"scope": "PROJECT"}, "BAD_USER_INPUT"),
        ({"scope": "ALL", "assignee": "none"}, "BAD_USER_INPUT"),
        ({"scope": "GROUP", "group": "99"}, "NOT_FOUND"),
        ({"scope": "PROJECT", "project": "9999"}, "NOT_FOUND"),
        ({"scope": "PROJECT", "project": "700"}, "FORBIDDEN"),
        ({"backend": "pw"}, "UNSUPPORTED"),
    ],
)
async def test_abf_pull_request_list_errors(gw: AbfGateway, flt: dict[str, Any], code: str) -> None:
    q = "query($f: PullRequestFilterInput) { pullRequests(filter: $f) { nodes { id } } }"
    body = await gw.query(q, {"f": flt})
    assert body["errors"][0]["extensions"]["code"] == code


async def test_abf_unauthenticated_is_a_clear_error(anonymous: AbfGateway) -> None:
    body = await anonymous.query("query($id: ID!) { node(id: $id) { id } }", {"id": PR_11})
    [error] = body["errors"]
    assert error["extensions"] == {"code": "FORBIDDEN", "backend": "abf", "upstreamStatus": 401}
    assert "sign in" in error["message"] and TOKEN not in str(body)


async def test_abf_groups_projects_people_viewer(gw: AbfGateway) -> None:
    q = """query($g: ID!, $p: ID!) {
      byId: node(id: $g) { ... on AbfGroup { uname } }
      abfGroup(backend: "abf", id: "3") { id uname ownProjectsCount owner { username }
        pullRequests(first: 3, involvement: ALL) { nodes { project { linkName } } } }
      missing: abfGroup(backend: "abf", id: "99") { id }
      project(backend: "abf", linkName: "abf/evil_tools") { id name linkName scmUrl }
      person: node(id: $p) { ... on Person { username email } }
      abfViewer { username } }"""
    ids = {"g": node.encode("AbfGroup", "abf", "3"), "p": node.encode("Person", "abf", "2")}
    data = await gw.data(q, ids)
    assert data["byId"] == {"uname": "abf"}
    group = data["abfGroup"]
    assert group["uname"] == "abf" and group["ownProjectsCount"] == 1
    assert {n["project"]["linkName"] for n in group["pullRequests"]["nodes"]} == {"abf/evil_tools"}
    assert data["missing"] is None
    assert data["project"]["name"] == "evil_tools" and data["project"]["scmUrl"]
    assert (
        data["person"]["username"] == "petr" and data["abfViewer"]["username"] == "ivan_aivazovsky"
    )


# -- federation -----------------------------------------------------------------------------

CHANGES = """query($f: ChangeFilterInput, $after: String) {
  changes(first: 10, filter: $f, after: $after) {
  missingBackends pageInfo { hasNextPage endCursor }
  nodes { __typename id state updatedAt backend { name } project { linkName } } } }"""


async def test_abf_changes_merge_with_patchwork(gw: AbfGateway) -> None:
    newest = (await gw.data(CHANGES))["changes"]
    times = [n["updatedAt"] for n in newest["nodes"]]
    assert times == sorted(times, reverse=True) and newest["missingBackends"] == []
    # ABF's pull requests (2012) are older than most Patchwork patches: oldest first, both.
    q = CHANGES.replace("first: 10", "first: 100, orderBy: {direction: ASC}")
    oldest = (await gw.data(q))["changes"]["nodes"]
    kinds = [n["__typename"] for n in oldest]
    assert {"PullRequest", "Patch"} <= set(kinds)
    times = [n["updatedAt"] for n in oldest]
    assert times == sorted(times)


async def test_abf_changes_walk_every_pull_request_once(gw: AbfGateway) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = (await gw.data(CHANGES, {"f": {"backends": ["abf"]}, "after": after}))["changes"]
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    readable = [k for k, p in gw.abf.state.data.pulls.items() if k[0] != 700]
    assert len(seen) == len(set(seen)) == len(readable)


async def test_abf_changes_filters_and_project_changes(gw: AbfGateway) -> None:
    flt = {"backends": ["abf"], "states": ["MERGED"], "author": "petr", "search": "generated"}
    nodes = (await gw.data(CHANGES, {"f": flt}))["changes"]["nodes"]
    assert nodes and {n["state"] for n in nodes} == {"MERGED"}
    q = """{ project(backend: "abf", linkName: "abf/evil_tools") {
      changes(first: 50) { nodes { __typename project { linkName } } } } }"""
    changes = (await gw.data(q))["project"]["changes"]["nodes"]
    assert changes and {(n["__typename"], n["project"]["linkName"]) for n in changes} == {
        ("PullRequest", "abf/evil_tools")
    }


# -- mutations ------------------------------------------------------------------------------

CREATE = """mutation($input: CreatePullRequestInput!) { createPullRequest(input: $input) {
  pullRequest { id number title state rawState mergeability assignee { username }
                fromRef { ref project { linkName } } toRef { ref } }
  errors { code message field backend } } }"""
UPDATE = """mutation($input: UpdatePullRequestInput!) { updatePullRequest(input: $input) {
  pullRequest { id title body state rawState assignee { username } closedBy { username } }
  errors { code message backend } } }"""
MERGE = """mutation($input: MergePullRequestInput!) { mergePullRequest(input: $input) {
  pullRequest { id state mergedBy { username } mergedAt } errors { code message backend } } }"""


async def test_abf_create_pull_request(gw: AbfGateway) -> None:
    project = node.encode("Project", "abf", "666")
    new = {
        "project": project,
        "title": "fix",
        "body": "b",
        "toRef": "master",
        "fromRef": "conflict",
        "fromProject": node.encode("Project", "abf", "667"),
        "assignee": node.encode("Person", "abf", "2"),
    }
    out = (await gw.data(CREATE, {"input": new}))["createPullRequest"]
    assert out["errors"] == []
    pr = out["pullRequest"]
    assert (pr["title"], pr["state"], pr["rawState"], pr["mergeability"]) == (
        "fix",
        "OPEN",
        "blocked",
        "CONFLICTING",
    )
    assert (
        pr["assignee"] == {"username": "petr"}
        and pr["fromRef"]["project"]["linkName"] == "petr/hwinfo"
    )
    native = {
        "project": "abf/evil_tools",
        "backend": "abf",
        "title": "t2",
        "toRef": "master",
        "fromRef": "feature",
    }
    again = (await gw.data(CREATE, {"input": native}))["createPullRequest"]
    assert again["errors"] == [] and again["pullRequest"]["number"] == pr["number"] + 1


@pytest.mark.parametrize(
    "change, code, text",
    [
        ({"title": ""}, "BAD_REQUEST", "Title can't be blank"),
        ({"toRef": "nope"}, "BAD_REQUEST", "To ref is invalid"),
        ({"fromRef": "master"}, "BAD_REQUEST", "already up-to-date"),
        ({"project": node.encode("Project", "abf", "9999")}, "NOT_FOUND", ""),
        ({"project": node.encode("Project", "pw", "1")}, "UNSUPPORTED", "pull request writes"),
        ({"project": "666"}, "BAD_USER_INPUT", "needs input.backend"),
        ({"fromRef": " "}, "BAD_USER_INPUT", "must not be empty"),
    ],
)
async def test_abf_create_pull_request_errors(
    gw: AbfGateway, change: dict[str, Any], code: str, text: str
) -> None:
    new = {
        "project": node.encode("Project", "abf", "666"),
        "title": "t",
        "toRef": "master",
        "fromRef": "feature",
    }
    out = (await gw.data(CREATE, {"input": {**new, **change}}))["createPullRequest"]
    assert out["pullRequest"] is None
    [error] = out["errors"]
    assert error["code"] == code and text in error["message"]


async def test_abf_update_close_reopen_and_edit(gw: AbfGateway) -> None:
    closed = (await gw.data(UPDATE, {"input": {"id": PR_11, "status": "CLOSE"}}))[
        "updatePullRequest"
    ]
    assert closed["errors"] == [] and closed["pullRequest"]["state"] == "CLOSED"
    assert closed["pullRequest"]["closedBy"] == {"username": "ivan_aivazovsky"}
    reopened = (await gw.data(UPDATE, {"input": {"id": PR_11, "status": "REOPEN"}}))[
        "updatePullRequest"
    ]
    assert reopened["pullRequest"]["state"] == "OPEN"
    edit = {"id": PR_11, "title": "renamed", "body": "new body", "assignee": "3"}
    edited = (await gw.data(UPDATE, {"input": edit}))["updatePullRequest"]["pullRequest"]
    assert (edited["title"], edited["body"], edited["assignee"]) == (
        "renamed",
        "new body",
        {"username": "olga"},
    )
    cleared = (await gw.data(UPDATE, {"input": {"id": PR_11, "assignee": ""}}))["updatePullRequest"]
    assert cleared["pullRequest"]["assignee"] is None


@pytest.mark.parametrize(
    "update, code, text",
    [
        ({"id": PR_11, "title": " "}, "BAD_REQUEST", "Title can't be blank"),
        ({"id": PR_11}, "BAD_USER_INPUT", "nothing to update"),
        ({"id": node.encode("PullRequest", "abf", "666/999"), "title": "x"}, "NOT_FOUND", ""),
        ({"id": "garbage", "title": "x"}, "BAD_ID", ""),
        ({"id": PR_11, "assignee": node.encode("Person", "pw", "1")}, "BAD_USER_INPUT", "backend"),
    ],
)
async def test_abf_update_pull_request_errors(
    gw: AbfGateway, update: dict[str, Any], code: str, text: str
) -> None:
    out = (await gw.data(UPDATE, {"input": update}))["updatePullRequest"]
    [error] = out["errors"]
    assert out["pullRequest"] is None and error["code"] == code and text in error["message"]


async def test_abf_merge_pull_request(gw: AbfGateway) -> None:
    q = """{ pullRequests(first: 50, filter: {scope: PROJECT, project: "666"}) {
      nodes { id rawState } } }"""
    nodes = (await gw.data(q))["pullRequests"]["nodes"]
    ready = next(n["id"] for n in nodes if n["rawState"] == "ready")
    out = (await gw.data(MERGE, {"input": {"id": ready, "commitMessage": "Merge!"}}))[
        "mergePullRequest"
    ]
    assert out["errors"] == [] and out["pullRequest"]["state"] == "MERGED"
    assert (
        out["pullRequest"]["mergedBy"] == {"username": "ivan_aivazovsky"}
        and out["pullRequest"]["mergedAt"]
    )
    again = (await gw.data(MERGE, {"input": {"id": ready}}))["mergePullRequest"]
    assert again["pullRequest"] is None
    assert again["errors"] == [
        {"code": "BAD_REQUEST", "message": again["errors"][0]["message"], "backend": "abf"}
    ]
    assert "PullRequest has not been merged" in again["errors"][0]["message"]


async def test_abf_mutations_unauthenticated(anonymous: AbfGateway) -> None:
    out = (await anonymous.data(MERGE, {"input": {"id": PR_11}}))["mergePullRequest"]
    [error] = out["errors"]
    assert error["code"] == "FORBIDDEN" and "sign in" in error["message"]


# -- ETag cache and live events -------------------------------------------------------------


async def test_abf_second_identical_query_is_answered_by_304s(gw: AbfGateway) -> None:
    q = "query($id: ID!) { node(id: $id) { ... on PullRequest { title body } } }"
    first = await gw.data(q, {"id": PR_11})
    before = gw.requests()
    second = await gw.data(q, {"id": PR_11})
    assert first == second
    assert [status for _, _, status in gw.abf.state.requests[before:]] == [304]


async def test_abf_live_events_by_update_time() -> None:
    sim = await start_abf()
    source = await make_source(sim.url)
    poller = Poller("abf", source, interval=0.01)
    try:
        assert await poller._poll()  # the baseline: every pull request's latest update
        assert await poller._poll() == []  # nothing changed: nothing new
        await source.update_pull_request("666/11", PullRequestUpdate(title="live"))
        [event] = await poller._poll()
        assert event.category == "pull-request-updated" and event.id.startswith("666/11@")
        assert event.project and event.project.id == "666" and event.current_state == "open"
        await source.update_pull_request("666/11", PullRequestUpdate(status="close"))
        [closed] = await poller._poll()
        assert closed.category == "pull-request-closed" and closed.actor
    finally:
        await source.close()
        await sim.close()
