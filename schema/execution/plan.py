"""What a compiled plan is made of: per root field, per concrete object type, per field.

A plan is built once per (query text, operation name) by ``compiler.py`` and read by every
execution of that operation (``runtime.py``, ``run.py``): nothing here changes after
compilation, so plans are shared between concurrent requests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
)
from graphql.pyutils import Path

if TYPE_CHECKING:
    from schema.execution.runtime import Run

# strawberry's definition of a type or field, in graphql-core's ``extensions`` (public key)
DEFINITION = "strawberry-definition"


class Unsupported(Exception):
    """The operation uses something the fast path does not compile (it runs normally)."""


Complete = Callable[[Any, Path, "Run"], Any]
Build = Callable[[Any, Path, "Run"], dict[str, Any]]


@dataclass(slots=True)
class FieldPlan:
    """One response key of a selection set on a concrete object type."""

    key: str
    name: str
    nodes: list[FieldNode]
    fdef: GraphQLField | None  # None: __typename
    attr: str = ""  # plain attribute: read it
    call: Callable[..., Any] | None = None  # sync resolver: call it with the object
    info_arg: str | None = None  # the resolver's info parameter, if it has one
    info_second: bool = False  # ... and it may be passed second, by position
    complete: Complete | None = None
    non_null: bool = False
    leaf: bool = False  # a scalar or enum, possibly wrapped in non-null
    exact: type[Any] | None = None  # values of this class are returned unchanged
    owner: str = ""  # ``Type.field``, for errors
    leaf_type: GraphQLLeafType | None = None  # the (unwrapped) leaf type
    target: ObjectPlan | None = None  # the plan of an object-typed field (not in a list)
    project: Callable[[Any], Any] | None = None  # read from the parent's record (projection)
    shortcut: Callable[[Any], Any] | None = None  # the resolver's answer from the record, mostly


@dataclass(slots=True)
class ObjectPlan:
    """How to build the response object of one concrete type."""

    gtype: GraphQLObjectType
    nodes: list[FieldNode]  # the fields whose sub-selections these are (for type errors)
    fields: list[FieldPlan] = field(default_factory=list)
    check: Callable[[Any, Any], Any] | None = None  # the type's is_type_of
    # The code-generated builder (codegen.py); ``None``: the generic walk.
    build: Build | None = None
    # The builder from the type's record (projection.py); ``None``: not registered.
    build_record: Build | None = None
    of: Callable[[Any], Any] | None = None  # the registered record → object conversion
    # ``build_record`` reads only projections (and record-only resolvers), down to every
    # nested object: what it builds is a function of the record (see ``ListMemo``).
    pure: bool = False


@dataclass(slots=True)
class RootPlan:
    """One root field of the operation."""

    key: str
    fdef: GraphQLField
    nodes: list[FieldNode]
    complete: Complete
    non_null: bool
    # Its arguments are literals, converted at compilation (``rootcall.RootCall``); None:
    # converted per request.
    call: Callable[[Any, Any], Any] | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """A compiled query operation."""

    schema: GraphQLSchema
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    query_type: GraphQLObjectType
    roots: tuple[RootPlan | str, ...]  # str: a root ``__typename`` key
