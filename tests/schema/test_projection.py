"""Record → response projections (schema/execution/projection.py): lazy pages and the record path.

That projected responses equal normal execution is the differential tests' job
(``test_fastpath.py`` and ``test_fastpath_errors.py`` run the record builders); these check
the pieces: a page's records convert once and only when read, and a planned list query
builds its response without converting a single record.
"""

from __future__ import annotations

from typing import Any

import pytest

from adapters.model import Page
from schema.execution import LazyList, RecordList
from schema.pagination import connection, offset_cursor
from schema.types import Patch
from tests.schema.test_fastpath import Harness


def test_record_list_converts_once_on_first_read() -> None:
    calls: list[int] = []

    def convert(n: int) -> str:
        calls.append(n)
        return f"<{n}>"

    items = RecordList([1, 2, 3], convert)
    assert len(items) == 3 and calls == []
    assert list(items) == ["<1>", "<2>", "<3>"] and items[1] == "<2>" and items[:1] == ["<1>"]
    assert items == ["<1>", "<2>", "<3>"] and items == RecordList([1, 2, 3], convert)
    assert calls == [1, 2, 3, 1, 2, 3]  # the second RecordList converted its own
    assert repr(LazyList(lambda: [1])) == "[1]" and LazyList(lambda: [1]) == [1]


def test_connection_edges_and_cursors_as_before() -> None:
    page = Page(items=("a", "b"), offset=4, has_next=True, total=None)
    conn = connection(page, str.upper)
    assert conn.nodes == ["A", "B"]
    assert [(e.cursor, e.node) for e in conn.edges] == [
        (offset_cursor(4), "A"),
        (offset_cursor(5), "B"),
    ]
    assert conn.page_info.start_cursor == offset_cursor(4)
    assert conn.page_info.end_cursor == offset_cursor(5)
    empty = connection(Page(items=(), offset=0, has_next=False, total=0), str.upper)
    assert empty.page_info.start_cursor is None and empty.page_info.end_cursor is None


def test_planned_list_builds_from_records(monkeypatch: pytest.MonkeyPatch) -> None:
    harness = Harness()
    try:
        query = """{ patches(first: 100, filter: {project: "generated"}) { nodes {
          id title state rawState createdAt webUrl checkState
          author { name email displayName } project { name linkName } } } }"""
        slow, _ = harness.query(query, None, fast=False)
        converted: list[object] = []
        original = RecordList.items

        def spy(self: RecordList[object, object]) -> list[object]:
            converted.append(self)
            return original(self)

        monkeypatch.setattr(RecordList, "items", spy)
        hits = harness.fast.hits
        fast, _ = harness.query(query, None, fast=True)
        assert harness.fast.hits == hits + 1
        assert fast == slow
        assert converted == []
    finally:
        harness.close()


def test_check_state_list_builds_patches_from_records(monkeypatch: pytest.MonkeyPatch) -> None:
    """``checkState`` reads the request's check presence (a contextual resolver): the patches
    are still built from their records, no ``Patch`` object made, and answer as normal
    execution does."""
    made: list[object] = []
    init = Patch.__init__

    def spy(self: Patch, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        init(self, *args, **kwargs)

    monkeypatch.setattr(Patch, "__init__", spy)
    harness = Harness()
    try:
        query = """{ patches(first: 100, filter: {project: "generated"}) { nodes {
          id checkState rawCheckState author { name } project { name } } } }"""
        harness.query(query, None, fast=False)  # the presence read's first, longer, window
        slow, slow_reads = harness.query(query, None, fast=False)
        assert len(made) == 200  # the spy sees normal execution's objects
        hits = harness.fast.hits
        fast, fast_reads = harness.query(query, None, fast=True)
        assert harness.fast.hits == hits + 1
        assert (fast, fast_reads) == (slow, slow_reads)
        states = {n["checkState"] for n in fast["data"]["patches"]["nodes"]}
        assert {None, "PENDING"} <= states  # both of the presence read's answers were built
        assert len(made) == 200
    finally:
        harness.close()
