"""Linked changes on Gerrit (``adapters/links.py``): what ``GerritSource`` answers as a
``LinkKeyReader`` and ``LinkFinder``.

Keys of a change: its ``change_id`` and current patch set's sha (in every list answer: the
lists ask ``CURRENT_REVISION``), the ``Change-Id:``/``Link:`` trailers of the current commit
message (``o=CURRENT_COMMIT``: one batched ``change:1 OR change:2 …`` query for the changes
that came without it) and the patch-id of the current patch set (``/revisions/{sha}/patch``,
base64: one download per change). Search: one query per batch of keys, the keys ORed —
``change:I…`` (Change-Id), ``commit:<sha>``, ``message:"<Message-Id>"`` (a ``Link:``
trailer naming the mail) and ``message:"<title>"`` (candidates for the patch-id) — asked
with ``CURRENT_COMMIT`` so the found changes need no second query.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from adapters.errors import UpstreamError
from adapters.gerrit.records import GerritChange
from adapters.links import (
    Linked,
    LinkKeys,
    LinkQuery,
    keys_of_message,
    plain_title,
    sha,
)
from adapters.model import PageRequest
from adapters.patchid import patch_id

if TYPE_CHECKING:
    from adapters.gerrit.source import GerritSource

# source.py's LIST_OPTIONS and the current commit (its message holds the trailers)
COMMIT_OPTIONS = (
    "LABELS",
    "DETAILED_LABELS",
    "DETAILED_ACCOUNTS",
    "CURRENT_REVISION",
    "CURRENT_COMMIT",
)
CANDIDATES = 50  # changes one search returns at most
_QUERY_BUDGET = 1500  # characters of ORed terms per query (the validator allows 2000)


def _message(c: GerritChange) -> str | None:
    cur = c.current
    return cur.commit.message if cur is not None and cur.commit is not None else None


def _keys(c: GerritChange, patch: str | None) -> LinkKeys:
    cur = c.current
    trailer_ids, links = keys_of_message(_message(c))
    shas = frozenset(s for s in (sha(cur.sha if cur else None),) if s)
    return LinkKeys(
        change_ids=frozenset({c.change_id}) | trailer_ids if c.change_id else trailer_ids,
        link_msgids=links,
        shas=shas,
        patch_id=patch_id(patch),
    )


def search_terms(query: LinkQuery) -> list[str]:
    """The query's keys as Gerrit search terms (values Gerrit cannot quote are left out)."""
    terms = [f"change:{c}" for c in sorted(query.change_ids)]
    terms += [f"commit:{s}" for s in sorted(query.shas)]
    phrases = sorted(query.message_ids) + sorted({plain_title(t) for t in query.titles})
    terms += [f'message:"{p}"' for p in phrases if p and '"' not in p and "\\" not in p]
    return terms


def _batches(terms: Sequence[str]) -> list[str]:
    out: list[list[str]] = [[]]
    for term in terms:
        if out[-1] and sum(len(t) + 4 for t in out[-1]) + len(term) > _QUERY_BUDGET:
            out.append([])
        out[-1].append(term)
    # Gerrit 2.x answers only open changes to a query without a status.
    return [f"({' OR '.join(part)}) (status:open OR status:closed)" for part in out if part]


async def _patch_text(src: GerritSource, c: GerritChange) -> str | None:
    cur = c.current
    if cur is None:
        return None
    try:
        return (await src.patch(c.id, cur.sha)).text()
    except UpstreamError:
        return None  # no patch-id for it; the other keys still count


async def link_keys(src: GerritSource, changes: Sequence[Any]) -> list[LinkKeys]:
    """Each change's keys (the commit message read where the record lacks it)."""
    need = [c.id for c in changes if _message(c) is None]
    fresh = dict(zip(need, await src.get_changes(need, COMMIT_OPTIONS), strict=True))
    full = [fresh.get(c.id) or c for c in changes]
    patches = await asyncio.gather(*(_patch_text(src, c) for c in full))
    return [_keys(c, p) for c, p in zip(full, patches, strict=True)]


async def find_linked(src: GerritSource, query: LinkQuery) -> list[Linked]:
    """Changes with one of the Change-Ids or shas, or whose commit message holds one of
    the Message-Ids or titles; one request for every batch of keys."""
    queries = _batches(search_terms(query))
    if not queries:
        return []
    if len(queries) == 1:
        page = await src.query_changes(queries[0], PageRequest(0, CANDIDATES), COMMIT_OPTIONS)
        lists = [list(page.items)]
    else:
        lists = await src.query_many(queries, CANDIDATES, COMMIT_OPTIONS)
    records = list({c.id: c for found in lists for c in found}.values())
    keys = await link_keys(src, records)
    return [Linked(c, k) for c, k in zip(records, keys, strict=True)]
