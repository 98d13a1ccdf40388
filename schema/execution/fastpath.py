"""``FastPath``: the owner of compiled plans and kept lists, and the extension that runs them.

One instance per app (``gateway/app.py``), handed to ``schema.build.build_schema``; its
caches are bounded and die with it (a reload builds a new schema, whose extension classes
are new, but keeps the app's ``FastPath``: plans are keyed by query text and compiled
against the schema they were first asked for, so ``clear()`` on a reload).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from graphql import ExecutionResult, GraphQLSchema
from strawberry.extensions import SchemaExtension

from schema.execution.compiler import compile_operation
from schema.execution.plan import Plan
from schema.execution.replay import replay
from schema.execution.run import RunNormally, run_plan
from schema.execution.runtime import ListMemo
from schema.execution.strawberry_private import graphql_schema, provided_operation_name

PLAN_CACHE_SIZE = 256
LIST_MEMO_SIZE = 64


@dataclass(frozen=True, slots=True)
class Planned:
    """A plan that answered a request, by that request's own query text and operation name
    (``FastPath.planned``): what a later identical request can run without parsing."""

    plan: Plan
    document: Any  # the parsed document the plan was compiled from
    key: tuple[str, str | None]  # the plan's key in ``FastPath._plans`` (resolved name)


class FastPath:
    """Compiled plans by (query text, operation name), bounded; ``None`` for unsupported ones;
    and the lists built from memoised pages (``ListMemo``)."""

    def __init__(
        self, size: int = PLAN_CACHE_SIZE, codegen: bool = True, lists: int = LIST_MEMO_SIZE
    ) -> None:
        self.size = size
        self.enabled = True
        self.codegen = codegen  # generated builders (codegen.py); off: the generic walk
        self.list_memo = ListMemo(lists)
        self._plans: OrderedDict[tuple[str, str | None], Plan | None] = OrderedDict()
        self._compiled_for: GraphQLSchema | None = None  # what the plans were compiled against
        # plans that answered, by (query text, operation name as the request gave it)
        self._planned: OrderedDict[tuple[str, str | None], Planned] = OrderedDict()
        self._usable: tuple[Any, bool] | None = None  # (strawberry schema, its answer)
        self._tokens = itertools.count(1)  # names a list selection in ``list_memo``
        self.hits = 0  # executions that took the fast path (for tests and the bench)
        self.replays = 0  # … that stopped and were answered by normal execution

    def usable(self, schema: Any) -> bool:
        """Enabled, and no extension of ``schema`` hooks into field resolution (``resolve``):
        plans do not call such hooks, so with one the schema always runs normally."""
        if not self.enabled:
            return False
        known = self._usable
        if known is None or known[0] is not schema:
            plain = all(
                type(ext).resolve is SchemaExtension.resolve for ext in schema.get_extensions()
            )
            known = self._usable = (schema, plain)
        return known[1]

    def set_codegen(self, codegen: bool) -> None:
        """Build objects by generated code or by the generic walk, from now on (tests)."""
        if codegen != self.codegen:
            self.codegen = codegen
            self.clear()

    def clear(self) -> None:
        """Forget every plan and kept list."""
        self._plans.clear()
        self._planned.clear()
        self.list_memo.clear()

    def plan(
        self, schema: GraphQLSchema, query: str, document: Any, name: str | None
    ) -> Plan | None:
        """The cached plan of this operation, compiling it on first use."""
        if (
            schema is not self._compiled_for
        ):  # a new schema (reload): plans of the old one are stale
            self.clear()
            self._compiled_for = schema
        key = (query, name)
        try:
            self._plans.move_to_end(key)
            return self._plans[key]
        except KeyError:
            pass
        plan = compile_operation(schema, document, name, self.codegen, self._tokens)
        self._plans[key] = plan
        if len(self._plans) > self.size:
            self._plans.popitem(last=False)
        return plan

    def remember(self, plan: Plan, ctx: Any) -> None:
        """``plan`` answers strawberry's execution context ``ctx``: a request with the same
        query text and operation name may find it by ``planned``."""
        query = ctx.query or ""
        key = (query, provided_operation_name(ctx))
        known = self._planned.get(key)
        if known is not None and known.plan is plan:  # a repeat on strawberry's path (GET …)
            self._planned.move_to_end(key)
            return
        self._planned[key] = Planned(plan, ctx.graphql_document, (query, ctx.operation_name))
        self._planned.move_to_end(key)
        if len(self._planned) > self.size:
            self._planned.popitem(last=False)

    def planned(self, schema: GraphQLSchema, query: str, name: str | None) -> Planned | None:
        """The plan that answered this query text and operation name before, if it is still
        this schema's current plan for them (not evicted, cleared or given up)."""
        found = self._planned.get((query, name))
        if found is None or schema is not self._compiled_for:
            return None
        if self._plans.get(found.key) is not found.plan:
            del self._planned[(query, name)]
            return None
        self._plans.move_to_end(found.key)
        return found

    async def run(self, plan: Plan, ctx: Any) -> ExecutionResult | None:
        """The answer of ``plan`` to strawberry's execution context ``ctx``; ``None``: the
        variables do not coerce (normal execution reports it)."""
        try:
            result = await run_plan(
                plan,
                ctx.context,
                ctx.root_value,
                ctx.variables,
                ctx.operation_extensions,
                self.list_memo,
            )
        except RunNormally as stop:
            # This operation meets resolvers the plan cannot follow: never plan it again.
            self._plans[(ctx.query or "", ctx.operation_name)] = None
            self.replays += 1
            return await replay(ctx, stop.roots)
        if result is not None:
            self.hits += 1
        return result

    def __len__(self) -> int:
        return len(self._plans)

    def extension(self) -> Callable[[], SchemaExtension]:
        """The schema extension that runs plans; it must be the LAST extension of the schema,
        so that every validation, limit and cost check before it has already run."""
        fast = self

        class FastExecution(SchemaExtension):
            async def on_execute(self) -> AsyncIterator[None]:
                ctx = self.execution_context
                # ``ctx.result`` set: an earlier extension answered already (e.g. a refused cost)
                if fast.usable(ctx.schema) and not ctx.result and ctx.graphql_document:
                    plan = fast.plan(
                        graphql_schema(ctx.schema),
                        ctx.query or "",
                        ctx.graphql_document,
                        ctx.operation_name,
                    )
                    if plan is not None:
                        ctx.result = await fast.run(plan, ctx)
                        if ctx.result is not None:
                            fast.remember(plan, ctx)
                yield

        return FastExecution
