"""The kind-independent part of the schema: the unified model's root fields, types and node
loaders. Every schema has it (``schema/build.py``); the unified readers reach a backend through
its ports (``adapters/base.py``), so any kind implementing them takes part."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from schema.actions import ActionMutation
from schema.context import Context, Info
from schema.identity import Identity, PeopleQuery, load_identity
from schema.mutations import Mutation
from schema.node import GlobalId
from schema.node_loaders import load_check, load_comment, load_event, load_revision
from schema.plugin import NodeLoader, SchemaPart
from schema.query import Query
from schema.types import Backend, Check, Comment, Node, Patch, Person, Project
from schema.types_events import Event
from schema.types_series import Bundle, Cover, Series

Read = Callable[[Context, str, str], Awaitable[Any]]


def _record(read: Read, convert: Callable[[Any], Node | None]) -> NodeLoader:
    """A loader reading one record through the request's batching loaders."""

    async def load(info: Info, gid: GlobalId) -> Node | None:
        found = await read(info.context, gid.backend, gid.native)
        return None if found is None else convert(found)

    load.reads_once = True  # type: ignore[attr-defined]  # one read, started before any await
    return load


async def _backend(info: Info, gid: GlobalId) -> Node | None:
    return Backend.of(info.context.source(gid.backend))


CORE = SchemaPart(
    query=(Query, PeopleQuery),
    mutation=(Mutation, ActionMutation),
    types=(Patch, Series, Cover, Project, Person, Identity, Check, Comment, Event, Bundle),
    nodes={
        "Backend": _backend,
        "Patch": _record(Context.patch, Patch.of),
        "Series": _record(Context.series, Series.of),
        "Cover": _record(Context.cover, Cover.of),
        "Project": _record(Context.project, Project.of),
        "Person": _record(Context.person, Person.of),
        "Bundle": _record(Context.bundle, Bundle.of),
        "Check": load_check,
        "Comment": load_comment,
        "Event": load_event,
        "Revision": load_revision,
        "Identity": load_identity,
    },
)
