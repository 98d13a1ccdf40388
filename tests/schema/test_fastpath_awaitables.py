"""Synchronous resolvers that return an awaitable answer the same on the fast path.

graphql-core awaits whatever a resolver returns when it is awaitable, so a ``def`` resolver
may hand back a coroutine and normal execution answers its value. A plan compiles such a
resolver (nothing in its signature says it will) and must answer identically: the value, or
``null`` plus the error at the same path, with ``null`` propagated to the same parent when
the field is non-null — for leaves and objects, nullable or not, nested under lists, lists of
non-null items and non-null roots. A test-only schema (its resolvers read the item's
``modes``: value, ``None`` or an exception per field) runs generated queries normally and
through plans (generated builders and the generic walk); data and errors must be identical.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any

import pytest
import strawberry
from hypothesis import given, settings
from hypothesis import strategies as st

from schema.execution import FastPath

MODES = "vnx"  # the awaitable gives: a value, None, or raises


class Broken(Exception):
    """What a failing awaitable raises."""


async def _settled(mode: str, value: Any) -> Any:
    if mode == "x":
        raise Broken(f"broken {value!r}")
    return None if mode == "n" else value


class _Later:
    """An awaitable of ``value`` (per ``mode``) that starts nothing until awaited, as a
    loader's future: normal execution that fails early may leave some never awaited."""

    def __init__(self, mode: str, value: Any) -> None:
        self.mode, self.value = mode, value

    def __await__(self) -> Generator[Any, None, Any]:
        return _settled(self.mode, self.value).__await__()


def _later(mode: str, value: Any) -> Any:
    """What a synchronous resolver returns here: an awaitable, not a value."""
    return _Later(mode, value)


@strawberry.type
class Item:
    id: int
    # per field (value, optional, child, maybeChild): what its awaitable gives
    modes: strawberry.Private[str]

    @strawberry.field
    def value(self) -> int:
        return _later(self.modes[0], self.id * 10)  # type: ignore[no-any-return]

    @strawberry.field
    def optional(self) -> int | None:
        return _later(self.modes[1], self.id * 100)  # type: ignore[no-any-return]

    @strawberry.field
    def eager(self) -> int:  # a coroutine object, created by the call
        return _settled(self.modes[0], self.id * 10)  # type: ignore[return-value]

    @strawberry.field
    def child(self) -> Item:
        return _later(self.modes[2], _child(self))  # type: ignore[no-any-return]

    @strawberry.field
    def maybe_child(self) -> Item | None:
        return _later(self.modes[3], _child(self))  # type: ignore[no-any-return]


def _child(item: Item) -> Item:
    return Item(id=item.id + 1, modes=item.modes[1:] + item.modes[:1])


@strawberry.type
class Query:
    @strawberry.field
    def items(self, info: strawberry.Info) -> list[Item | None]:
        return list(info.context["items"])

    @strawberry.field
    def strict_items(self, info: strawberry.Info) -> list[Item]:
        return list(info.context["items"])

    @strawberry.field
    def item(self, info: strawberry.Info) -> Item | None:
        return info.context["items"][0]  # type: ignore[no-any-return]

    @strawberry.field
    def strict_item(self, info: strawberry.Info) -> Item:
        return info.context["items"][0]  # type: ignore[no-any-return]


FAST = FastPath()
SCHEMA = strawberry.Schema(query=Query, extensions=[FAST.extension()])
LEAVES = ["id", "value", "optional", "__typename"]
ROOTS = ["items", "strictItems", "item", "strictItem"]


@st.composite
def _selection(draw: st.DrawFn, depth: int) -> str:
    fields = draw(st.lists(st.sampled_from(LEAVES), min_size=1, max_size=3, unique=True))
    if depth:
        for name in ("child", "maybeChild"):
            if draw(st.booleans()):
                fields.append(f"{name} {{ {draw(_selection(depth - 1))} }}")
    return " ".join(fields)


@st.composite
def _case(draw: st.DrawFn) -> tuple[str, list[Item]]:
    # one root field: with two, one of them non-null, an operation is never planned, and
    # graphql-core leaves the sibling's coroutines unawaited when the non-null one fails
    body = f"{draw(st.sampled_from(ROOTS))} {{ {draw(_selection(2))} }}"
    modes = st.text(alphabet=MODES, min_size=4, max_size=4)
    items = [Item(id=n, modes=draw(modes)) for n in range(1, draw(st.integers(1, 4)) + 1)]
    return "{ " + body + " }", items


def _answer(query: str, items: list[Item], fast: bool, codegen: bool = True) -> dict[str, Any]:
    FAST.enabled = fast
    FAST.set_codegen(codegen)
    FAST.clear()  # compiled afresh: a plan dropped by an earlier example is planned again
    answered = FAST.hits + FAST.replays
    result = asyncio.run(SCHEMA.execute(query, context_value={"items": items}))
    # the fast path answered: a plan, or normal execution after the plan stopped
    assert FAST.hits + FAST.replays == answered + fast, query
    errors = sorted((str(e.path), e.message) for e in result.errors or ())
    return {"data": result.data, "errors": errors}


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(case=_case())
def test_sync_resolvers_returning_awaitables_answer_as_normal_execution(
    case: tuple[str, list[Item]],
) -> None:
    query, items = case
    slow = _answer(query, items, fast=False)
    assert _answer(query, items, fast=True) == slow, query
    assert _answer(query, items, fast=True, codegen=False) == slow, query


@pytest.mark.parametrize(
    ("modes", "data", "errors"),
    [
        ("vvvv", {"item": {"value": 10}}, []),
        ("nvvv", {"item": None}, [("['item', 'value']", "Cannot return null")]),
        ("xvvv", {"item": None}, [("['item', 'value']", "broken 10")]),
    ],
)
def test_a_non_null_awaitable_is_its_value_or_nulls_its_parent(
    modes: str, data: dict[str, Any], errors: list[tuple[str, str]]
) -> None:
    query, items = "{ item { value } }", [Item(id=1, modes=modes)]
    if modes == "vvvv":  # a coroutine (closed unstarted by the plan, created again normally)
        query = "{ item { eager value } }"
        data = {"item": {"eager": 10, "value": 10}}
    replays = FAST.replays
    answer = _answer(query, items, fast=True)
    assert FAST.replays == replays + 1  # the plan stopped at the awaitable: answered normally
    assert answer["data"] == data
    assert [(p, m.split(" for")[0]) for p, m in answer["errors"]] == errors
    # … and the operation is not planned again: the next request runs normally from the start
    hits = FAST.hits
    assert asyncio.run(SCHEMA.execute(query, context_value={"items": items})).data == data
    assert (FAST.hits, FAST.replays) == (hits, replays + 1)
