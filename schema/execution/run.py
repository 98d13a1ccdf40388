"""Running a plan: the root resolvers as graphql-core calls them, then the compiled walk."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from graphql import ExecutionResult, GraphQLError, located_error
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.pyutils import Path

from schema.execution.plan import Plan, RootPlan
from schema.execution.runtime import Awaited, ListMemo, RootOutcome, Run, is_awaitable


class RunNormally(Exception):
    """The walk met an awaitable from a synchronous resolver: answer the request by normal
    execution, replaying what the root resolvers gave (``roots``, ``replay.py``)."""

    def __init__(self, roots: dict[str, RootOutcome]) -> None:
        super().__init__("the plan cannot answer this request identically")
        self.roots = roots


async def run_plan(
    plan: Plan,
    context: Any,
    root_value: Any,
    raw_variables: dict[str, Any] | None,
    operation_extensions: dict[str, Any] | None = None,
    memo: ListMemo | None = None,
) -> ExecutionResult | None:
    """Execute ``plan``; ``None`` when variables do not coerce (normal execution reports it).

    ``memo``: where lists built from memoised pages of records are kept (``ListMemo``).
    Raises ``RunNormally`` when the plan cannot answer as normal execution would."""
    definitions = plan.operation.variable_definitions
    if definitions:
        coerced = get_variable_values(plan.schema, definitions, raw_variables or {}, max_errors=50)
        if isinstance(coerced, list):
            return None
    else:  # what graphql-core coerces for no definitions, whatever was sent
        coerced = VariableValues({}, {})
    run = Run(plan, context, root_value, coerced.coerced, operation_extensions, memo)
    fields = [r for r in plan.roots if not isinstance(r, str)]
    results: list[Any]
    try:
        if len(fields) == 1:  # the common case: no task to schedule for one root field
            try:
                results = [await _resolve(run, fields[0], coerced)]
            except Exception as exc:  # a non-null root's located error, as gather returns it
                results = [exc]
        else:
            gathered = (_resolve(run, r, coerced) for r in fields)
            results = await asyncio.gather(*gathered, return_exceptions=True)
            if any(isinstance(r, Awaited) for r in results):
                raise Awaited(None)
    except Awaited:
        raise RunNormally(run.roots) from None
    return _result(run, {r.key: v for r, v in zip(fields, results, strict=True)})


async def _resolve(run: Run, root: RootPlan, variables: Any) -> Any:
    """One root field: its resolver (what it gave kept in ``run.roots``), then the walk of
    its value (``variables``: coerced, as graphql-core reads arguments from them)."""
    query_type = run.plan.query_type
    path = Path(None, root.key, query_type.name)
    try:
        # arguments converted at compilation (literals: rootcall.py) … or now
        resolver: Callable[..., Any] | None = root.call
        args: dict[str, Any] = {}
        if resolver is None:
            args = get_argument_values(root.fdef, root.nodes[0], variables)
            resolver = root.fdef.resolve
            assert resolver is not None
        info = run.info(root.fdef, root.nodes, query_type, path)
        awaited = False
        try:
            value = resolver(run.root, info, **args)
            awaited = is_awaitable(value)
            if awaited:
                value = await value
        except Exception as exc:
            run.roots[root.key] = RootOutcome(exc, awaited, raised=True)
            raise
        run.roots[root.key] = RootOutcome(value, awaited)
        return root.complete(value, path, run)
    except Exception as exc:
        error = located_error(exc, root.nodes, path.as_list())
        if root.non_null:
            raise error from None
        run.errors.append(error)
        return None


def _result(run: Run, values: dict[str, Any]) -> ExecutionResult:
    """The response of the root values (a non-null root's error: ``data: null``)."""
    data: dict[str, Any] | None = {}
    query_type = run.plan.query_type
    for entry in run.plan.roots:
        if isinstance(entry, str):
            if data is not None:
                data[entry] = query_type.name
            continue
        value = values[entry.key]
        if isinstance(value, GraphQLError):  # a non-null root field failed: no data at all
            run.errors.append(value)
            data = None
            continue
        if isinstance(value, BaseException):
            raise value
        if data is not None:
            data[entry.key] = value
    return ExecutionResult(data=data, errors=run.errors or None)
