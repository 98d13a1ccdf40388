"""The fdo source in federated lists (sorted series, changes, checks) and every entry point's
failure paths (server error, unparsable answer, unknown object) against the simulator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.base import ChangeFilter, ChangeLister, EventFilter, PatchFilter, SeriesFilter
from adapters.errors import BadPayload, BadRequest, NotFound, Unavailable
from adapters.model import CheckState, NewTestResult, PageRequest, TrackedPatch
from adapters.patchwork_fdo.source import FdoSource
from tests.adapters.patchwork_fdo.conftest import Fdo

ALL = PageRequest(0, 100)


async def test_fed_series_project_query_parameter_matches_project_path(fdo: Fdo) -> None:
    # The documented ``?project=<id>`` filter of the global list and the per-project entry
    # point (what the adapter uses: it takes link names too) list the same series.
    by_query = await fdo.source.client.all_items("series/", {"project": 1})
    by_path = await fdo.source.list_series(SeriesFilter(project="1"), ALL)
    assert [str(d["id"]) for d in by_query] == [s.id for s in by_path.items]
    assert len(by_query) == 17
    assert (await fdo.source.client.all_items("series/", {"project": 3})) == []


async def test_fed_series_sorted_by_date_and_searched(fdo: Fdo) -> None:
    newest = await fdo.source.list_series(SeriesFilter(order="-date"), ALL)
    dates = [s.date for s in newest.items]
    assert dates == sorted(dates, reverse=True) and len(dates) == 17
    oldest = await fdo.source.list_series(SeriesFilter(order="date"), PageRequest(0, 3))
    assert [s.id for s in oldest.items] == ["1", "10", "47"] and oldest.has_next
    assert oldest.total == 17
    found = await fdo.source.list_series(SeriesFilter(q="GENERATED series 1"), ALL)
    assert {s.id for s in found.items} == {"1001", "1010", "1011"}
    with pytest.raises(BadRequest, match="-date or date"):
        await fdo.source.list_series(SeriesFilter(order="name"), ALL)


async def test_fed_sorted_windows_reuse_the_first_read(fdo: Fdo) -> None:
    flt = SeriesFilter(order="-date")
    first = await fdo.source.list_series(flt, PageRequest(0, 5))
    reads = len(fdo.paths())
    rest = await fdo.source.list_series(flt, PageRequest(5, 100))
    assert len(fdo.paths()) == reads  # a walk's later windows: no request
    again = await fdo.source.list_series(flt, PageRequest(0, 5))
    assert len(fdo.paths()) > reads  # a new walk reads afresh
    assert [*first.items, *rest.items][:5] == list(again.items)
    assert not rest.has_next and len(rest.items) == 12


async def test_fed_changes_ordered_by_last_updated(fdo: Fdo) -> None:
    assert isinstance(fdo.source, ChangeLister)
    page = await fdo.source.list_changes(ChangeFilter(), ALL, True)
    items = [p for p in page.items if isinstance(p, TrackedPatch)]
    assert len(items) == len(page.items) and page.total is not None and page.total > 40
    updated = [p.updated_at for p in items]
    assert updated == sorted(updated, reverse=True)
    assert any(p.updated_at != p.date for p in items)  # last_updated, not the mail date
    ascending = await fdo.source.list_changes(ChangeFilter(), PageRequest(0, 2), False)
    assert [p.id for p in ascending.items] == ["1", "4"] and ascending.has_next


async def test_fed_changes_pushdown(fdo: Fdo) -> None:
    since = datetime(2017, 1, 5, 19, tzinfo=UTC)
    flt = ChangeFilter(projects=("intel-gfx",), updated_since=since)
    page = await fdo.source.list_changes(flt, ALL, True)
    assert {p.id for p in page.items} == {"1057", "1058", "1059"}
    assert all(p.updated_at >= since for p in page.items)
    [path] = [p for p in fdo.paths() if "/patches/" in p]
    assert path.startswith("/api/1.0/projects/intel-gfx/patches/?updated_since=")
    # Two projects: not pushed down (the global list is read; the gateway filters).
    await fdo.source.list_changes(ChangeFilter(projects=("1", "2")), ALL, True)
    assert fdo.paths()[-1] == "/api/1.0/patches/?perpage=100"
    with pytest.raises(NotFound):
        await fdo.source.list_changes(ChangeFilter(projects=("nope",)), ALL, True)


async def test_fed_patch_checks_follow_the_latest_revision(fdo: Fdo) -> None:
    # Series 1009 (one revision) failed; 1002 has three untested revisions.
    page = await fdo.source.list_patches(PatchFilter(project="1"), ALL)
    ids = {p.title: p.id for p in page.items}
    # Patches of the fdo generator: series 1009 holds "generated change 9.*".
    failing = next(i for t, i in ids.items() if "generated change 9.1" in t)
    untested = next(i for t, i in ids.items() if "generated change 2.1" in t)
    [f], [u], [missing] = [await fdo.source.patch_checks([i]) for i in (failing, untested, "9999")]
    assert [(c.context, c.state, c.change_id) for c in f] == [
        ("Fi.CI.BAT", CheckState.FAILURE, "1009/1")
    ]
    assert u == [] and missing == []
    both = await fdo.source.patch_checks([failing, untested])
    assert both == [f, u]


Call = Callable[[FdoSource], Awaitable[Any]]
ENTRY_POINTS: list[tuple[str, str, Call]] = [
    ("api root", "/api/1.0/", lambda s: s.api_revision()),
    ("projects", "/api/1.0/projects/", lambda s: s.list_projects(ALL)),
    ("project", "/api/1.0/projects/", lambda s: s.get_projects(["intel-gfx"])),
    ("series", "/api/1.0/series/", lambda s: s.list_series(SeriesFilter(), ALL)),
    (
        "project series",
        "/api/1.0/projects/1/series/",
        lambda s: s.list_series(SeriesFilter(project="1"), ALL),
    ),
    ("series detail", "/api/1.0/series/47/", lambda s: s.get_series(["47"])),
    ("revisions", "/api/1.0/series/47/revisions/", lambda s: s.series_revisions(["47"])),
    ("revision", "/api/1.0/series/47/revisions/1/", lambda s: s.get_revisions(["47/1"])),
    (
        "test results",
        "/api/1.0/series/47/revisions/1/test-results/",
        lambda s: s.revision_test_results(["47/1"]),
    ),
    (
        "report result",
        "/api/1.0/series/47/revisions/1/test-results/",
        lambda s: s.report_test_result("47/1", NewTestResult("x", CheckState.SUCCESS)),
    ),
    (
        "project patches",
        "/api/1.0/projects/1/patches/",
        lambda s: s.list_patches(PatchFilter(project="1"), ALL),
    ),
    ("patches", "/api/1.0/patches/", lambda s: s.list_patches(PatchFilter(), ALL)),
    ("patch detail", "/api/1.0/patches/120/", lambda s: s.get_patches(["120"])),
    (
        "events",
        "/api/1.0/projects/1/events/",
        lambda s: s.list_events(EventFilter(project="1"), ALL),
    ),
    (
        "poll",
        "/api/1.0/projects/1/events/",
        lambda s: s.poll_events(EventFilter(project="1"), None),
    ),
    ("changes", "/api/1.0/patches/", lambda s: s.list_changes(ChangeFilter(), ALL, True)),
    ("people", "/api/1.0/patches/", lambda s: s.get_people(["21"])),
]
TEXT_ENTRY_POINTS: list[tuple[str, str, Call]] = [
    (
        "revision mbox",
        "/api/1.0/series/47/revisions/1/mbox/",
        lambda s: s.revision_mbox("47/1", "Link"),
    ),
    ("patch mbox", "/api/1.0/patches/120/mbox/", lambda s: s.patch_mbox("120", "Link")),
]


@pytest.mark.parametrize(
    "prefix, call", [(p, c) for _, p, c in ENTRY_POINTS + TEXT_ENTRY_POINTS], ids=lambda x: x
)
async def test_fed_every_entry_point_server_error(fdo: Fdo, prefix: str, call: Call) -> None:
    await fdo.source.list_projects(ALL)  # warm the project table (its own entry point)
    fdo.sim.state.fault(prefix, "500")
    with pytest.raises(Unavailable) as info:
        await call(fdo.source)
    assert info.value.backend == "fdo" and "Server Error" not in str(info.value)


@pytest.mark.parametrize("prefix, call", [(p, c) for _, p, c in ENTRY_POINTS], ids=lambda x: x)
async def test_fed_every_json_entry_point_garbage(fdo: Fdo, prefix: str, call: Call) -> None:
    await fdo.source.list_projects(ALL)
    fdo.sim.state.fault(prefix, "garbage")
    with pytest.raises(BadPayload) as info:
        await call(fdo.source)
    assert info.value.backend == "fdo"


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.list_series(SeriesFilter(project="nope"), ALL),
        lambda s: s.list_patches(PatchFilter(project="nope"), ALL),
        lambda s: s.list_events(EventFilter(project="nope"), ALL),
        lambda s: s.poll_events(EventFilter(project="99"), None),
        lambda s: s.revision_mbox("999/1"),
        lambda s: s.patch_mbox("x"),
        lambda s: s.report_test_result("999/1", NewTestResult("x", CheckState.SUCCESS)),
    ],
)
async def test_fed_unknown_objects_are_not_found(fdo: Fdo, call: Call) -> None:
    with pytest.raises(NotFound):
        await call(fdo.source)


async def test_fed_unknown_objects_in_batches_are_none(fdo: Fdo) -> None:
    assert await fdo.source.get_projects(["99"]) == [None]
    assert await fdo.source.get_series(["999"]) == [None]
    assert await fdo.source.get_revisions(["999/1", "47/2"]) == [None, None]
    assert await fdo.source.get_patches(["9999"]) == [None]
    assert await fdo.source.series_revisions(["999"]) == [[]]
    assert await fdo.source.revision_test_results(["999/1"]) == [[]]
