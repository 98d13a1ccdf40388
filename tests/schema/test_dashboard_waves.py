"""The cross-forge dashboard page's upstream requests and waves, per kind (issue 21).

Counted from the gateway's own ``on_request`` hook over the four demo simulators
(``bench.waves``): a wave is a round trip the page waits for, so the figures are facts of the
code's ordering (what is issued together, what waits for what), not timings. A regression
(a request more, or requests issued one after another again) fails here.

What each API forces (bench/README.md "The dashboard page's upstream waves"):
- Patchwork: one list request carries every field of the page; ``checks`` add one per patch
  (no multi-patch checks endpoint), all in the second wave.
- Gerrit: one query with ``o=`` options.
- ABF: the open and the closed list (no update time in list items), then the detail of each
  list's head only: none of ABF's pull requests reaches this page, so nothing more is read.
- fdo: the patch list, then for ``currentRevision``/``checkState`` each (project, submitter)'s
  series list, the candidate series' revisions and the placed revisions' test results: 4
  waves of its own, and the page's 4: the series lists go out as soon as fdo's window is read
  (every patch of it can reach the page), while the merge still waits for ABF's heads; the
  revisions go out as soon as the merge has chosen the page (``schema/changes.py``).
"""

from __future__ import annotations

from unittest import mock

import pytest

from bench.waves import QUERIES, count, demo_gateway
from schema import changes

# query → backend → (requests, waves); "all" is the page's critical path.
EXPECTED = {
    "changes(first: 50)": dict(
        patchwork=(1, 1), fdo=(23, 4), gerrit=(1, 1), abf=(4, 2), all=(29, 4)
    ),
    "changes(first: 50) + checks": dict(
        patchwork=(30, 2), fdo=(23, 4), gerrit=(1, 1), abf=(4, 2), all=(58, 4)
    ),
    "changes(first: 100)": dict(
        patchwork=(1, 1), fdo=(45, 4), gerrit=(1, 1), abf=(4, 2), all=(51, 4)
    ),
}


@pytest.mark.parametrize("name", list(QUERIES))
async def test_dashboard_page_upstream_requests_and_waves_per_kind(name: str) -> None:
    # 20 ms per upstream answer, as in the bench: requests issued together overlap for sure.
    assert await count(QUERIES[name], latency_ms=20) == EXPECTED[name]


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
