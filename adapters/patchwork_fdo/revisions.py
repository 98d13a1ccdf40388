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
from asyncio import Future
from collections.abc import Awaitable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from adapters.base import retrieved
from adapters.errors import BadPayload, BadRequest
from adapters.model import Check, CheckState, NewTestResult, Patch, Revision, TrackedSeries
from adapters.patchwork_common import format_server_date
from adapters.patchwork_fdo import mapping
from adapters.patchwork_fdo.keys import ONE_SECOND, numeric_key, revision_key

if TYPE_CHECKING:
    from adapters.patchwork_fdo.source import FdoSource

REVISION_READS = 8  # candidate series' revision lists read at once per group (a bound)
# A series list's test_state word → the rollup of its latest revision's results, where the
# word decides it (the worst result is the word: "pending" means all pending; a "failure"
# wins any rollup). The others may hide a pending result.
LISTED_ROLLUPS: dict[str | None, CheckState | None] = {
    None: None,
    "pending": CheckState.PENDING,
    "failure": CheckState.FAILURE,
}
T = TypeVar("T")
Listed = list[TrackedSeries]


async def patch_checks(src: FdoSource, ids: Sequence[str]) -> list[list[Check]]:
    """The test results of the latest revision holding each patch, read together (those the
    series lists show untested are not read: ``Reads``)."""
    reads = Reads(src)
    keys = [r.key if r is not None else None for r in await patch_revisions(src, ids, reads)]
    wanted = sorted({k for k in keys if k is not None})
    results = dict(zip(wanted, await reads.revision_test_results(wanted), strict=True))
    return [results.get(k, []) if k is not None else [] for k in keys]


def groups_of(patches: Iterable[Patch | None]) -> dict[tuple[str, str], list[Patch]]:
    """Patches by (project, submitter): each group is placed from one series list."""
    groups: dict[tuple[str, str], list[Patch]] = {}
    for p in patches:
        if p is not None and p.submitter is not None:
            groups.setdefault((p.project.id, p.submitter.id), []).append(p)
    return groups


def span(members: Sequence[Patch]) -> tuple[datetime, datetime]:
    """The (latest, oldest) date of a group's patches."""
    return max(p.date for p in members), min(p.date for p in members)


class Reads:
    """One request's placement reads, each issued once and shared (per-id futures): a
    group's series list (reused for any span inside the one it was read for), each series'
    revisions, each revision's test results. A placement without a request scope uses its
    own, so it reads what it always read.

    A series list item's ``test_state`` is its latest revision's (the fork's serializer:
    ``last_revision.test_state``, the worst of that revision's results — pending < info <
    success < warning < failure —, ``null`` without any): a latest revision listed ``null``
    has no test results (``[]`` without their read), one listed ``pending`` only pending
    ones, one listed ``failure`` a failure; the rollup of either is told (``listed_state``).
    ``success``, ``info`` and ``warning`` may hide a pending result: not told."""

    def __init__(self, src: FdoSource) -> None:
        self.src = src
        self._lists: dict[tuple[str, str], tuple[datetime, datetime, Future[Listed]]] = {}
        self._revisions: dict[str, Future[list[Revision]]] = {}
        self._results: dict[str, Future[list[Check]]] = {}
        # latest revisions' rollups as their series lists tell them (None: no result)
        self._listed: dict[str, CheckState | None] = {}

    def series_list(
        self, project: str, submitter: str, latest: datetime, oldest: datetime
    ) -> Future[Listed]:
        """The group's series list for a span; one read for a wider span serves it (narrowed
        by ``_place`` as the server would have)."""
        hit = self._lists.get((project, submitter))
        if hit is not None and hit[0] >= latest and hit[1] <= oldest:
            return hit[2]
        read = started(_series_list(self.src, project, submitter, latest, oldest))
        read.add_done_callback(self._note_listed)
        if hit is None:
            self._lists[(project, submitter)] = (latest, oldest, read)
        return read

    def _note_listed(self, read: Future[Listed]) -> None:
        if read.cancelled() or read.exception() is not None:
            return
        for series in read.result():
            # Only a told word: a server before API revision 3 sends no test_state at all
            word = series.raw_test_state
            if "test_state" in series.raw and word in LISTED_ROLLUPS:
                self._listed[f"{series.id}/{series.version}"] = LISTED_ROLLUPS[word]

    def listed_state(self, key: str) -> tuple[CheckState | None] | None:
        """The rollup of revision ``key``'s test results as a series list read for this
        request tells it — ``(state,)``, ``(None,)`` for none — or ``None`` when no list
        does (an older revision, a word that leaves it open, a list not read)."""
        return (self._listed[key],) if key in self._listed else None

    def has_revisions(self, series_id: str) -> bool:
        return series_id in self._revisions

    async def series_revisions(self, series_ids: Sequence[str]) -> list[list[Revision]]:
        missing = [i for i in dict.fromkeys(series_ids) if i not in self._revisions]
        if missing:
            self._revisions.update(_split(missing, self.src.series_revisions(missing)))
        return [await self._revisions[i] for i in series_ids]

    async def revision_test_results(self, keys: Sequence[str]) -> list[list[Check]]:
        missing = [k for k in dict.fromkeys(keys) if k not in self._results]
        for key in [k for k in missing if k in self._listed and self._listed[k] is None]:
            self._results[key] = none = asyncio.get_running_loop().create_future()
            none.set_result([])
            missing.remove(key)
        if missing:
            self._results.update(_split(missing, self.src.revision_test_results(missing)))
        return [await self._results[k] for k in keys]


