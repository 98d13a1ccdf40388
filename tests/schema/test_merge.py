"""The federated merge: no change dropped or repeated, whatever the backends' sizes and pages."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import ChangeFilter
from adapters.breaker import Breakers, CircuitBreaker
from adapters.errors import NotFound, Unavailable
from adapters.model import ChangeRecord, ChangeState, Page, PageRequest, Person, Project
from schema.errors import UserInputError
from schema.merge import Feed, Reach, Stream, decode_cursor, matches, merge_page

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FakeChange:
    backend: str
    id: str
    title: str
    state: ChangeState
    updated_at: datetime
    project: Project | None = None
    author: Person | None = None


class FakeLister:
    """A backend holding ``changes`` in update order, answering at most ``cap`` per window."""

    def __init__(self, changes: list[FakeChange], cap: int, fail: bool = False) -> None:
        self.changes = changes
        self.cap = cap
        self.fail = fail
        self.calls = 0
        self.hang = False

    async def list_changes(
        self, flt: ChangeFilter, page: PageRequest, descending: bool
    ) -> Page[ChangeRecord]:
        self.calls += 1
        if self.fail:
            raise Unavailable("x", "down")
        if self.hang:
            await asyncio.sleep(30)
        ordered = sorted(self.changes, key=lambda c: c.updated_at, reverse=descending)
        items = ordered[page.offset : page.offset + min(page.count, self.cap)]
        has_next = page.offset + len(items) < len(ordered)
        return Page(items=tuple(items), offset=page.offset, has_next=has_next)


def _backend(name: str, minutes: list[int], cap: int) -> FakeLister:
    changes = [
        FakeChange(name, str(i), f"{name} change {i}", ChangeState.OPEN, T0 + timedelta(minutes=m))
        for i, m in enumerate(minutes)
    ]
    return FakeLister(changes, cap)


async def _walk(listers: dict[str, FakeLister], first: int, descending: bool) -> list[ChangeRecord]:
    seen: list[ChangeRecord] = []
    after = None
    filters = {n: ChangeFilter() for n in listers}
    for _ in range(1000):
        page = await merge_page(listers, filters, first, after, descending)
        records = [r for r, _ in page.edges]
        keys = [r.updated_at for r in records]
        assert keys == sorted(keys, reverse=descending)
        seen += records
        if not page.has_next:
            break
        assert page.edges, "a page with more to come must not be empty"
        after = page.edges[-1][1]
    return seen


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    sizes=st.lists(
        st.tuples(
            st.lists(st.integers(0, 40), max_size=30),  # update minutes (ties are likely)
            st.integers(1, 7),  # the backend's own page cap
        ),
        min_size=1,
        max_size=4,
    ),
    first=st.integers(1, 12),
    descending=st.booleans(),
)
def test_merge_never_drops_or_repeats(
    sizes: list[tuple[list[int], int]], first: int, descending: bool
) -> None:
    listers = {f"b{i}": _backend(f"b{i}", minutes, cap) for i, (minutes, cap) in enumerate(sizes)}
    seen = asyncio.run(_walk(listers, first, descending))
    expected = {(c.backend, c.id) for lister in listers.values() for c in lister.changes}
    got = [(c.backend, c.id) for c in seen]
    assert len(got) == len(set(got)), "a change was repeated"
    assert set(got) == expected, "a change was dropped"


async def test_merge_failed_backend_is_missing_and_others_come_back() -> None:
    good = _backend("good", [1, 2, 3], 10)
    bad = _backend("bad", [4, 5], 10)
    bad.fail = True
    page = await merge_page(
        {"good": good, "bad": bad},
        {"good": ChangeFilter(), "bad": ChangeFilter()},
        10,
        None,
    )
    assert [r.id for r, _ in page.edges] == ["2", "1", "0"]
    assert set(page.missing) == {"bad"} and page.missing["bad"].code == "UPSTREAM_UNAVAILABLE"


async def test_merge_slow_backend_exceeds_budget() -> None:
    fast = _backend("fast", [1, 2], 10)
    slow = _backend("slow", [3], 10)
    slow.hang = True
    started = asyncio.get_running_loop().time()
    page = await merge_page(
        {"fast": fast, "slow": slow},
        {"fast": ChangeFilter(), "slow": ChangeFilter()},
        5,
        None,
        budget=0.2,
    )
    assert asyncio.get_running_loop().time() - started < 2
    assert [r.id for r, _ in page.edges] == ["1", "0"]
    assert page.missing["slow"].code == "UPSTREAM_TIMEOUT"


async def test_merge_gateway_filters_what_backends_ignore() -> None:
    lister = _backend("b", list(range(20)), 3)
    flt = ChangeFilter(search="change 1")  # matches 1 and 10..19
    page = await merge_page({"b": lister}, {"b": flt}, 50, None)
    assert sorted(int(r.id) for r, _ in page.edges) == [1, *range(10, 20)]
    assert not page.has_next


async def test_merge_cursor_bound_to_its_filter() -> None:
    lister = _backend("b", [1, 2, 3], 10)
    page = await merge_page({"b": lister}, {"b": ChangeFilter()}, 1, None)
    cursor = page.edges[0][1]
    with pytest.raises(UserInputError) as err:
        await merge_page({"b": lister}, {"b": ChangeFilter(search="x")}, 1, cursor)
    assert err.value.code == "BAD_CURSOR"
    with pytest.raises(UserInputError):
        decode_cursor("garbage!", "f", ["b"])


def test_merge_matches_every_filter() -> None:
    person = Person("b", "1", "Ada Lovelace", "ada@example.org", "ada")
    project = Project("b", "7", "Kernel", "kernel")
    change = FakeChange("b", "1", "Fix the Frobnicator", ChangeState.MERGED, T0, project, person)
    assert matches(change, ChangeFilter())
    assert matches(change, ChangeFilter(states=(ChangeState.MERGED,), search="frob"))
    assert not matches(change, ChangeFilter(states=(ChangeState.OPEN,)))
    assert matches(change, ChangeFilter(author="ADA@example.org"))
    assert matches(change, ChangeFilter(author="ada"))
    assert not matches(change, ChangeFilter(author="bob"))
    assert matches(change, ChangeFilter(projects=("kernel",)))
    assert matches(change, ChangeFilter(projects=("7",)))
    assert not matches(change, ChangeFilter(projects=("mesa",)))
    assert matches(change, ChangeFilter(updated_since=T0, updated_before=T0 + timedelta(1)))
    assert not matches(change, ChangeFilter(updated_before=T0))


async def test_merge_circuit_opens_skips_then_probes() -> None:
    now = [0.0]
    breakers = Breakers(threshold=2, reset_seconds=10, clock=lambda: now[0])
    bad = _backend("bad", [1], 10)
    bad.fail = True
    listers = {"bad": bad}
    filters = {"bad": ChangeFilter()}
    for _ in range(2):
        await merge_page(listers, filters, 5, None, breakers=breakers)
    assert bad.calls == 2 and breakers("bad").state == "open"
    page = await merge_page(listers, filters, 5, None, breakers=breakers)
    assert bad.calls == 2, "an open circuit must not call the backend"
    assert "circuit open" in page.missing["bad"].message
    now[0] = 11.0  # half-open: one probe goes out; it succeeds and closes the circuit
    bad.fail = False
    page = await merge_page(listers, filters, 5, None, breakers=breakers)
    assert bad.calls == 3 and [r.id for r, _ in page.edges] == ["0"]
    assert breakers("bad").state == "closed"


def test_breaker_ignores_answers_that_are_not_failures() -> None:
    breaker = CircuitBreaker(threshold=1)
    breaker.record(NotFound("b", "gone"))
    assert breaker.state == "closed"
    breaker.record(Unavailable("b", "down"))
    assert breaker.state == "open" and not breaker.allow()


class Gated(FakeLister):
    """Answers only once ``gate`` is set (a slower backend)."""

    def __init__(self, changes: list[FakeChange], gate: asyncio.Event) -> None:
        super().__init__(changes, cap=100)
        self.gate = gate

    async def list_changes(
        self, flt: ChangeFilter, page: PageRequest, descending: bool
    ) -> Page[ChangeRecord]:
        async with asyncio.timeout(5):  # a guard against a hang, not a timing assertion
            await self.gate.wait()
        return await super().list_changes(flt, page, descending)


class Short(FakeLister):
    """Offers 2 items per window (what it can order so far) and opens ``gate`` on its
    second read."""

    def __init__(self, changes: list[FakeChange], gate: asyncio.Event) -> None:
        super().__init__(changes, cap=2)
        self.gate = gate

    async def list_changes(
        self, flt: ChangeFilter, page: PageRequest, descending: bool
    ) -> Page[ChangeRecord]:
        if self.calls == 1:
            self.gate.set()
        return await super().list_changes(flt, page, descending)


async def test_merge_reads_a_short_window_s_next_one_before_slower_backends_answer() -> None:
    gate = asyncio.Event()
    short = Short(_backend("abf", [50, 49, 48, 47, 46], cap=2).changes, gate)
    slow = Gated(_backend("pw", [10, 9, 8], cap=100).changes, gate)
    listers = {"pw": slow, "abf": short}
    page = await merge_page(listers, {n: ChangeFilter() for n in listers}, 5, None)
    assert [r.backend for r, _ in page.edges] == ["abf"] * 5  # read ahead, or the gate hangs
    assert short.calls == 3


async def test_merge_reads_no_window_ahead_for_items_that_cannot_reach_the_page() -> None:
    short = _backend("abf", [1, 2, 3], cap=2)
    listers = {"pw": _backend("pw", [40, 41, 42], cap=100), "abf": short}
    page = await merge_page(listers, {n: ChangeFilter() for n in listers}, 3, None)
    assert [r.backend for r, _ in page.edges] == ["pw"] * 3
    assert short.calls == 1


def test_reach_follows_the_buffers_as_they_change() -> None:
    # Reach keeps the buffers' sorted keys between calls: a consumed head or a refilled
    # buffer must show in the next answer.
    async def none(_: PageRequest) -> Page[ChangeRecord]:
        raise AssertionError("not read")

    def change(name: str, minute: int) -> FakeChange:
        return FakeChange(name, str(minute), "t", ChangeState.OPEN, T0 + timedelta(minutes=minute))

    a = Stream("a", Feed(none), 0, 2)
    b = Stream("b", Feed(none), 0, 2)
    a.buffer = [(0, change("a", 9)), (1, change("a", 8))]
    a.version += 1
    late = change("b", 1)
    b.buffer = [(0, change("b", 7)), (1, late)]
    b.version += 1
    reach = Reach([a, b], lambda r: r.updated_at, first=2, descending=True)
    assert reach([late]) == []  # three newer known items ahead of it
    a.pop()
    a.pop()
    assert reach([late]) == [late]  # one left ahead of it
    a.buffer = [(2, change("a", 5)), (3, change("a", 4))]
    a.version += 1
    assert reach([late]) == []


async def test_merge_asks_the_longest_chains_first_and_orders_ties_by_configuration() -> None:
    """Backends whose first window takes more dependent reads (``LIST_WAVES``) hear of the page
    first; the page itself (ties included) is ordered as before, by configuration order."""
    heard: list[str] = []

    class Heard(FakeLister):
        def __init__(self, name: str, waves: int | None) -> None:
            super().__init__(_backend(name, [5, 3, 1], 10).changes, 10)
            self.name = name
            if waves is not None:
                self.LIST_WAVES = waves

        async def list_changes(
            self, flt: ChangeFilter, page: PageRequest, descending: bool
        ) -> Page[ChangeRecord]:
            heard.append(self.name)
            return await super().list_changes(flt, page, descending)

    listers = {"a": Heard("a", None), "b": Heard("b", 2), "c": Heard("c", 4), "d": Heard("d", 2)}
    page = await merge_page(listers, {n: ChangeFilter() for n in listers}, 12, None)
    assert heard == ["c", "b", "d", "a"]
    # equal update times: configuration order, whatever order the backends were asked in
    assert [r.backend for r, _ in page.edges][:4] == ["a", "b", "c", "d"]
