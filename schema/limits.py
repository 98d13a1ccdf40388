"""Query limits: depth, aliases, tokens and cost, all checked before anything is executed.

- **Depth**, **aliases**, **tokens**, nesting and the expanded size of a document are
  checked by ``schema.documents`` (the document gate), in linear time, before any
  validation rule runs; errors are coded ``QUERY_TOO_DEEP``, ``TOO_MANY_ALIASES``,
  ``TOO_MANY_TOKENS`` and ``QUERY_TOO_COMPLEX``.
- Before costing, ``operation_errors`` resolves the operation (several without
  ``operationName``: ``OPERATION_RESOLUTION_FAILURE``) and coerces the variables
  (``BAD_USER_INPUT``): a request that cannot run is never charged.
- **Cost** follows GitHub's model: every connection costs one upstream request per object
  it is nested in, and its children are multiplied by its ``first`` (default 30, counted as
  1..100 — an out-of-range ``first`` is reported by pagination as ``BAD_PAGE_SIZE``). A
  plain list of objects outside a connection (``Patch.checks``, ``Series.patches`` …) costs
  one read per parent object too: the backend serves it with one request per parent. Other
  fields are free (embedded in their parent's payload or batched). The cost of an operation
  is that sum, at least 1. Example: ``projects(first: 5) { nodes { patches(first: 10)
  { nodes { checks { state } } } } }`` costs 1 + 5 + 50 = 56.

  The root lists merged or concatenated across backends (``changes``, ``projects``,
  ``series``, ``events``) ask every backend they span, so they cost one request *per
  backend*: the backends named by their ``backends``/``backend`` argument or filter, else
  every backend the caller can see. Their children are still multiplied by ``first`` alone
  (a merged page holds at most ``first`` nodes in all). With 3 backends,
  ``changes(first: 100) { nodes { comments(first: 10) { nodes { id } } } }`` costs
  3 + 100 = 103.

  ``CostLimiter`` computes it on the validated document with the request's variables, in
  ``on_execute`` before execution: over ``max_cost`` is ``QUERY_TOO_COSTLY``; otherwise it
  is charged to the caller's per-minute budget (``schema.request.CostBudget``), and a
  refusal is ``RATE_LIMITED``. Either way no resolver runs, so no upstream request is made.
  The cost is reported in the response's ``extensions.cost`` and by the ``rateLimit`` field.

  A subscription is costed and charged the same way once, when it starts (its selection is
  what each event will carry); a refused one ends with that error before any backend is
  polled. Queries sent over the websocket are costed like any other.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    value_from_ast_untyped,
)
from graphql.execution.values import get_variable_values
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from schema.context import Context, Info
from schema.documents import DocumentGate, DocumentLimits
from schema.errors import INTERNAL_MESSAGE, default_code
from schema.execution import graphql_schema
from schema.execution.strawberry_private import provided_operation_name
from schema.pagination import DEFAULT_PAGE, MAX_PAGE
from schema.request import Allowance, CostReport

MAX_NESTING = 200  # bracket nesting that every recursive pass still handles (schema.documents)
MAX_VARIABLE_ERRORS = 20  # graphql-core's own default is 50; a few tell the client enough
# Root fields that ask every backend they span (see the module docstring).
FEDERATED_FIELDS = frozenset({"changes", "projects", "series", "events", "people"})


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """Per-operation limits; ``0`` turns one off."""

    max_depth: int = 15
    max_aliases: int = 30
    max_tokens: int = 2_000
    max_cost: int = 1_000
    max_selections: int = 2_000  # fields once fragments are expanded (``schema.documents``)


# -- cost ----------------------------------------------------------------------------------


def _is_connection(named: GraphQLNamedType | None) -> bool:
    return named is not None and named.name.endswith("Connection")


class _CostWalker:
    """Sums the cost of one operation (see the module docstring for the model)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        backends: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.backends = backends
        self.memo: dict[str, int] = {}
        self.active: set[str] = set()

    def selections(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None, mult: int
    ) -> int:
        cost = 0
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                cost += self.field(sel, parent, mult)
            elif isinstance(sel, InlineFragmentNode):
                cond = sel.type_condition
                target = self.schema.get_type(cond.name.value) if cond is not None else parent
                cost += self.selections(sel.selection_set, target, mult)
            elif isinstance(sel, FragmentSpreadNode):
                cost += mult * self.fragment(sel.name.value)
        return cost

    def fragment(self, name: str) -> int:
        """A fragment's cost per parent object, computed once however often it is spread
        (costs are linear in the multiplier): without this, fragments that spread the next
        one twice cost 2^n steps (issue 15)."""
        cost = self.memo.get(name)
        if cost is not None:
            return cost
        fragment = self.fragments.get(name)
        if fragment is None or name in self.active:
            return 0  # unknown or cyclic: validation refuses the document
        self.active.add(name)
        target = self.schema.get_type(fragment.type_condition.name.value)
        cost = self.selections(fragment.selection_set, target, 1)
        self.active.discard(name)
        self.memo[name] = cost
        return cost

    def field(self, sel: FieldNode, parent: GraphQLNamedType | None, mult: int) -> int:
        name = sel.name.value
        if name.startswith("__") or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return 0  # introspection, or a union's __typename only
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        composite = isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType)
        cost = 0
        child_mult = mult
        if _is_connection(named):
            cost += mult * self.fan_out(sel, parent)
            child_mult = mult * self.page_size(sel)
        elif (
            composite
            and isinstance(get_nullable_type(definition.type), GraphQLList)
            and not _is_connection(parent)
        ):
            cost += mult
        if sel.selection_set is not None:
            cost += self.selections(sel.selection_set, named, child_mult)
        return cost

    def fan_out(self, sel: FieldNode, parent: GraphQLNamedType) -> int:
        """How many backends a connection field asks: 1 unless it is a federated root list."""
        if sel.name.value not in FEDERATED_FIELDS or parent is not self.schema.query_type:
            return 1
        for arg in sel.arguments or ():
            value = value_from_ast_untyped(arg.value, dict(self.variables))
            if arg.name.value == "filter" and isinstance(value, Mapping):
                value = value.get("backends", value.get("backend"))
            elif arg.name.value != "backends":
                continue
            if isinstance(value, str):
                return 1
            if isinstance(value, list) and value:
                return len(set(map(str, value)))
        return max(1, self.backends)

    def page_size(self, sel: FieldNode) -> int:
        for arg in sel.arguments or ():
            if arg.name.value == "first":
                value = value_from_ast_untyped(arg.value, dict(self.variables))
                if isinstance(value, int) and not isinstance(value, bool):
                    return max(1, min(value, MAX_PAGE))
        return DEFAULT_PAGE


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
    backends: int = 1,
) -> int:
    """The cost of the operation ``operation_name`` of a validated ``document``, for a
    caller who sees ``backends`` backends."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 1
    root = schema.get_root_type(operation.operation)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    # Defaults of the operation's variables, overridden by the request's values.
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        if definition.default_value is not None:
            values[definition.variable.name.value] = value_from_ast_untyped(
                definition.default_value
            )
    values.update(variables or {})
    walker = _CostWalker(schema, fragments, values, backends)
    return max(1, walker.selections(operation.selection_set, root, 1))


class CostCache:
    """Costs by (query text, operation name, variables, visible backends), bounded.

    ``query_cost`` is a pure function of the schema, the document, the variables and the
    number of backends the caller sees; a schema's limiters share one cache, so a repeated
    query skips the walk (``bench/README.md``). Variables are keyed by their JSON encoding
    (sorted keys), which tells ``1``, ``1.0`` and ``true`` apart; unencodable ones are not
    cached."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._costs: OrderedDict[tuple[str, str | None, bytes, int], int] = OrderedDict()

    def cost(
        self,
        schema: GraphQLSchema,
        query: str | None,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        backends: int,
    ) -> int:
        """``query_cost(...)``, from the cache when this query was costed before."""
        key = None
        if query is not None:
            try:
                encoded = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS) if variables else b""
            except TypeError:
                encoded = None
            if encoded is not None:
                key = (query, operation_name, encoded, backends)
                cached = self._costs.get(key)
                if cached is not None:
                    self._costs.move_to_end(key)
                    return cached
        cost = query_cost(schema, document, operation_name, variables, backends)
        if key is not None:
            self._costs[key] = cost
            if len(self._costs) > self.size:
                self._costs.popitem(last=False)
        return cost


