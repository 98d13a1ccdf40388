"""The fdo source's revision placement and test results: which revision holds a patch, a
patch's checks, reporting a test result (see ``adapters/patchwork_fdo/source.py``).

The fork has no multi-id endpoints and a patch names no series, so placing the patches of a
page costs, per (project, submitter) group, one list of that submitter's series, then the
revisions of the candidate series. Reads that do not depend on each other go out together:
every group's series list at once, and within a group the revisions of every candidate
series updated since the group's oldest patch was sent (``last_updated``: a series not updated
since cannot hold it), ``REVISION_READS`` at a time, newest first. Candidates are
applied in the same newest-first order as one-by-one reading, so the placement is the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from adapters.errors import BadPayload, BadRequest
from adapters.model import Check, NewTestResult, Patch, Revision, TrackedSeries
from adapters.patchwork_common import format_server_date
from adapters.patchwork_fdo import mapping
from adapters.patchwork_fdo.keys import ONE_SECOND, numeric_key, revision_key

if TYPE_CHECKING:
    from adapters.patchwork_fdo.source import FdoSource

REVISION_READS = 8  # candidate series' revision lists read at once per group (a bound)


async def patch_checks(src: FdoSource, ids: Sequence[str]) -> list[list[Check]]:
    """The test results of the latest revision holding each patch, read together."""
    keys = [r.key if r is not None else None for r in await src.patch_revisions(ids)]
    wanted = sorted({k for k in keys if k is not None})
    results = dict(zip(wanted, await src.revision_test_results(wanted), strict=True))
    return [results.get(k, []) if k is not None else [] for k in keys]


async def patch_revisions(src: FdoSource, ids: Sequence[str]) -> list[Revision | None]:
    """The latest revision holding each patch (``None``: in none).

    A patch names no series, but its series was submitted by the same person no later than
    the patch: one list of that submitter's series per (project, submitter) of the batch (all
    groups at once), then their revisions newest series first until every patch is placed.
    """
    unseen = [i for i in ids if i not in src._seen]
    fetched = dict(zip(unseen, await src.get_patches(unseen), strict=True)) if unseen else {}
    patches = [src._seen.get(i) if i in src._seen else fetched.get(i) for i in ids]
    groups: dict[tuple[str, str], list[Patch]] = {}
    for p in patches:
        if p is not None and p.submitter is not None:
            groups.setdefault((p.project.id, p.submitter.id), []).append(p)
    placed: dict[str, Revision] = {}
    for found in await asyncio.gather(*(_place(src, *key, ms) for key, ms in groups.items())):
        placed.update(found)
    return [placed.get(p.id) if p is not None else None for p in patches]


async def _place(
    src: FdoSource, project: str, submitter: str, members: Sequence[Patch]
) -> dict[str, Revision]:
    """One (project, submitter) group's patches → their latest revision."""
    latest, oldest = max(p.date for p in members), min(p.date for p in members)
    params = {
        "submitter": submitter,
        "submitted_before": format_server_date(latest + ONE_SECOND, src.name),
        "updated_since": format_server_date(oldest - ONE_SECOND, src.name),  # see _may_hold
    }
    items = await src.client.all_items(f"projects/{project}/series/", params)
    candidates = sorted(
        (src._series(d, {}) for d in items),
        key=lambda x: (x.date, numeric_key(x.id)),
        reverse=True,
    )
    candidates = [c for c in candidates if _may_hold(c, oldest)]  # also if the filter is ignored
    pending = {p.id for p in members}
    placed: dict[str, Revision] = {}
    while pending and candidates:
        batch = candidates[:REVISION_READS]
        del candidates[: len(batch)]
        for revisions in await src.series_revisions([s.id for s in batch]):
            for rev in sorted(revisions, key=lambda r: r.version, reverse=True):
                for pid in pending & set(rev.patch_ids):
                    placed[pid] = rev
                pending -= set(rev.patch_ids)
    return placed


def _may_hold(series: TrackedSeries, oldest: datetime) -> bool:
    """Whether ``series`` can hold a patch sent at ``oldest`` or later: its last update (a new
    revision, a test result) is no earlier than the revision that brought the patch. Unknown
    update times keep the series."""
    return series.updated is None or series.updated + ONE_SECOND >= oldest


async def report_test_result(src: FdoSource, key: str, result: NewTestResult) -> Check:
    """``POST …/test-results/``; the stored result is read back (one GET) when the answer does
    not carry it, so the caller always gets what the server now holds."""
    series_id, version = revision_key(key, src.name)
    if not result.test_name.strip():
        raise BadRequest(src.name, "test_name must not be empty")
    rel = f"series/{series_id}/revisions/{version}/test-results/"
    answer = await src.client.send("POST", rel, mapping.test_result_body(result))
    if (
        isinstance(answer, dict)
        and answer.get("test_name") == result.test_name
        and {"date", "state"} <= answer.keys()
    ):
        return mapping.test_result(src.name, key, answer)
    for check in mapping.test_results(src.name, key, await src.client.get(rel)):
        if check.context == result.test_name:
            return check
    raise BadPayload(src.name, "the reported test result is not in the revision's results")
