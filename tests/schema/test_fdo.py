"""An upstream Patchwork backend and a freedesktop one behind one gateway (the demo's config).

Federation: fdo series in the merged ``series`` (with real revisions and test state), fdo
events in the merged ``events`` and in the live poller, fdo patches in ``changes`` with their
revision's test results rolled into ``checkState``; the ``reportTestResult`` mutation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from adapters.base import EventPoller
from adapters.patchwork.simulator import RunningSimulator
from adapters.patchwork.simulator import start_simulator as start_upstream
from adapters.patchwork_fdo import mapping
from adapters.patchwork_fdo.simulator import FdoData, RunningFdoSimulator
from adapters.patchwork_fdo.simulator import start_simulator as start_fdo
from adapters.patchwork_fdo.source import FdoSource
from gateway.app import create_app
from gateway.cli import DEMO_QUERY, demo_settings
from schema import node
from schema.live import Poller
from tests.conftest import anonymous_writes


@dataclass
class Duo:
    """The gateway over both simulators."""

    client: httpx.AsyncClient
    upstream: RunningSimulator
    fdo: RunningFdoSimulator
    poller_source: FdoSource

    async def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a GraphQL request; the decoded body."""
        resp = await self.client.post("/graphql", json={"query": query, "variables": variables})
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    def fdo_paths(self) -> list[str]:
        return [p for _, p in self.fdo.state.requests]


@pytest.fixture
async def duo() -> AsyncIterator[Duo]:
    upstream = await start_upstream()
    fdo = await start_fdo(FdoData.generated(12))
    app = create_app(anonymous_writes(demo_settings(upstream.url, fdo.url, "127.0.0.1", 8000)))
    backends = app.state.backends
    await backends.open()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as client:
            source = backends.sources["fdo"]
            assert isinstance(source, FdoSource)
            yield Duo(client, upstream, fdo, source)
    finally:
        await backends.close()
        await fdo.close()
        await upstream.close()


SIDE_BY_SIDE = """query($first: Int, $after: String, $filter: SeriesFilterInput) {
  series(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    nodes { id name date version backend { name kind } testState
            stateSummary { name count final }
            revisions { version coverLetter patches { title } testResults { context state }
                        testState } } } }"""


async def test_fdo_series_side_by_side_with_upstream(duo: Duo) -> None:
    body = await duo.query(SIDE_BY_SIDE, {"first": 100})
    assert "errors" not in body, body
    nodes = body["data"]["series"]["nodes"]
    kinds = {n["backend"]["name"]: n["backend"]["kind"] for n in nodes}
    assert kinds == {"patchwork": "PATCHWORK", "fdo": "PATCHWORK_FDO"}
    dates = [n["date"] for n in nodes]
    assert dates == sorted(dates, reverse=True)  # one list, newest first across backends
    fdo = {n["name"]: n for n in nodes if n["backend"]["name"] == "fdo"}
    assert len(fdo) == 17
    three = fdo["drm/i915: generated series 2"]
    assert [r["version"] for r in three["revisions"]] == [1, 2, 3] and three["version"] == 3
    assert three["revisions"][0]["patches"][0]["title"].startswith("[v1,1/2]")
    failing = fdo["drm/i915: generated series 9"]
    assert failing["testState"] == "FAILURE"
    assert failing["revisions"][-1]["testResults"] == [{"context": "Fi.CI.BAT", "state": "FAILURE"}]
    assert failing["revisions"][-1]["testState"] == "FAILURE"
    assert failing["revisions"][0]["coverLetter"] == "Generated series 9, v1."
    s47 = fdo["Series without cover letter"]
    assert s47["stateSummary"] == [{"name": "New", "count": 2, "final": False}]
    assert s47["testState"] == "WARNING"
    upstream = [n for n in nodes if n["backend"]["name"] == "patchwork"]
    assert upstream and all(
        [r["version"] for r in n["revisions"]] == [n["version"]] for n in upstream
    )


async def test_fdo_demo_query_runs(duo: Duo) -> None:
    body = await duo.query(DEMO_QUERY)
    assert "errors" not in body, body
    assert body["data"]["series"]["nodes"]