def operation_errors(
    schema: GraphQLSchema, document: DocumentNode, ctx: ExecutionContext
) -> list[GraphQLError]:
    """Why the operation of a validated ``document`` cannot run, as coded errors: no or an
    ambiguous operation (``OPERATION_RESOLUTION_FAILURE``: the spec requires a name when a
    document holds several), or variables that do not coerce (``BAD_USER_INPUT``). graphql-core
    would report the same at execution, without a code and after the cost was charged."""
    # strawberry's ``operation_name`` falls back to the first operation's name, which would
    # run the first of several operations; the spec requires the client to choose.
    name = provided_operation_name(ctx)
    operation = get_operation_ast(document, name)
    if operation is None:
        if name is not None:
            message = f"Unknown operation named '{name}'."
        else:
            message = "Must provide operation name if query contains multiple operations."
        return [GraphQLError(message, extensions={"code": "OPERATION_RESOLUTION_FAILURE"})]
    raw = ctx.variables
    if raw is not None and not isinstance(raw, Mapping):
        return [GraphQLError("variables must be an object", extensions={"code": "BAD_USER_INPUT"})]
    coerced = get_variable_values(
        schema, operation.variable_definitions or (), raw or {}, max_errors=MAX_VARIABLE_ERRORS
    )
    if isinstance(coerced, list):
        for error in coerced:
            default_code(error, "BAD_USER_INPUT")
        return coerced
    return []


