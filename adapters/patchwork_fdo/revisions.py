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


# A group's series list as read (or being read) for the span (latest, oldest) of its patches.
Warmed = dict[tuple[str, str], tuple[datetime, datetime, "asyncio.Future[list[TrackedSeries]]"]]


class Placement:
    """One request's placement (``adapters.base.WarmPlacer``): ``warm`` starts each (project,
    submitter) group's series list for a federated list's window as soon as the window is
    read; ``patch_revisions`` then places the page's patches from those lists (narrowed to
    the page's own span, so the result is the one a fresh read would give) and reads the
    rest. The window's patches may all reach the page, so nothing read cannot reach it."""

    def __init__(self, src: FdoSource) -> None:
        self._src = src
        self._warmed: Warmed = {}

    def warm(self, patches: Sequence[Patch]) -> None:
        for key, members in _groups(patches).items():
            if key in self._warmed:
                continue
            latest, oldest = _span(members)
            task = asyncio.ensure_future(_series_list(self._src, *key, latest, oldest))
            task.add_done_callback(_retrieved)
            self._warmed[key] = (latest, oldest, task)

    async def patch_revisions(self, ids: Sequence[str]) -> list[Revision | None]:
        return await patch_revisions(self._src, ids, self._warmed)


def _retrieved(task: asyncio.Future[list[TrackedSeries]]) -> None:
    # A warmed list nobody awaits (its patches left the page) must not log its failure.
    if not task.cancelled():
        task.exception()


def _groups(patches: Sequence[Patch | None]) -> dict[tuple[str, str], list[Patch]]:
    groups: dict[tuple[str, str], list[Patch]] = {}
    for p in patches:
        if p is not None and p.submitter is not None:
            groups.setdefault((p.project.id, p.submitter.id), []).append(p)
    return groups


def _span(members: Sequence[Patch]) -> tuple[datetime, datetime]:
    return max(p.date for p in members), min(p.date for p in members)


async def patch_revisions(
    src: FdoSource, ids: Sequence[str], warmed: Warmed | None = None
) -> list[Revision | None]:
    """The latest revision holding each patch (``None``: in none).

    A patch names no series, but its series was submitted by the same person no later than
    the patch: one list of that submitter's series per (project, submitter) of the batch (all
    groups at once, or the ones ``warmed`` already started), then their revisions newest
    series first until every patch is placed.
    """
    unseen = [i for i in ids if i not in src._seen]
    fetched = dict(zip(unseen, await src.get_patches(unseen), strict=True)) if unseen else {}
    patches = [src._seen.get(i) if i in src._seen else fetched.get(i) for i in ids]
    groups = _groups(patches)
    placed: dict[str, Revision] = {}
    warm = warmed or {}
    for found in await asyncio.gather(
        *(_place(src, *key, ms, warm.get(key)) for key, ms in groups.items())
    ):
        placed.update(found)
    return [placed.get(p.id) if p is not None else None for p in patches]


async def _series_list(
    src: FdoSource, project: str, submitter: str, latest: datetime, oldest: datetime
) -> list[TrackedSeries]:
    """``submitter``'s series that can hold a patch of theirs sent between ``oldest`` and
    ``latest``: submitted no later, updated since (see ``_may_hold``)."""
    params = {
        "submitter": submitter,
        "submitted_before": format_server_date(latest + ONE_SECOND, src.name),
        "updated_since": format_server_date(oldest - ONE_SECOND, src.name),
    }
    items = await src.client.all_items(f"projects/{project}/series/", params)
    return [src._series(d, {}) for d in items]


async def _place(
    src: FdoSource,
    project: str,
    submitter: str,
    members: Sequence[Patch],
    warm: tuple[datetime, datetime, asyncio.Future[list[TrackedSeries]]] | None = None,
) -> dict[str, Revision]:
    """One (project, submitter) group's patches → their latest revision."""
    latest, oldest = _span(members)
    if warm is not None and warm[0] >= latest and warm[1] <= oldest:
        listed = await warm[2]  # a wider span: narrowed below as the server would have
    else:
        listed = await _series_list(src, project, submitter, latest, oldest)
    candidates = sorted(
        (c for c in listed if c.date < latest + ONE_SECOND and _may_hold(c, oldest)),
        key=lambda x: (x.date, numeric_key(x.id)),
        reverse=True,
    )  # also filtered here if the server ignores the filters
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
    revision, a test result) is no earlier than the revision that brought the patch (within
    the second, as ``updated_since`` asks the server: strictly newer). Unknown update times
    keep the series."""
    return series.updated is None or series.updated > oldest - ONE_SECOND


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
