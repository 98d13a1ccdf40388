"""``Event``: something that happened on a backend (listed by ``events``, live through the
subscription, which sets its ``cursor``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

import strawberry

from adapters import model
from schema.context import Info
from schema.types import (
    Backend,
    Node,
    Patch,
    Person,
    Project,
)
from schema.types_base import backend_field
from schema.types_series import Cover, Series
from schema.unified import record_field, unified

if TYPE_CHECKING:
    pass


def _event_cursor(root: Event) -> str | None:
    return root._cursor


def _event_native(r: model.Event) -> str:
    # The time bounds the read that finds it again (``schema/node_loaders.py``): most event
    # logs have no read by id.
    return f"{r.id}@{r.date.isoformat()}"


@unified(model.Event, node_kind="Event", native=_event_native, resolvers=("backend",))
@strawberry.type(description="Something that happened on a backend.")
class Event(Node):
    category: str = strawberry.field(
        description="What happened: Patchwork's category (patch-created, "
        "patch-state-changed, check-created …); Gerrit change-updated/-merged/-abandoned; "
        "ABF pull-request-created/-updated/-merged/-closed."
    )
    date: datetime = strawberry.field(description="When it happened (ISO 8601, UTC).")
    actor: Person | None = strawberry.field(
        description="Who did it (Patchwork 1.2+; null: unknown or a mail)."
    )
    previous_state: str | None = strawberry.field(
        description="patch-state-changed: the raw state before (null for other categories)."
    )
    current_state: str | None = strawberry.field(
        description="patch-state-changed: the raw state after (null for other categories)."
    )
    previous_delegate: Person | None = strawberry.field(
        description="patch-delegated: the delegate before (null: none, or another category)."
    )
    current_delegate: Person | None = strawberry.field(
        description="patch-delegated: the delegate after (null: none, or another category)."
    )
    _r: strawberry.Private[model.Event]
    _cursor: strawberry.Private[str | None] = None  # set on live events only (schema/live.py)

    cursor: str | None = strawberry.field(
        resolver=_event_cursor,
        description="Live events (subscription) only: pass it as `events(after:)` to resume "
        "right after this event, without loss or repeats, within the retention window.",
    )

    backend: Backend = backend_field()

    project: Project | None = record_field(
        "project", "The project it happened in (null: not given)."
    )

    @strawberry.field(
        description="The patch it is about (one batched read; null: none, or the read failed)."
    )
    async def patch(self, info: Info) -> Patch | None:
        if self._r.patch_id is None:
            return None
        found = await info.context.patch(self._r.backend, self._r.patch_id)
        return Patch.of(found) if found else None

    @strawberry.field(
        description="The series it is about (one batched read; null: none, or the read failed)."
    )
    async def series(self, info: Info) -> Series | None:
        if self._r.series_id is None:
            return None
        found = await info.context.series(self._r.backend, self._r.series_id)
        return Series.of(found) if found else None

    @strawberry.field(
        description="The cover letter it is about (one batched read; null: none, or the read "
        "failed)."
    )
    async def cover(self, info: Info) -> Cover | None:
        if self._r.cover_id is None:
            return None
        found = await info.context.cover(self._r.backend, self._r.cover_id)
        return Cover.of(found) if found else None

    of: ClassVar[Callable[[model.Event], Event]]  # built by @unified

    @staticmethod
    def of_live(r: model.Event, cursor: str) -> Event:
        """GraphQL view of a live event at feed position ``cursor``."""
        found = Event.of(r)
        found._cursor = cursor
        return found
