"""Linked changes on upstream Patchwork (``adapters/links.py``): what ``PatchworkSource``
answers as a ``LinkKeyReader`` and ``LinkFinder``.

Keys of a patch: its Message-Id and ``commit_ref`` (both in the list item), the ``Change-Id:``
and ``Link:`` trailers of its content and its diff's patch-id (a detail read each, batched
concurrently; none for a detail record). Search: ``msgid=`` (API 1.2+, one list request per
Message-Id: Patchwork has no OR) and the title without its mail prefixes as ``q=`` (one list
request per title, for the patch-id comparison). Patchwork cannot search Change-Ids or commit
shas.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from adapters.base import PatchFilter
from adapters.errors import BadRequest
from adapters.links import Linked, LinkKeys, LinkQuery, patch_keys, plain_title
from adapters.model import Page, PageRequest, Patch

if TYPE_CHECKING:
    from adapters.patchwork.source import PatchworkSource

CANDIDATES = 20  # patches read per title: same-title candidates for a patch-id comparison


async def link_keys(src: PatchworkSource, changes: Sequence[Any]) -> list[LinkKeys]:
    """Each patch's keys; list items are read in detail (content and diff)."""
    need = [c.id for c in changes if not c.is_detail]
    details = dict(zip(need, await src.get_patches(need), strict=True)) if need else {}
    return [patch_keys(c if c.is_detail else details.get(c.id) or c) for c in changes]


async def find_linked(src: PatchworkSource, query: LinkQuery) -> list[Linked]:
    """Patches with one of the Message-Ids, or titled like one of the titles."""
    filters = [PatchFilter(msgid=m) for m in sorted(query.message_ids)]
    try:
        if filters:
            await src._require("1.2", "filtering by msgid")
    except BadRequest:
        filters = []  # an older server cannot find mails by Message-Id: titles only
    filters += [PatchFilter(q=plain_title(t)) for t in sorted(query.titles) if t.strip()]
    pages: list[Page[Patch]] = await asyncio.gather(
        *(src.list_patches(f, PageRequest(0, CANDIDATES)) for f in filters)
    )
    found = {p.id: p for page in pages for p in page.items}
    records = list(found.values())
    keys = await link_keys(src, records)
    return [Linked(p, k) for p, k in zip(records, keys, strict=True)]
