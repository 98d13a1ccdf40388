"""ABF's pull requests as the federated ``changes`` stream, reading only what can reach a page.

What ABF's API forces: a pull request list can be sorted by update time (``sort=updated``)
but its items carry no update time (rosa-build's ``_pull`` partial; only the detail has
``updated_at``), and open and closed pull requests are separate lists. The federated merge
compares update times across backends, so an item can take part only once its detail is
read: one request per item, no multi-id lookup.

So a walk's first window reads the lists (concurrently) and then only the detail of each
list's head (concurrently), and offers the merged items whose order is known — the newest
head, until a list's next detail is unknown — with ``has_next`` (``ChangeLister`` allows a
short window while more follow). When none of ABF's items reaches the page, that is all it
reads: two lists and two details in two waves, however long the lists. When the page takes
ABF's items, the merge asks for the next window: the lists come from the walk's snapshot and
every detail that can still reach the page is read at once (one more wave).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from adapters.abf.records import PullRequest
from adapters.model import Page, PageRequest

SNAPSHOT_TTL = 60.0  # how long a walk's later windows reuse the lists its first window read
SNAPSHOTS = 32  # walks remembered at most


@dataclass
class Listed:
    """One walk's lists (in the server's update order) and the details read so far."""

    lists: list[tuple[list[PullRequest], bool]]  # items, has_next
    at: float = field(default_factory=time.monotonic)
    details: dict[str, PullRequest] = field(default_factory=dict)

    def covers(self, need: int) -> bool:
        return all(len(items) >= need or not more for items, more in self.lists)


def merged(listed: Listed, need: int, descending: bool) -> tuple[list[PullRequest], bool]:
    """Up to ``need`` items of the lists merged by update time, stopping where the next item's
    order is unknown (its detail is not read); and whether more may follow."""
    heads = [0] * len(listed.lists)
    out: list[PullRequest] = []
    while len(out) < need:
        best: int | None = None
        for i, (items, _) in enumerate(listed.lists):
            if heads[i] >= len(items):
                continue
            head = listed.details.get(items[heads[i]].id)
            if head is None:
                return out, True  # this list's next update time is not known yet
            if best is None:
                best = i
                continue
            other = listed.details[listed.lists[best][0][heads[best]].id]
            newer = head.updated_at > other.updated_at
            if newer if descending else head.updated_at < other.updated_at:
                best = i
        if best is None:
            break
        out.append(listed.details[listed.lists[best][0][heads[best]].id])
        heads[best] += 1
    more = any(
        heads[i] < len(items) or has_next for i, (items, has_next) in enumerate(listed.lists)
    )
    return out, more


class Walks:
    """The lists each walk read, kept ``SNAPSHOT_TTL`` seconds for its later windows."""

    def __init__(self) -> None:
        self._walks: dict[object, Listed] = {}

    async def window(
        self,
        key: object,
        page: PageRequest,
        descending: bool,
        read_lists: Callable[[int], Awaitable[list[tuple[list[PullRequest], bool]]]],
        read_details: Callable[[Sequence[PullRequest]], Awaitable[list[PullRequest]]],
    ) -> Page[PullRequest]:
        """The window at ``page`` (see the module doc for what is read when)."""
        need = page.offset + page.count
        listed = self._walks.get(key)
        fresh = listed is not None and time.monotonic() - listed.at < SNAPSHOT_TTL
        if page.offset == 0 or listed is None or not fresh or not listed.covers(need):
            listed = Listed(await read_lists(need))
            self._remember(key, listed)
        depth = 1 if page.offset == 0 else need  # a first window reads the heads only
        wanted = [
            p for items, _ in listed.lists for p in items[:depth] if p.id not in listed.details
        ]
        for pull in await read_details(wanted):
            listed.details[pull.id] = pull
        items, more = merged(listed, need, descending)
        return Page(items=tuple(items[page.offset :]), offset=page.offset, has_next=more)

    def _remember(self, key: object, listed: Listed) -> None:
        self._walks.pop(key, None)
        self._walks[key] = listed
        while len(self._walks) > SNAPSHOTS:
            del self._walks[next(iter(self._walks))]


async def gather_lists(
    reads: Sequence[Awaitable[Page[PullRequest]]],
) -> list[tuple[list[PullRequest], bool]]:
    """Read the lists together; each as (items, has_next)."""
    return [(list(p.items), p.has_next) for p in await asyncio.gather(*reads)]
