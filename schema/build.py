"""``build_schema()``: the one place the GraphQL schema is assembled."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import strawberry
from graphql import GraphQLEnumType, GraphQLEnumValue
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from adapters.kinds import KINDS
from adapters.plugin import AdapterKind
from schema.errors import PartialErrors, mask_errors
from schema.execution import FastPath, TextValidationCache, graphql_schema
from schema.kinds.core import CORE
from schema.lean import LeanQueries
from schema.limits import QueryLimits, limit_extensions, no_introspection
from schema.plugin import KindSchema, compose
from schema.scalars import SCALAR_OVERRIDES
from schema.subscriptions import Subscription

SDL_PATH = Path(__file__).with_name("schema.graphql")

# Shown atop GraphiQL's Docs panel (introspection's ``__schema { description }``).
SCHEMA_DESCRIPTION = (
    "revgate: one GraphQL API over code-review systems — Patchwork (upstream and the "
    "freedesktop fork), Gerrit and ABF. Objects carry opaque global IDs (`node(id:)`); lists "
    "are Relay connections (`first` 1..100, default 30; `after` a cursor). Times are ISO 8601 "
    "in UTC. A query's cost is one upstream request per connection per parent object "
    "(`rateLimit`, `extensions.cost`). A backend's failure is a coded error in `errors`; the "
    "lists merged across backends still answer with the others."
)

QUERY_DESCRIPTION = (
    "What can be read: any object by ID, the backends, and each kind's lists. `changes` "
    "merges every backend's changes into one list."
)
MUTATION_DESCRIPTION = (
    "Writes, with the caller's credentials. Expected failures (bad ID, refusal, backend down) "
    "come back coded in the payload's `errors`; writes are never retried."
)


def _root(name: str, description: str, types: tuple[type, ...]) -> type:
    """The root type merged from each area's fields, with its description (``merge_types``
    takes none)."""
    merged = merge_types(name, types)
    merged.__strawberry_definition__.description = description  # type: ignore[attr-defined]
    return merged


def _kind_values(schema: strawberry.Schema, kinds: Sequence[AdapterKind]) -> None:
    """``BackendKind`` lists exactly the schema's kinds. Its Python enum (schema/types_base.py)
    is fixed at import, from ``adapters/kinds.py``; a schema built with other kinds (a test's
    plugin) gets its own values here, on its own GraphQL type (one per schema)."""
    enum_type = graphql_schema(schema).type_map["BackendKind"]
    assert isinstance(enum_type, GraphQLEnumType)
    old = enum_type.values
    enum_type.values = {
        k.enum_name: old.get(k.enum_name) or GraphQLEnumValue(k.name, description=k.description)
        for k in kinds
    }
    enum_type.__dict__.pop("_value_lookup", None)  # graphql-core's cached value → name table


def build_schema(
    limits: QueryLimits | None = None,
    *,
    introspection: bool = True,
    extensions: Sequence[Callable[[], SchemaExtension]] = (),
    fast_path: FastPath | None = None,
    batch_max_operations: int = 0,
    kinds: Sequence[AdapterKind] = KINDS,
    lean: bool = False,
) -> KindSchema:
    """The revgate schema with error masking, query limits (documents parsed, measured and
    cached by text before any validation rule: ``schema/documents.py``), a validation cache
    (keyed by query text: ``schema/execution/validation.py``) and ``extensions`` (metrics).

    ``fast_path`` (see ``schema/execution/``) runs supported queries from compiled plans; its
    extension goes last so that every check of the extensions before it (limits, cost) applies
    first.

    ``kinds`` (default: ``adapters/kinds.py``) decide the root types' kind fields, the node
    loaders, the change types and ``BackendKind`` (``schema/plugin.py``).

    ``lean``: the schema gets ``LeanQueries`` (``schema/lean.py``), planned queries answered
    without strawberry's pipeline; only for ``extensions`` whose part the caller does itself
    (the gateway's operation gate and metrics: ``gateway/lean.py``).
    """
    composition = compose(CORE, kinds)
    extra, cost = limit_extensions(limits or QueryLimits())
    if not introspection:
        extra.append(no_introspection)
    fast = [fast_path.extension()] if fast_path is not None else []
    schema = KindSchema(
        query=_root("Query", QUERY_DESCRIPTION, composition.query),
        mutation=_root("Mutation", MUTATION_DESCRIPTION, composition.mutation),
        subscription=Subscription,
        scalar_overrides=SCALAR_OVERRIDES,
        types=list(composition.types),
        extensions=[
            mask_errors,
            PartialErrors,
            TextValidationCache(256).extension(),
            *extra,
            *extensions,
            *fast,
        ],
        # Opt-in batching (a JSON list of operations in one POST); 0: refused.
        config=StrawberryConfig(batching_config={"max_operations": batch_max_operations})
        if batch_max_operations
        else None,
        composition=composition,
    )
    if lean and fast_path is not None and not schema.directives:
        schema.lean = LeanQueries(fast_path, cost, mask_errors, introspection)
    _kind_values(schema, kinds)
    # strawberry 0.341 takes no schema description (its printer leaves it out of the SDL too)
    graphql_schema(schema).description = SCHEMA_DESCRIPTION
    return schema


def sdl() -> str:
    """The schema as SDL text, as committed in ``schema/schema.graphql``."""
    return build_schema().as_str() + "\n"