class CostLimiter(SchemaExtension):
    """Rejects an operation over ``max_cost`` and charges the caller's budget, pre-execution."""

    def __init__(self, max_cost: int, costs: CostCache | None = None) -> None:
        self.max_cost = max_cost
        self.costs = costs or CostCache()
        self._report: CostReport | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        await self.check(self.execution_context)
        yield

    async def check(self, ctx: ExecutionContext) -> None:
        """Charge the operation of ``ctx``, or refuse it (``ctx.result`` set): it cannot run,
        it costs too much, or the caller's budget is spent."""
        document = ctx.graphql_document
        if document is not None and ctx.result is None:
            try:
                # An operation that cannot run (ambiguous, bad variables) is refused before
                # it is costed: a client's mistake is not charged.
                errors = operation_errors(graphql_schema(ctx.schema), document, ctx)
                error = errors[0] if errors else await self._charge(ctx)
            except Exception as exc:  # a bug here must be masked, not leaked
                # Raised from a hook, it would reach the client unmasked; fail closed instead.
                error = GraphQLError(INTERNAL_MESSAGE, original_error=exc)
                errors = []
            if error is not None:
                if ctx.operation_type is OperationType.SUBSCRIPTION:
                    # strawberry subscribes regardless of ``result``; an error raised from
                    # this hook ends the stream with it before the resolver starts.
                    raise error
                ctx.result = ExecutionResult(data=None, errors=errors or [error])

    async def _charge(self, ctx: ExecutionContext) -> GraphQLError | None:
        assert ctx.graphql_document is not None
        context = ctx.context
        backends = len(context.sources) if isinstance(context, Context) else 1
        cost = self.costs.cost(
            graphql_schema(ctx.schema),
            ctx.query,
            ctx.graphql_document,
            ctx.operation_name,
            ctx.variables,
            backends,
        )
        return await self._admit(cost, ctx.context)

    async def _admit(self, cost: int, context: object) -> GraphQLError | None:
        max_cost = self.max_cost or None
        meta = context.meta if isinstance(context, Context) else None
        if max_cost is not None and cost > max_cost:
            self._report = CostReport(cost, max_cost, Allowance(allowed=False))
            return GraphQLError(
                f"query cost {cost} exceeds the maximum of {max_cost}: ask for fewer items "
                f"(smaller `first`) or nest fewer connections",
                extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "maxCost": max_cost},
            )
        allowance = Allowance(allowed=True)
        if meta is not None and meta.budget is not None:
            allowance = await meta.budget.charge(cost)
        self._report = CostReport(cost, max_cost, allowance)
        if meta is not None:
            meta.cost = self._report
        if not allowance.allowed:
            wait = allowance.retry_after or 0.0
            return GraphQLError(
                f"rate limit exceeded: this query costs {cost} points and "
                f"{allowance.remaining or 0} of {allowance.limit} per minute are left; "
                f"retry in {wait:.0f} s",
                extensions={"code": "RATE_LIMITED", "cost": cost, "retryAfter": wait},
            )
        return None

    def get_results(self) -> dict[str, Any]:
        """``extensions.cost`` of the response."""
        return {"cost": self._report.as_extension()} if self._report is not None else {}


