"""Upstream Patchwork changes ordered by last activity (``adapters/patchwork/activity.py``):
walked page by page — alone and merged with another backend — every patch comes once, in
activity order; ``updatedSince`` finds an old patch whose state changed; "pending" without
checks is no check state. Property-based, over random mail dates, events and page sizes."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import ChangeFilter, PatchFilter
from adapters.errors import NotFound
from adapters.model import (
    ChangeRecord,
    ChangeState,
    CheckState,
    Page,
    PageRequest,
    Patch,
    Project,
    TrackedPatch,
)
from adapters.patchwork import activity
from adapters.patchwork_common import format_date, parse_date
from schema.merge import merge_page
from tests.schema.test_merge import _backend

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PROJECT = Project(backend="pw", id="1", name="p", link_name="p")


def _patch(pid: int, minute: int) -> Patch:
    return Patch(
        backend="pw",
        id=str(pid),
        project=PROJECT,
        title=f"patch {pid}",
        msgid=f"<{pid}@x>",
        date=T0 + timedelta(minutes=minute),
        state=ChangeState.OPEN,
        raw_state="new",
        archived=False,
        submitter=None,
        delegate=None,
        check_state=CheckState.PENDING,
        raw={"check": "pending"},
    )


class _Client:
    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events
        self.reads = 0

    async def all_mapped(
        self, rel: str, params: dict[str, Any], kind: Any, parse: Callable[[list[Any]], Any]
    ) -> list[Any]:
        assert rel == "events/"
        self.reads += 1
        since = parse_date(params["since"], "pw")
        return [parse([e for e in self.events if parse_date(e["date"], "pw") >= since])]


class FakePatchwork:
    """Patches by mail date (``-date,id``, capped windows) and an event log."""

    name = "pw"

    def __init__(self, patches: list[Patch], events: list[dict[str, Any]], cap: int) -> None:
        self.patches = patches
        self.client = _Client(events)
        self.cap = cap
        self.details = 0
        self.presence_reads = 0

    async def patches_with_checks(self, patches: Sequence[Patch]) -> list[bool]:
        """The presence read (``presence.patches_with_checks``): the whole log's checks."""
        self.presence_reads += 1
        return [p.id in self.checked() for p in patches]

    def checked(self) -> set[str]:
        return {
            str(e["payload"]["patch"]["id"])
            for e in self.client.events
            if e["category"] == "check-created"
        }

    async def list_patches(self, flt: PatchFilter, page: PageRequest) -> Page[Patch]:
        found = [p for p in self.patches if flt.since is None or p.date >= flt.since]
        found.sort(key=lambda p: (-p.date.timestamp(), int(p.id)))
        items = found[page.offset : page.offset + min(page.count, self.cap)]
        return Page(tuple(items), page.offset, page.offset + len(items) < len(found))

    async def get_patches(self, ids: Sequence[str]) -> list[Patch | None]:
        self.details += len(ids)
        by_id = {p.id: p for p in self.patches}
        return [by_id.get(i) for i in ids]

    async def list_changes(
        self, flt: ChangeFilter, page: PageRequest, descending: bool
    ) -> Page[ChangeRecord]:
        pushed = PatchFilter(since=flt.updated_since)
        src: Any = self
        if descending:
            found = await activity.list_by_activity(src, flt, pushed, page)
        else:
            found = await activity.list_by_activity_ascending(src, flt, pushed, page)
        return Page(found.items, found.offset, found.has_next)


def _event(n: int, category: str, pid: int, minute: int) -> dict[str, Any]:
    return {
        "id": n,
        "category": category,
        "date": format_date(T0 + timedelta(minutes=minute)),
        "project": None,
        "payload": {"patch": {"id": pid}},
    }


def _fleet(
    mails: list[int], touches: list[tuple[int, int, bool]], cap: int
) -> tuple[FakePatchwork, dict[int, datetime]]:
    """Patches mailed at ``mails`` minutes; each touch (patch index, minutes later, check?)
    is a state change or a check some minutes after the mail. Returns the expected activity."""
    patches = [_patch(i, m) for i, m in enumerate(mails)]
    events, latest = [], {i: p.date for i, p in enumerate(patches)}
    for n, (index, later, check) in enumerate(touches):
        pid = index % len(mails)
        minute = mails[pid] + later
        events.append(_event(n, "check-created" if check else "patch-state-changed", pid, minute))
        events.append(_event(1000 + n, "patch-created", pid, minute + 500))  # not activity
        latest[pid] = max(latest[pid], T0 + timedelta(minutes=minute))
    return FakePatchwork(patches, events, cap), latest


async def _walk(
    listers: dict[str, Any], first: int, descending: bool, flt: ChangeFilter
) -> list[Any]:
    seen: list[Any] = []
    after = None
    for _ in range(500):
        page = await merge_page(listers, {n: flt for n in listers}, first, after, descending)
        records = [r for r, _ in page.edges]
        keys = [r.updated_at for r in records]
        assert keys == sorted(keys, reverse=descending)
        seen += records
        if not page.has_next:
            return seen
        after = page.edges[-1][1]
    raise AssertionError("the walk did not end")


