"""``selects``: whether a list's selection reaches a field, read from the query's own nodes
(it decides whether a list prefetches check presence)."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry

from schema.context import selects


@strawberry.type
class Item:
    title: str = "t"
    check_state: str = "s"

    @strawberry.field
    def child(self) -> Item:
        return Item()


@strawberry.type
class Conn:
    nodes: list[Item]


@strawberry.type
class Query:
    @strawberry.field
    def probe(self, info: strawberry.Info) -> Conn:
        info.context["seen"].append(selects(info, "checkState"))
        return Conn(nodes=[Item()])


SCHEMA = strawberry.Schema(Query)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ probe { nodes { checkState } } }", True),
        ("{ probe { nodes { title } } }", False),
        ("{ probe { nodes { child { checkState } } } }", True),
        # the field itself counts as a level: probe, nodes, child, child, then too deep
        ("{ probe { nodes { child { child { child { checkState } } } } } }", False),
        ("{ probe { ...F } } fragment F on Conn { nodes { checkState } }", True),
        ("{ probe { ... on Conn { nodes { checkState } } } }", True),
        ("{ probe { nodes { ... { checkState } } } }", True),
        # a fragment named like the field is not the field
        ("{ probe { ...checkState } } fragment checkState on Conn { nodes { title } }", False),
        ("{ probe { nodes { state: checkState } } }", True),  # an alias names the same field
        ("{ probe { nodes { checkState: title } } }", False),
    ],
)
def test_selects_reads_the_selection(query: str, expected: bool) -> None:
    context: dict[str, Any] = {"seen": []}
    result = SCHEMA.execute_sync(query, context_value=context)
    assert result.errors is None, result.errors
    assert context["seen"] == [expected]
