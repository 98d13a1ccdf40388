"""``changes``: every configured forge's changes in one connection (see ``schema/merge.py``).

A backend kind takes part by implementing ``adapters.base.ChangeLister`` and saying in its
schema part how its change records become GraphQL types (``SchemaPart.changes``,
``schema/plugin.py``); nothing here changes when a kind is added.
"""

from __future__ import annotations

import asyncio
import enum
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLSchema, get_named_type, is_abstract_type, is_leaf_type
from strawberry.types.base import get_object_definition
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from adapters import base, model
from schema import descriptions as doc
from schema import node
from schema.context import UNKNOWN, Context, Info, selects
from schema.errors import UserInputError
from schema.execution.plan import DEFINITION
from schema.execution.strawberry_private import graphql_schema
from schema.gerrit_base import check_query
from schema.identity import people_keys
from schema.merge import Warm, merge_page
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


# Change fields answered by placing a patch in its revisions on revision-tracking kinds.
PLACED_FIELDS = frozenset({"currentRevision", "checkState", "checks"})


# A field selected on the page's nodes and the type conditions (fragments) it sits under.
Selected = tuple[SelectedField, tuple[str, ...]]


def _node_fields(info: Info) -> dict[str, list[Selected]]:
    """The fields selected on the connection's nodes (``nodes`` or ``edges { node }``,
    through fragments), by name."""
    names: dict[str, list[Selected]] = {}
    for connection in info.selected_fields:
        for field in _flat(connection.selections):
            if field.name == "nodes":
                nodes = _conditioned(field.selections)
            elif field.name == "edges":
                edges = _flat(field.selections)
                nodes = [n for e in edges if e.name == "node" for n in _conditioned(e.selections)]
            else:
                continue
            for f, conditions in nodes:
                names.setdefault(f.name, []).append((f, conditions))
    return names


def _conditioned(selections: Any, conditions: tuple[str, ...] = ()) -> list[Selected]:
    out: list[Selected] = []
    for sel in selections:
        if isinstance(sel, SelectedField):
            out.append((sel, conditions))
        elif isinstance(sel, InlineFragment | FragmentSpread):
            inner = (*conditions, sel.type_condition) if sel.type_condition else conditions
            out.extend(_conditioned(sel.selections, inner))
    return out


def _flat(selections: Any) -> list[SelectedField]:
    return [f for f, _ in _conditioned(selections)]


def _warmers(info: Info, names: Iterable[str], fields: Mapping[str, Any]) -> dict[str, Warm]:
    """What runs ahead of the merge as each window is read, for the patches that can still
    reach the page, when the page's fields need it: a placement (``Context.placement``: fdo's
    revisions and test results), or else the patches' ``checks`` (upstream Patchwork: one read
    per patch, through the request's loader, so the page's own prefetch reads none again)."""
    if not PLACED_FIELDS & fields.keys():
        return {}
    results = bool({"checks", "checkState"} & fields.keys())
    checks = "checks" in fields and _Asked(graphql_schema(info.schema), fields).names(
        "Patch", "checks"
    )
    rollup_only = "checks" not in fields  # a listed rollup needs no results read
    warm: dict[str, Warm] = {}
    for name in names:
        placement = info.context.placement(name)
        if placement is not None:
            warm[name] = functools.partial(
                _warm, placement, results=results, rollup_only=rollup_only
            )
        elif checks and not base.provides(info.context.source(name), base.RevisionReader):
            warm[name] = functools.partial(_warm_checks, info.context.checks_ahead, name)
    return warm


def _warm_checks(
    ahead: Callable[[str, Iterable[model.Patch]], None],
    backend: str,
    items: Sequence[Any],
    reachable: Callable[[Sequence[Any]], Sequence[Any]],
) -> None:
    ahead(backend, reachable([r for r in items if isinstance(r, model.Patch)]))


def _warm(
    placement: base.Placement,
    items: Sequence[Any],
    reachable: Callable[[Sequence[Any]], Sequence[Any]],
    results: bool,
    rollup_only: bool,
) -> None:
    patches = [r for r in items if isinstance(r, model.Patch)]
    placement.warm(patches, reachable, results, rollup_only)


# Person fields that name a partial person (an fdo submitter known by id) with a read.
NAMING_FIELDS = frozenset({"name", "email", "displayName", "identity"})


async def _prefetch(
    info: Info, typed: Sequence[tuple[Any, str]], fields: Mapping[str, list[Selected]]
) -> None:
    """Load, as soon as the page is chosen, what its fields would wait for (the same request
    loaders, so nothing is read twice; ``Context.prefetch``): fdo's placed revisions and test
    results, the names of fdo's submitters, every patch's checks — each where the field is
    asked of that record's type (``typed``: each record and its GraphQL type). Every field
    then answers without an await, and the fast path walks the page instead of graphql-core."""
    ctx = info.context
    asked = _Asked(graphql_schema(info.schema), fields)
    checked: list[Any] = []
    revised: list[Any] = []
    rolled_up: list[Any] = []
    partial: list[Any] = []
    for r, type_name in typed:
        if isinstance(r, model.Patch):
            # fdo's checkState rolls up its placed revision's test results; the checks field
            # reads them (upstream Patchwork: one read per patch, as the field would make)
            rolled = r.check_state is None and asked.names(type_name, "checkState")
            placed = (rolled or asked.names(type_name, "currentRevision")) and ctx.placement(
                r.backend
            ) is not None
            if asked.names(type_name, "checks") and not ctx.without_checks(r):
                checked.append(r)
            elif placed and rolled:
                rolled_up.append(r)  # its rollup only: the series list may tell it
            if placed and asked.names(type_name, "currentRevision"):
                revised.append(r)
        author = getattr(r, "author", None)
        if author is not None and author.partial and asked.names_person(type_name):
            partial.append(author)
    await asyncio.gather(
        ctx.prefetch("checks", ctx.checks, ((r.backend, r.id) for r in checked)),
        ctx.prefetch("patch-revision", ctx.patch_revision, ((r.backend, r.id) for r in revised)),
        _prefetch_rollups(ctx, rolled_up),
        ctx.prefetch("person", ctx.person, ((p.backend, p.id) for p in partial)),
    )


