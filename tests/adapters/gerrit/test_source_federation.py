"""The Gerrit source as a ChangeLister / EventReader: the q= it builds and what it returns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.base import ChangeFilter, EventFilter
from adapters.errors import BadRequest
from adapters.gerrit.federation import change_query, event_query
from adapters.gerrit.source import GerritSource
from adapters.model import ChangeState, PageRequest


def test_change_query_quotes_and_rounds_outwards() -> None:
    flt = ChangeFilter(
        projects=("platform/tools", "my project"),
        author='Jane "JR" Roe',
        updated_since=datetime(2014, 1, 1, 10, 0, 0, 900000, tzinfo=UTC),
        updated_before=datetime(2014, 1, 2, 10, 0, 0, 100000, tzinfo=UTC),
    )
    assert change_query(flt) == (
        '(status:open OR status:closed) (project:platform/tools OR project:"my project") '
        'owner:{Jane "JR" Roe} after:"2014-01-01 10:00:00 +0000" '
        'before:"2014-01-02 10:00:01 +0000"'
    )
    assert change_query(ChangeFilter(states=(ChangeState.SUPERSEDED,))) is None
    assert change_query(ChangeFilter(states=(ChangeState.DRAFT,))) == "status:draft"


def test_event_query() -> None:
    assert event_query(EventFilter()) == "(status:open OR status:closed)"
    cats = EventFilter(categories=("change-merged", "change-abandoned"), project="demo")
    assert event_query(cats) == "(status:abandoned OR status:merged) project:demo"
    assert event_query(EventFilter(categories=("patch-created",))) is None


async def test_simulator_after_and_before(src: GerritSource) -> None:
    async def numbers(q: str) -> list[int]:
        return [c.number for c in (await src.query_changes(q, PageRequest(0, 50))).items]

    everything = await numbers("(status:open OR status:closed)")
    recent = await numbers('after:"2013-03-01 00:00:00 +0000"')
    older = await numbers('before:"2013-03-01 00:00:00"')  # no zone: UTC
    assert recent and older and sorted(recent + older) == sorted(everything)
    assert await numbers("until:2000-01-01") == []
    with pytest.raises(BadRequest, match="invalid time"):
        await numbers("after:yesterday")


async def test_list_changes_both_orders_and_a_bad_native_query(src: GerritSource) -> None:
    flt = ChangeFilter(projects=("myProject",))
    newest = await src.list_changes(flt, PageRequest(0, 10), descending=True)
    oldest = await src.list_changes(flt, PageRequest(0, 10), descending=False)
    assert [c.id for c in oldest.items] == [c.id for c in reversed(newest.items)]
    assert not newest.has_next and not oldest.has_next
    window = await src.list_changes(flt, PageRequest(1, 2), descending=False)
    assert [c.id for c in window.items] == [c.id for c in oldest.items[1:3]] and window.has_next
    before = src.request_count
    with pytest.raises(BadRequest, match="invalid gerritQuery"):
        await src.list_changes(ChangeFilter(native={"gerrit_query": "(x"}), PageRequest(0, 5), True)
    assert src.request_count == before
