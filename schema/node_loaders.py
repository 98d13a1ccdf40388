"""``node(id)`` loaders for the types every kind hands out under one name: ``Check``,
``Comment``, ``Event`` and series ``Revision`` (``schema/kinds/core.py`` registers them).

A check or comment has no read of its own on most forges: it is found among its change's (or
cover letter's) checks or comments, through the change's own GraphQL type — whichever kind
the backend is, the change types registered by the schema's kinds are tried in turn (a type
its backend does not provide answers ``UNSUPPORTED`` without a request). An event is found in
its backend's event list around the time its ID carries.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterable
from datetime import datetime, timedelta
from typing import Any

from adapters import base
from adapters.model import PageRequest
from schema import node
from schema.context import Info
from schema.errors import UserInputError
from schema.node import GlobalId
from schema.plugin import composition_of
from schema.revisions import Revision
from schema.types import Check, Node
from schema.types_events import Event

# How far around an event's own time its list is read (server clocks round differently).
EVENT_WINDOW = timedelta(seconds=1)
COMMENT_PAGE = 100
MAX_PAGES = 50  # a bound on reading one parent's comments or one second of events


def _types_implementing(info: Info, interface: str) -> list[str]:
    """Node types of the schema's kinds that implement ``interface`` (e.g. Change)."""
    names = []
    for name in composition_of(info).nodes:
        definition = info.schema.get_type_by_name(name)
        interfaces = getattr(definition, "interfaces", None) or ()
        if any(i.name == interface for i in interfaces):
            names.append(name)
    return names


async def _parents(info: Info, backend: str, native: str, types: Iterable[str]) -> list[Any]:
    """The objects of ``types`` with native id ``native`` on ``backend`` (types the backend
    does not provide are skipped: their loaders refuse before any request)."""
    loaders = composition_of(info).nodes
    found = []
    for type_name in types:
        try:
            obj = await loaders[type_name](info, GlobalId(type_name, backend, native))
        except UserInputError:
            continue
        if obj is not None:
            found.append(obj)
    return found


def _splits(native: str) -> list[tuple[str, str]]:
    """``(parent, rest)`` at every "/" of ``native``, leftmost first: the parent's id may
    hold "/" (a Gerrit project), and so may the child's (a Gerrit vote ``Verified/<account>``)."""
    return [(native[:i], native[i + 1 :]) for i, ch in enumerate(native) if ch == "/"]


async def load_check(info: Info, gid: GlobalId) -> Node | None:
    """A check by ID (native ``<change>/<check>``): among its change's checks."""
    wanted = node.encode("Check", gid.backend, gid.native)
    src = info.context.source(gid.backend)
    if gid.native.count("/") >= 2 and base.provides(src, base.RevisionReader):
        # fdo checks are a revision's test results: ``<series>/<version>/<result>``
        key = gid.native.rpartition("/")[0]
        results = (await src.revision_test_results([key]))[0]
        return next((c for c in map(Check.of, results) if c.id == wanted), None)
    changes = _types_implementing(info, "Change")
    for parent_id, _ in _splits(gid.native):
        for parent in await _parents(info, gid.backend, parent_id, changes):
            listed = parent.checks(info)  # synchronous, or a read (graphql-core would await)
            for found in (await listed if inspect.isawaitable(listed) else listed) or ():
                if found.id == wanted:
                    check: Node = found
                    return check
    return None


async def _comments(info: Info, parent: Any) -> AsyncIterator[Any]:
    after = None
    for _ in range(MAX_PAGES):
        page = await parent.comments(info, first=COMMENT_PAGE, after=after)
        if page is None:
            return
        for item in page.nodes:
            yield item
        if not page.page_info.has_next_page:
            return
        after = page.page_info.end_cursor


async def load_comment(info: Info, gid: GlobalId) -> Node | None:
    """A comment by ID (native ``<parent>/<comment>``): among its parent's comments. The
    parent's type is not in the ID: changes are tried first, then cover letters."""
    wanted = node.encode("Comment", gid.backend, gid.native)
    types = [*_types_implementing(info, "Change"), "Cover"]
    native = gid.native
    for parent_id, _ in _splits(native):
        for parent in await _parents(info, gid.backend, parent_id, types):
            async for item in _comments(info, parent):
                if item.id == wanted:
                    found: Node = item
                    return found
    return None


async def load_event(info: Info, gid: GlobalId) -> Node | None:
    """An event by ID (native ``<event id>@<its time>``): its backend's events of that
    second, read page by page. An ID without the time (issued before it was added) is not
    found: nothing bounds the read."""
    ident, _, when = gid.native.rpartition("@")
    try:
        at = datetime.fromisoformat(when)
    except ValueError:
        return None
    if not ident or at.tzinfo is None:
        return None
    src = info.context.capable(gid.backend, base.EventReader, "events")
    flt = base.EventFilter(since=at - EVENT_WINDOW, before=at + EVENT_WINDOW)
    offset = 0
    for _ in range(MAX_PAGES):
        page = await src.list_events(flt, PageRequest(offset, COMMENT_PAGE))
        for record in page.items:
            if record.id == ident and record.date == at:
                return Event.of(record)
        if not page.has_next or not page.items:
            return None
        offset += len(page.items)
    return None


async def load_revision(info: Info, gid: GlobalId) -> Node | None:
    """A series revision by ID (native ``<series>/<version>``): read where the backend tracks
    revisions (fdo), else the series itself while that is its version (upstream Patchwork)."""
    series_id, _, version = gid.native.rpartition("/")
    if not series_id or not version.isdigit():
        return None
    src = info.context.source(gid.backend)
    if base.provides(src, base.RevisionReader):
        found = (await src.get_revisions([gid.native]))[0]
        return Revision.of(found) if found else None
    series = await info.context.series(gid.backend, series_id)
    if series is None or series.version != int(version):
        return None
    return Revision.of_ref(series)
