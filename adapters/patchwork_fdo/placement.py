"""One request's placement of fdo patches, started before the federated page is chosen
(``adapters.base.WarmPlacer``; the reads themselves: ``adapters/patchwork_fdo/revisions.py``).

Placing a patch costs 3 dependent reads after the patch list (its group's series list, the
candidate series' revisions, the placed revision's test results), and the merge chooses the
page only when its slowest backend has answered. So the chain runs ahead of the merge:

- as soon as fdo's window is read, every group of it has its series list read (any patch of
  the window can reach the page: the merge has not taken anything yet);
- as each list answers, the group's patches that can *still* reach the page (the merge's
  ``reachable``: fewer than a page of known items ahead of them) are placed, reading the
  candidate series' revisions;
- then, when the page asks for checks, the test results of the revisions placing the patches
  that still can reach it.

The page's own placement (``patch_revisions``, ``revision_test_results``, through the
request's loaders) goes through the same ``Reads``: what ran ahead is not read again, and
what is placed is what a fresh placement of the page's patches gives (each group is placed
again from the shared reads with the page's own span).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from adapters.errors import UpstreamError
from adapters.model import Check, CheckState, Patch, Revision
from adapters.patchwork_fdo.revisions import Reads, groups_of, patch_revisions, place, span
from adapters.patchwork_fdo.revisions import started as _started

if TYPE_CHECKING:
    from adapters.patchwork_fdo.source import FdoSource

Reachable = Callable[[Sequence[Patch]], Sequence[Patch]]


class Placement:
    """See the module doc."""

    def __init__(self, src: FdoSource) -> None:
        self._src = src
        self._reads = Reads(src)
        self._groups: set[tuple[str, str]] = set()

    def warm(
        self,
        patches: Sequence[Patch],
        reachable: Reachable,
        results: bool,
        rollup_only: bool = False,
    ) -> None:
        """Start each new group's series list, and its placement once the list answers."""
        for key, members in groups_of(patches).items():
            if key in self._groups:
                continue
            self._groups.add(key)
            self._reads.series_list(*key, *span(members))
            _started(self._ahead(key, members, reachable, results, rollup_only))

    async def _ahead(
        self,
        key: tuple[str, str],
        members: Sequence[Patch],
        reachable: Reachable,
        results: bool,
        rollup_only: bool,
    ) -> None:
        try:
            await self._reads.series_list(*key, *span(members))
            members = reachable(members)
            if not members:
                return
            placed = await place(self._reads, *key, members)
            if results:
                ids = {p.id for p in reachable(members)}
                keys = sorted({rev.key for pid, rev in placed.items() if pid in ids})
                if rollup_only:  # what the series lists tell needs no results
                    keys = [k for k in keys if self._reads.listed_state(k) is None]
                await self._reads.revision_test_results(keys)
        except UpstreamError:
            return  # the page's own placement meets the same failed read and reports it

    async def patch_revisions(self, ids: Sequence[str]) -> list[Revision | None]:
        return await patch_revisions(self._src, ids, self._reads)

    async def revision_test_results(self, keys: Sequence[str]) -> list[list[Check]]:
        return await self._reads.revision_test_results(keys)

    def listed_state(self, key: str) -> tuple[CheckState | None] | None:
        return self._reads.listed_state(key)