async def test_fdo_series_pages_walk_both_backends_once(duo: Duo) -> None:
    whole = (await duo.query(SIDE_BY_SIDE, {"first": 100}))["data"]["series"]["nodes"]
    seen: list[str] = []
    after = None
    while True:
        page = (await duo.query(SIDE_BY_SIDE, {"first": 7, "after": after}))["data"]["series"]
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [n["id"] for n in whole]
    oldest = await duo.query(SIDE_BY_SIDE, {"first": 3, "filter": {"order": "date"}})
    dates = [n["date"] for n in oldest["data"]["series"]["nodes"]]
    assert dates == sorted(dates) and dates[0] == min(n["date"] for n in whole)


@pytest.mark.parametrize(
    "flt, names",
    [
        ({"testStates": ["failure"]}, {"drm/i915: generated series 9"}),
        ({"testStates": ["success", "warning"], "q": "generated"}, {"s0", "s6"}),
        ({"name": "Series without cover letter"}, {"Series without cover letter"}),
        ({"reviewer": "77", "q": "series 1"}, {"s1", "s11"}),
        ({"updatedSince": "2017-01-05T19:00:00Z"}, {"s11"}),
    ],
)
async def test_fdo_series_filters_through_graphql(
    duo: Duo, flt: dict[str, Any], names: set[str]
) -> None:
    body = await duo.query(SIDE_BY_SIDE, {"first": 100, "filter": flt})
    assert "errors" not in body, body
    found = {n["name"] for n in body["data"]["series"]["nodes"]}
    short = {f"s{n.rsplit(' ', 1)[1]}" if "generated series" in n else n for n in found}
    assert short == names or found == names


async def test_fdo_series_filter_errors(duo: Duo) -> None:
    named = await duo.query(
        SIDE_BY_SIDE, {"filter": {"backend": "patchwork", "testStates": ["failure"]}}
    )
    assert named["errors"][0]["extensions"]["code"] == "UNSUPPORTED"
    bad = await duo.query(SIDE_BY_SIDE, {"filter": {"testStates": ["green"]}})
    assert "green" in bad["errors"][0]["message"] and bad["data"]["series"]["nodes"] == []
    assert bad["errors"][0]["extensions"] == {"code": "BAD_REQUEST", "backend": "fdo"}
    reviewer = await duo.query(SIDE_BY_SIDE, {"filter": {"reviewer": "bob"}})
    assert reviewer["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    submitters = await duo.query(
        SIDE_BY_SIDE, {"filter": {"backend": "fdo", "submitters": ["a", "b"]}}
    )
    assert "one submitter" in submitters["errors"][0]["message"]


EVENTS = """query($first: Int, $filter: EventFilterInput) {
  events(first: $first, filter: $filter) {
    nodes { id category date backend { name } project { linkName } series { name } } } }"""


async def test_fdo_events_merged_with_upstream(duo: Duo) -> None:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        body = await duo.query(EVENTS_PAGE, {"first": 100, "after": after})
        assert "errors" not in body, body
        nodes += body["data"]["events"]["nodes"]
        if not body["data"]["events"]["pageInfo"]["hasNextPage"]:
            break
        after = body["data"]["events"]["pageInfo"]["endCursor"]
    fdo = [n for n in nodes if n["backend"]["name"] == "fdo"]
    assert len(fdo) == 27 and {n["backend"]["name"] for n in nodes} == {"patchwork", "fdo"}
    assert len({n["id"] for n in nodes}) == len(nodes)
    dates = [n["date"] for n in nodes]
    assert dates == sorted(dates, reverse=True)
    assert {n["project"]["linkName"] for n in fdo} == {"intel-gfx"}
    named = await duo.query(
        EVENTS,
        {
            "first": 100,
            "filter": {
                "backend": "fdo",
                "project": "intel-gfx",
                "categories": ["patch-state-change"],
            },
        },
    )
    assert [n["category"] for n in named["data"]["events"]["nodes"]] == ["patch-state-change"]
    missing = await duo.query(EVENTS, {"filter": {"backend": "fdo", "project": "nope"}})
    assert missing["errors"][0]["extensions"]["backend"] == "fdo"


