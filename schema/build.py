"""``build_schema()``: the one place the GraphQL schema is assembled."""

from __future__ import annotations

from pathlib import Path

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.tools import merge_types

from schema.errors import mask_errors
from schema.mutations import Mutation
from schema.query import Query
from schema.revisions import RevisionMutation
from schema.types import Bundle, Check, Comment, Cover, Event, Patch, Person, Project, Series

SDL_PATH = Path(__file__).with_name("schema.graphql")


def build_schema() -> strawberry.Schema:
    """The revgate schema with error masking and parse/validation caches."""
    return strawberry.Schema(
        query=Query,
        mutation=merge_types("Mutation", (Mutation, RevisionMutation)),
        types=[Patch, Series, Cover, Project, Person, Check, Comment, Event, Bundle],
        extensions=[
            mask_errors,
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
        ],
    )


def sdl() -> str:
    """The schema as SDL text, as committed in ``schema/schema.graphql``."""
    return build_schema().as_str() + "\n"
