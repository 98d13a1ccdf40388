"""Validation cached by query text (``schema/execution/validation.py``): the same answers as
validating every time, computed once per text and rules, bounded."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse
from graphql.validation import specified_rules

from schema.build import build_schema
from schema.execution import TextValidationCache, graphql_schema
from schema.execution.strawberry_private import validate_document
from schema.limits import QueryLimits

VALID = "{ patches(first: 1) { nodes { id title } } }"
INVALID = "{ patches(first: 1) { nodes { id nope } } }"
RULES = tuple(specified_rules)


def _messages(errors: list[Any]) -> list[str]:
    return [e.message for e in errors]


@pytest.mark.parametrize("text", [VALID, INVALID, "{ __typename }"])
def test_same_errors_as_validating_every_time_and_validated_once(text: str) -> None:
    schema = graphql_schema(build_schema())
    cache = TextValidationCache(8)
    expected = _messages(validate_document(schema, parse(text), RULES))
    first = cache.validate(schema, parse(text), text, RULES)
    second = cache.validate(schema, parse(text), text, RULES)  # a new document, the same text
    assert _messages(first) == _messages(second) == expected
    assert second is not first and cache.hits == 1  # a list of its own per request
    assert bool(expected) == (text == INVALID)


def test_rules_are_part_of_the_key_and_a_missing_text_is_never_cached() -> None:
    schema = graphql_schema(build_schema())
    cache = TextValidationCache(8)

    cache.validate(schema, parse(VALID), VALID, RULES)
    cache.validate(schema, parse(VALID), VALID, RULES)
    assert cache.hits == 1 and len(cache) == 1
    fewer = RULES[:-1]  # another rule set: validated again
    cache.validate(schema, parse(VALID), VALID, fewer)
    assert cache.hits == 1 and len(cache) == 2
    cache.validate(schema, parse(INVALID), None, RULES)
    assert cache.hits == 1 and len(cache) == 2


def test_bounded_least_recently_used_first_out() -> None:
    schema = graphql_schema(build_schema())
    cache = TextValidationCache(2)
    texts = [f"{{ a{i}: __typename }}" for i in range(3)]
    for text in (texts[0], texts[1], texts[0], texts[2]):  # texts[1] is the oldest at the end
        cache.validate(schema, parse(text), text, RULES)
    assert len(cache) == 2 and cache.hits == 1
    cache.validate(schema, parse(texts[0]), texts[0], RULES)
    assert cache.hits == 2  # kept
    cache.validate(schema, parse(texts[1]), texts[1], RULES)
    assert cache.hits == 2  # evicted, validated again


async def test_the_schema_refuses_an_invalid_query_every_time_with_its_code() -> None:
    schema = build_schema(QueryLimits())
    for _ in range(2):  # the second answer comes from the cache
        result = await schema.execute(INVALID)
        assert result.errors and "nope" in result.errors[0].message
        assert (result.errors[0].extensions or {}).get("code") == "GRAPHQL_VALIDATION_FAILED"
    ok = await schema.execute("{ __typename }")
    assert ok.errors is None and ok.data == {"__typename": "Query"}
