"""The pieces several list resolvers share (one copy each): ``pick_backend`` (patches,
bundles, ABF's lists) and ``merged_edges`` (events and changes merged across backends)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from adapters.errors import Timeout
from schema.context import pick_backend
from schema.errors import UserInputError
from schema.merge import MergedPage
from schema.pagination import merged_edges


class _Port:
    pass


class _Context:
    def __init__(self, capable: list[str]) -> None:
        self.names = capable
        self.asked: list[str] = []
        self.reported: list[tuple[Any, Exception]] = []

    def capable(self, name: str, port: type[Any], what: str) -> object:
        self.asked.append(name)
        if name not in self.names:
            raise UserInputError(f"backend {name!r} does not provide {what}", "UNSUPPORTED")
        return object()

    def all_capable(self, port: type[Any]) -> list[tuple[str, object]]:
        return [(n, object()) for n in self.names]

    def report(self, info: Any, error: Exception) -> None:
        self.reported.append((info, error))


def _info(capable: list[str]) -> Any:
    return SimpleNamespace(context=_Context(capable))


def test_pick_backend_names_checks_and_chooses_the_only_capable_one() -> None:
    info = _info(["a", "b"])
    assert pick_backend(info, "b", _Port, "patches") == "b" and info.context.asked == ["b"]
    with pytest.raises(UserInputError) as refused:
        pick_backend(info, "c", _Port, "patches")
    assert refused.value.code == "UNSUPPORTED"
    assert pick_backend(_info(["only"]), None, _Port, "patches") == "only"


@pytest.mark.parametrize(
    ("hint", "expected"),
    [(None, "set filter.backend"), ("give backend", "give backend")],
)
def test_pick_backend_asks_for_a_name_among_several_with_the_callers_hint(
    hint: str | None, expected: str
) -> None:
    extra = {} if hint is None else {"hint": hint}
    with pytest.raises(UserInputError) as several:
        pick_backend(_info(["a", "b"]), None, _Port, "bundles", **extra)
    assert several.value.code == "BACKEND_REQUIRED"
    assert several.value.message == f"several backends provide bundles (a, b): {expected}"
    with pytest.raises(UserInputError) as none:
        pick_backend(_info([]), None, _Port, "bundles")
    assert (none.value.code, none.value.message) == (
        "UNSUPPORTED",
        "no configured backend provides bundles",
    )


def test_merged_edges_convert_each_record_and_report_the_missing_backends() -> None:
    info = _info([])
    lost = Timeout("c", "exceeded its time budget")
    page = MergedPage(
        edges=[(1, "k1"), (2, "k2")], has_next=True, has_previous=False, missing={"c": lost}
    )
    edges, page_info = merged_edges(info, page, lambda n: n * 10)
    assert [(e.cursor, e.node) for e in edges] == [("k1", 10), ("k2", 20)]
    assert (page_info.start_cursor, page_info.end_cursor) == ("k1", "k2")
    assert page_info.has_next_page and not page_info.has_previous_page
    assert info.context.reported == [(info, lost)]
    empty = MergedPage(edges=[], has_next=False, has_previous=True, missing={})
    _, empty_info = merged_edges(info, empty, str)
    assert (empty_info.start_cursor, empty_info.end_cursor) == (None, None)
    assert empty_info.has_previous_page
