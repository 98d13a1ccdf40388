"""Root fields whose arguments are literals are called with arguments converted once per plan
(``schema/execution/rootcall.py``); their answers stay those of normal execution.

Over the simulator: literal, default, list, enum, nested-input and datetime arguments,
variables (converted per request), invalid values (validation and resolver errors) — the
answer with the fast path off and on, twice (the second run reuses the converted
arguments), must be identical, and so must the upstream requests. On a test-only schema:
a resolver that changes its arguments does not change the next request's, and resolvers
without ``self``/``info`` or with a permission class answer as strawberry calls them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import strawberry
from graphql import parse
from strawberry.permission import BasePermission

from schema.build import build_schema
from schema.execution import FastPath, compile_operation, graphql_schema
from schema.node import encode
from tests.schema.test_fastpath import Harness, _normalised, running


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    with running() as h:
        yield h


GATEWAY_SCHEMA = graphql_schema(build_schema())  # what the gateway builds, for its plans
P44 = encode("Patch", "pw", "44")
NODES = "nodes { id title rawState createdAt }"
# (query, variables, converted at compilation); @N: the patch fields
CASES: list[tuple[str, dict[str, Any] | None, bool]] = [
    ('{ patches(first: 3, filter: {project: "generated"}) { @N } }', None, True),
    ("{ patches { totalCount @N } }", None, True),  # every argument its default
    (
        '{ patches(first: 4, filter: {project: "generated", states: ["new", "accepted"], '
        'order: "-date"}) { @N } }',
        None,
        True,
    ),
    (
        '{ patches(first: 2, filter: {since: "2000-01-01T00:00:00Z", archived: false}) { @N } }',
        None,
        True,
    ),
    (
        '{ changes(first: 3, filter: {states: [OPEN, MERGED], backends: ["pw"]}, '
        "orderBy: {field: UPDATED_AT, direction: ASC}) { nodes { __typename ... on Patch "
        "{ id title } } } }",
        None,
        True,
    ),
    (f'{{ node(id: "{P44}") {{ id ... on Patch {{ title }} }} }}', None, True),
    (f'{{ nodes(ids: ["{P44}", "{encode("Patch", "pw", "1")}"]) {{ id }} }}', None, True),
    ('{ project(backend: "pw", linkName: "generated") { id name } }', None, True),
    # variables sent to an operation that defines none: ignored, as graphql-core ignores them
    ('{ patches(first: 2, filter: {project: "generated"}) { @N } }', {"n": 5}, True),
    # variables: converted per request
    (
        "query Q($n: Int, $f: PatchFilterInput) { patches(first: $n, filter: $f) { @N } }",
        {"n": 2, "f": {"project": "generated", "states": ["new"]}},
        False,
    ),
    (
        'query Q($s: String!) { patches(first: 2, filter: {project: "generated", '
        "states: [$s]}) { @N } }",
        {"s": "new"},
        False,
    ),
    (
        "query Q($o: OrderDirection!) { changes(first: 2, orderBy: {field: UPDATED_AT, "
        "direction: $o}) { nodes { __typename } } }",
        {"o": "DESC"},
        False,
    ),
    # resolver errors from literal arguments: the error, each time
    ('{ patches(first: 0, filter: {project: "generated"}) { @N } }', None, True),
    ('{ node(id: "garbage!") { id } }', None, True),
    ("{ project { id } }", None, True),  # neither id nor backend: a coded user error
    ('{ patches(filter: {series: "nonsense"}) { @N } }', None, True),
]
# invalid values: validation errors, never planned
INVALID = [
    '{ patches(first: "x") { @N } }',
    '{ patches(filter: {since: "yesterday"}) { @N } }',
    "{ patches(filter: {nope: 1}) { @N } }",
    "{ changes(filter: {states: [SHUT]}) { nodes { __typename } } }",
]


@pytest.mark.parametrize(("query", "variables", "constant"), CASES)
def test_root_arguments_answer_as_normal_execution(
    harness: Harness, query: str, variables: dict[str, Any] | None, constant: bool
) -> None:
    query = query.replace("@N", NODES)
    plan = compile_operation(GATEWAY_SCHEMA, parse(query), None)
    assert plan is not None
    root = plan.roots[0]
    assert not isinstance(root, str)
    assert (root.call is not None) is constant, query
    slow, slow_upstream = harness.query(query, variables, fast=False)
    for _ in range(2):  # the second run: the same plan, its arguments made again
        hits = harness.fast.hits
        body, upstream = harness.query(query, variables, fast=True)
        assert harness.fast.hits == hits + 1, query
        assert _normalised(body) == _normalised(slow), query
        assert upstream == slow_upstream, query


@pytest.mark.parametrize("query", INVALID)
def test_invalid_literal_arguments_give_normal_errors(harness: Harness, query: str) -> None:
    query = query.replace("@N", NODES)
    slow, _ = harness.query(query, None, fast=False)
    fast, upstream = harness.query(query, None, fast=True)
    assert slow["errors"] and _normalised(fast) == _normalised(slow)
    assert upstream == 0


# -- a test-only schema ------------------------------------------------------------------


@strawberry.input
class Bag:
    items: list[str]
    label: str | None = None
    inner: Bag | None = None


class Never(BasePermission):
    message = "not for you"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


def _grab(bag: Bag) -> str:
    """What the resolver was given, then changed: the next request must not see it."""
    seen = f"{bag.label}:{','.join(bag.items)}:{bag.inner and ','.join(bag.inner.items)}"
    bag.items.append("changed")
    bag.label = "changed"
    if bag.inner is not None:
        bag.inner.items.clear()
    return seen


@strawberry.type
class Query:
    @strawberry.field
    def grab(self, bag: Bag, info: strawberry.Info) -> str | None:
        return _grab(bag) + f":{info.field_name}"

    @strawberry.field
    async def grab_later(self, bag: Bag) -> str | None:
        await asyncio.sleep(0)
        return _grab(bag)

    @strawberry.field
    @staticmethod
    def twice(n: int = 2) -> int | None:
        return 2 * n

    @strawberry.field
    def parent(root: Any, tags: list[str]) -> str:  # strawberry passes the parent as ``root``
        tags.append("x")
        return f"{root!r}:{len(tags)}"

    @strawberry.field(permission_classes=[Never])
    def secret(self, n: int = 1) -> int:
        return n

    @strawberry.field
    def fails(self, n: int) -> int:
        raise ValueError(f"no {n}")


FAST = FastPath()
SCHEMA = strawberry.Schema(query=Query, extensions=[FAST.extension()])
BAG = '{items: ["a", "b"], label: "l", inner: {items: ["c"]}}'


def _answer(query: str, fast: bool) -> dict[str, Any]:
    FAST.enabled = fast
    hits = FAST.hits
    result = asyncio.run(SCHEMA.execute(query, root_value="R"))
    assert FAST.hits == hits + fast, query
    errors = sorted((str(e.path), e.message) for e in result.errors or ())
    return {"data": result.data, "errors": errors}


@pytest.mark.parametrize(
    ("query", "constant"),
    [
        (f"{{ grab(bag: {BAG}) }}", True),
        (f"{{ grabLater(bag: {BAG}) }}", True),
        (f"{{ a: grab(bag: {BAG}) b: grabLater(bag: {BAG}) }}", True),
        ("{ twice twice3: twice(n: 3) }", True),
        ('{ parent(tags: ["t", "u"]) }', True),
        ("{ secret }", False),  # a permission class is a field extension: per request
        ("{ fails(n: 4) }", True),
    ],
)
def test_resolvers_get_their_own_arguments_each_request(query: str, constant: bool) -> None:
    plan = compile_operation(graphql_schema(SCHEMA), parse(query), None)
    assert plan is not None
    assert all((r.call is not None) is constant for r in plan.roots if not isinstance(r, str))
    slow = _answer(query, fast=False)
    assert _answer(query, fast=True) == slow
    assert _answer(query, fast=True) == slow  # unchanged by what the first one changed
    if "grab" in query:
        assert "changed" not in str(slow)
