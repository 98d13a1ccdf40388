"""``Change.related`` and ``changes(filter: {relatedTo:})``: where else a change was posted.

Only the ports of ``adapters/links.py`` are used: each backend's ``LinkKeyReader`` tells the
keys of its changes, each ``LinkFinder`` finds changes carrying some keys, and
``adapters.links.evidence`` compares them. Everything a query asks is batched per request
(one ``RelatedBatch`` loader): the keys of every change asked about are read together, per
backend, then each backend is searched once with the union of all their keys (a backend
whose API ORs them makes one request for the whole list; docs/federation.md "Linked
changes" lists the reads per kind). Nothing here runs unless ``related`` or ``relatedTo`` is
asked: the list path never pays for it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from adapters import base, links
from adapters.base import ChangeFilter
from adapters.errors import UpstreamError
from adapters.links import Evidence, Linked, LinkKeys
from schema import descriptions as doc
from schema import node
from schema.context import Info
from schema.errors import UserInputError
from schema.loader import Loader
from schema.merge import matches
from schema.pagination import Edge, PageInfo, offset_cursor, page_size, parse_offset
from schema.plugin import composition_of

if TYPE_CHECKING:
    from schema.types import Change

LinkEvidence = strawberry.enum(
    Evidence, name="LinkEvidence", description="Why two changes are taken for the same work."
)
doc.describe_values(
    LinkEvidence,
    MESSAGE_ID="The same mail: one Message-Id (two Patchwork instances). Confidence 1.0.",
    CHANGE_ID_TRAILER="The same Gerrit Change-Id: a change's own or a `Change-Id:` trailer "
    "in a commit message or a mail. Confidence 1.0.",
    COMMIT_SHA="The same commit: Patchwork's commit_ref, a patch set's or a pull request "
    "head's sha (whole names only). Confidence 1.0.",
    PATCH_ID="The same diff by git's stable patch-id, computed from each forge's diff. "
    "Confidence 0.9.",
    LINK_TRAILER="A `Link:` trailer whose URL ends in the other's Message-Id (or both link "
    "the same mail). Confidence 0.95.",
)


@strawberry.type(description="Another change that is the same work, and why it is taken so.")
class ChangeLink:
    change: Annotated[Change, strawberry.lazy("schema.types")] = strawberry.field(
        description="The linked change (on any backend)."
    )
    evidence: list[LinkEvidence] = strawberry.field(  # type: ignore[valid-type]
        description="Every kind of evidence found, strongest first."
    )
    confidence: float = strawberry.field(
        description="0..1: the strongest evidence's confidence (see LinkEvidence)."
    )


@dataclass(frozen=True, slots=True)
class _Ask:
    """One change whose links are asked: hashed by identity on its backend."""

    backend: str
    id: str
    record: Any

    def __hash__(self) -> int:
        return hash((self.backend, self.id))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Ask) and (self.backend, self.id) == (other.backend, other.id)


@dataclass(frozen=True, slots=True)
class Found:
    """A linked change record and the evidence."""

    record: Any
    evidence: tuple[Evidence, ...]
    confidence: float


async def _keys(info: Info, asks: Sequence[_Ask]) -> dict[_Ask, LinkKeys]:
    by_backend: dict[str, list[_Ask]] = {}
    for ask in asks:
        by_backend.setdefault(ask.backend, []).append(ask)

    async def one(backend: str, group: list[_Ask]) -> list[tuple[_Ask, LinkKeys]]:
        src = info.context.source(backend)
        if not base.provides(src, links.LinkKeyReader):
            return []  # a kind that tells no keys links nothing
        found = await src.link_keys([a.record for a in group])
        return list(zip(group, found, strict=True))

    parts = await asyncio.gather(*(one(b, g) for b, g in by_backend.items()))
    return {ask: keys for part in parts for ask, keys in part}


async def _search(info: Info, query: links.LinkQuery) -> list[Linked]:
    async def one(finder: links.LinkFinder) -> list[Linked]:
        try:
            return await finder.find_linked(query)
        except UpstreamError as exc:
            # One forge down hides its links only: reported (extensions.backend), not fatal.
            info.context.report(info, exc)
            return []

    finders = info.context.all_capable(links.LinkFinder)
    results = await asyncio.gather(*(one(f) for _, f in finders))
    return [linked for found in results for linked in found]


def _matches(ask: _Ask, keys: LinkKeys, candidates: Sequence[Linked]) -> list[Found]:
    out: dict[tuple[str, str], Found] = {}
    for cand in candidates:
        rec = cand.change
        if (rec.backend, rec.id) == (ask.backend, ask.id):
            continue
        found = links.evidence(keys, cand.keys)
        if found:
            out[(rec.backend, rec.id)] = Found(rec, tuple(found), links.confidence(found))
    return sorted(out.values(), key=lambda f: (-f.confidence, -f.record.updated_at.timestamp()))


async def _batch(info: Info, asks: Sequence[_Ask]) -> list[list[Found]]:
    keys = await _keys(info, asks)
    known = [k for k in keys.values() if k]
    if not known:
        return [[] for _ in asks]
    titles = [a.record.title for a in asks if a in keys]
    asked = {(a.backend, a.id): Linked(a.record, k) for a, k in keys.items()}
    first = dataclasses.replace(links.query_of(known, titles), known=asked)
    candidates = await _search(info, first)
    # One more hop with the keys the first search revealed: a patch's Gerrit twin names
    # the commit its pull request's head is (ABF searches shas only). Evidence stays direct.
    second = links.query_of(c.keys for c in candidates).without(first)
    if second:
        candidates += await _search(info, second)
    # The changes asked about are candidates of each other too (a list holding both twins).
    candidates += [Linked(a.record, k) for a, k in keys.items()]
    return [_matches(a, keys[a], candidates) if a in keys else [] for a in asks]


async def related_records(info: Info, record: Any) -> list[Found]:
    """The changes linked to ``record`` (a change record), strongest evidence first."""
    ctx = info.context

    async def batch(asks: Sequence[_Ask]) -> list[list[Found]]:
        return await _batch(info, asks)

    loader: Loader[_Ask, list[Found]] = ctx.loader("*", "related", batch)
    return await loader.load(_Ask(record.backend, record.id, record))


def _converter(info: Info) -> Callable[[Any], Change]:
    types = composition_of(info).changes

    def convert(record: Any) -> Change:
        return types[type(record)](record)

    return convert


async def resolve_related(info: Info, record: Any) -> list[ChangeLink]:
    """``Change.related``: the links, as GraphQL objects."""
    convert = _converter(info)
    return [
        ChangeLink(change=convert(f.record), evidence=list(f.evidence), confidence=f.confidence)
        for f in await related_records(info, record)
        if type(f.record) in composition_of(info).changes
    ]


async def change_record(info: Info, change_id: str) -> Any:
    """The record behind a ``Change`` ID (``relatedTo``), through ``node(id:)``'s loaders."""
    gid = node.decode(change_id)
    loader = composition_of(info).nodes.get(gid.type)
    found = await loader(info, gid) if loader is not None else None
    record = getattr(found, "_r", None)
    if record is None or type(record) not in composition_of(info).changes:
        raise UserInputError(f"relatedTo: {change_id!r} is not a change", "BAD_USER_INPUT")
    return record


async def related_page(
    info: Info,
    related_to: str,
    filters: dict[str, ChangeFilter],
    descending: bool,
    first: int | None,
    after: str | None,
) -> tuple[list[Edge[Change]], PageInfo]:
    """``changes(filter: {relatedTo:})``: the changes linked to one, on the backends and
    matching the filter ``filters`` holds per backend, by update time, in offset pages (the
    linked changes are few: they are found whole, then windowed)."""
    count, offset = page_size(first), parse_offset(after)
    record = await change_record(info, related_to)
    found = [
        f.record
        for f in await related_records(info, record)
        if f.record.backend in filters and matches(f.record, filters[f.record.backend])
    ]
    found.sort(key=lambda r: r.updated_at, reverse=descending)
    window = found[offset : offset + count]
    convert = _converter(info)
    edges = [Edge(cursor=offset_cursor(offset + i), node=convert(r)) for i, r in enumerate(window)]
    return edges, PageInfo(
        has_next_page=offset + count < len(found),
        has_previous_page=offset > 0,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
