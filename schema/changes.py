"""``changes``: every configured forge's changes in one connection (see ``schema/merge.py``).

A backend kind takes part by implementing ``adapters.base.ChangeLister`` and saying in its
schema part how its change records become GraphQL types (``SchemaPart.changes``,
``schema/plugin.py``); nothing here changes when a kind is added.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from typing import Any

import strawberry

from adapters import base, model
from schema import descriptions as doc
from schema import node
from schema.context import Info, selects
from schema.errors import UserInputError
from schema.gerrit_base import check_query
from schema.identity import people_keys
from schema.merge import merge_page
from schema.pagination import Edge, PageInfo, merged_edges, page_size
from schema.plugin import composition_of
from schema.types import Change, ChangeState


@strawberry.enum(description="Sort direction.")
class OrderDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"


doc.describe_values(
    OrderDirection,
    ASC="Oldest (smallest) first.",
    DESC="Newest (largest) first.",
)


@strawberry.enum(description="What changes are ordered by.")
class ChangeOrderField(enum.Enum):
    UPDATED_AT = "UPDATED_AT"


doc.describe_values(
    ChangeOrderField,
    UPDATED_AT="The change's updatedAt: its last activity (upstream Patchwork: from its events).",
)


@strawberry.input(description="The order of a change list.")
class ChangeOrder:
    field: ChangeOrderField = strawberry.field(
        default=ChangeOrderField.UPDATED_AT, description="What to order by."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="Which way (default: newest first)."
    )


@strawberry.input(description="A filter that means the same on every forge.")
class ChangeFilterInput:
    backends: list[str] | None = strawberry.field(
        default=None, description="Only these backends (by name)."
    )
    projects: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only these projects (Project IDs); implies their backends."
    )
    states: list[ChangeState] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only changes in one of these states; null: any state."
    )
    author: str | None = strawberry.field(
        default=None, description="Email, username or name (case-insensitive, exact)."
    )
    updated_since: datetime | None = strawberry.field(
        default=None, description="Only changes updated at or after this time (ISO 8601, UTC)."
    )
    updated_before: datetime | None = strawberry.field(
        default=None, description="Only changes updated before this time (ISO 8601, UTC)."
    )
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the title."
    )
    related_to: strawberry.ID | None = strawberry.field(
        default=None,
        description="Only the changes linked to this Change ID (see Change.related; costs "
        "its reads), on the selected backends and matching the other filters.",
    )
    gerrit_query: str | None = strawberry.field(
        default=None,
        description="A native Gerrit query added on Gerrit backends (ignored by other kinds).",
    )
    people: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Only changes by these people (Identity or Person IDs): any account of "
        "each, pushed down per backend; backends where none has an account are not read.",
    )


@strawberry.type(description="A page of changes merged across backends.")
class ChangeConnection:
    edges: list[Edge[Change]] = strawberry.field(description=doc.EDGES)
    nodes: list[Change] = strawberry.field(description=doc.NODES)
    page_info: PageInfo = strawberry.field(description=doc.PAGE_INFO)
    total_count: int | None = strawberry.field(description="Not known for merged lists (null).")
    missing_backends: list[str] = strawberry.field(
        description="Backends that failed or ran out of time: their changes are not in this page."
    )


def _plan(
    info: Info,
    flt: ChangeFilterInput,
    only_project: model.Project | None,
    people: dict[str, tuple[str, ...]] | None = None,
) -> tuple[dict[str, base.ChangeLister], dict[str, base.ChangeFilter]]:
    ctx = info.context
    wanted = set(flt.backends) if flt.backends is not None else None
    projects: dict[str, list[str]] = {}
    for value in flt.projects or ():
        gid = node.decode(str(value), "Project")
        ctx.source(gid.backend)
        projects.setdefault(gid.backend, []).append(gid.native)
    if only_project is not None:
        projects = {only_project.backend: [only_project.id]}
    for name in wanted or ():
        ctx.source(name)
    listers: dict[str, base.ChangeLister] = {}
    filters: dict[str, base.ChangeFilter] = {}
    for name, lister in ctx.all_capable(base.ChangeLister):
        if wanted is not None and name not in wanted:
            continue
        if projects and name not in projects:
            continue
        if people is not None and name not in people:
            continue  # none of the people asked for has an account here: no read
        listers[name] = lister
        native = {"gerrit_query": check_query(info, flt.gerrit_query)} if flt.gerrit_query else {}
        filters[name] = base.ChangeFilter(
            projects=tuple(projects.get(name, ())),
            states=tuple(flt.states or ()),
            author=flt.author,
            updated_since=flt.updated_since,
            updated_before=flt.updated_before,
            search=flt.search,
            native=native,
            people=people.get(name, ()) if people is not None else (),
        )
    if not listers and (wanted or projects):
        raise UserInputError("none of the selected backends lists changes", "UNSUPPORTED")
    return listers, filters


def _converter(info: Info) -> Callable[[Any], Change]:
    """Change record → its GraphQL type, from the schema's kinds (``SchemaPart.changes``)."""
    types = composition_of(info).changes

    def convert(record: Any) -> Change:
        found = types.get(type(record))
        if found is None:  # a kind that lists changes but registered no GraphQL type
            raise TypeError(f"no GraphQL type registered for {type(record).__name__}")
        return found(record)

    return convert


async def resolve_changes(
    info: Info,
    first: int | None,
    after: str | None,
    filter: ChangeFilterInput | None,
    order_by: ChangeOrder | None,
    only_project: model.Project | None = None,
) -> ChangeConnection:
    """The merged connection; failed backends are reported, not fatal."""
    count = page_size(first)
    flt = filter or ChangeFilterInput()
    people = await people_keys(info, flt.people) if flt.people is not None else None
    listers, filters = _plan(info, flt, only_project, people)
    descending = (order_by or ChangeOrder()).direction is OrderDirection.DESC
    budget = info.context.budget
    breakers = info.context.breakers
    if filter is not None and filter.related_to is not None:
        from schema.related import related_page

        edges, info_ = await related_page(
            info, str(filter.related_to), filters, descending, first, after
        )
        return ChangeConnection(
            edges=edges,
            nodes=[e.node for e in edges],
            page_info=info_,
            total_count=None,
            missing_backends=[],
        )
    page = await merge_page(listers, filters, count, after, descending, budget, breakers)
    if selects(info, "checkState"):
        await info.context.prefetch_check_presence(record for record, _ in page.edges)
    edges, page_info = merged_edges(info, page, _converter(info))
    return ChangeConnection(
        edges=edges,
        nodes=[e.node for e in edges],
        page_info=page_info,
        total_count=None,
        missing_backends=sorted(page.missing),
    )
