"""The root ``Subscription``: live events from every backend (graphql-transport-ws).

Every event carries ``cursor``; ``events(after: cursor)`` resumes right after it — on any
replica sharing the event log — without loss or repeats within the retention window
(schema/live.py, adapters/eventlog.py). An older cursor is ``EVENTS_CURSOR_EXPIRED``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from adapters import base
from schema.context import Info
from schema.errors import UserInputError
from schema.types_events import Event


@strawberry.input(description="Which live events to receive.")
class LiveEventFilter:
    backends: list[str] | None = strawberry.field(
        default=None, description="Only these backends (default: every backend with events)."
    )
    categories: list[str] | None = strawberry.field(
        default=None, description="e.g. patch-created, patch-state-changed, check-created."
    )
    projects: list[str] | None = strawberry.field(default=None, description="Project link names.")


@strawberry.type(description="Live updates; a subscription is costed once, when it starts.")
class Subscription:
    @strawberry.subscription(
        description="New events as backends report them (polled): from now on, or right "
        "after `after` (an event's `cursor`)."
    )
    async def events(
        self,
        info: Info,
        filter: Annotated[
            LiveEventFilter | None,
            strawberry.argument(description="Which events to receive; null: all of them."),
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="Resume right after this event's `cursor` (from any replica). "
                "Too old: EVENTS_CURSOR_EXPIRED (list with the events query, then subscribe "
                "again without it)."
            ),
        ] = None,
    ) -> AsyncGenerator[Event, None]:
        flt = filter or LiveEventFilter()
        ctx = info.context
        if after is None:
            after = ctx.meta.resume_after  # an EventSource reconnecting (Last-Event-ID)
        if ctx.hub is None:
            raise UserInputError("live events are not enabled on this server", "UNSUPPORTED")
        names = flt.backends if flt.backends is not None else list(ctx.sources)
        readers = {}
        for name in names:
            source = ctx.source(name)
            if base.provides(source, base.EventReader):
                readers[name] = source
            elif flt.backends is not None:
                raise UserInputError(f"backend {name!r} has no event source", "UNSUPPORTED")
        categories = set(flt.categories or ())
        projects = set(flt.projects or ())
        async with ctx.hub.subscribe(readers, after) as feed:
            while True:
                entry, cursor = await feed.next()
                record = entry.event
                if categories and record.category not in categories:
                    continue
                if projects and (
                    record.project is None or record.project.link_name not in projects
                ):
                    continue
                # The cursor of a skipped event is not shown: resuming re-skips it.
                yield Event.of_live(record, cursor)