@settings(max_examples=60, deadline=None)
@given(
    mails=st.lists(st.integers(0, 60), min_size=1, max_size=25),
    touches=st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 120), st.booleans()), max_size=25
    ),
    cap=st.integers(1, 8),
    first=st.integers(1, 9),
    descending=st.booleans(),
    other=st.lists(st.integers(0, 200), max_size=10),
)
def test_activity_walk_returns_each_patch_once_in_order(
    mails: list[int],
    touches: list[tuple[int, int, bool]],
    cap: int,
    first: int,
    descending: bool,
    other: list[int],
) -> None:
    pw, latest = _fleet(mails, touches, cap)
    listers: dict[str, Any] = {"pw": pw, "other": _backend("other", other, 3)}
    seen = asyncio.run(_walk(listers, first, descending, ChangeFilter()))
    mine = [r for r in seen if r.backend == "pw"]
    assert sorted(int(r.id) for r in mine) == list(range(len(mails))), "dropped or repeated"
    assert len([r for r in seen if r.backend == "other"]) == len(other)
    for r in mine:
        assert r.updated_at == latest[int(r.id)]
        # "pending" without any check is None, whether the events read covered it or not
        assert (r.check_state is None) == (r.id not in pw.checked()), r.id


@settings(max_examples=40, deadline=None)
@given(
    mails=st.lists(st.integers(0, 60), min_size=1, max_size=20),
    touches=st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 120), st.booleans()), max_size=20
    ),
    since=st.integers(0, 150),
    first=st.integers(1, 9),
    descending=st.booleans(),
)
def test_updated_since_finds_old_patches_touched_since(
    mails: list[int],
    touches: list[tuple[int, int, bool]],
    since: int,
    first: int,
    descending: bool,
) -> None:
    pw, latest = _fleet(mails, touches, 4)
    bound = T0 + timedelta(minutes=since)
    flt = ChangeFilter(updated_since=bound)
    seen = asyncio.run(_walk({"pw": pw}, first, descending, flt))
    wanted = sorted(pid for pid, at in latest.items() if at >= bound)
    assert sorted(int(r.id) for r in seen) == wanted
    for r in seen:  # checks older than the bound (and its events read) still count
        assert (r.check_state is None) == (r.id not in pw.checked()), r.id


def test_pending_without_checks_is_no_check_state() -> None:
    pw, _ = _fleet([0, 10, 20], [(0, 5, True), (1, 5, False)], 10)
    page = asyncio.run(pw.list_changes(ChangeFilter(), PageRequest(0, 10), True))
    states = {r.id: r.check_state for r in page.items}  # type: ignore[attr-defined]
    assert states == {"0": CheckState.PENDING, "1": None, "2": None}
    assert all(r.raw["check"] == "pending" for r in page.items)  # type: ignore[attr-defined]
    assert pw.client.reads == 1 and pw.details == 0  # one events read, no per-patch read


def test_an_old_patch_with_recent_activity_is_read_once_and_comes_first() -> None:
    pw, _ = _fleet([0, 100, 110, 120], [(0, 200, False)], 10)
    page = asyncio.run(pw.list_changes(ChangeFilter(), PageRequest(0, 2), True))
    assert [r.id for r in page.items] == ["0", "3"] and page.has_next
    assert pw.client.reads == 1 and pw.details == 1  # promoted: its one detail read
    # mailed before the events read's start: whether it has checks is asked (one read)
    assert pw.presence_reads == 1 and page.items[0].check_state is None  # type: ignore[attr-defined]


def test_a_promoted_patch_keeps_its_checks_older_than_the_events_read() -> None:
    pw, _ = _fleet([0, 100, 110, 120], [(0, 5, True), (0, 200, False)], 10)
    page = asyncio.run(pw.list_changes(ChangeFilter(), PageRequest(0, 2), True))
    assert [r.id for r in page.items] == ["0", "3"]
    states = [r.check_state for r in page.items]  # type: ignore[attr-defined]
    assert states == [CheckState.PENDING, None] and pw.presence_reads == 1


def test_a_filtered_list_read_whole_reads_no_other_patch() -> None:
    # Patch 99 (another submitter's, say) has recent activity but is not in the filtered
    # list, which was read to its end: nothing it lacks can match, so no detail read.
    pw, _ = _fleet([0, 10, 20], [(0, 50, False)], 10)
    pw.client.events.append(_event(900, "patch-state-changed", 99, 60))
    page = asyncio.run(pw.list_changes(ChangeFilter(), PageRequest(0, 10), True))
    assert [r.id for r in page.items] == ["0", "2", "1"] and not page.has_next
    assert pw.client.reads == 1 and pw.details == 0


def test_a_server_without_an_event_log_is_listed_by_mail_date() -> None:
    pw, _ = _fleet([0, 10, 20], [(0, 50, False)], 10)

    async def no_log(rel: str, params: dict[str, Any], kind: Any, parse: Any) -> list[Any]:
        raise NotFound("pw", "no events here")

    pw.client.all_mapped = no_log  # type: ignore[method-assign]
    page = asyncio.run(pw.list_changes(ChangeFilter(), PageRequest(0, 10), True))
    assert [r.id for r in page.items] == ["2", "1", "0"]
    assert all(r.check_state is CheckState.PENDING for r in page.items)  # type: ignore[attr-defined]


@pytest.mark.parametrize("checked", [True, False])
@pytest.mark.parametrize("minutes", [None, -5, 5])
def test_a_patch_as_a_change_equals_the_constructed_record(
    checked: bool, minutes: int | None
) -> None:
    patch = _patch(7, 30)
    latest = {} if minutes is None else {"7": patch.date + timedelta(minutes=minutes)}
    found = activity.Activity(latest=latest, checked={"7"} if checked else set())
    change = found.of(patch)
    values = {f.name: getattr(patch, f.name) for f in dataclasses.fields(Patch)}
    values["check_state"] = CheckState.PENDING if checked else None
    expected = TrackedPatch(**values, updated=max([patch.date, *latest.values()]))
    assert type(change) is TrackedPatch and change == expected and repr(change) == repr(expected)
    assert change.raw is patch.raw and change.updated_at == expected.updated_at