EVENTS_PAGE = """query($first: Int, $after: String) { events(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id date backend { name } project { linkName } } } }"""


CHANGES = """query($filter: ChangeFilterInput, $first: Int) {
  changes(first: $first, filter: $filter) {
    missingBackends
    nodes { __typename id title createdAt updatedAt backend { name } checkState
            checks { context state } } } }"""


async def test_fdo_patches_are_changes_with_revision_checks(duo: Duo) -> None:
    body = await duo.query(CHANGES, {"first": 100, "filter": {"backends": ["fdo"]}})
    assert "errors" not in body, body
    nodes = body["data"]["changes"]["nodes"]
    assert nodes and {n["__typename"] for n in nodes} == {"Patch"}
    updated = [n["updatedAt"] for n in nodes]
    assert updated == sorted(updated, reverse=True)
    by_title = {n["title"]: n for n in nodes}
    failing = by_title["[v1,1/3] drm/i915: generated change 9.1"]
    assert failing["updatedAt"] > failing["createdAt"]  # fdo's last_updated, not the mail date
    assert failing["checkState"] == "FAILURE"
    assert failing["checks"] == [{"context": "Fi.CI.BAT", "state": "FAILURE"}]
    untested = by_title["[v1,1/2] drm/i915: generated change 2.1"]
    assert (untested["checkState"], untested["checks"]) == (None, [])


async def test_fdo_changes_merge_and_pushdown(duo: Duo) -> None:
    both = await duo.query(
        CHANGES, {"first": 100, "filter": {"updatedBefore": "2019-01-01T00:00:00Z"}}
    )
    names = {n["backend"]["name"] for n in both["data"]["changes"]["nodes"]}
    assert names == {"patchwork", "fdo"} and both["data"]["changes"]["missingBackends"] == []
    since = "2017-01-05T00:00:00+00:00"
    body = await duo.query(
        CHANGES, {"first": 100, "filter": {"backends": ["fdo"], "updatedSince": since}}
    )
    nodes = body["data"]["changes"]["nodes"]
    assert nodes and all(n["updatedAt"] >= since for n in nodes)
    assert any("updated_since=2017-01-04T23" in p for p in duo.fdo_paths())
    project = node.encode("Project", "fdo", "1")
    scoped = await duo.query(
        """query($id: ID!) { node(id: $id) { ... on Project {
             changes(first: 3) { nodes { title backend { name } } } } } }""",
        {"id": project},
    )
    assert len(scoped["data"]["node"]["changes"]["nodes"]) == 3
    assert any(p.startswith("/api/1.0/projects/1/patches/") for p in duo.fdo_paths())


REPORT = """mutation($input: ReportTestResultInput!) {
  reportTestResult(input: $input) {
    testResult { context state targetUrl description } errors { code message backend } } }"""


async def test_fdo_report_test_result_pending_then_final(duo: Duo) -> None:
    series = node.encode("Series", "fdo", "47")
    pending = {"seriesId": series, "version": 1, "testName": "revgate.ci", "state": "PENDING"}
    first = await duo.query(REPORT, {"input": pending})
    assert first["data"]["reportTestResult"] == {
        "testResult": {
            "context": "revgate.ci",
            "state": "PENDING",
            "targetUrl": None,
            "description": None,
        },
        "errors": [],
    }
    final = {**pending, "state": "FAILURE", "url": "http://ci.example.com/1", "summary": "1 fail"}
    second = await duo.query(REPORT, {"input": final})
    assert second["data"]["reportTestResult"]["testResult"]["state"] == "FAILURE"
    read = await duo.query(
        """query($id: ID!) { node(id: $id) { ... on Series {
             testState revisions { testResults { context state } } } } }""",
        {"id": series},
    )
    results = read["data"]["node"]["revisions"][0]["testResults"]
    assert [r for r in results if r["context"] == "revgate.ci"] == [
        {"context": "revgate.ci", "state": "FAILURE"}
    ]  # updated in place, not added twice
    assert read["data"]["node"]["testState"] == "FAILURE"