async def _prefetch_rollups(ctx: Context, patches: Sequence[model.Patch]) -> None:
    """The placed revisions of patches whose ``checkState`` alone is asked, then the test
    results of those whose series list does not tell their rollup
    (``Context.listed_check_state``)."""
    keys = [(r.backend, r.id) for r in patches]
    await ctx.prefetch("patch-revision", ctx.patch_revision, keys)
    unknown = [(b, i) for b, i in keys if not _rollup_told(ctx, b, i)]
    await ctx.prefetch("checks", ctx.checks, unknown)


def _rollup_told(ctx: Context, backend: str, patch_id: str) -> bool:
    try:
        rev = ctx.known(backend, "patch-revision", patch_id)
    except Exception:  # a failed read: the field reports it, as the checks read would
        return False
    return rev is not UNKNOWN and ctx.listed_check_state(backend, rev) is not None


@dataclass
class _Asked:
    """Which node fields apply to a record's GraphQL type (their fragments' conditions)."""

    schema: GraphQLSchema
    fields: Mapping[str, list[Selected]]
    _memo: dict[tuple[str, str], list[SelectedField]] = dataclass_field(default_factory=dict)

    def selected(self, type_name: str, name: str) -> list[SelectedField]:
        key = (type_name, name)
        found = self._memo.get(key)
        if found is None:
            owner = self.schema.get_type(type_name)
            found = self._memo[key] = [
                f
                for f, conditions in self.fields.get(name, ())
                if all(self._applies(c, owner) for c in conditions)
            ]
        return found

    def names(self, type_name: str, name: str) -> bool:
        return bool(self.selected(type_name, name))

    def names_person(self, type_name: str) -> bool:
        """Whether the author's selection asks what only a read names (a partial person)."""
        authors = self.selected(type_name, "author")
        return any(f.name in NAMING_FIELDS for a in authors for f in _flat(a.selections))

    def _applies(self, condition: str, owner: Any) -> bool:
        cond = self.schema.get_type(condition)
        if cond is None or owner is None:
            return False
        if cond is owner:
            return True
        return is_abstract_type(cond) and self.schema.is_sub_type(cond, owner)


def reads_below(info: Info, selections: Sequence[Any]) -> bool:
    """Whether ``selections`` (fields of a page's changes) may read upstream on their own: a
    field with arguments or an asynchronous resolver on any type that has it (the fast path
    plans neither). By name, so a field of that name on another type counts too: ``True``
    only means "do not wait for the prefetch, graphql-core may complete the page"."""
    schema = graphql_schema(info.schema)
    change = schema.get_type("Change")
    assert change is not None
    return _reads(schema, change, selections)


def _reads(schema: GraphQLSchema, gtype: Any, selections: Iterable[Any]) -> bool:
    types = schema.get_possible_types(gtype) if is_abstract_type(gtype) else (gtype,)
    for sel in selections:
        if not isinstance(sel, SelectedField):  # a fragment: its fields, on every type
            if _reads(schema, gtype, sel.selections):
                return True
            continue
        for owner in types:
            fdef = owner.fields.get(sel.name)
            if fdef is None:
                continue
            resolver = getattr(fdef.extensions.get(DEFINITION), "base_resolver", None)
            if fdef.args or (resolver is not None and resolver.is_async):
                return True
            named = get_named_type(fdef.type)
            if sel.selections and not is_leaf_type(named) and _reads(schema, named, sel.selections):
                return True
    return False


def _node_selections(fields: Mapping[str, list[Selected]]) -> list[SelectedField]:
    return [f for selected in fields.values() for f, _ in selected]


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
    fields = _node_fields(info)
    warm = _warmers(info, listers, fields)
    page = await merge_page(listers, filters, count, after, descending, budget, breakers, warm)
    records = [record for record, _ in page.edges]
    if selects(info, "checkState"):
        await info.context.prefetch_check_presence(records)
    edges, page_info = merged_edges(info, page, _converter(info))
    typed = [
        (r, get_object_definition(type(e.node), strict=True).name)
        for r, e in zip(records, edges, strict=True)
    ]
    if not reads_below(info, _node_selections(fields)):
        await _prefetch(info, typed, fields)
    elif warm:
        # Other fields read too: waiting here would hold their reads back a wave. Start the
        # placed reads; graphql-core completes the page as they answer.
        asyncio.ensure_future(_prefetch(info, typed, fields)).add_done_callback(base.retrieved)
    return ChangeConnection(
        edges=edges,
        nodes=[e.node for e in edges],
        page_info=page_info,
        total_count=None,
        missing_backends=sorted(page.missing),
    )
