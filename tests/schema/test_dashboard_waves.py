"""The cross-forge dashboard page's upstream requests and waves, per kind (issue 21).

Counted from the gateway's own ``on_request`` hook over the four demo simulators
(``bench.waves``): a wave is a round trip the page waits for, so the figures are facts of the
code's ordering (what is issued together, what waits for what), not timings. A regression
(a request more, or requests issued one after another again) fails here.

What each API forces (bench/README.md "The dashboard page's upstream waves"):
- Patchwork: one list request carries every field of the page, then ONE read of the events
  since the page's oldest patch (its pages one after the other: 2 here) orders the patches by
  last activity and tells "pending" from no checks (adapters/patchwork/activity.py);
  ``checks`` add one per patch that has any (no multi-patch checks endpoint; the events
  read just told which have none, and theirs are ``[]`` unread: ``Context.without_checks``),
  all in the next wave, read ahead of the merge for the patches that can still reach the page
  (``schema/changes.py``).
- Gerrit: one query with ``o=`` options.
- ABF: the open and the closed list (no update time in list items), then the detail of each
  list's head; the demo's pull requests are among the page's newest changes, so the merge
  reads ABF's next window — every detail that can still reach the page, at once — as soon as
  the heads answer (``schema/merge.py`` read-ahead), not after the slower Patchwork: 3 waves.
- fdo: the patch list, then for ``currentRevision``/``checkState`` each (project, submitter)'s
  series list, the candidate series' revisions and the placed revisions' test results: 4
  waves, run ahead of the merge (``adapters/patchwork_fdo/placement.py``): the series lists
  of the window's groups as soon as it is read, then the revisions and test results of the
  patches that can still reach the page when each read goes out (some that the page does not
  take in the end: 25 requests where placing only the chosen page's patches took 15).
So the page is 4 waves (fdo's), where it was 7 with every chain after the merge.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from adapters.abf.source import AbfSource
from adapters.errors import Unavailable
from adapters.patchwork.source import PatchworkSource
from adapters.patchwork_fdo.source import FdoSource
from bench.waves import QUERIES, count, demo_gateway, recording
from schema import changes
from schema.context import Context

# query → backend → (requests, waves); "all" is the page's critical path.
EXPECTED = {
    "changes(first: 50)": dict(
        patchwork=(3, 3), fdo=(21, 4), gerrit=(1, 1), abf=(37, 3), all=(62, 4)
    ),
    "changes(first: 50) + checks": dict(
        patchwork=(10, 4), fdo=(22, 4), gerrit=(1, 1), abf=(37, 3), all=(70, 4)
    ),
    "changes(first: 100)": dict(
        patchwork=(3, 3), fdo=(39, 4), gerrit=(1, 1), abf=(37, 3), all=(80, 4)
    ),
}


@pytest.mark.parametrize("name", list(QUERIES))
async def test_dashboard_page_upstream_requests_and_waves_per_kind(name: str) -> None:
    # 20 ms per upstream answer, as in the bench: requests issued together overlap for sure.
    # The reads that run ahead of the merge depend on what has answered when they go out; on
    # a machine busy enough to hold one answer back a whole wave they differ (the page with
    # checks issues Patchwork's at the merge, one wave after fdo's last when fdo answered
    # first), so up to three counts decide (a regression differs every time).
    for _ in range(3):
        found = await count(QUERIES[name], latency_ms=20)
        if found == EXPECTED[name]:
            break
    assert found == EXPECTED[name]


async def test_a_page_without_placed_fields_warms_nothing() -> None:
    # No currentRevision/checkState/checks: fdo reads its patch list only.
    query = "{ changes(first: 50) { nodes { id title updatedAt author { name } } } }"
    assert (await count(query, latency_ms=0))["fdo"] == (1, 1)


@pytest.mark.parametrize("name", list(QUERIES))
async def test_warmed_placement_answers_as_the_page_did_without_it(name: str) -> None:
    async with demo_gateway() as (client, _):

        async def answer() -> object:
            body = (await client.post("/graphql", json={"query": QUERIES[name]})).json()
            return body["data"], body.get("errors")  # extensions carry the cost budget left

        warmed = await answer()
        with mock.patch.object(changes, "_warmers", lambda *_: {}):
            assert await answer() == warmed


async def test_patches_the_event_log_shows_without_checks_answer_them_unread() -> None:
    # The page's upstream Patchwork patches that no check-created event names answer
    # ``checks: []`` without their read: the same page as when every patch's checks are read.
    name = "changes(first: 50) + checks"
    with recording() as log:
        async with demo_gateway() as (client, _):
            await _page(client, PLANNED[name])  # versions detected
            log.clear()
            told = await _page(client, PLANNED[name])
            unread = log.requests("patchwork")
            log.clear()
            with mock.patch.object(Context, "without_checks", lambda *_: False):
                assert await _page(client, PLANNED[name]) == told
            every = log.requests("patchwork")
    patchwork = [n for n in told[0]["changes"]["nodes"] if n["backend"]["name"] == "patchwork"]
    empty = sum(1 for n in patchwork if n["checks"] == [])
    assert not told[1] and empty >= 10 and any(n["checks"] for n in patchwork)
    assert every - unread == empty  # one read less for each patch without checks


# The bench's pages, and the dashboard's own first screen (its trusted document).
OPERATIONS = Path(__file__).parents[2] / "gateway" / "static" / "dashboard" / "operations.graphql"
PLANNED = {name: {"query": query} for name, query in QUERIES.items()} | {
    "DashboardChanges": {
        "query": OPERATIONS.read_text(),
        "operationName": "DashboardChanges",
        "variables": {"first": 30},
    }
}


async def _page(client: Any, request: dict[str, Any]) -> tuple[Any, Any]:
    body = (await client.post("/graphql", json=request)).json()
    return body["data"], body.get("errors")


@pytest.mark.parametrize("name", list(PLANNED))
async def test_the_page_is_walked_by_its_plan_as_normal_execution_answers(name: str) -> None:
    # What its fields would await (fdo's placed revisions and test results, fdo submitters'
    # names) is loaded before the walk (schema/changes.py _prefetch): the compiled plan walks
    # the page, and answers as graphql-core did when those fields awaited their reads.
    async with demo_gateway() as (client, _):
        fast = client._transport.app.state.fast_path  # type: ignore[attr-defined]
        planned = await _page(client, PLANNED[name])
        hits, replays = fast.hits, fast.replays
        assert await _page(client, PLANNED[name]) == planned
        assert (fast.hits - hits, fast.replays - replays) == (1, 0)
        fast.enabled = False
        with mock.patch.object(changes, "_prefetch", _nothing):
            assert await _page(client, PLANNED[name]) == planned


async def test_a_field_asked_of_one_kind_is_prefetched_for_that_kind_only() -> None:
    # checks asked of Gerrit changes only: no Patchwork checks read (the prefetch follows the
    # fragments' type conditions, as graphql-core completes only the fields that apply).
    query = "{ changes(first: 50) { nodes { id ... on GerritChange { checks { context } } } } }"
    found = await count(query, latency_ms=0)
    assert found["patchwork"][0] == 3  # list and events, no patches/<id>/checks/


@pytest.mark.parametrize("fail", ["placement", "people", "checks"])
async def test_a_failed_prefetch_is_the_fields_error_as_before(fail: str) -> None:
    # fdo's series lists (its placement), its submitters' reads (always, in this test) or
    # upstream Patchwork's checks fail: the walk raises the prefetched failure where the field
    # met it when it awaited the read, in the same words.
    async def unavailable(*_: Any) -> Any:
        raise Unavailable("fdo", "down for the test")

    async def checks_down(_: Any, ids: Any) -> Any:
        raise Unavailable("patchwork", "checks down for the test")

    name = "changes(first: 50) + checks" if fail == "checks" else "changes(first: 50)"
    async with demo_gateway() as (client, sims):
        fast = client._transport.app.state.fast_path  # type: ignore[attr-defined]
        await _page(client, PLANNED[name])  # versions detected
        if fail == "placement":
            sims["fdo"].state.fault("/api/1.0/series/", "garbage")  # no retries
        down: Any = contextlib.nullcontext()
        if fail == "checks":
            down = mock.patch.object(PatchworkSource, "patch_checks", checks_down)
        with mock.patch.object(FdoSource, "get_people", unavailable), down:
            hits = fast.hits
            planned = await _page(client, PLANNED[name])
            assert fast.hits - hits == 1
            fast.enabled = False
            with mock.patch.object(changes, "_prefetch", _nothing):
                normal = await _page(client, PLANNED[name])
    # The same data and errors; graphql-core listed the errors as the awaited reads answered.
    assert planned[0] == normal[0]
    assert sorted(planned[1], key=repr) == sorted(normal[1], key=repr)
    assert planned[1], "the failure shows"


async def _nothing(*_: Any) -> None:
    return None


async def test_patchwork_checks_are_read_ahead_of_the_merge() -> None:
    # The page asks checks: upstream Patchwork's (one read per patch) go out as soon as its
    # window is read, for its patches that can still reach the page, not once the slowest
    # backend has answered and the page is chosen. ABF's lists here wait until they have.
    read: list[str] = []
    checks_read = asyncio.Event()
    real_checks, real_list = PatchworkSource.patch_checks, AbfSource.list_changes

    async def checks(self: Any, ids: Any) -> Any:
        read.append("patchwork checks")
        checks_read.set()
        return await real_checks(self, ids)

    async def abf_list(self: Any, *args: Any) -> Any:
        async with asyncio.timeout(10):  # only reads made ahead of the merge set it
            await checks_read.wait()
        read.append("abf list")
        return await real_list(self, *args)

    async with demo_gateway() as (client, _):
        await _page(client, PLANNED["changes(first: 50) + checks"])  # versions detected
        with (
            mock.patch.object(PatchworkSource, "patch_checks", checks),
            mock.patch.object(AbfSource, "list_changes", abf_list),
        ):
            data, errors = await _page(client, PLANNED["changes(first: 50) + checks"])
    assert not errors and read[0] == "patchwork checks" and "abf list" in read
    nodes = data["changes"]["nodes"]
    assert any(n["backend"]["name"] == "abf" for n in nodes)
    assert any(n.get("checks") for n in nodes if n["backend"]["name"] == "patchwork")


def _result_reads(sim: Any, since: int) -> int:
    return sum(1 for _, path in sim.state.requests[since:] if path.endswith("/test-results/"))


async def test_rollups_the_series_lists_tell_answer_as_the_results_do() -> None:
    # A page asking checkState alone: an fdo patch in a latest revision whose series list
    # says "pending" or "failure" has that rollup without its test results read (fdo's
    # listed test_state, adapters/patchwork_fdo/revisions.py); the answer is the one that
    # reading them gives, and so is a single patch's (node).
    name = "changes(first: 100)"
    async with demo_gateway() as (client, sims):
        fdo = sims["fdo"]
        await _page(client, PLANNED[name])
        mark = len(fdo.state.requests)
        told = await _page(client, PLANNED[name])
        told_reads = _result_reads(fdo, mark)
        with mock.patch.object(Context, "listed_check_state", lambda *_: None):
            mark = len(fdo.state.requests)
            assert await _page(client, PLANNED[name]) == told
            every_reads = _result_reads(fdo, mark)
        nodes = [n for n in told[0]["changes"]["nodes"] if n["backend"]["name"] == "fdo"]
        states = {n["checkState"] for n in nodes}
        assert not told[1] and {"FAILURE", "PENDING"} <= states
        assert every_reads - told_reads >= 2  # a read less per told revision

        failed = next(n for n in nodes if n["checkState"] == "FAILURE")
        one = {"query": f'{{ node(id: "{failed["id"]}") {{ ... on Patch {{ checkState }} }} }}'}
        mark = len(fdo.state.requests)
        assert await _page(client, one) == ({"node": {"checkState": "FAILURE"}}, None)
        assert _result_reads(fdo, mark) == 0
        with mock.patch.object(Context, "listed_check_state", lambda *_: None):
            assert await _page(client, one) == ({"node": {"checkState": "FAILURE"}}, None)
            assert _result_reads(fdo, mark) == 1


async def test_a_placed_revision_answers_what_its_series_list_tells() -> None:
    # currentRevision's testState and testResults take the same listed word: a failure told
    # by the list is no read; an untested latest revision's results are [] unread; asking
    # the results of a told failure reads them, once.
    async with demo_gateway() as (client, sims):
        fdo = sims["fdo"]
        page = await _page(client, PLANNED["changes(first: 100)"])
        nodes = [n for n in page[0]["changes"]["nodes"] if n["backend"]["name"] == "fdo"]
        failed = next(n["id"] for n in nodes if n["checkState"] == "FAILURE")
        untested = [n["id"] for n in nodes if n["checkState"] is None]

        def ask(node_id: str, fields: str) -> dict[str, Any]:
            revision = f"currentRevision {{ {fields} }}"
            return {"query": f'{{ node(id: "{node_id}") {{ ... on Patch {{ {revision} }} }} }}'}

        async def reads(request: dict[str, Any]) -> tuple[Any, int]:
            mark = len(fdo.state.requests)
            data, errors = await _page(client, request)
            assert errors is None, errors
            return data["node"]["currentRevision"], _result_reads(fdo, mark)

        assert await reads(ask(failed, "testState")) == ({"testState": "FAILURE"}, 0)
        revision, read = await reads(ask(failed, "testState testResults { state }"))
        assert revision["testState"] == "FAILURE" and read == 1
        assert {"FAILURE"} <= {r["state"] for r in revision["testResults"]}
        # some of the page's untested patches sit in a latest revision: none of those is read
        answers = [await reads(ask(i, "testState testResults { state }")) for i in untested]
        assert all(a == {"testState": None, "testResults": []} for a, _ in answers)
        assert any(n == 0 for _, n in answers) and any(n == 1 for _, n in answers)
        with mock.patch.object(Context, "listed_check_state", lambda *_: None):
            assert await reads(ask(failed, "testState")) == ({"testState": "FAILURE"}, 1)
