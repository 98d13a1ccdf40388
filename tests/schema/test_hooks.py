"""CachedHooksRunner runs the same extension hooks as strawberry's runner, in the same order.

Every kind of hook strawberry accepts — generator, async generator, plain function, coroutine
function — on every stage, plus an extension overriding none, an error raised inside a hook
and a subclass overriding its parent's hook: the events recorded with strawberry's own
``SchemaExtensionsRunner`` and with ``CachedHooksRunner`` must be identical, request after
request (the second request is answered from the per-class table).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

from schema.execution.hooks import CachedHooksRunner, HookCachingSchema, HookTables

EVENTS: list[str] = []


class Generators(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        EVENTS.append(f"gen operation enter {type(self).__name__}")
        yield
        EVENTS.append("gen operation exit")

    def on_parse(self) -> Iterator[None]:
        EVENTS.append("gen parse enter")
        yield
        EVENTS.append("gen parse exit")

    def on_execute(self) -> Iterator[None]:
        EVENTS.append("gen execute enter")
        yield
        EVENTS.append(f"gen execute exit errors={bool(self.execution_context.result.errors)}")  # type: ignore[union-attr]


class AsyncGenerators(SchemaExtension):
    async def on_validate(self) -> AsyncIterator[None]:
        EVENTS.append("agen validate enter")
        yield
        EVENTS.append("agen validate exit")

    async def on_execute(self) -> AsyncIterator[None]:
        EVENTS.append("agen execute enter")
        yield
        EVENTS.append("agen execute exit")


class Plain(SchemaExtension):
    def on_parse(self) -> None:  # type: ignore[override]
        EVENTS.append("plain parse")

    async def on_validate(self) -> None:  # type: ignore[override]
        EVENTS.append("coroutine validate")


class Nothing(SchemaExtension):
    pass


class Child(Generators):
    def on_parse(self) -> Iterator[None]:
        EVENTS.append("child parse enter")
        yield
        EVENTS.append("child parse exit")


class Raising(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        EVENTS.append("raising execute enter")
        try:
            yield
        finally:
            EVENTS.append("raising execute exit")


class Results(SchemaExtension):
    def get_results(self) -> dict[str, Any]:
        EVENTS.append("results")
        return {"sync": 1, "shared": "sync"}


class AsyncResults(SchemaExtension):
    async def get_results(self) -> dict[str, Any]:
        EVENTS.append("async results")
        return {"async": 2, "shared": "async"}


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        EVENTS.append("resolver")
        return "world"

    @strawberry.field
    def boom(self) -> str:
        EVENTS.append("resolver boom")
        raise ValueError("boom")


def _schema(
    runner: type[SchemaExtensionsRunner],
    extensions: tuple[type[SchemaExtension], ...] = (
        Generators,
        AsyncGenerators,
        Plain,
        Nothing,
        Child,
        Raising,
        Results,
        AsyncResults,
    ),
) -> strawberry.Schema:
    class Schema(strawberry.Schema):
        def create_extensions_runner(
            self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
        ) -> SchemaExtensionsRunner:
            return runner(execution_context=execution_context, extensions=extensions)

    return Schema(query=Query, extensions=list(extensions))


async def _events(
    runner: type[SchemaExtensionsRunner], query: str, *extensions: type[SchemaExtension]
) -> tuple[list[str], Any]:
    EVENTS.clear()
    result = await (_schema(runner, extensions) if extensions else _schema(runner)).execute(query)
    return EVENTS[:], (result.data, [e.message for e in result.errors or []], result.extensions)


@pytest.mark.parametrize("query", ["{ hello }", "{ boom }", "{ nope }", "{ hello"])
async def test_cached_runner_calls_every_hook_as_strawberry_does(query: str) -> None:
    for _ in range(2):  # the second time, the cached runner answers from its table
        expected = await _events(SchemaExtensionsRunner, query)
        got = await _events(CachedHooksRunner, query)
        assert got == expected
    assert "agen validate enter" in expected[0] or query == "{ hello"
    assert "plain parse" in expected[0] and "child parse enter" in expected[0]
    if query != "{ hello":  # a syntax error ends before any extension results are asked
        assert expected[1][2] == {"sync": 1, "async": 2, "shared": "async"}


async def test_tables_stay_bounded_and_right_across_schema_builds() -> None:
    """Each reload builds new extension classes; past ``max_entries`` the tables start over,
    and every schema still runs exactly strawberry's hooks."""
    tables = HookTables(max_entries=3)  # one schema's tables, shared by every runner below
    cached = functools.partial(CachedHooksRunner, tables=tables)
    for combination in [(Generators,), (Plain, Raising), (Child, Nothing), (AsyncGenerators,)] * 2:
        fresh = [type(f"Fresh{cls.__name__}", (cls,), {}) for cls in combination]
        expected = await _events(SchemaExtensionsRunner, "{ hello }", *fresh)
        assert await _events(cached, "{ hello }", *fresh) == expected  # type: ignore[arg-type]
        assert len(tables.stages) <= 3 and len(tables.kinds) <= 3


async def test_each_schema_owns_its_tables() -> None:
    """The tables belong to the schema that filled them (a reload's new schema starts
    afresh, the old one's go with it): no process-wide table."""
    from schema.build import build_schema

    first, second = build_schema(), build_schema()
    for schema in (first, second):
        assert (await schema.execute("{ __typename }")).data == {"__typename": "Query"}
    assert isinstance(first, HookCachingSchema) and isinstance(second, HookCachingSchema)
    tables = first._hook_tables
    assert tables is not None and tables.stages and tables is not second._hook_tables
