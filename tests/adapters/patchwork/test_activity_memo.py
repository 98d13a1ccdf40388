"""An events page that comes back unchanged is not decoded or mapped again.

``read_activity`` reads every page of the events since a date (the activity of
``changes``); ``PatchworkClient.all_mapped`` keeps each page's activity marks by the page's
content stamp (``adapters/stamps.py``): the first read keeps nothing, its first repeat maps
and keeps, later repeats reuse. Every read still goes upstream, so a new event shows at once.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.model import CheckState, NewCheck
from adapters.patchwork import activity, mapping
from adapters.patchwork.source import PatchworkSource
from tests.conftest import Gateway, count_calls

SINCE = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.fixture
def marked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many events have been reduced to activity marks."""
    return count_calls(monkeypatch, mapping, "activity_mark")


async def test_unchanged_event_pages_are_marked_once(gateway: Gateway, marked: list[int]) -> None:
    src = gateway.sources["pw"]
    assert isinstance(src, PatchworkSource)
    first = await activity.read_activity(src, SINCE, None)
    per_read = marked[0]
    assert per_read > 0 and first.latest
    second = await activity.read_activity(src, SINCE, None)
    assert marked[0] == 2 * per_read  # its first repeat maps and keeps
    before = gateway.upstream_requests()
    third = await activity.read_activity(src, SINCE, None)
    assert marked[0] == 2 * per_read  # kept: nothing decoded or mapped
    assert gateway.upstream_requests() > before  # but read upstream all the same
    assert first == second == third
    unchecked = next(p for p in sorted(first.latest) if p not in first.checked)
    await src.create_check(unchecked, NewCheck(state=CheckState.SUCCESS, context="memo"))
    fourth = await activity.read_activity(src, SINCE, None)
    assert marked[0] > 2 * per_read and unchecked in fourth.checked
