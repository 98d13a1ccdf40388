"""The root ``Query``: node lookup, backends, projects, patches, series, events, bundles."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Annotated, Any, TypeVar

import strawberry
from graphql import FieldNode

from adapters import base, model
from adapters.errors import UpstreamError
from schema import descriptions as doc
from schema import node
from schema.changes import ChangeConnection, ChangeFilterInput, ChangeOrder, resolve_changes
from schema.context import Info, pick_backend, selects
from schema.descriptions import After, First
from schema.errors import UserInputError
from schema.limits import RateLimitQuery
from schema.merge import Feed, fingerprint, merge_feeds
from schema.pagination import (
    Connection,
    concatenated,
    connection,
    merged_edges,
    page_request,
    page_size,
)
from schema.plugin import composition_of
from schema.types import Backend, Node, Patch, PatchFilterInput, Person, Project
from schema.types_events import Event
from schema.types_series import Bundle, Cover, Series

MAX_NODES = 100
P = TypeVar("P")
T = TypeVar("T")


@strawberry.input(description="Series list filters.")
class SeriesFilterInput:
    backend: str | None = strawberry.field(
        default=None, description="Only this backend (by name); null: every one with series."
    )
    project: str | None = strawberry.field(
        default=None, description="Project link name or native id."
    )
    submitters: list[str] | None = strawberry.field(
        default=None, description="Submitter emails or native person ids."
    )
    since: datetime | None = strawberry.field(default=None, description=doc.SINCE)
    before: datetime | None = strawberry.field(default=None, description=doc.BEFORE)
    q: str | None = strawberry.field(default=None, description="Substring of the series name.")
    order: str | None = strawberry.field(
        default=None, description='"-date" (newest first, the default) or "date".'
    )
    # The fdo fork's own filters (backends that track revisions only).
    name: str | None = strawberry.field(default=None, description="Exact series name (fdo).")
    reviewer: str | None = strawberry.field(
        default=None, description='Reviewer person id, or "null" for none (fdo).'
    )
    updated_since: datetime | None = strawberry.field(
        default=None, description="Only series updated at or after this time (fdo; ISO 8601)."
    )
    updated_before: datetime | None = strawberry.field(
        default=None, description="Only series updated before this time (fdo; ISO 8601)."
    )
    test_states: list[str] | None = strawberry.field(
        default=None, description="pending, info, success, warning, failure or null (fdo)."
    )

    def to_filter(self) -> base.SeriesFilter:
        """The adapter-level filter (``TrackedSeriesFilter`` when an fdo filter is set)."""
        common: dict[str, Any] = {
            "project": self.project,
            "submitters": tuple(self.submitters or ()),
            "since": self.since,
            "before": self.before,
            "q": self.q,
            "order": self.order,
        }
        tracked: dict[str, Any] = {
            "name": self.name,
            "reviewer": self.reviewer,
            "updated_since": self.updated_since,
            "updated_before": self.updated_before,
            "test_states": tuple(self.test_states or ()),
        }
        if any(tracked.values()):
            return base.TrackedSeriesFilter(**common, **tracked)
        return base.SeriesFilter(**common)


@strawberry.input(description="Cover letter list filters.")
class CoverFilterInput:
    backend: str | None = strawberry.field(
        default=None, description="Only this backend (by name); null: every one with covers."
    )
    project: str | None = strawberry.field(
        default=None, description="Project link name or native id."
    )
    submitters: list[str] | None = strawberry.field(
        default=None, description="Submitter emails or native person ids."
    )
    since: datetime | None = strawberry.field(default=None, description=doc.SINCE)
    before: datetime | None = strawberry.field(default=None, description=doc.BEFORE)
    q: str | None = strawberry.field(default=None, description="Substring of the subject.")
    order: str | None = strawberry.field(
        default=None, description='"-date" (newest first, the default) or "date".'
    )

    def to_filter(self) -> base.SeriesFilter:
        """The adapter-level filter (covers filter as series do)."""
        return base.SeriesFilter(
            project=self.project,
            submitters=tuple(self.submitters or ()),
            since=self.since,
            before=self.before,
            q=self.q,
            order=self.order,
        )


def _person(record: model.Person) -> Person:
    found = Person.of(record)
    assert found is not None  # a listed account is never None
    return found


@strawberry.input(description="Event list filters.")
class EventFilterInput:
    backend: str | None = strawberry.field(
        default=None, description="Only this backend (by name); null: every one with events."
    )
    project: str | None = strawberry.field(
        default=None, description="Project link name or native id."
    )
    categories: list[str] | None = strawberry.field(
        default=None, description="e.g. patch-created, patch-state-changed, check-created."
    )
    patch: strawberry.ID | None = strawberry.field(
        default=None, description="Only events about this Patch (a Patch ID)."
    )
    series: strawberry.ID | None = strawberry.field(
        default=None, description="Only events about this Series (a Series ID)."
    )
    cover: strawberry.ID | None = strawberry.field(
        default=None, description="Only events about this Cover (a Cover ID)."
    )
    since: datetime | None = strawberry.field(default=None, description=doc.SINCE)
    before: datetime | None = strawberry.field(default=None, description=doc.BEFORE)

    def to_filter(self) -> base.EventFilter:
        """The adapter-level filter (IDs decoded to native ids)."""

        def native(value: strawberry.ID | None, kind: str) -> str | None:
            return node.decode(str(value), kind).native if value else None

        return base.EventFilter(
            project=self.project,
            categories=tuple(self.categories or ()),
            patch=native(self.patch, "Patch"),
            series=native(self.series, "Series"),
            cover=native(self.cover, "Cover"),
            since=self.since,
            before=self.before,
        )


def _readers(info: Info, name: str | None, port: type[P], what: str) -> list[tuple[str, P]]:
    """The named backend, or every backend implementing ``port``."""
    if name:
        return [(name, info.context.capable(name, port, what))]
    found = info.context.all_capable(port)
    if not found:
        raise UserInputError(f"no configured backend provides {what}", "UNSUPPORTED")
    return found


def _date(record: Any) -> datetime:
    value: datetime = record.date
    return value


async def merged(
    info: Info,
    feeds: dict[str, Feed],
    key: Callable[[Any], datetime],
    first: int | None,
    after: str | None,
    digest: str,
    descending: bool,
    convert: Callable[[Any], T],
) -> Connection[T]:
    """A connection over ``feeds`` merged by ``key``; failed backends become errors."""
    page = await merge_feeds(
        feeds,
        key,
        page_size(first),
        after,
        digest,
        descending,
        info.context.budget,
        info.context.breakers,
    )
    edges, page_info = merged_edges(info, page, convert)
    return Connection(
        edges=edges,
        nodes=[e.node for e in edges],
        page_info=page_info,
        total_count=None,
        missing_backends=sorted(page.missing),
    )


def _date_order(order: str | None, what: str) -> bool:
    """Whether a merged list's ``order`` (``"-date"``, the default, or ``"date"``) descends."""
    wanted = (order or "-date").strip()
    if wanted not in ("-date", "date"):
        raise UserInputError(
            f"{what} of several backends merge by date: order must be -date or date, not "
            f"{wanted[:40]!r} (or name one backend)"
        )
    return wanted == "-date"