def started(work: Awaitable[T]) -> Future[T]:
    """``work`` running on its own; a failure nobody awaits (its patches left the page) is
    not logged as never retrieved."""
    task = asyncio.ensure_future(work)
    task.add_done_callback(retrieved)
    return task


def _split(ids: Sequence[str], batch: Awaitable[Sequence[T]]) -> dict[str, Future[T]]:
    """One future per id of a batch read (in the order of ``ids``)."""
    loop = asyncio.get_running_loop()
    futures: dict[str, Future[T]] = {i: loop.create_future() for i in ids}
    for f in futures.values():
        f.add_done_callback(retrieved)

    def settle(task: Future[Sequence[T]]) -> None:
        error = None if task.cancelled() else task.exception()
        for n, f in enumerate(futures.values()):
            if task.cancelled():
                f.cancel()
            elif error is not None:
                f.set_exception(error)
            else:
                f.set_result(task.result()[n])

    started(batch).add_done_callback(settle)
    return futures


async def patch_revisions(
    src: FdoSource, ids: Sequence[str], reads: Reads | None = None
) -> list[Revision | None]:
    """The latest revision holding each patch (``None``: in none).

    A patch names no series, but its series was submitted by the same person no later than
    the patch: one list of that submitter's series per (project, submitter) of the batch (all
    groups at once), then their revisions newest series first until every patch is placed
    (through ``reads``: a warmed placement's, ``adapters/patchwork_fdo/placement.py``).
    """
    unseen = [i for i in ids if i not in src._seen]
    fetched = dict(zip(unseen, await src.get_patches(unseen), strict=True)) if unseen else {}
    patches = [src._seen.get(i) if i in src._seen else fetched.get(i) for i in ids]
    shared = reads or Reads(src)
    placed: dict[str, Revision] = {}
    groups = groups_of(patches).items()
    for found in await asyncio.gather(*(place(shared, *key, ms) for key, ms in groups)):
        placed.update(found)
    return [placed.get(p.id) if p is not None else None for p in patches]


async def _series_list(
    src: FdoSource, project: str, submitter: str, latest: datetime, oldest: datetime
) -> Listed:
    """``submitter``'s series that can hold a patch of theirs sent between ``oldest`` and
    ``latest``: submitted no later, updated since (see ``_may_hold``)."""
    params = {
        "submitter": submitter,
        "submitted_before": format_server_date(latest + ONE_SECOND, src.name),
        "updated_since": format_server_date(oldest - ONE_SECOND, src.name),
    }
    items = await src.client.all_items(f"projects/{project}/series/", params)
    return [src._series(d, {}) for d in items]


async def place(
    reads: Reads, project: str, submitter: str, members: Sequence[Patch]
) -> dict[str, Revision]:
    """One (project, submitter) group's patches → their latest revision: candidates newest
    first; revisions already read (or being read) are applied in order without a read, the
    others read ``REVISION_READS`` at a time, until every patch is placed."""
    latest, oldest = span(members)
    listed = await reads.series_list(project, submitter, latest, oldest)
    candidates = sorted(
        (c for c in listed if c.date < latest + ONE_SECOND and _may_hold(c, oldest)),
        key=lambda x: (x.date, numeric_key(x.id)),
        reverse=True,
    )  # also filtered here if the server ignores the filters
    pending = {p.id for p in members}
    placed: dict[str, Revision] = {}
    at = 0
    while pending and at < len(candidates):
        end = at
        while end < len(candidates) and reads.has_revisions(candidates[end].id):
            end += 1
        if end == at:  # the next one is not read yet
            end = min(at + REVISION_READS, len(candidates))
        for revisions in await reads.series_revisions([s.id for s in candidates[at:end]]):
            for rev in sorted(revisions, key=lambda r: r.version, reverse=True):
                for pid in pending & set(rev.patch_ids):
                    placed[pid] = rev
                pending -= set(rev.patch_ids)
        at = end
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