# -- validation codes, introspection, the document gate -------------------------------------

_SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)


def hide_suggestions(errors: Iterable[GraphQLError]) -> None:
    """Drop graphql-core's "Did you mean …?" from ``errors``: with introspection off the
    suggestions would list the schema's fields, arguments, types and enum values."""
    for error in errors:
        error.message = _SUGGESTION.sub("", error.message)


class ValidationErrorCodes(SchemaExtension):
    """Gives validation errors ``extensions.code = GRAPHQL_VALIDATION_FAILED`` like every
    other error, unless a coded check (``schema.documents``) already set one."""

    def on_validate(self) -> Iterator[None]:
        yield
        for error in self.execution_context.pre_execution_errors or ():
            default_code(error, "GRAPHQL_VALIDATION_FAILED")


class _NoIntrospection(NoSchemaIntrospectionCustomRule):
    """graphql-core's rule behind ``DisableIntrospection``, with a code on its errors."""

    def report_error(self, error: GraphQLError) -> None:
        default_code(error, "INTROSPECTION_DISABLED")
        super().report_error(error)


class NoIntrospection(AddValidationRules):
    """Strawberry's ``DisableIntrospection`` (errors coded ``INTROSPECTION_DISABLED``), and
    no schema names in suggestions: a client without introspection learns nothing from a
    misspelt field, argument, type or enum value either."""

    def __init__(self) -> None:
        super().__init__([_NoIntrospection])

    def on_operation(self) -> Iterator[None]:
        yield from super().on_operation()
        ctx = self.execution_context
        hide_suggestions(ctx.pre_execution_errors or ())
        if ctx.result is not None:
            hide_suggestions(ctx.result.errors or ())


def no_introspection() -> SchemaExtension:
    """The per-request ``NoIntrospection`` extension."""
    return NoIntrospection()


def document_limits(limits: QueryLimits) -> DocumentLimits:
    """What ``schema.documents`` enforces for ``limits``: nesting follows the depth limit
    (a field level is a ``{``, arguments add a few), within what recursion allows."""
    nesting = min(MAX_NESTING, max(64, 2 * limits.max_depth + 16))
    return DocumentLimits(
        max_tokens=limits.max_tokens,
        max_depth=limits.max_depth,
        max_aliases=limits.max_aliases,
        max_selections=limits.max_selections,
        max_nesting=nesting,
    )


def limit_extensions(
    limits: QueryLimits,
) -> tuple[list[Callable[[], SchemaExtension]], Callable[[], CostLimiter]]:
    """Strawberry extension factories enforcing ``limits`` (a fresh instance per request):
    the document gate (parse, tokens, nesting, expanded size, depth, aliases — linear, before
    any validation rule), validation codes and the cost limiter; and the cost limiter's
    factory alone (``schema/lean.py`` charges planned queries with it)."""
    gate = DocumentGate(document_limits(limits))
    costs = CostCache()  # shared by this schema's per-request limiters

    def cost() -> CostLimiter:
        return CostLimiter(limits.max_cost, costs)

    return [gate.extension(), ValidationErrorCodes, cost], cost


# -- the rateLimit field ---------------------------------------------------------------------


@strawberry.type(description="This query's cost and the caller's remaining budget.")
class RateLimit:
    cost: int = strawberry.field(description="What this query costs (see the README).")
    max_cost: int | None = strawberry.field(description="The most one query may cost.")
    limit: int | None = strawberry.field(
        description="Cost points per minute for this caller; null when not limited."
    )
    remaining: int | None = strawberry.field(description="Points left after this query.")
    reset_at: datetime | None = strawberry.field(description="When the budget is full again.")


@strawberry.type
class RateLimitQuery:
    """The ``rateLimit`` root field; the root ``Query`` inherits it."""

    @strawberry.field(description="This query's cost and the caller's remaining budget.")
    def rate_limit(self, info: Info) -> RateLimit | None:
        report = info.context.meta.cost
        if report is None:
            return None
        a = report.allowance
        return RateLimit(
            cost=report.cost,
            max_cost=report.max_cost,
            limit=a.limit,
            remaining=a.remaining,
            reset_at=a.reset_at,
        )
