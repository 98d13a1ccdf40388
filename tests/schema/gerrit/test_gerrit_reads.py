"""GraphQL reads of Gerrit changes against the simulator: Change fields, patch sets, labels,
comments, the check rollup and native queries."""

from __future__ import annotations

from tests.schema.gerrit.conftest import GerritGateway

CHANGE = """
query($id: String!) {
  gerritChange(backend: "g", id: $id) {
    __typename id title state rawState number changeId triplet branch topic
    checkState checks { context state rawState user { name } }
    author { name email }
    project { name }
    labels { name optional permitted minValue maxValue
             values { value description } votes { label value account { name } } }
    currentRevision { number sha isCurrent }
  }
}
"""


async def test_change_fields_labels_and_checks(ggw: GerritGateway) -> None:
    data = await ggw.data(CHANGE, {"id": "3965"})
    c = data["gerritChange"]
    assert c["__typename"] == "GerritChange"
    assert c["state"] == "OPEN" and c["rawState"] == "NEW"
    assert c["number"] == 3965 and c["topic"] == "Documentation"
    assert c["triplet"].startswith("myProject~master~I")
    labels = {label["name"]: label for label in c["labels"]}
    assert set(labels) == {"Verified", "Code-Review"}
    cr = labels["Code-Review"]
    assert (cr["minValue"], cr["maxValue"]) == (-2, 2)
    assert cr["permitted"] == [-2, -1, 0, 1, 2]  # admin may vote the whole range
    assert [v["value"] for v in cr["values"]] == [-2, -1, 0, 1, 2]
    # Verified is a check; its votes roll up into checkState
    assert [ch["context"] for ch in c["checks"]] == ["Verified"] or c["checks"]
    assert c["checkState"] in ("SUCCESS", "FAILURE", "PENDING", "WARNING")


async def test_states_from_every_gerrit_status(ggw: GerritGateway) -> None:
    q = 'query($id: String!) { gerritChange(backend: "g", id: $id) { state rawState } }'
    got = {n: (await ggw.data(q, {"id": n}))["gerritChange"] for n in ("4799", "9", "4801")}
    assert got["4799"] == {"state": "OPEN", "rawState": "NEW"}
    assert got["9"] == {"state": "MERGED", "rawState": "MERGED"}
    assert got["4801"] == {"state": "DRAFT", "rawState": "DRAFT"}


async def test_checks_contribute_to_rollup(ggw: GerritGateway) -> None:
    q = """query($id: String!) { gerritChange(backend: "g", id: $id) {
        checkState checks { context state rawState user { username } } } }"""
    merged = (await ggw.data(q, {"id": "9"}))["gerritChange"]
    assert merged["checkState"] == "SUCCESS"
    assert merged["checks"] == [
        {
            "context": "Verified",
            "state": "SUCCESS",
            "rawState": "+1",
            "user": {"username": "ci-bot"},
        }
    ]
    pending = (await ggw.data(q, {"id": "3965"}))["gerritChange"]  # Verified: nobody voted yet
    assert pending["checkState"] == "PENDING"
    assert [c["context"] for c in pending["checks"]] == ["Verified"]


PATCH_SETS = """
{ gerritChange(backend: "g", id: "3965") {
    revisions { id number sha isCurrent draft
      fetch { protocol url ref commands { name command } }
      files { path status linesInserted linesDeleted }
      commit { subject parents author { name email } } }
    revision(id: "1") { number }
    bySha: revision(id: "674ac754") { number }
    current: revision(id: "current") { number }
} }
"""


async def test_patch_sets_as_revisions_in_one_batched_request(ggw: GerritGateway) -> None:
    c = (await ggw.data(PATCH_SETS))["gerritChange"]
    assert [r["number"] for r in c["revisions"]] == [1, 2]
    assert [r["isCurrent"] for r in c["revisions"]] == [False, True]
    ps2 = c["revisions"][1]
    http = next(f for f in ps2["fetch"] if f["protocol"] == "http")
    assert http["ref"] == "refs/changes/65/3965/2"
    commands = {cmd["name"]: cmd["command"] for cmd in http["commands"]}
    assert commands["Checkout"].endswith("refs/changes/65/3965/2 && git checkout FETCH_HEAD")
    assert ps2["files"] and ps2["commit"]["subject"] == "Implementing Feature X"
    assert (c["revision"], c["bySha"], c["current"]) == (
        {"number": 1},
        {"number": 2},
        {"number": 2},
    )
    # one list request for the change, one with every patch set: not one per revision
    assert len(ggw.upstream()) == 2
    node = await ggw.data(
        "query($id: ID!) { node(id: $id) { ... on GerritRevision { number sha } } }",
        {"id": ps2["id"]},
    )
    assert node["node"] == {"number": 2, "sha": ps2["sha"]}


