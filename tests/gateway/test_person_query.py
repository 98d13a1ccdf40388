"""Issue 16's acceptance query against the demo: "open changes of person P across all forges,
newest activity first, with check state and related changes" — answered by one query, with
the upstream reads it makes counted and asserted exactly (docs/federation.md "The person
query on the demo" lists the same reads).

The gateway runs over the demo's four simulators as ``revgate demo`` starts them, the demo's
``[[people]]`` entry included (``bench.waves.demo_gateway``); every upstream request is taken
from the gateway's ``on_request`` hook (``Metrics.upstream_hook``, as ``bench.waves`` does).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from adapters.demo import twin
from adapters.registry import RequestHook
from bench.waves import demo_gateway
from schema import node

ADA = node.encode("Identity", node.ANY_BACKEND, "map:ada-lovelace")
TITLE = "net: fix use-after-free in skb_release"
LIST = """query($p: ID!) {
  changes(first: 20, filter: {people: [$p], states: [OPEN]}) {
    missingBackends
    nodes { __typename id title state updatedAt checkState backend { name } }
  }
}"""
QUERY = """query($p: ID!) {
  changes(first: 20, filter: {people: [$p], states: [OPEN]}) {
    missingBackends
    nodes {
      __typename id title state updatedAt checkState backend { name }
      related { evidence confidence change { id backend { name } } }
    }
  }
}"""
# Query values that are times relative to the data (the demo's clock starts at the present).
TIMES = {"since", "submitted_before", "updated_since"}
GERRIT_OPTS = "&o=LABELS&o=DETAILED_LABELS&o=DETAILED_ACCOUNTS&o=CURRENT_REVISION"
COMMIT_OPTS = GERRIT_OPTS + "&o=CURRENT_COMMIT"
EITHER = "(status:open+OR+status:closed)"
PW_PAGE = "&order=-date,id&page=1&per_page=20"
FDO_SERIES = (
    "/api/1.0/projects/4/series/?submitter=100&submitted_before=T&updated_since=T&perpage=100"
)
ABF_LIST = (
    "/api/v1/pull_requests.json?filter=all&status={}&sort=updated&direction=desc&page=1"
    "&per_page=100"
)


def _normal(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, "T" if k in TIMES else v) for k, v in parse_qsl(parts.query)]
    return parts.path + ("?" + urlencode(query, safe=":/@(),+") if query else "")


@dataclass
class Reads:
    """Every upstream request as ``(backend, path?query)``, times as ``T``."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    def take(self) -> Counter[tuple[str, str]]:
        out = Counter(self.sent)
        self.sent.clear()
        return out


@contextmanager
def counting() -> Iterator[Reads]:
    from gateway.metrics import Metrics

    reads = Reads()
    original = Metrics.upstream_hook

    def upstream_hook(self: Metrics, backend: str) -> RequestHook:
        then = original(self, backend)

        def record(method: str, url: str, status: int | None, seconds: float) -> None:
            reads.sent.append((backend, _normal(url)))
            then(method, url, status, seconds)

        return record

    with mock.patch.object(Metrics, "upstream_hook", upstream_hook):
        yield reads


@asynccontextmanager
async def demo() -> AsyncIterator[tuple[httpx.AsyncClient, Reads]]:
    with counting() as reads:
        async with demo_gateway() as (client, _):
            yield client, reads


async def _data(client: httpx.AsyncClient, query: str, **variables: Any) -> Any:
    body = (await client.post("/graphql", json={"query": query, "variables": variables})).json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def _list_reads(ids: dict[str, str]) -> Counter[tuple[str, str]]:
    """The warm list part: one list per backend, Patchwork's one events read, fdo's revision
    placement for checkState, ABF's head detail. No read per change."""
    pr = ids["abf"]
    return Counter(
        [
            ("patchwork", "/api/1.3/patches/?submitter=ada@example.org" + PW_PAGE),
            ("patchwork", "/api/1.3/events/?since=T&per_page=100"),
            ("fdo", "/api/1.0/patches/?submitter=100&perpage=100"),
            ("fdo", FDO_SERIES),
            ("fdo", "/api/1.0/series/2000/revisions/?perpage=100"),
            ("fdo", "/api/1.0/series/2000/revisions/1/test-results/"),
            ("gerrit", "/a/changes/?q=status:open+owner:1000400&n=21" + GERRIT_OPTS),
            ("abf", ABF_LIST.format("open")),
            ("abf", f"/api/v1/projects/{pr.replace('/', '/pull_requests/')}.json"),
        ]
    )  # fmt: skip


