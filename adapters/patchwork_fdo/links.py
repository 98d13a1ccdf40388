"""Linked changes on freedesktop Patchwork (``adapters/links.py``): what ``FdoSource`` answers as a
``LinkKeyReader`` and ``LinkFinder``.

The fork's API sends no Message-Id and keeps only the diff in a patch's ``content``: a patch's
keys come from its mbox (``patches/<id>/mbox/``, one download each, concurrently), which
carries the ``Message-Id`` header, the commit message (``Change-Id:``/``Link:`` trailers) and
the diff (patch-id). Search: the exact ``name=`` filter with each title as given and without its
mail prefixes (one list request per name); the API cannot search Message-Ids, Change-Ids or shas.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from adapters.base import TrackedPatchFilter
from adapters.errors import UpstreamError
from adapters.links import Linked, LinkKeys, LinkQuery, patch_keys, plain_title
from adapters.model import Page, PageRequest, TrackedPatch

if TYPE_CHECKING:
    from adapters.patchwork_fdo.source import FdoSource

CANDIDATES = 20  # patches read per title


async def link_keys(src: FdoSource, changes: Sequence[Any]) -> list[LinkKeys]:
    """Each patch's keys, from its mbox (a patch whose mbox fails keeps its diff's)."""

    async def mail(change: Any) -> str | None:
        try:
            return await src.patch_mbox(change.id)
        except UpstreamError:
            return None

    mails = await asyncio.gather(*(mail(c) for c in changes))
    return [patch_keys(c, m) for c, m in zip(changes, mails, strict=True)]


async def find_linked(src: FdoSource, query: LinkQuery) -> list[Linked]:
    """Patches named like one of the titles."""
    # exact names: as the other forge titled it, and without its mail prefixes
    names = sorted(
        ({t.strip() for t in query.titles} | {plain_title(t) for t in query.titles}) - {""}
    )
    pages: list[Page[TrackedPatch]] = await asyncio.gather(
        *(src.list_patches(TrackedPatchFilter(name=n), PageRequest(0, CANDIDATES)) for n in names)
    )
    records = list({p.id: p for page in pages for p in page.items}.values())
    keys = await link_keys(src, records)
    return [Linked(p, k) for p, k in zip(records, keys, strict=True)]
