"""A request's placement run ahead of the merge (``adapters/patchwork_fdo/placement.py``):
the page's patches are placed exactly as a fresh placement places them, with the same reads
when the merge's ``reachable`` keeps the page's patches, and a group the warmed list does not
cover is read as before."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import pytest

from adapters.base import ChangeFilter, WarmPlacer, provides
from adapters.errors import Unavailable
from adapters.model import PageRequest, Patch, TrackedPatch
from tests.adapters.patchwork_fdo.conftest import Fdo

Pick = Callable[[list[TrackedPatch]], list[TrackedPatch]]


async def _window(fdo: Fdo, count: int = 50) -> list[TrackedPatch]:
    page = await fdo.source.list_changes(ChangeFilter(), PageRequest(0, count), True)
    return list(page.items)


def _keeping(page: Sequence[Patch]) -> Callable[[Sequence[Patch]], list[Patch]]:
    ids = {p.id for p in page}
    return lambda patches: [p for p in patches if p.id in ids]


def _placement_reads(fdo: Fdo, since: int) -> Counter[str]:
    return Counter(p for p in fdo.paths()[since:] if "/series/" in p)


@pytest.mark.parametrize(
    "pick",
    [
        lambda w: w,  # the whole window reaches the page
        lambda w: w[:7],  # the newest only (other backends took the rest)
        lambda w: w[::3],  # scattered
        lambda w: w[len(w) // 2 :],  # the older half
    ],
)
async def test_placement_ahead_of_the_merge_places_and_reads_as_a_fresh_one(
    fdo: Fdo, pick: Pick
) -> None:
    assert provides(fdo.source, WarmPlacer)
    window = await _window(fdo)
    page = pick(window)
    ids = [p.id for p in page]

    mark = len(fdo.paths())
    fresh = await fdo.source.patch_revisions(ids)
    keys = sorted({r.key for r in fresh if r is not None})
    fresh_results = await fdo.source.revision_test_results(keys)
    fresh_reads = _placement_reads(fdo, mark)
    assert keys

    mark = len(fdo.paths())
    placement = fdo.source.placement()
    placement.warm(window, _keeping(page), True)
    warmed = await placement.patch_revisions(ids)
    assert [r.key if r else None for r in warmed] == [r.key if r else None for r in fresh]
    assert await placement.revision_test_results(keys) == fresh_results
    reads = _placement_reads(fdo, mark)
    # The series lists are read for the whole window's groups (wider spans: other query
    # strings), the revisions and test results only for the page's patches, once each —
    # less the test results of latest revisions the lists show untested (their []).
    lists = {p for p in reads if "/series/?" in p}
    assert len(lists) == len({(p.project.id, p.submitter.id) for p in window if p.submitter})
    untested = _untested(fdo, keys)
    assert untested, "the generated data has latest revisions without results"
    assert all(fresh_results[keys.index(k)] == [] for k in untested)
    assert {p: n for p, n in reads.items() if p not in lists} == {
        p: n
        for p, n in fresh_reads.items()
        if "/series/?" not in p and _results_key(p) not in untested
    }


def _results_key(path: str) -> str | None:
    # /api/1.0/series/<id>/revisions/<version>/test-results/ -> "<id>/<version>"
    parts = path.split("/")
    return f"{parts[4]}/{parts[6]}" if path.endswith("/test-results/") else None


def _untested(fdo: Fdo, keys: Sequence[str]) -> set[str]:
    """The keys that are their series' latest revision and have no test result, from the
    simulator's own data (what its series lists say with ``test_state: null``)."""
    found = set()
    for key in keys:
        series_id, version = key.split("/")
        revisions = fdo.sim.state.data.series[int(series_id)]["revisions"]
        latest = revisions[-1]
        if latest["version"] == int(version) and not latest.get("test_results"):
            found.add(key)
    return found


async def test_nothing_is_placed_ahead_for_patches_that_cannot_reach_the_page(fdo: Fdo) -> None:
    window = await _window(fdo)
    placement = fdo.source.placement()
    mark = len(fdo.paths())
    placement.warm(window, lambda _: [], True)
    for _ in range(3):
        await fdo.source.api_revision()  # let the warmed lists answer
    reads = _placement_reads(fdo, mark)
    assert reads and all("/series/?" in p for p in reads)


async def test_a_group_outside_the_warmed_span_is_read_afresh(fdo: Fdo) -> None:
    window = await _window(fdo)
    placement = fdo.source.placement()
    placement.warm(window[:5], _keeping(window[:5]), False)  # older patches: outside its spans
    ids = [p.id for p in window[:5] + window[-5:]]
    fresh = await fdo.source.patch_revisions(ids)
    warmed = await placement.patch_revisions(ids)
    assert [r.key if r else None for r in warmed] == [r.key if r else None for r in fresh]


async def test_a_failed_read_ahead_fails_the_placement_that_uses_it(fdo: Fdo) -> None:
    window = await _window(fdo)
    fdo.sim.state.fault("/api/1.0/projects/", "500")
    placement = fdo.source.placement()
    placement.warm(window, _keeping(window), True)
    with pytest.raises(Unavailable):
        await placement.patch_revisions([window[0].id])


async def test_an_unused_failed_read_ahead_is_not_reported(fdo: Fdo) -> None:
    # Its patches did not reach the page: nobody awaits it, and no "exception was never
    # retrieved" warning (an error under this suite's filterwarnings) follows.
    window = await _window(fdo)
    fdo.sim.state.fault("/api/1.0/projects/", "500")
    fdo.source.placement().warm(window, _keeping(window), True)
    for _ in range(3):
        await fdo.source.api_revision()  # a round trip lets the warmed reads fail
    assert _placement_reads(fdo, 0)
