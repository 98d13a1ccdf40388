"""ABF in the federated lists: ``list_changes`` windows and pushdown, ``list_events``."""

from __future__ import annotations

from datetime import timedelta

from adapters.base import ChangeFilter, ChangeLister, EventFilter, EventReader, Pinger
from adapters.model import ChangeRecord, ChangeState, Page, PageRequest
from tests.adapters.abf.conftest import Abf


async def _walk(lister: ChangeLister, flt: ChangeFilter, size: int, desc: bool) -> list[str]:
    ids: list[str] = []
    while True:
        page: Page[ChangeRecord] = await lister.list_changes(flt, PageRequest(len(ids), size), desc)
        ids.extend(r.id for r in page.items)
        if not page.has_next:
            return ids


async def test_federation_source_implements_the_ports(abf: Abf) -> None:
    assert isinstance(abf.source, ChangeLister)
    assert isinstance(abf.source, EventReader)
    assert isinstance(abf.source, Pinger)
    await abf.source.ping()


async def test_federation_changes_merge_open_and_closed_by_update_time(abf: Abf) -> None:
    page = await abf.source.list_pull_request_changes(ChangeFilter(), PageRequest(0, 100), True)
    times = [r.updated_at for r in page.items]
    assert times == sorted(times, reverse=True) and not page.has_next
    assert {r.state for r in page.items} == {
        ChangeState.OPEN,
        ChangeState.MERGED,
        ChangeState.CLOSED,
    }
    assert all(r.is_detail for r in page.items)
    paths = abf.paths()
    assert any("status=open&sort=updated&direction=desc" in p for p in paths)
    assert any("status=closed&sort=updated&direction=desc" in p for p in paths)


async def test_federation_changes_windows_walk_the_whole_list_once(abf: Abf) -> None:
    whole = await abf.source.list_pull_request_changes(ChangeFilter(), PageRequest(0, 100), False)
    expected = [r.id for r in whole.items]
    assert len(expected) > 20
    assert await _walk(abf.source, ChangeFilter(), 7, False) == expected


async def test_federation_changes_push_down_state_and_project(abf: Abf) -> None:
    flt = ChangeFilter(projects=("abf/evil_tools",), states=(ChangeState.MERGED,))
    before = len(abf.sim.state.requests)
    page = await abf.source.list_pull_request_changes(flt, PageRequest(0, 50), True)
    lists = [p for p in abf.paths(before) if "/pull_requests.json" in p]
    assert lists == [
        "/api/v1/projects/666/pull_requests.json"
        "?status=closed&sort=updated&direction=desc&page=1&per_page=51"
    ]
    assert page.items and {r.project.id for r in page.items} == {"666"}
    assert ChangeState.MERGED in {r.state for r in page.items}  # closed ones: gateway filters


async def test_federation_changes_with_no_abf_state_are_empty(abf: Abf) -> None:
    before = len(abf.sim.state.requests)
    page = await abf.source.list_pull_request_changes(
        ChangeFilter(states=(ChangeState.DRAFT,)), PageRequest(0, 10), True
    )
    assert page.items == () and not page.has_next and len(abf.sim.state.requests) == before


async def test_federation_events_by_update_time(abf: Abf) -> None:
    page = await abf.source.list_events(EventFilter(), PageRequest(0, 100))
    assert page.items and not page.has_next
    dates = [e.date for e in page.items]
    assert dates == sorted(dates, reverse=True)
    categories = {e.category for e in page.items}
    assert {"pull-request-merged", "pull-request-closed"} <= categories
    newest = page.items[0].date
    recent = await abf.source.list_events(
        EventFilter(since=newest - timedelta(hours=2)), PageRequest(0, 100)
    )
    assert recent.items and all(e.date >= newest - timedelta(hours=2) for e in recent.items)
    assert len(recent.items) < len(page.items) and not recent.has_next
    ids = {e.id for e in page.items}
    assert len(ids) == len(page.items)


async def test_federation_changes_first_window_reads_only_the_heads_details(abf: Abf) -> None:
    # ABF's lists carry no update time: a walk's first window reads each list's head detail
    # only (2 lists + 2 details, however long the lists), enough for the merge to know
    # whether ABF reaches a page at all (issue 21).
    before = len(abf.sim.state.requests)
    page = await abf.source.list_changes(ChangeFilter(), PageRequest(0, 50), True)
    paths = abf.paths(before)
    details = [p for p in paths if "/pull_requests/" in p]
    assert len([p for p in paths if "pull_requests.json?" in p]) == 2
    assert len(details) == 2 and len(page.items) == 1 and page.has_next
    whole = await abf.source.list_pull_request_changes(ChangeFilter(), PageRequest(0, 100), True)
    assert page.items[0].id == whole.items[0].id
    assert page.items[0].updated_at == whole.items[0].updated_at  # the detail's time
    # The next window reuses the walk's lists: details only, every one that can reach it.
    mark = len(abf.sim.state.requests)
    rest = await abf.source.list_changes(ChangeFilter(), PageRequest(1, 50), True)
    assert not [p for p in abf.paths(mark) if "pull_requests.json" in p]
    assert [r.id for r in rest.items] == [r.id for r in whole.items[1:51]]


async def test_federation_changes_lazy_walks_equal_the_whole_list(abf: Abf) -> None:
    for desc in (True, False):
        for states in ((), (ChangeState.OPEN,), (ChangeState.MERGED, ChangeState.CLOSED)):
            flt = ChangeFilter(states=states)
            whole = await abf.source.list_pull_request_changes(flt, PageRequest(0, 100), desc)
            for size in (1, 3, 50):
                walked = await _walk(abf.source, flt, size, desc)
                assert walked == [r.id for r in whole.items], (desc, states, size)
