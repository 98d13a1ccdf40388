"""The cross-forge dashboard page's upstream requests and waves, per kind (issue 21).

Counted from the gateway's own ``on_request`` hook over the four demo simulators
(``bench.waves``): a wave is a round trip the page waits for, so the figures are facts of the
code's ordering (what is issued together, what waits for what), not timings. A regression
(a request more, or requests issued one after another again) fails here.

What each API forces (bench/README.md "The dashboard page's upstream waves"):
- Patchwork: one list request carries every field of the page, then ONE read of the events
  since the page's oldest patch (its pages one after the other: 2 here) orders the patches by
  last activity and tells "pending" from no checks (adapters/patchwork/activity.py);
  ``checks`` add one per patch (no multi-patch checks endpoint), all in the next wave.
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

from unittest import mock

import pytest

from bench.waves import QUERIES, count, demo_gateway
from schema import changes

# query → backend → (requests, waves); "all" is the page's critical path.
EXPECTED = {
    "changes(first: 50)": dict(
        patchwork=(3, 3), fdo=(25, 4), gerrit=(1, 1), abf=(37, 3), all=(66, 4)
    ),
    "changes(first: 50) + checks": dict(
        patchwork=(39, 4), fdo=(25, 4), gerrit=(1, 1), abf=(37, 3), all=(102, 4)
    ),
    "changes(first: 100)": dict(
        patchwork=(3, 3), fdo=(50, 4), gerrit=(1, 1), abf=(37, 3), all=(91, 4)
    ),
}


@pytest.mark.parametrize("name", list(QUERIES))
async def test_dashboard_page_upstream_requests_and_waves_per_kind(name: str) -> None:
    # 20 ms per upstream answer, as in the bench: requests issued together overlap for sure.
    # The reads that run ahead of the merge depend on what has answered when they go out; on
    # a machine busy enough to hold one answer back a whole wave they differ, so a second
    # count decides (a regression differs every time).
    found = await count(QUERIES[name], latency_ms=20)
    if found != EXPECTED[name]:
        found = await count(QUERIES[name], latency_ms=20)
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
