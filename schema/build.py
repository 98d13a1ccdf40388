"""``build_schema()``: the one place the GraphQL schema is assembled."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import strawberry
from strawberry.extensions import ParserCache, SchemaExtension
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
from schema.subscriptions import Subscription, SubscriptionsNeedAStream
from schema.types import Bundle, Check, Comment, Cover, Event, Patch, Person, Project, Series
from schema.validation import TextValidationCache

SDL_PATH = Path(__file__).with_name("schema.graphql")


def build_schema(
    limits: QueryLimits | None = None,
    *,
    introspection: bool = True,
    extensions: Sequence[Callable[[], SchemaExtension]] = (),
    fast_path: FastPath | None = None,
) -> strawberry.Schema:
    """The revgate schema with error masking, query limits, parse and validation caches
    (validation keyed by query text: ``schema/validation.py``) and ``extensions`` (metrics).

    ``fast_path`` (see ``schema/fastpath.py``) runs supported queries from compiled plans; its
    extension goes last so that every check of the extensions before it (limits, cost) applies
    first.
    """
    extra = limit_extensions(limits or QueryLimits())
    if not introspection:
        extra.append(no_introspection)
    fast = [fast_path.extension()] if fast_path is not None else []
    return LoggingSchema(
        query=merge_types("Query", (Query, AbfQuery, GerritQuery)),
        mutation=merge_types("Mutation", (Mutation, RevisionMutation, AbfMutation, GerritMutation)),
        subscription=Subscription,
        types=[Patch, Series, Cover, Project, Person, Check, Comment, Event, Bundle, *GERRIT_TYPES],
        extensions=[
            mask_errors,
            PartialErrors,
            lambda: ParserCache(maxsize=256),
            TextValidationCache(256).extension(),
            SubscriptionsNeedAStream,  # before limits and cost: nothing is charged
            *extra,
            *extensions,
            *fast,
        ],
    )


def sdl() -> str:
    """The schema as SDL text, as committed in ``schema/schema.graphql``."""
    return build_schema().as_str() + "\n"
