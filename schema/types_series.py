"""Patches grouped: a series' cover letter (``Cover``), the series (``Series``, with the fdo
fork's revisions and test state through ``schema/revisions.py``) and bundles (``Bundle``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from operator import attrgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import strawberry

from adapters import base, model
from schema import descriptions as doc
from schema.context import Info
from schema.descriptions import After, First
from schema.pagination import Connection, connection, page_request
from schema.types import (
    Backend,
    CheckState,
    Comment,
    Header,
    Node,
    Patch,
    Person,
    Project,
    backend_of,
    download,
    header_list,
)
from schema.types_base import backend_field
from schema.unified import record_field, unified

if TYPE_CHECKING:
    from schema.revisions import Revision, StateCount

# Revisions, test state and state summary live in schema/revisions.py (the fdo fork's model).
_REV = "schema.revisions"


@unified(model.Cover, node_kind="Cover", rename={"author": "submitter"}, resolvers=("backend",))
@strawberry.type(description="A series' cover letter.")
class Cover(Node):
    title: str = strawberry.field(description="The cover letter's subject.")
    msgid: str = strawberry.field(description=doc.MSGID)
    date: datetime = strawberry.field(description=doc.DATE)
    web_url: str | None = strawberry.field(description=doc.WEB_URL)
    mbox_url: str | None = strawberry.field(description=doc.MBOX_URL)
    list_archive_url: str | None = strawberry.field(description=doc.ARCHIVE_URL)
    author: Person | None = strawberry.field(description="Who sent it (null: unknown or hidden).")
    _r: strawberry.Private[model.Cover]

    backend: Backend = backend_field()

    project: Project = record_field("project", "The project it was sent to.")

    @strawberry.field(description="The letter's text (null: the backend gave none).")
    def content(self) -> str | None:
        return self._r.content

    @strawberry.field(description="The mail headers (null: the backend gave none).")
    def headers(self) -> list[Header] | None:
        return header_list(self._r.headers)

    @strawberry.field(
        description="Replies to the cover letter, oldest first (one upstream request per "
        "cover; null: the read failed)."
    )
    async def comments(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Comment] | None:
        src = info.context.capable(self._r.backend, base.SeriesReader, "comments")
        page = await src.cover_comments(self._r.id, page_request(first, after))
        return connection(page, Comment.of)

    of: ClassVar[Callable[[model.Cover], Cover]]  # built by @unified


# A series keeps its backend and id apart from its record: an inline reference has no record.
_SERIES_PRIVATE: Mapping[str, Callable[[Any], Any]] = MappingProxyType(
    {"_backend": attrgetter("backend"), "_native": attrgetter("id")}
)


@unified(
    model.Series, node_kind="Series", private={**_SERIES_PRIVATE, "_project": attrgetter("project")}
)
@unified(
    model.SeriesRef,
    node_kind="Series",
    keep=None,
    private={**_SERIES_PRIVATE, "_project": lambda r: None, "_r": lambda r: None},
    name="of_summary",
)
@strawberry.type(description="Patches sent together, with a version and a completeness state.")
class Series(Node):
    name: str | None = strawberry.field(
        description="The series' name, usually its cover letter's subject (null: unnamed)."
    )
    version: int = strawberry.field(description="Its version: 1, then 2 for a v2 …")
    date: datetime | None = strawberry.field(
        description="When it was sent (ISO 8601, UTC; null: unknown)."
    )
    web_url: str | None = strawberry.field(description=doc.WEB_URL)
    mbox_url: str | None = strawberry.field(description=doc.MBOX_URL)
    _backend: strawberry.Private[str]
    _native: strawberry.Private[str]
    _project: strawberry.Private[model.Project | None]
    _r: strawberry.Private[model.Series | None]

    async def _full(self, info: Info) -> model.Series | None:
        if self._r is None:
            self._r = await info.context.series(self._backend, self._native)
        return self._r

    @strawberry.field(description=doc.BACKEND)
    def backend(self, info: Info) -> Backend:
        return backend_of(info, self._backend)

    @strawberry.field(
        description="The project it was sent to (may read the series, batched; null: unknown "
        "or the read failed)."
    )
    async def project(self, info: Info) -> Project | None:
        full = await self._full(info)
        proj = full.project if full and full.project else self._project
        return Project.of(proj) if proj else None

    @strawberry.field(
        description="Who sent it (may read the series, batched; null: unknown, hidden, or "
        "the read failed)."
    )
    async def submitter(self, info: Info) -> Person | None:
        full = await self._full(info)
        if isinstance(full, model.TrackedSeries) and full.submitter is None:
            from schema import revisions

            return await revisions.person(info, self._backend, full.submitter_id)
        return Person.of(full.submitter) if full else None

    @strawberry.field(
        description="The reviewer assigned to the series (patchwork-fdo only; null elsewhere, "
        "when nobody is, or the read failed)."
    )
    async def reviewer(self, info: Info) -> Person | None:
        full = await self._full(info)
        if not isinstance(full, model.TrackedSeries):
            return None
        from schema import revisions

        return await revisions.person(info, self._backend, full.reviewer_id)

    @strawberry.field(
        description="When the series last changed (ISO 8601, UTC; patchwork-fdo only, null "
        "elsewhere)."
    )
    async def updated_at(self, info: Info) -> datetime | None:
        full = await self._full(info)
        return full.updated if isinstance(full, model.TrackedSeries) else None

    @strawberry.field(
        description="The series' progress on patchwork-fdo: initial, in progress, done or "
        "incomplete (null elsewhere)."
    )
    async def progress(self, info: Info) -> str | None:
        full = await self._full(info)
        return full.state if isinstance(full, model.TrackedSeries) else None

    @strawberry.field(
        description="Versions of the series, oldest first (fdo: one batched request per "
        "series; upstream: the series itself). Null: the read failed."
    )
    async def revisions(
        self, info: Info
    ) -> list[Annotated[Revision, strawberry.lazy(_REV)]] | None:
        from schema import revisions

        full = await self._full(info)
        return await revisions.revisions(info, full) if full else None

    @strawberry.field(
        description="Test state of the latest revision (upstream: the rollup of its patches' "
        "checks, one patch list per series). Null: no result yet, or a read failed."
    )
    async def test_state(self, info: Info) -> CheckState | None:  # type: ignore[valid-type]
        from schema import revisions

        full = await self._full(info)
        return await revisions.test_state(info, full) if full else None

    @strawberry.field(
        description="The raw test state (patchwork-fdo: pending, info, success, warning, "
        "failure; null elsewhere)."
    )
    async def raw_test_state(self, info: Info) -> str | None:
        full = await self._full(info)
        return full.raw_test_state if isinstance(full, model.TrackedSeries) else None

    @strawberry.field(
        description="How many patches of the latest revision are in each state (upstream: "
        "one patch list per series; null: a read failed)."
    )
    async def state_summary(
        self, info: Info
    ) -> list[Annotated[StateCount, strawberry.lazy(_REV)]] | None:
        from schema import revisions

        full = await self._full(info)
        return await revisions.summary(info, full) if full else None

    @strawberry.field(
        description="How many patches the series announces (the N of [PATCH i/N]; reads the "
        "series, batched; null: the read failed)."
    )
    async def total(self, info: Info) -> int | None:
        full = await self._full(info)
        return full.total if full else None

    @strawberry.field(
        description="How many of them have arrived (reads the series; null: the read failed)."
    )
    async def received_total(self, info: Info) -> int | None:
        full = await self._full(info)
        return full.received_total if full else None

    @strawberry.field(
        description="Whether every announced patch has arrived (reads the series; null: the "
        "read failed)."
    )
    async def complete(self, info: Info) -> bool | None:
        full = await self._full(info)
        return full.received_all if full else None

    @strawberry.field(
        description="The whole series as one mbox, for `git am` (one download per series; "
        "null: no mbox URL, or the download failed)."
    )
    async def mbox(self, info: Info) -> str | None:
        return await download(info, self._backend, self.mbox_url)

    @strawberry.field(
        description="The cover letter (reads the series and the letter, batched; null: none, "
        "or a read failed)."
    )
    async def cover(self, info: Info) -> Cover | None:
        full = await self._full(info)
        if full is None or full.cover is None:
            return None
        cover = await info.context.cover(self._backend, full.cover.id)
        return Cover.of(cover) if cover else None

    @strawberry.field(
        description="The series' patches in the order they were sent (one patch list per "
        "series; null: the read failed)."
    )
    async def patches(self, info: Info) -> list[Patch] | None:
        from schema import revisions

        full = await self._full(info)
        found = await revisions.series_patches(info, self._backend, self._native, full)
        return [Patch.of(p) for p in found]

    of: ClassVar[Callable[[model.Series], Series]]  # built by @unified
    of_summary: ClassVar[Callable[[model.SeriesRef], Series]]  # without its project

    @staticmethod
    def of_ref(ref: model.SeriesRef, project: model.Project | None) -> Series:
        """GraphQL view of a series summary; other fields load the series on demand."""
        found = Series.of_summary(ref)
        found._project = project
        return found


@unified(model.Bundle, node_kind="Bundle", resolvers=("backend",))
@strawberry.type(description="A named collection of patches.")
class Bundle(Node):
    name: str = strawberry.field(description="The bundle's name, chosen by its owner.")
    public: bool = strawberry.field(description="Whether anyone may see it (else its owner only).")
    web_url: str | None = strawberry.field(description=doc.WEB_URL)
    mbox_url: str | None = strawberry.field(description=doc.MBOX_URL)
    owner: Person | None = strawberry.field(description="Who made it (null: hidden).")
    _r: strawberry.Private[model.Bundle]

    backend: Backend = backend_field()

    project: Project | None = record_field(
        "project", "The project its patches belong to (null: not given)."
    )

    @strawberry.field(
        description="The bundle's patches (one detail read per patch; ones gone upstream "
        "are left out; null: a read failed)."
    )
    async def patches(self, info: Info) -> list[Patch] | None:
        out = []
        for ref in self._r.patches:
            found = await info.context.patch(self._r.backend, ref.id)
            if found:
                out.append(Patch.of(found))
        return out

    of: ClassVar[Callable[[model.Bundle], Bundle]]  # built by @unified
