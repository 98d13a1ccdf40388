"""The root ``Subscription``: live events from every backend (graphql-transport-ws)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from adapters import base
from schema.context import Info
from schema.errors import UserInputError
from schema.types import Event


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
        description="New events as backends report them (polled; newest after subscribing)."
    )
    async def events(
        self,
        info: Info,
        filter: Annotated[
            LiveEventFilter | None,
            strawberry.argument(description="Which events to receive; null: all of them."),
        ] = None,
    ) -> AsyncGenerator[Event, None]:
        flt = filter or LiveEventFilter()
        ctx = info.context
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
        async with ctx.hub.subscribe(readers) as queue:
            while True:
                record = await queue.get()
                if categories and record.category not in categories:
                    continue
                if projects and (
                    record.project is None or record.project.link_name not in projects
                ):
                    continue
                yield Event.of(record)