def _related_reads(ids: dict[str, str]) -> Counter[tuple[str, str]]:
    """The related part: the keys of each change asked about, then one search per backend."""
    second = twin().commits[1]
    msgid = second.msgid.strip("<>")
    gerrit_terms = (
        f"change:{second.change_id}+OR+commit:{second.sha}+OR+message:%22{msgid}%22"
        f"+OR+message:%22{TITLE.replace(' ', '+')}%22"
    )
    plain, prefixed = TITLE.replace(" ", "+"), "%5B2/2%5D+" + TITLE.replace(" ", "+")
    pr = ids["abf"].replace("/", "/pull_requests/")
    return Counter(
        [
            # keys: Patchwork's detail (content, diff), Gerrit's commit message and patch,
            # fdo's mbox, ABF's commits (trailers)
            ("patchwork", f"/api/1.3/patches/{ids['patchwork']}/"),
            ("gerrit", f"/a/changes/?q=change:{ids['gerrit']}&n=1{COMMIT_OPTS}"),
            ("gerrit", f"/a/changes/{ids['gerrit']}/revisions/{second.sha}/patch"),
            ("fdo", f"/api/1.0/patches/{ids['fdo']}/mbox/"),
            ("abf", f"/api/v1/projects/{pr}/commits.json?page=1&per_page=100"),
            # searches: each backend once for all four changes' keys
            ("patchwork", f"/api/1.3/patches/?msgid={msgid}&page=1&per_page=20"),
            ("patchwork", f"/api/1.3/patches/?q={plain}&page=1&per_page=20"),
            ("fdo", f"/api/1.0/patches/?name={plain}&page=1&perpage=20"),
            ("fdo", f"/api/1.0/patches/?name={prefixed}&page=1&perpage=20"),
            ("gerrit", f"/a/changes/?q=({gerrit_terms})+{EITHER}&n=51{COMMIT_OPTS}"),
            ("abf", ABF_LIST.format("open")),
            ("abf", ABF_LIST.format("closed")),
        ]
    )  # fmt: skip


# Evidence between the twins, by backend pair (the demo's timeline: adapters/demo).
EVIDENCE = {
    frozenset({"abf", "gerrit"}): ["CHANGE_ID_TRAILER", "COMMIT_SHA", "LINK_TRAILER"],
    frozenset({"abf", "patchwork"}): ["CHANGE_ID_TRAILER", "LINK_TRAILER"],
    frozenset({"abf", "fdo"}): ["CHANGE_ID_TRAILER", "LINK_TRAILER"],
    frozenset({"gerrit", "patchwork"}): ["CHANGE_ID_TRAILER", "LINK_TRAILER", "PATCH_ID"],
    frozenset({"gerrit", "fdo"}): ["CHANGE_ID_TRAILER", "LINK_TRAILER", "PATCH_ID"],
    frozenset({"patchwork", "fdo"}): ["MESSAGE_ID", "CHANGE_ID_TRAILER", "PATCH_ID"],
}


async def test_open_changes_of_a_person_across_forges_with_checks_and_twins() -> None:
    async with demo() as (client, reads):
        await _data(client, LIST, p=ADA)  # cold: API versions, account keys, project names
        cold = reads.take()
        listed = (await _data(client, LIST, p=ADA))["changes"]
        list_reads = reads.take()
        answer = (await _data(client, QUERY, p=ADA))["changes"]
        full_reads = reads.take()

    nodes = answer["nodes"]
    assert answer["missingBackends"] == []
    # Her open changes, one per forge (the twin's second commit), newest activity first.
    by_backend = {n["backend"]["name"]: n for n in nodes}
    assert len(nodes) == 4 and set(by_backend) == {"patchwork", "fdo", "gerrit", "abf"}
    assert {n["state"] for n in nodes} == {"OPEN"}
    assert all(n["title"].endswith(TITLE) for n in nodes)
    stamps = [n["updatedAt"] for n in nodes]
    assert stamps == sorted(stamps, reverse=True)
    assert [n["backend"]["name"] for n in nodes] == ["abf", "gerrit", "patchwork", "fdo"]
    checks = {b: n["checkState"] for b, n in by_backend.items()}
    assert checks == {
        "abf": "SUCCESS",
        "gerrit": "SUCCESS",
        "patchwork": "WARNING",
        "fdo": "SUCCESS",
    }
    assert [{k: v for k, v in n.items() if k != "related"} for n in nodes] == listed["nodes"]

    # related finds the three twins of each, with the evidence the data carries
    ids = {b: n["id"] for b, n in by_backend.items()}
    for backend, change in by_backend.items():
        links = {link["change"]["backend"]["name"]: link for link in change["related"]}
        assert set(links) == set(by_backend) - {backend}, (backend, links)
        for other, link in links.items():
            assert link["change"]["id"] == ids[other]
            assert link["evidence"] == EVIDENCE[frozenset({backend, other})], (backend, other)
            assert link["confidence"] == 1.0

    native = {b: node.decode(i).native for b, i in ids.items()}
    assert list_reads == _list_reads(native)
    first_run = Counter(
        [
            ("gerrit", "/a/accounts/ada"),  # her keys resolved to account ids, kept
            ("gerrit", "/a/accounts/ada@example.org"),
            ("patchwork", "/api/1.3/"),  # the API version
            ("fdo", "/api/1.0/projects/?perpage=100"),
            # whether an anonymous caller may see the open list's projects (the ABF seed's)
            *(("abf", f"/api/v1/projects/{n}.json") for n in (666, 667, 668)),
        ]
    )
    assert cold == list_reads + first_run
    assert full_reads == _list_reads(native) + _related_reads(native)
    assert sum(list_reads.values()) == 9 and sum(full_reads.values()) == 21


