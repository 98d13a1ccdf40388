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
  list's head; the demo's pull requests (adapters/demo) are among the page's newest changes, so the
  merge asks for ABF's next window and every detail that can still reach the page is read at
  once (a third wave: 33 details, ``adapters/abf/changes.py``).
- fdo: the patch list (with the merge), then for ``currentRevision``/``checkState`` each
  (project, submitter)'s series list, the candidate series' revisions and the placed
  revisions' test results: 4 of its own, the page's waves 4–6 (they start once the merge,
  3 waves because of ABF, has chosen the page's patches).
"""

from __future__ import annotations

import pytest

from bench.waves import QUERIES, count

# query → backend → (requests, waves); "all" is the page's critical path.
EXPECTED = {
    "changes(first: 50)": dict(
        patchwork=(3, 3), fdo=(15, 4), gerrit=(1, 1), abf=(37, 3), all=(56, 7)
    ),
    "changes(first: 50) + checks": dict(
        patchwork=(39, 4), fdo=(15, 4), gerrit=(1, 1), abf=(37, 3), all=(92, 7)
    ),
    "changes(first: 100)": dict(
        patchwork=(3, 3), fdo=(45, 4), gerrit=(1, 1), abf=(37, 3), all=(86, 7)
    ),
}


@pytest.mark.parametrize("name", list(QUERIES))
async def test_dashboard_page_upstream_requests_and_waves_per_kind(name: str) -> None:
    # 20 ms per upstream answer, as in the bench: requests issued together overlap for sure.
    assert await count(QUERIES[name], latency_ms=20) == EXPECTED[name]
