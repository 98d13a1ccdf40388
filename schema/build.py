"""``build_schema()``: the one place the GraphQL schema is assembled."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema.abf_mutations import AbfMutation
from schema.abf_query import AbfQuery
from schema.errors import LoggingSchema, PartialErrors, mask_errors
from schema.fastpath import FastPath
from schema.gerrit import GERRIT_TYPES, GerritQuery
from schema.gerrit_mutations import GerritMutation
from schema.limits import QueryLimits, limit_extensions, no_introspection
from schema.mutations import Mutation
from schema.query import Query
from schema.revisions import RevisionMutation
from schema.scalars import SCALAR_OVERRIDES
from schema.subscriptions import Subscription
from schema.types import Check, Comment, Patch, Person, Project
from schema.types_events import Event
from schema.types_series import Bundle, Cover, Series
from schema.validation import TextValidationCache

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


def build_schema(
    limits: QueryLimits | None = None,
    *,
    introspection: bool = True,
    extensions: Sequence[Callable[[], SchemaExtension]] = (),
    fast_path: FastPath | None = None,
    batch_max_operations: int = 0,
) -> strawberry.Schema:
    """The revgate schema with error masking, query limits (documents parsed, measured and
    cached by text before any validation rule: ``schema/documents.py``), a validation cache
    (keyed by query text: ``schema/validation.py``) and ``extensions`` (metrics).

    ``fast_path`` (see ``schema/fastpath.py``) runs supported queries from compiled plans; its
    extension goes last so that every check of the extensions before it (limits, cost) applies
    first.
    """
    extra = limit_extensions(limits or QueryLimits())
    if not introspection:
        extra.append(no_introspection)
    fast = [fast_path.extension()] if fast_path is not None else []
    schema = LoggingSchema(
        query=_root("Query", QUERY_DESCRIPTION, (Query, AbfQuery, GerritQuery)),
        mutation=_root(
            "Mutation",
            MUTATION_DESCRIPTION,
            (Mutation, RevisionMutation, AbfMutation, GerritMutation),
        ),
        subscription=Subscription,
        scalar_overrides=SCALAR_OVERRIDES,
        types=[Patch, Series, Cover, Project, Person, Check, Comment, Event, Bundle, *GERRIT_TYPES],
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
    )
    # strawberry 0.341 takes no schema description (its printer leaves it out of the SDL too)
    schema._schema.description = SCHEMA_DESCRIPTION
    return schema


def sdl() -> str:
    """The schema as SDL text, as committed in ``schema/schema.graphql``."""
    return build_schema().as_str() + "\n"
