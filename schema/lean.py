"""Planned queries answered without strawberry's operation pipeline (issue 21).

A query whose plan answered before (``FastPath.planned``, by its text and operation name) was
parsed, measured, validated and compiled then; what strawberry's ``Schema.execute`` still does
for it on every request is a dozen extension instances and four hook contexts around a
handful of calls. ``LeanQueries.execute`` makes exactly those calls, in strawberry's order, for
the extensions ``build_schema`` installs:

1. the execute stage: ``CostLimiter.check`` (a refusal is the result), the plan
   (``FastPath.run``, which replays normally what a plan cannot answer), the errors logged
   (strawberry's ``process_errors`` runs before any masking), then ``PartialErrors``;
2. ``result.extensions``: notices, then cost (the order of the extensions that have results);
3. the operation stage's exits: the caller's ``observe`` (metrics), suggestions hidden when
   introspection is off, errors masked.

Parsing, the document gate and validation have no per-request effect for a text they passed
(their answers are cached by text). The gateway's own extensions are its part
(``gateway/lean.py``: the operation gate's ``WRITING`` and the metrics); a schema built with
any other extension (tracing, trusted documents) gets no ``LeanQueries``.
``tests/gateway/test_lean.py`` compares whole HTTP answers with strawberry's path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from schema.context import Context
from schema.errors import INTERNAL_MESSAGE, add_partial_errors, notices_of
from schema.execution import FastPath, graphql_schema
from schema.execution.fastpath import Planned
from schema.execution.strawberry_private import MaskErrorsByAttribute, process_errors
from schema.limits import CostLimiter, hide_suggestions
from schema.shared_runs import SharedRuns

# What a POST may run (strawberry's ``OperationType.from_http``, subscriptions removed by
# ``LoggingSchema.execute``): kept on the execution context for extensions that read it.
_POST_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})


class LeanQueries:
    """The planned-query path of one schema (see the module docstring)."""

    def __init__(
        self,
        fast: FastPath,
        cost: Callable[[], CostLimiter],
        mask: Callable[[], MaskErrorsByAttribute],
        introspection: bool,
    ) -> None:
        self.fast = fast
        self._cost = cost
        self._mask = mask
        self._hide = not introspection  # NoIntrospection's exit: no suggestions in errors
        self.hits = 0  # requests answered here (tests, the bench)
        self.runs = SharedRuns()

    def planned(self, schema: strawberry.Schema, query: str, name: str | None) -> Planned | None:
        """The plan that answered this query text and operation name before, if still current."""
        if not self.fast.usable(schema):
            return None
        return self.fast.planned(graphql_schema(schema), query, name)

    async def execute(
        self,
        schema: strawberry.Schema,
        planned: Planned,
        query: str,
        variables: dict[str, Any] | None,
        name: str | None,
        context: Any,
        extensions: dict[str, Any] | None = None,
        observe: Callable[[ExecutionContext], None] | None = None,
    ) -> ExecutionResult:
        """What strawberry's ``Schema.execute`` answers for this request, by ``planned``'s plan."""
        ctx = ExecutionContext(
            query=query,
            schema=schema,
            allowed_operations=_POST_OPERATIONS,
            context=context,
            variables=variables,
            provided_operation_name=name,
            operation_extensions=extensions,
        )
        ctx.graphql_document = planned.document
        if isinstance(context, Context):
            context.solo = True  # a plain POST's own context: this operation's alone
        limiter = self._cost()
        limiter.execution_context = ctx
        await limiter.check(ctx)
        if ctx.result is None:
            ctx.result = await self.runs.run(planned, ctx, self.fast.run)
            if ctx.result is None:  # variables that do not coerce: ``check`` refused them
                ctx.result = ExecutionResult(None, [GraphQLError(INTERNAL_MESSAGE)])
        self.hits += 1
        if ctx.result.errors:
            process_errors(schema, ctx.result.errors, ctx)
        add_partial_errors(ctx)
        result = ExecutionResult(ctx.result.data, ctx.result.errors)
        result.extensions = {**notices_of(ctx), **limiter.get_results()}
        ctx.result = result
        if observe is not None:
            observe(ctx)
        if self._hide:
            hide_suggestions(result.errors or ())
        mask = self._mask()
        mask.execution_context = ctx
        mask.mask(result)
        return result
