"""Normal execution of a request whose root resolvers have already run.

When a plan cannot answer a request identically (``run.RunNormally``), its root resolvers
have already run — and done their I/O. Calling them again would ask the upstream twice, so
graphql-core executes the operation as strawberry would (same executor class, awaitable
test, context, variables and operation extensions) with one middleware that answers each
root field with what its resolver gave the first time (awaitable again when it was, raising
again when it raised); every other field resolves as usual. The answer is normal
execution's, with the upstream requests of one execution.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import ExecutionResult, GraphQLResolveInfo
from graphql.execution import execute
from graphql.execution.middleware import MiddlewareManager

from schema.execution.runtime import RootOutcome
from schema.execution.strawberry_private import graphql_schema, strawberry_execute_options


async def _ready(outcome: RootOutcome) -> Any:
    if outcome.raised:
        raise outcome.value
    return outcome.value


class _ReplayRoots:
    """graphql-core middleware: root fields answer what their resolvers gave before."""

    def __init__(self, roots: Mapping[str, RootOutcome]) -> None:
        self.roots = roots

    def resolve(
        self, next_: Callable[..., Any], root: Any, info: GraphQLResolveInfo[Any], **args: Any
    ) -> Any:
        outcome = self.roots.get(str(info.path.key)) if info.path.prev is None else None
        if outcome is None:
            return next_(root, info, **args)
        if outcome.awaited:
            return _ready(outcome)
        if outcome.raised:
            raise outcome.value
        return outcome.value


async def replay(ctx: Any, roots: Mapping[str, RootOutcome]) -> ExecutionResult:
    """Execute the operation of strawberry's execution context ``ctx`` normally, the root
    fields answered from ``roots``."""
    result = execute(
        graphql_schema(ctx.schema),
        ctx.graphql_document,
        root_value=ctx.root_value,
        context_value=ctx.context,
        variable_values=ctx.variables,
        operation_name=ctx.operation_name,
        middleware=MiddlewareManager(_ReplayRoots(roots)),
        **strawberry_execute_options(ctx.schema, ctx.operation_extensions),
    )
    if isinstance(result, ExecutionResult):
        return result
    done: ExecutionResult = await result
    return done