async def resolve_node(info: Info, value: str, alone: bool = False) -> Node | None:
    """Fetch any object by its global ID (``None`` when the backend has no such object),
    with the loader the schema's kinds register for its type (``SchemaPart.nodes``).
    ``alone``: asked by ``node`` itself (not one of ``nodes``' ids)."""
    gid = node.decode(value)
    ctx = info.context
    if gid.backend != node.ANY_BACKEND:  # a cross-backend type (an Identity) checks its own ids
        ctx.source(gid.backend)
    load = composition_of(info).nodes.get(gid.type)
    if load is None:
        raise UserInputError(f"objects of type {gid.type} cannot be fetched by ID", "BAD_ID")
    if alone and ctx.solo and getattr(load, "reads_once", False) and _only_field(info):
        # the operation's one field, reading one record: no other key can join its batch
        ctx.read_now = True
        try:
            return await load(info, gid)
        finally:
            ctx.read_now = False
    return await load(info, gid)


def _only_field(info: Info) -> bool:
    selections = info.operation.selection_set.selections
    return len(selections) == 1 and isinstance(selections[0], FieldNode)


@strawberry.type
class Query(RateLimitQuery):  # rateLimit: schema/limits.py
    @strawberry.field(
        description="Any object by its global ID (one batched read; null: the backend has no "
        "such object)."
    )
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global ID.")],
    ) -> Node | None:
        return await resolve_node(info, str(id), alone=True)

    @strawberry.field(
        description="Several objects by global ID, in the order asked (null where the backend "
        "has no such object; a bad or failing ID is an error naming its index, the others "
        "still answer)."
    )
    async def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID], strawberry.argument(description="Global IDs, at most 100.")
        ],
    ) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise UserInputError(f"at most {MAX_NODES} ids per call, got {len(ids)}")

        async def one(index: int, value: str) -> Node | None:
            # One bad or failing id is an error at its index, not a null for the whole list.
            try:
                return await resolve_node(info, value)
            except (UserInputError, UpstreamError) as exc:
                info.context.report(info, exc, index)
                return None

        return list(await asyncio.gather(*(one(n, str(i)) for n, i in enumerate(ids))))

    @strawberry.field(description="Every configured backend (no upstream request).")
    def backends(self, info: Info) -> list[Backend]:
        return [Backend.of(s) for s in info.context.sources.values()]

    @strawberry.field(description="One configured backend by name (null: no such backend).")
    def backend(
        self,
        info: Info,
        name: Annotated[str, strawberry.argument(description="The backend's configured name.")],
    ) -> Backend | None:
        src = info.context.sources.get(name)
        return Backend.of(src) if src else None

    @strawberry.field(
        description="A project by global ID, or by backend and link name (null: no such project)."
    )
    async def project(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID | None, strawberry.argument(description="A Project ID.")
        ] = None,
        backend: Annotated[
            str | None, strawberry.argument(description="Backend name (with linkName).")
        ] = None,
        link_name: Annotated[
            str | None,
            strawberry.argument(description="The project's linkName or native id (with backend)."),
        ] = None,
    ) -> Project | None:
        if id is not None:
            gid = node.decode(str(id), "Project")
            found = await info.context.project(gid.backend, gid.native)
        elif backend and link_name:
            found = await info.context.project(backend, link_name)
        else:
            raise UserInputError("give either id, or backend and linkName")
        return Project.of(found) if found else None

    @strawberry.field(
        description="Projects of every backend (or of those named), one backend after the "
        "other; costs one upstream request per backend."
    )
    async def projects(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        backends: Annotated[
            list[str] | None,
            strawberry.argument(description="Only these backends, in this order; null: all."),
        ] = None,
    ) -> Connection[Project]:
        ctx = info.context
        names = backends if backends is not None else list(ctx.sources)
        readers = [ctx.capable(n, base.ProjectReader, "projects") for n in names]
        fetchers = [r.list_projects for r in readers]
        return await concatenated(fetchers, first, after, Project.of)

    @strawberry.field(
        description="Changes of every backend (patches, Gerrit changes, pull requests) in one "
        "list ordered by update time; failed backends are listed in missingBackends, not "
        "fatal. Costs one upstream request per backend."
    )
    async def changes(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        filter: Annotated[
            ChangeFilterInput | None,
            strawberry.argument(description="Narrow the list; null: every change."),
        ] = None,
        order_by: Annotated[
            ChangeOrder | None, strawberry.argument(description="Null: newest update first.")
        ] = None,
    ) -> ChangeConnection:
        return await resolve_changes(info, first, after, filter, order_by)

    @strawberry.field(
        description="Patches of the Patchwork backends (kinds patchwork and patchwork-fdo). "
        "One backend (named, or the only one): in Patchwork's order, oldest first (by id) "
        "unless filter.order says otherwise. Several: merged by date like `series` (order "
        "-date, the default, or date; a composite cursor; failed backends in "
        "missingBackends), one upstream request per backend."
    )
    async def patches(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        filter: Annotated[
            PatchFilterInput | None,
            strawberry.argument(description="Narrow the list; null: every patch."),
        ] = None,
    ) -> Connection[Patch]:
        flt = filter or PatchFilterInput()
        native = flt.to_filter()
        readers = _readers(info, flt.backend, base.PatchReader, "patches")
        if len(readers) == 1:  # one backend: its own list, order and offsets, totalCount
            presence = selects(info, "checkState")
            if presence:  # its presence read may go out with the list's
                info.context.expect_check_presence(readers[0][0], native)
            page = await readers[0][1].list_patches(native, page_request(first, after))
            if presence:
                alone = info.context.solo and _only_field(info)  # nothing else to batch with
                await info.context.prefetch_check_presence(page.items, alone)
            return connection(page, Patch.of)
        descending = _date_order(native.order, "patches")
        # ties in date come back in id order (SQL leaves them unordered between pages)
        ordered = replace(native, order="-date,id" if descending else "date,id")
        feeds = {name: Feed(fetch=partial(src.list_patches, ordered)) for name, src in readers}
        digest = fingerprint("patches", list(feeds), ordered)
        found = await merged(info, feeds, _date, first, after, digest, descending, Patch.of)
        if selects(info, "checkState"):
            await info.context.prefetch_check_presence(p._r for p in found.nodes)
        return found

    @strawberry.field(
        description="Cover letters of every backend that has them (or the one named), merged "
        'by date, newest first unless filter.order is "date"; costs one upstream request '
        "per backend."
    )
    async def covers(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        filter: Annotated[
            CoverFilterInput | None,
            strawberry.argument(description="Narrow the list; null: every cover letter."),
        ] = None,
    ) -> Connection[Cover]:
        flt = filter or CoverFilterInput()
        native = flt.to_filter()
        descending = _date_order(native.order, "covers")
        ordered = replace(native, order="-date" if descending else "date")
        readers = _readers(info, flt.backend, base.CoverLister, "cover letters")
        feeds = {name: Feed(fetch=partial(src.list_covers, ordered)) for name, src in readers}
        digest = fingerprint("covers", list(feeds), ordered)
        return await merged(info, feeds, _date, first, after, digest, descending, Cover.of)

    @strawberry.field(
        description="User accounts of every backend that lists them (or of those named), one "
        "backend after the other; costs one upstream request per backend. Upstream Patchwork "
        "shows them to authenticated callers only (empty for anonymous ones)."
    )
    async def users(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        search: Annotated[
            str | None,
            strawberry.argument(description="Substring of the username, name or email."),
        ] = None,
        backends: Annotated[
            list[str] | None,
            strawberry.argument(description="Only these backends, in this order; null: all."),
        ] = None,
    ) -> Connection[Person]:
        ctx = info.context
        if backends is not None:
            readers = [ctx.capable(n, base.UserLister, "user lists") for n in backends]
        else:
            readers = [src for _, src in ctx.all_capable(base.UserLister)]
        if ctx.meta.anonymous:  # listed with the gateway's credential: not the caller's to see
            readers = []
        fetchers = [partial(r.list_users, search) for r in readers]
        return await concatenated(fetchers, first, after, _person)

    @strawberry.field(
        description="Series of the Patchwork backends (or the one named), merged by date; "
        "costs one upstream request per backend."
    )
    async def series(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        filter: Annotated[
            SeriesFilterInput | None,
            strawberry.argument(description="Narrow the list; null: every series."),
        ] = None,
    ) -> Connection[Series]:
        flt = filter or SeriesFilterInput()
        native = flt.to_filter()
        descending = not (native.order or "-date").lstrip().startswith("date")
        ordered = replace(native, order="-date" if descending else "date")
        readers = _readers(info, flt.backend, base.SeriesReader, "series")
        if isinstance(native, base.TrackedSeriesFilter):
            # Only backends tracking revisions know these filters: a named one must, the
            # others are left out rather than asked a question they would ignore.
            what = "name/reviewer/updated/test filters"
            if flt.backend:
                info.context.capable(flt.backend, base.RevisionReader, what)
            readers = [(n, s) for n, s in readers if base.provides(s, base.RevisionReader)]
            if not readers:
                raise UserInputError(f"no configured backend provides {what}", "UNSUPPORTED")
        feeds = {name: Feed(fetch=partial(src.list_series, ordered)) for name, src in readers}
        digest = fingerprint("series", list(feeds), ordered)
        return await merged(info, feeds, _date, first, after, digest, descending, Series.of)

    @strawberry.field(
        description="Events of every backend (or the one named), newest first; Gerrit and "
        "ABF keep no event log: their changes' latest updates. Costs one upstream request per "
        "backend."
    )
    async def events(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        filter: Annotated[
            EventFilterInput | None,
            strawberry.argument(description="Narrow the list; null: every event."),
        ] = None,
    ) -> Connection[Event]:
        flt = filter or EventFilterInput()
        native = flt.to_filter()
        feeds = {
            name: Feed(fetch=partial(src.list_events, native))
            for name, src in _readers(info, flt.backend, base.EventReader, "events")
        }
        digest = fingerprint("events", list(feeds), native)
        return await merged(info, feeds, _date, first, after, digest, True, Event.of)

    @strawberry.field(
        description="Bundles of one Patchwork backend that its credentials can see (for an "
        "anonymous caller: the public ones only)."
    )
    async def bundles(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        backend: Annotated[str | None, strawberry.argument(description=doc.FILTER_BACKEND)] = None,
        project: Annotated[
            str | None, strawberry.argument(description="Project link name or native id.")
        ] = None,
    ) -> Connection[Bundle]:
        name = pick_backend(info, backend, base.BundleReader, "bundles")
        src = info.context.capable(name, base.BundleReader, "bundles")
        page = await src.list_bundles(project, page_request(first, after))
        if info.context.meta.anonymous:
            # Listed with the gateway's credential: its private bundles are not the caller's.
            public = tuple(b for b in page.items if b.public)
            page = replace(page, items=public, total=None, kept=False)
        return connection(page, Bundle.of)