@pytest.mark.parametrize(
    "change, code",
    [
        ({"seriesId": node.encode("Series", "patchwork", "1")}, "UNSUPPORTED"),
        ({"testName": "  "}, "BAD_USER_INPUT"),
        ({"version": 0}, "BAD_USER_INPUT"),
        ({"seriesId": node.encode("Series", "fdo", "999")}, "NOT_FOUND"),
        ({"version": 9}, "NOT_FOUND"),
        ({"seriesId": "garbage"}, "BAD_ID"),
    ],
)
async def test_fdo_report_test_result_errors(duo: Duo, change: dict[str, Any], code: str) -> None:
    base = {
        "seriesId": node.encode("Series", "fdo", "47"),
        "version": 1,
        "testName": "x",
        "state": "SUCCESS",
    }
    body = await duo.query(REPORT, {"input": {**base, **change}})
    payload = body["data"]["reportTestResult"]
    assert payload["testResult"] is None and payload["errors"][0]["code"] == code, payload


def _add_event(sim: RunningFdoSimulator, event_time: str, series: int) -> None:
    sim.state.data.events.append(
        {
            "project": 1,
            "name": "series-new-revision",
            "event_time": event_time,
            "series": series,
            "patch": None,
            "user": None,
            "parameters": {"revision": 1},
        }
    )


async def test_fdo_live_poller_loses_and_repeats_nothing(duo: Duo) -> None:
    """The subscription poller over fdo: 3 polls across equal-timestamp boundaries."""
    source = duo.poller_source
    assert isinstance(source, EventPoller)  # so the poller takes the loss-free path
    poller = Poller("fdo", duo.poller_source, interval=0)
    baseline = await poller._poll()  # the log so far: not delivered to subscribers
    assert len(baseline) == 27
    last = duo.fdo.state.data.events[-1]["event_time"]
    delivered = []
    _add_event(duo.fdo, last, 3000)  # same microsecond as the newest event already seen
    delivered += await poller._poll()
    _add_event(duo.fdo, "2017-02-01T00:00:00.000001", 3001)
    _add_event(duo.fdo, "2017-02-01T00:00:00.000001", 3002)
    delivered += await poller._poll()
    _add_event(duo.fdo, "2017-02-01T00:00:00.000001", 3003)  # late, at the boundary again
    delivered += await poller._poll()
    ids = [e.id for e in delivered]
    new = [mapping.event_id(duo.fdo.state.data.render_event(e)) for e in duo.fdo.state.data.events]
    lost = set(new[27:]) - set(ids)
    duplicated = len(ids) - len(set(ids))
    print(f"\nlive poller, 3 polls: {len(ids)} delivered, {len(lost)} lost, {duplicated} repeated")
    assert [e.series_id for e in delivered] == ["3000", "3001", "3002", "3003"]
    assert (len(lost), duplicated) == (0, 0)


async def test_fdo_ids_resolved_by_batched_loaders(duo: Duo) -> None:
    query = """{ series(first: 100, filter: {backend: "fdo"}) { nodes {
        project { linkName } submitter { name email } reviewer { name email } } } }"""
    body = await duo.query(query)
    assert "errors" not in body, body
    nodes = body["data"]["series"]["nodes"]
    assert len(nodes) == 17 and {n["project"]["linkName"] for n in nodes} == {"intel-gfx"}
    names = {n["submitter"]["email"] for n in nodes}
    assert "rex.reset@example.com" in names
    assert {n["reviewer"]["email"] for n in nodes if n["reviewer"]} == {"vic.vma@example.com"}
    paths = duo.fdo_paths()
    # One lookup per distinct person (submitters and reviewer), not one per series.
    people = {n["submitter"]["email"] for n in nodes} | {
        n["reviewer"]["email"] for n in nodes if n["reviewer"]
    }
    lookups = [p for p in paths if p.startswith("/api/1.0/patches/?") and "submitter=" in p]
    assert len(lookups) == len(set(lookups)) == len(people)
    assert [p for p in paths if p.startswith("/api/1.0/projects/")] == [
        "/api/1.0/projects/?perpage=100"
    ]
