"""A request's placement warmed by a federated list's window (``revisions.Placement``): the
page's patches are placed exactly as a fresh placement places them, from the series lists the
window started, and a group the warmed list does not cover is read as before."""

from __future__ import annotations

import pytest

from adapters.base import ChangeFilter, WarmPlacer, provides
from adapters.errors import Unavailable
from adapters.model import PageRequest, TrackedPatch
from tests.adapters.patchwork_fdo.conftest import Fdo


async def _window(fdo: Fdo, count: int = 50) -> list[TrackedPatch]:
    page = await fdo.source.list_changes(ChangeFilter(), PageRequest(0, count), True)
    return list(page.items)


def _series_lists(fdo: Fdo) -> list[str]:
    return [p for p in fdo.paths() if "/series/?" in p]


@pytest.mark.parametrize(
    "pick",
    [
        lambda w: w,  # the whole window reaches the page
        lambda w: w[:7],  # the newest only (other backends took the rest)
        lambda w: w[::3],  # scattered
        lambda w: w[len(w) // 2 :],  # the older half
    ],
)
async def test_warmed_placement_places_the_page_as_a_fresh_one(fdo: Fdo, pick: object) -> None:
    assert provides(fdo.source, WarmPlacer)
    window = await _window(fdo)
    page = [p.id for p in pick(window)]  # type: ignore[operator]
    fresh = await fdo.source.patch_revisions(page)
    assert any(fresh)

    placement = fdo.source.placement()
    placement.warm(window)
    before = len(_series_lists(fdo))
    warmed = await placement.patch_revisions(page)
    assert [r.key if r else None for r in warmed] == [r.key if r else None for r in fresh]
    groups = {(p.project.id, p.submitter.id) for p in window if p.submitter is not None}
    # One series list per group of the window, none more for the page.
    assert len(_series_lists(fdo)) - before == len(groups)


async def test_a_group_outside_the_warmed_span_is_read_afresh(fdo: Fdo) -> None:
    window = await _window(fdo)
    placement = fdo.source.placement()
    placement.warm(window[:5])  # the newest five: older patches are outside its spans
    page = [p.id for p in window[:5] + window[-5:]]
    fresh = await fdo.source.patch_revisions(page)
    warmed = await placement.patch_revisions(page)
    assert [r.key if r else None for r in warmed] == [r.key if r else None for r in fresh]


async def test_a_failed_warmed_read_fails_the_placement_that_uses_it(fdo: Fdo) -> None:
    window = await _window(fdo)
    fdo.sim.state.fault("/api/1.0/projects/", "500")
    placement = fdo.source.placement()
    placement.warm(window)
    with pytest.raises(Unavailable):
        await placement.patch_revisions([window[0].id])


async def test_an_unused_failed_warmed_read_is_not_reported(fdo: Fdo) -> None:
    # Its patches did not reach the page: nobody awaits it, and no "exception was never
    # retrieved" warning (an error under this suite's filterwarnings) follows.
    window = await _window(fdo)
    fdo.sim.state.fault("/api/1.0/projects/", "500")
    fdo.source.placement().warm(window)
    for _ in range(50):
        if len(_series_lists(fdo)) >= 1:
            break
        await fdo.source.api_revision()  # a round trip lets the warmed reads run
    assert _series_lists(fdo)