async def test_revision_reads(ggw: GerritGateway) -> None:
    q = """query($path: String!) { gerritChange(backend: "g", id: "3965") { currentRevision {
        mergeable submitType reviewedFiles patch
        comments { id path line message author { name } }
        drafts { id path line message }
        diff(path: $path, intraline: true, context: "ALL") { changeType content { a b ab } }
        fileContent(path: $path)
    } } }"""
    path = "gerrit-server/src/main/java/com/google/gerrit/server/project/RefControl.java"
    rev = (await ggw.data(q, {"path": path}))["gerritChange"]["currentRevision"]
    assert isinstance(rev["mergeable"], bool)
    assert rev["submitType"] == "MERGE_IF_NECESSARY"
    assert rev["patch"].startswith("From ")
    assert rev["diff"]["changeType"] in ("MODIFIED", "ADDED")
    assert rev["fileContent"]


async def test_messages_and_inline_comments_are_comments(ggw: GerritGateway) -> None:
    q = """{ gerritChange(backend: "g", id: "3965") {
        messages { message revisionNumber author { name } }
        comments(first: 50) { totalCount nodes { subject content author { name } } } } }"""
    c = (await ggw.data(q))["gerritChange"]
    contents = [n["content"] for n in c["comments"]["nodes"]]
    assert c["comments"]["totalCount"] == len(contents) >= len(c["messages"]) > 0
    assert [m["message"] for m in c["messages"]] == contents[: len(c["messages"])]
    inline = c["comments"]["nodes"][len(c["messages"]) :]
    assert inline and all(n["subject"].startswith("Patch Set ") for n in inline)


async def test_reviewers_and_included_in(ggw: GerritGateway) -> None:
    q = """{ gerritChange(backend: "g", id: "3965") {
        reviewers { account { username } votes { label value } } includedIn } }"""
    c = (await ggw.data(q))["gerritChange"]
    votes = {r["account"]["username"]: r["votes"] for r in c["reviewers"]}
    assert {"label": "Code-Review", "value": -1} in votes["jdoe"]
    assert isinstance(c["includedIn"], list)


async def test_change_by_every_id_form_and_node(ggw: GerritGateway) -> None:
    q = 'query($id: String!) { gerritChange(backend: "g", id: $id) { id number } }'
    by_number = (await ggw.data(q, {"id": "3965"}))["gerritChange"]
    cid = (await ggw.data('{ gerritChange(backend: "g", id: "3965") { changeId triplet } }'))[
        "gerritChange"
    ]
    assert (await ggw.data(q, {"id": cid["changeId"]}))["gerritChange"] == by_number
    assert (await ggw.data(q, {"id": cid["triplet"]}))["gerritChange"] == by_number
    assert (await ggw.data(q, {"id": "123456"}))["gerritChange"] is None
    node = await ggw.data(
        "query($id: ID!) { node(id: $id) { __typename ... on GerritChange { number } } }",
        {"id": by_number["id"]},
    )
    assert node["node"] == {"__typename": "GerritChange", "number": 3965}


async def test_gerrit_query_passes_through(ggw: GerritGateway) -> None:
    q = """query($q: String!) { gerritChanges(backend: "g", gerritQuery: $q, first: 10) {
        nodes { number } } }"""
    got = await ggw.data(q, {"q": "project:myProject -is:draft (owner:jdoe OR owner:jroe)"})
    assert [n["number"] for n in got["gerritChanges"]["nodes"]] == [4800, 4799, 3965]
    assert "q=project:myProject+-is:draft+(owner:jdoe+OR+owner:jroe)" in ggw.upstream()[-1][1]


async def test_bad_gerrit_query_is_refused_before_any_request(ggw: GerritGateway) -> None:
    for bad in ("(status:open", "colour:blue", "status:open OR", '"unterminated'):
        for q in (
            "query($q: String!) { gerritChanges(gerritQuery: $q) { nodes { number } } }",
            "query($q: String!) { changes(filter: {gerritQuery: $q}) { nodes { title } } }",
        ):
            body = await ggw.query(q, {"q": bad})
            assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", bad
            assert "invalid gerritQuery" in body["errors"][0]["message"]
    assert ggw.upstream() == []
    print("upstream requests for 8 invalid queries:", len(ggw.upstream()))
