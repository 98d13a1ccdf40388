"""Every documented fdo entry point, its filters and its error paths, against the simulator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.base import EventFilter, PatchFilter, SeriesFilter, TrackedPatchFilter
from adapters.base import TrackedSeriesFilter as TSF
from adapters.errors import BadPayload, BadRequest, Forbidden, NotFound, Unavailable
from adapters.model import CheckState, NewTestResult, PageRequest
from tests.adapters.patchwork_fdo.conftest import GUEST_TOKEN, Fdo, make_source

ALL = PageRequest(0, 100)


def _utc(*args: int) -> datetime:
    return datetime(*args).replace(tzinfo=UTC)  # type: ignore[arg-type]


async def test_source_api_root_revision(fdo: Fdo) -> None:
    assert await fdo.source.api_revision() == 3
    assert fdo.paths() == ["/api/1.0/"]


async def test_source_projects_list_by_id_and_linkname(fdo: Fdo) -> None:
    page = await fdo.source.list_projects(ALL)
    assert [p.link_name for p in page.items] == ["intel-gfx", "beignet", "cairo"]
    assert page.total == 3 and not page.has_next
    found = await fdo.source.get_projects(["1", "cairo", "nope", "99"])
    assert [p and p.name for p in found] == ["intel-gfx", "Cairo", None, None]
    assert "/api/1.0/projects/nope/" in fdo.paths()  # unknown to the cached list: asked


async def test_source_series_lists_global_and_per_project(fdo: Fdo) -> None:
    everything = await fdo.source.list_series(SeriesFilter(), ALL)
    assert everything.total == 17 and len(everything.items) == 17
    per_project = await fdo.source.list_series(SeriesFilter(project="intel-gfx"), ALL)
    by_id = await fdo.source.list_series(SeriesFilter(project="1"), ALL)
    assert [s.id for s in per_project.items] == [s.id for s in by_id.items]
    assert (await fdo.source.list_series(SeriesFilter(project="cairo"), ALL)).items == ()
    s47 = next(s for s in everything.items if s.id == "47")
    assert s47.project is not None and s47.project.link_name == "intel-gfx"
    assert s47.test_state is CheckState.WARNING and s47.submitter_id == "21"
    assert s47.mbox_url is not None and s47.mbox_url.endswith("/series/47/revisions/1/mbox/")
    with pytest.raises(NotFound):
        await fdo.source.list_series(SeriesFilter(project="nope"), ALL)


async def test_source_series_window_spans_pages(fdo: Fdo) -> None:
    whole = [s.id for s in (await fdo.source.list_series(SeriesFilter(), ALL)).items]
    page = await fdo.source.list_series(SeriesFilter(), PageRequest(5, 7))
    assert [s.id for s in page.items] == whole[5:12] and page.has_next
    tail = await fdo.source.list_series(SeriesFilter(), PageRequest(15, 10))
    assert [s.id for s in tail.items] == whole[15:] and not tail.has_next
    past = await fdo.source.list_series(SeriesFilter(), PageRequest(40, 10))
    assert past.items == () and not past.has_next
    assert any("perpage=" in p for p in fdo.paths())


@pytest.mark.parametrize(
    "flt, expected",
    [
        (TSF(name="Series without cover letter"), {"47"}),
        (TSF(submitters=("77",)), {"3", "5", "1003", "1007", "1011"}),
        (TSF(submitters=("self",)), {"47", "1002", "1006", "1010"}),
        (TSF(reviewer="77"), {"1001", "1003", "1005", "1007", "1009", "1011"}),
        (TSF(since=_utc(2017, 1, 2, 19, 0)), {"1011"}),
        (TSF(before=_utc(2015, 1, 1)), {"1"}),
        (TSF(updated_since=_utc(2017, 1, 5, 19)), {"1011"}),
        (TSF(updated_before=_utc(2015, 10, 9, 7, 56)), {"1", "10"}),
        (TSF(test_states=("failure",)), {"1009"}),
        (TSF(test_states=("success", "warning")), {"47", "1000", "1006"}),
    ],
)
async def test_source_series_filters(fdo: Fdo, flt: SeriesFilter, expected: set[str]) -> None:
    page = await fdo.source.list_series(flt, ALL)
    assert {s.id for s in page.items} == expected


async def test_source_series_filter_null_values(fdo: Fdo) -> None:
    no_reviewer = await fdo.source.list_series(TSF(reviewer="null"), ALL)
    assert all(s.reviewer_id is None for s in no_reviewer.items) and len(no_reviewer.items) == 11
    untested = await fdo.source.list_series(TSF(test_states=("null", "pending")), ALL)
    assert {s.raw_test_state for s in untested.items} == {None, "pending"}
    assert len(untested.items) == 13


@pytest.mark.parametrize(
    "flt",
    [
        SeriesFilter(order="-id"),
        SeriesFilter(submitters=("1", "2")),
        SeriesFilter(submitters=("bob@example.com",)),
        TSF(reviewer="bob"),
        TSF(test_states=("green",)),
    ],
)
async def test_source_series_unsupported_filters_are_bad_requests(
    fdo: Fdo, flt: SeriesFilter
) -> None:
    with pytest.raises(BadRequest):
        await fdo.source.list_series(flt, ALL)
    assert fdo.paths() == []  # refused before any request


async def test_source_series_self_needs_credentials(fdo: Fdo) -> None:
    anonymous = make_source(fdo.sim.url, token=None)
    try:
        with pytest.raises(Forbidden):
            await anonymous.list_series(TSF(submitters=("self",)), ALL)
    finally:
        await anonymous.close()


async def test_source_series_detail_and_missing(fdo: Fdo) -> None:
    s47, missing, bad = await fdo.source.get_series(["47", "999", "x"])
    assert s47 is not None and s47.name == "Series without cover letter"
    assert s47.state_summary[0].name == "New" and s47.updated is not None
    assert missing is None and bad is None


async def test_source_revisions_list_detail_and_missing(fdo: Fdo) -> None:
    [revs, none] = await fdo.source.series_revisions(["1002", "999"])
    assert [r.version for r in revs] == [1, 2, 3] and none == []
    assert revs[2].key == "1002/3" and len(revs[2].patch_ids) == 2
    assert revs[0].mbox_url is not None and revs[0].mbox_url.endswith("/1002/revisions/1/mbox/")
    got = await fdo.source.get_revisions(["1002/2", "1002/9", "nope"])
    assert got[0] == revs[1] and got[1] is None and got[2] is None


async def test_source_revision_mbox_with_link(fdo: Fdo) -> None:
    plain = await fdo.source.revision_mbox("47/1")
    linked = await fdo.source.revision_mbox("47/1", link="Patchwork")
    assert plain.count("From: Rex Reset <rex.reset@example.com>") == 2
    assert "Patchwork: " not in plain and linked.count("Patchwork: ") == 2
    assert "/api/1.0/series/47/revisions/1/mbox/?link=Patchwork" in fdo.paths()
    with pytest.raises(NotFound):
        await fdo.source.revision_mbox("47/5")


async def test_source_test_results_read(fdo: Fdo) -> None:
    [results, empty] = await fdo.source.revision_test_results(["47/1", "1/1"])
    assert [(c.context, c.state) for c in results] == [
        ("checkpatch.pl", CheckState.PENDING),
        ("BAT", CheckState.WARNING),
    ]
    assert empty == []


async def test_source_report_test_result_creates_then_updates(fdo: Fdo) -> None:
    pending = NewTestResult("Fi.CI.IGT", CheckState.PENDING, summary="started")
    created = await fdo.source.report_test_result("1001/2", pending)
    assert created.context == "Fi.CI.IGT" and created.state is CheckState.PENDING
    done = NewTestResult("Fi.CI.IGT", CheckState.FAILURE, "http://ci.example.com/1", "2 failed")
    updated = await fdo.source.report_test_result("1001/2", done)
    assert updated.state is CheckState.FAILURE and updated.target_url == "http://ci.example.com/1"
    assert updated.date > created.date
    [results] = await fdo.source.revision_test_results(["1001/2"])
    assert [(c.context, c.state) for c in results] == [("Fi.CI.IGT", CheckState.FAILURE)]
    [series] = await fdo.source.get_series(["1001"])
    assert series is not None and series.test_state is CheckState.FAILURE
    posts = [m for m, _ in fdo.sim.state.requests if m == "POST"]
    assert len(posts) == 2


async def test_source_report_test_result_errors(fdo: Fdo) -> None:
    result = NewTestResult("BAT", CheckState.SUCCESS)
    with pytest.raises(NotFound):
        await fdo.source.report_test_result("47/9", result)
    with pytest.raises(NotFound):
        await fdo.source.report_test_result("47", result)
    with pytest.raises(BadRequest):
        await fdo.source.report_test_result("47/1", NewTestResult(" ", CheckState.SUCCESS))
    for token in (None, GUEST_TOKEN):
        other = make_source(fdo.sim.url, token=token)
        try:
            with pytest.raises(Forbidden):
                await other.report_test_result("47/1", result)
        finally:
            await other.close()


async def test_source_patches_per_project_and_global(fdo: Fdo) -> None:
    per_project = await fdo.source.list_patches(PatchFilter(project="intel-gfx"), PageRequest(0, 5))
    everything = await fdo.source.list_patches(PatchFilter(), PageRequest(0, 5))
    assert [p.id for p in per_project.items] == ["1", "4", "7", "9", "30"]
    assert [p.id for p in everything.items] == ["1", "4", "7", "9", "30"]
    first = per_project.items[0]
    assert first.project.link_name == "intel-gfx" and first.raw_state == "new"
    assert first.mbox_url is not None and first.mbox_url.endswith("/patches/1/mbox/")
    assert (await fdo.source.list_patches(PatchFilter(project="beignet"), ALL)).items == ()


@pytest.mark.parametrize(
    "flt, expected",
    [
        (
            TrackedPatchFilter(name="[1/2] drm/i915: Balance context pinning on reset cleanup"),
            {"120"},
        ),
        (PatchFilter(project="1", submitters=("10",), before=_utc(2017, 1, 1)), {"100"}),
        (PatchFilter(submitters=("self",), before=_utc(2017, 1, 1)), {"120", "121"}),
        (PatchFilter(since=_utc(2017, 1, 4, 20, 0, 2)), {"1059"}),
        (TrackedPatchFilter(updated_before=_utc(2014, 12, 26, 10, 23, 29)), {"1", "4"}),
        (TrackedPatchFilter(updated_since=_utc(2017, 1, 5, 19)), {"1057", "1058", "1059"}),
    ],
)
async def test_source_patch_filters(fdo: Fdo, flt: PatchFilter, expected: set[str]) -> None:
    page = await fdo.source.list_patches(flt, ALL)
    assert {p.id for p in page.items} == expected


async def test_source_patch_unsupported_filter(fdo: Fdo) -> None:
    with pytest.raises(BadRequest, match="states, q"):
        await fdo.source.list_patches(PatchFilter(states=("new",), q="x"), ALL)


async def test_source_patch_detail_mbox_and_missing(fdo: Fdo) -> None:
    p120, missing = await fdo.source.get_patches(["120", "9999"])
    assert p120 is not None and p120.title.startswith("[1/2]") and missing is None
    assert await fdo.source.get_patches(["x"]) == [None]
    mbox = await fdo.source.patch_mbox("120", link="Link")
    assert "Link: " in mbox and "From: Rex Reset" in mbox
    with pytest.raises(NotFound):
        await fdo.source.patch_mbox("9999")
    # Results belong to revisions: a patch's checks are its latest revision's (47 v1).
    [checks], [none] = await fdo.source.patch_checks(["120"]), await fdo.source.patch_checks(["x"])
    assert [(c.context, c.change_id) for c in checks] == [
        ("checkpatch.pl", "47/1"),
        ("BAT", "47/1"),
    ]
    assert none == []
    assert (await fdo.source.patch_comments("120", ALL)).items == ()


async def test_source_people_resolved_from_their_patches(fdo: Fdo) -> None:
    rex, ada, nobody, bad = await fdo.source.get_people(["21", "1", "555", "x"])
    assert rex is not None and (rex.name, rex.email) == ("Rex Reset", "rex.reset@example.com")
    assert ada is not None and ada.email == "ada.panel@example.com"
    assert nobody is not None and (nobody.id, nobody.name, nobody.email) == ("555", None, None)
    assert bad is None


async def test_source_events_with_filters(fdo: Fdo) -> None:
    flt = EventFilter(project="intel-gfx")
    page = await fdo.source.list_events(flt, ALL)
    assert page.total == 27 and page.items[-1].category == "series-new-revision"
    assert [e.date for e in page.items] == sorted((e.date for e in page.items), reverse=True)
    since = _utc(2016, 2, 16, 7, 22, 20, 753101)
    newer = await fdo.source.list_events(EventFilter(project="1", since=since), ALL)
    # ``since`` is inclusive here (as upstream): the event at 07:22:20.753101 is kept.
    assert newer.items[-1].category == "pull-request-new" and newer.items[-1].date == since
    names = EventFilter(project="1", categories=("pull-request-new", "patch-state-change"))
    assert {e.category for e in (await fdo.source.list_events(names, ALL)).items} == {
        "pull-request-new",
        "patch-state-change",
    }
    by_series = await fdo.source.list_events(EventFilter(project="1", series="1002"), ALL)
    assert [e.raw["parameters"]["revision"] for e in by_series.items] == [3, 2, 1]
    by_patch = await fdo.source.list_events(EventFilter(project="1", patch="685"), ALL)
    assert [e.category for e in by_patch.items] == ["patch-state-change"]
    before = await fdo.source.list_events(EventFilter(project="1", before=_utc(2017, 1, 1)), ALL)
    assert [e.category for e in before.items] == [
        "patch-state-change",
        "pull-request-new",
        "series-new-revision",
    ]


async def test_source_events_every_project_newest_first_in_windows(fdo: Fdo) -> None:
    whole = await fdo.source.list_events(EventFilter(), ALL)
    assert whole.total == 27  # intel-gfx's log; the other projects have none
    assert {p for _, p in fdo.sim.state.requests if "/events/" in p} >= {
        "/api/1.0/projects/1/events/?perpage=100",
        "/api/1.0/projects/2/events/?perpage=100",
    }
    first = await fdo.source.list_events(EventFilter(), PageRequest(0, 10))
    reads = len(fdo.sim.state.requests)
    second = await fdo.source.list_events(EventFilter(), PageRequest(10, 10))
    assert len(fdo.sim.state.requests) == reads  # a walk's later windows reuse its first read
    assert [*first.items, *second.items] == list(whole.items[:20]) and second.has_next
    assert (await fdo.source.list_events(EventFilter(project="1", cover="3"), ALL)).items == ()


@pytest.mark.parametrize(
    "flt, error",
    [
        (EventFilter(project="nope"), NotFound),
        (EventFilter(project="a/b"), BadRequest),
        (EventFilter(project="1", series="x"), NotFound),
        (EventFilter(project="1", patch="x"), NotFound),
    ],
)
async def test_source_events_bad_filters(
    fdo: Fdo, flt: EventFilter, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await fdo.source.list_events(flt, ALL)


async def test_source_upstream_failures(fdo: Fdo) -> None:
    fdo.sim.state.fault("/api/1.0/series/", "500")
    with pytest.raises(Unavailable) as info:
        await fdo.source.list_series(SeriesFilter(), ALL)
    assert info.value.backend == "fdo"
    fdo.sim.state.fault("/api/1.0/patches/", "garbage")
    with pytest.raises(BadPayload):
        await fdo.source.get_patches(["1"])
