"""``schema.context.selects``: whether a field's selection asks for a field of a given name.

Its answer is kept per parsed document (the document gate caches a query text's parse), so
a repeated document is not converted again; a new document is always looked at afresh.
"""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from graphql import ExecutionResult, execute, parse
from strawberry.types import info as strawberry_info
from strawberry.types import nodes

from schema.context import selects


@strawberry.type
class Leaf:
    mark: int = 1
    other: int = 2


@strawberry.type
class Box:
    leaf: Leaf = strawberry.field(default_factory=Leaf)


@strawberry.type
class Query:
    @strawberry.field
    def box(self, info: strawberry.Info) -> Box:
        info.context["found"].append(selects(info, "mark"))
        return Box()


SCHEMA = strawberry.Schema(query=Query)


def _run(document: Any) -> list[bool]:
    found: list[bool] = []
    result = execute(SCHEMA._schema, document, context_value={"found": found})
    assert isinstance(result, ExecutionResult) and result.errors is None, result
    return found


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ box { leaf { mark } } }", True),
        ("{ box { leaf { other } } }", False),
        ("{ box { leaf { ...L } } } fragment L on Leaf { mark }", True),
        ("{ box { ... on Box { leaf { mark } } } }", True),
        ("{ a: box { leaf { other } } b: box { leaf { mark } } }", False),
    ],
)
def test_selects_finds_the_name_in_the_selection(query: str, expected: bool) -> None:
    found = _run(parse(query))
    assert found[0] is expected
    assert _run(parse(query))[0] is expected  # another parse of the same text: the same


def test_a_repeated_document_is_not_converted_again(monkeypatch: pytest.MonkeyPatch) -> None:
    document = parse("{ box { leaf { mark } } }")
    assert _run(document) == [True]
    converted: list[object] = []
    original = nodes.convert_selections  # what strawberry's Info.selected_fields calls

    def spy(info: Any, field_nodes: Any) -> Any:
        converted.append(field_nodes)
        return original(info, field_nodes)

    monkeypatch.setattr(strawberry_info, "convert_selections", spy)
    assert _run(document) == [True] and converted == []
    assert _run(parse("{ box { leaf { other } } }")) == [False] and len(converted) == 1
