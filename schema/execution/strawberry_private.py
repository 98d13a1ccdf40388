"""Every use of strawberry's private API, in one place, with why it is needed.

strawberry offers no public way to build a resolve info outside its executor, to hand its
extension runner ready-made hooks, to reach the graphql-core schema it wraps, to call a
field's resolver without converting its arguments again, or to mask errors without a
protocol check per request. The fast path and the caches need all five, so they are taken
from strawberry's internals here and nowhere else; ``pyproject.toml`` pins
strawberry-graphql to the range these were tested with. On an upgrade, re-check this module
against ``strawberry.schema.schema``, ``strawberry.extensions.context``,
``strawberry.extensions.mask_errors`` and ``strawberry.schema.schema_converter``
(``from_resolver`` and ``get_arguments``: what ``rootcall.py`` mirrors) and run
``tests/schema`` (the differential tests compare plans with strawberry's own execution;
``test_hooks.py`` compares the hook runner with its own).
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import FieldNode, GraphQLField, GraphQLObjectType, GraphQLSchema
from graphql.pyutils import Path
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import MaskErrors

# One hook of one extension, as strawberry's context managers hold them: the cached hook
# runner builds them once per extension class instead of once per request.
from strawberry.extensions.context import WrappedHook

# ``_OperationContextAwareGraphQLResolveInfo``: the resolve info strawberry's executor passes
# to resolvers (it carries the operation's extensions): plans must pass the same class so
# resolvers see the same object. ``validate_document``: strawberry's own validation entry
# point (what its ``ValidationCache`` extension calls).
from strawberry.schema.schema import _OperationContextAwareGraphQLResolveInfo, validate_document

__all__ = [
    "MaskErrorsByAttribute",
    "WrappedHook",
    "field_exception_handlers",
    "graphql_schema",
    "is_field_resolver",
    "process_errors",
    "provided_operation_name",
    "resolve_info",
    "selection_nodes",
    "strawberry_execute_options",
    "strawberry_schema",
    "validate_document",
]


def graphql_schema(schema: strawberry.Schema) -> GraphQLSchema:
    """The graphql-core schema a strawberry schema wraps (``Schema._schema``): plans and the
    validation cache work on graphql-core's types."""
    inner: GraphQLSchema = schema._schema
    return inner


class MaskErrorsByAttribute(MaskErrors):
    """strawberry's ``MaskErrors``, its result test an attribute read: its own
    (``_process_result``) is ``isinstance`` against a runtime-checkable ``Protocol``, which
    on Python 3.11 walks the protocol's attributes on every call (tens of microseconds, on
    every request). A data-only protocol matches what has the attribute, so this is the
    same test."""

    def _process_result(self, result: object) -> None:
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def mask(self, result: object) -> None:
        """Mask ``result``'s errors as the operation hook's exit does (``schema/lean.py``)."""
        self._process_result(result)


def provided_operation_name(ctx: Any) -> str | None:
    """The operation name the request gave (``ExecutionContext._provided_operation_name``):
    ``ctx.operation_name`` falls back to the document's first operation."""
    name: str | None = getattr(ctx, "_provided_operation_name", _NONE_GIVEN)
    if name is _NONE_GIVEN:  # not strawberry's context: its fallback (asked only then)
        name = ctx.operation_name
    return name


_NONE_GIVEN: Any = object()


def process_errors(schema: strawberry.Schema, errors: list[Any], ctx: Any) -> None:
    """What strawberry does with an execution's errors before any extension masks them
    (``BaseSchema._process_errors``: field suggestions removed when configured, then the
    schema's ``process_errors``, which logs them)."""
    schema._process_errors(errors, ctx)


def strawberry_schema(schema: GraphQLSchema) -> Any:
    """The strawberry schema that wraps ``schema`` (its ``_strawberry_schema`` backref), or
    ``None``: a root call (``rootcall.py``) converts arguments with its config and scalars."""
    return getattr(schema, "_strawberry_schema", None)


def field_exception_handlers(schema: strawberry.Schema, field: Any) -> tuple[Any, ...]:
    """The exception handlers strawberry wraps ``field``'s resolver in (none: the resolver
    is called as is); a root call is made only for fields without any."""
    converter = schema.schema_converter
    handlers: tuple[Any, ...] = converter._get_field_exception_handlers(field)
    return handlers


def is_field_resolver(resolve: Any) -> bool:
    """Whether ``resolve`` is the resolver strawberry's ``from_resolver`` made (not one
    wrapped or replaced since): a root call stands in for exactly that one."""
    name = getattr(resolve, "__qualname__", "")
    return name in (
        "GraphQLCoreConverter.from_resolver.<locals>._resolver",
        "GraphQLCoreConverter.from_resolver.<locals>._async_resolver",
    )


def resolve_info(
    plan: Any,
    fdef: GraphQLField,
    nodes: list[FieldNode],
    parent: GraphQLObjectType,
    path: Path,
    root: Any,
    variables: dict[str, Any],
    context: Any,
    extensions: dict[str, Any] | None,
    is_awaitable: Any,
) -> Any:
    """The resolve info graphql-core (as strawberry configures it) would pass."""
    return _OperationContextAwareGraphQLResolveInfo(
        nodes[0].name.value,
        nodes,
        fdef.type,
        parent,
        path,
        plan.schema,
        plan.fragments,
        root,
        plan.operation,
        variables,
        context,
        is_awaitable,
        None,
        None,
        extensions,  # type: ignore[arg-type]  # None, as strawberry passes it too
    )


def selection_nodes(info: strawberry.Info[Any, Any]) -> tuple[list[FieldNode], dict[str, Any]]:
    """The field nodes ``info``'s field resolves and the document's fragments (its resolve
    info's ``field_nodes`` and ``fragments``): a walk of the query's own nodes answers "is
    this field selected below?" without ``selected_fields`` converting the whole selection
    (arguments, directives) into strawberry's objects on every request."""
    raw = info._raw_info
    return raw.field_nodes, raw.fragments


def strawberry_execute_options(
    schema: strawberry.Schema, operation_extensions: dict[str, Any] | None
) -> dict[str, Any]:
    """The options strawberry passes to graphql-core's ``execute`` besides the request's
    own values (``Schema._execute_operation``): its executor class (which builds the resolve
    info above), its awaitable test and the operation's extensions."""
    options: dict[str, Any] = {
        "is_awaitable": optimized_is_awaitable,
        "operation_extensions": operation_extensions,
    }
    if schema.execution_context_class is not None:
        options["executor_class"] = schema.execution_context_class
    return options