async def test_the_demo_person_has_accounts_on_all_four_backends() -> None:
    people = """{ people(search: "ada") {
      nodes { id displayName emails accounts { backend { name } username email } } } }"""
    by_id = (
        "query($id: ID!) { node(id: $id) { ... on Identity { accounts { backend { name } } } } }"
    )
    async with demo() as (client, _):
        (ada, *others) = (await _data(client, people))["people"]["nodes"]
        again = (await _data(client, by_id, id=ada["id"]))["node"]
    assert ada["id"] == ADA and ada["displayName"] == "Ada Lovelace"
    assert ada["emails"] == ["ada@example.org"]
    assert all(o["displayName"] != "Ada Lovelace" for o in others)
    where = {a["backend"]["name"] for a in ada["accounts"]}
    assert where == {"patchwork", "fdo", "gerrit", "abf"}
    assert {a["backend"]["name"] for a in again["accounts"]} == where
    abf = [a for a in ada["accounts"] if a["backend"]["name"] == "abf"]
    assert [a["username"] for a in abf] == ["ada"]  # joined by the map: ABF shows no emails


REPORT = """mutation($id: ID!) { reportCheck(input: {change: $id, context: "revgate-ci",
    state: FAILURE, description: "2 tests failed"}) {
    check { context state } change { checkState } errors { code backend } } }"""
REVIEW = """mutation($id: ID!) { reviewChange(input: {change: $id, verdict: REQUEST_CHANGES}) {
    change { state rawState } errors { code backend } } }"""
CAN = """query($p: ID!) { changes(first: 20, filter: {people: [$p], states: [OPEN]}) {
    nodes { id backend { name } viewerCan { review reportCheck } } } }"""


async def test_a_ci_bot_reports_and_reviews_on_each_twin_as_viewer_can_says() -> None:
    async with demo() as (client, _):
        twins = (await _data(client, CAN, p=ADA))["changes"]["nodes"]
        done: dict[str, tuple[Any, Any]] = {}
        for twin_ in twins:
            report = (await _data(client, REPORT, id=twin_["id"]))["reportCheck"]
            review = (await _data(client, REVIEW, id=twin_["id"]))["reviewChange"]
            done[twin_["backend"]["name"]] = (report, review)
            # viewerCan tells beforehand which of them the forge takes
            can = twin_["viewerCan"]
            assert (report["errors"] == []) is can["reportCheck"], (twin_, report)
            assert (review["errors"] == []) is can["review"], (twin_, review)
        after = (await _data(client, LIST, p=ADA))["changes"]["nodes"]

    # reportCheck: a Patchwork check, an fdo test result, a Gerrit Verified -1; ABF has none
    for backend in ("patchwork", "fdo", "gerrit"):
        report = done[backend][0]
        assert report["change"]["checkState"] == "FAILURE", backend
    assert done["patchwork"][0]["check"] == {"context": "revgate-ci", "state": "FAILURE"}
    assert done["fdo"][0]["check"] == {"context": "revgate-ci", "state": "FAILURE"}
    assert done["gerrit"][0]["check"] == {"context": "Verified", "state": "FAILURE"}
    assert done["abf"][0]["errors"] == [{"code": "UNSUPPORTED", "backend": "abf"}]
    # reviewChange: Patchwork's state, Gerrit's Code-Review -1 (the change stays open)
    assert done["patchwork"][1]["change"] == {
        "state": "CHANGES_REQUESTED",
        "rawState": "changes-requested",
    }
    assert done["gerrit"][1]["change"]["state"] == "OPEN"
    for backend in ("fdo", "abf"):
        assert done[backend][1]["errors"] == [{"code": "UNSUPPORTED", "backend": backend}]
    # The person's open changes now: the Patchwork patch awaits a v2 (no longer OPEN)
    assert {n["backend"]["name"] for n in after} == {"fdo", "gerrit", "abf"}
    assert {
        n["backend"]["name"]: n["checkState"] for n in after if n["backend"]["name"] != "abf"
    } == {
        "fdo": "FAILURE",
        "gerrit": "FAILURE",
    }
