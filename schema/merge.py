"""The federated list: a k-way merge of every backend's change stream, ordered by update time.

Each backend contributes a *stream*: its changes in its own ``updated_at`` order, fetched in
windows from an absolute position (``ChangeLister.list_changes``). A page of ``n`` takes the
best head among the streams ``n`` times (newest first, or oldest first; ties go to the
backend listed first, and a backend's own order is always kept). The composite cursor of an
edge records, for every backend, the position of its next unconsumed item — so walking the
pages returns every change exactly once, however differently the backends page.

Every filter is applied again by the gateway to the records (``matches``): pushdown is an
optimisation, and items a backend returns that do not match only advance its position.

A backend that fails or exceeds its time budget is left out of the page: its position stays
where it was (the next page tries it again), the page says it is missing, and the failure is
reported as a backend-named error while the other backends' data comes back.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import time
from bisect import bisect_left, bisect_right
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from adapters.base import ChangeFilter, ChangeLister, list_waves, retrieved
from adapters.breaker import Attempt, Breakers, CircuitBreaker
from adapters.errors import Timeout, Unavailable, UpstreamError
from adapters.model import ChangeRecord, Page, PageRequest
from adapters.people import author_matches
from schema.errors import UserInputError

CURSOR_VERSION = 1
_NO_BREAKER = contextlib.nullcontext()


def matches(record: ChangeRecord, flt: ChangeFilter) -> bool:
    """Whether ``record`` satisfies ``flt`` (the gateway-side check of every common filter)."""
    if flt.states and record.state not in flt.states:
        return False
    if flt.updated_since and record.updated_at < flt.updated_since:
        return False
    if flt.updated_before and record.updated_at >= flt.updated_before:
        return False
    if flt.search and flt.search.casefold() not in record.title.casefold():
        return False
    if flt.projects:
        project = record.project
        if project is None or not ({project.id, project.link_name} & set(flt.projects)):
            return False
    if flt.author:
        author = record.author
        wanted = flt.author.casefold()
        names = (author.email, author.username, author.name) if author else ()
        if not any(n and n.casefold() == wanted for n in names):
            return False
    return not flt.people or author_matches(record.author, flt.people)


# A feed's warm-up: its window's items and a filter of those that can still reach the page.
Warm = Callable[[Sequence[Any], Callable[[Sequence[Any]], list[Any]]], None]


@dataclass(frozen=True)
class Feed:
    """One backend's part in a merged list: how to fetch a window and what to keep."""

    fetch: Callable[[PageRequest], Awaitable[Page[Any]]]
    keep: Callable[[Any], bool] = lambda _: True
    # Told each window's kept items as soon as they are read, while the merge may still wait
    # for slower backends, with a filter keeping those that can still reach the page.
    warm: Warm | None = None
    waves: int = 1  # dependent round trips of a first window (``adapters.base.list_waves``)


def change_feed(
    lister: ChangeLister,
    flt: ChangeFilter,
    descending: bool,
    warm: Warm | None = None,
) -> Feed:
    """A backend's changes matching ``flt`` as a feed."""
    return Feed(
        fetch=lambda page: lister.list_changes(flt, page, descending),
        keep=lambda record: matches(record, flt),
        warm=warm,
        waves=list_waves(lister),
    )


@dataclass
class Stream:
    """One backend's ordered items, read ahead in windows from a raw position."""

    name: str
    feed: Feed
    position: int  # raw position of the next item not yet consumed (filtered-out ones count)
    window: int
    buffer: list[tuple[int, Any]] = field(default_factory=list)
    fetched_to: int = -1  # raw position after the last fetched item
    more: bool = True
    failed: UpstreamError | None = None
    breaker: CircuitBreaker | None = None
    reachable: Callable[[Sequence[Any]], list[Any]] | None = None  # see ``Reach``
    ahead: asyncio.Future[Page[Any]] | None = None  # the next window, read ahead
    version: int = 0  # bumped whenever ``buffer`` changes (``Reach`` keeps its keys until)

    def __post_init__(self) -> None:
        self.fetched_to = self.position

    @property
    def live(self) -> bool:
        """Whether this stream may still produce items on this page."""
        return self.failed is None and (bool(self.buffer) or self.more)

    async def fill(self, deadline: float) -> None:
        """Make sure the buffer holds a matching head, unless the stream is exhausted."""
        while not self.buffer and self.more and self.failed is None:
            attempt = self.breaker.attempt() if self.breaker is not None else None
            if self.breaker is not None and attempt is None:
                self.failed = Unavailable(self.name, "skipped: failing repeatedly (circuit open)")
                return
            # The attempt's exit releases a half-open probe on every path that records no
            # outcome (cancellation, a non-upstream exception), so the circuit cannot stick.
            with attempt or _NO_BREAKER:
                page = await self._fetch(deadline, attempt)
                if page is None:
                    return
            start = self.fetched_to
            self.fetched_to += len(page.items)
            self.more = page.has_next and bool(page.items)
            self.buffer = [(start + i, r) for i, r in enumerate(page.items) if self.feed.keep(r)]
            self.version += 1
            if self.feed.warm is not None and self.buffer and self.reachable is not None:
                self.feed.warm([r for _, r in self.buffer], self.reachable)
            self._read_ahead(len(page.items))
            if not self.buffer and not self.more:
                self.position = self.fetched_to

    async def _fetch(self, deadline: float, attempt: Attempt | None) -> Page[Any] | None:
        """The next window, or None after recording the failure on ``self.failed``."""
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise TimeoutError
            async with asyncio.timeout(remaining):
                ahead, self.ahead = self.ahead, None
                page = await (ahead or self.feed.fetch(PageRequest(self.fetched_to, self.window)))
        except TimeoutError:
            self.failed = Timeout(self.name, "exceeded its time budget for this query")
        except UpstreamError as exc:
            self.failed = exc
        if attempt is not None:
            attempt.record(self.failed)
        return None if self.failed is not None else page

    def _read_ahead(self, got: int) -> None:
        """Start reading the next window now when this one came short (the backend offers
        what it can order so far: ABF, ``adapters/abf/changes.py``) and its last item can
        still reach the page: the page then needs the next one, and waiting until the
        merge has heard from every backend would put a slower backend's waves before it."""
        if not self.more or got >= self.window or self.reachable is None:
            return
        tail = [r for _, r in self.buffer[-1:]]
        if tail and not self.reachable(tail):
            return
        self.ahead = asyncio.ensure_future(
            self.feed.fetch(PageRequest(self.fetched_to, self.window))
        )
        self.ahead.add_done_callback(retrieved)

    def close(self) -> None:
        """Drop a window read ahead that the page did not need."""
        if self.ahead is not None:
            self.ahead.cancel()
            self.ahead = None

    def pop(self) -> Any:
        """Consume the head."""
        raw, record = self.buffer.pop(0)
        self.version += 1
        self.position = raw + 1
        if not self.buffer and not self.more:
            self.position = self.fetched_to
        return record

    def settle(self) -> None:
        """Advance past fetched non-matching items when nothing matching is buffered."""
        if not self.buffer and self.failed is None:
            self.position = self.fetched_to


@dataclass
class MergedPage:
    """One page of the merged list: each edge with its composite cursor."""

    edges: list[tuple[Any, str]]
    has_next: bool
    has_previous: bool
    missing: dict[str, UpstreamError]


def fingerprint(*parts: object) -> str:
    """A short digest binding a cursor to its list: backends, filters, order."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=6).hexdigest()


def encode_cursor(positions: Mapping[str, int], fingerprint: str) -> str:
    """An opaque cursor holding every backend's position."""
    raw = orjson.dumps({"v": CURSOR_VERSION, "f": fingerprint, "p": dict(positions)})
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, expected: str, names: Sequence[str]) -> dict[str, int]:
    """The positions in ``cursor``; a cursor of another list or filter is a ``BAD_CURSOR``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = orjson.loads(raw)
        positions = {str(k): int(v) for k, v in data["p"].items()}
        ok = data["v"] == CURSOR_VERSION and data["f"] == expected
    except (ValueError, TypeError, KeyError, AttributeError, binascii.Error):
        raise UserInputError(f"invalid cursor {cursor[:60]!r}", "BAD_CURSOR") from None
    if not ok or set(positions) - set(names) or any(v < 0 for v in positions.values()):
        raise UserInputError(
            "cursor does not belong to this list (filter, order or backends changed)",
            "BAD_CURSOR",
        )
    return positions


async def merge_page(
    listers: Mapping[str, ChangeLister],
    filters: Mapping[str, ChangeFilter],
    first: int,
    after: str | None,
    descending: bool = True,
    budget: float = 10.0,
    breakers: Breakers | None = None,
    warm: Mapping[str, Warm] | None = None,
) -> MergedPage:
    """``first`` changes after ``after`` across ``listers`` (in configuration order);
    ``warm`` by backend: see ``Feed.warm``."""
    warm = warm or {}
    feeds = {
        n: change_feed(lister, filters[n], descending, warm.get(n)) for n, lister in listers.items()
    }
    digest = fingerprint(
        list(listers), sorted((n, repr(f)) for n, f in filters.items()), descending
    )
    return await merge_feeds(feeds, _updated_at, first, after, digest, descending, budget, breakers)


async def _fill_all(streams: Sequence[Stream], deadline: float) -> None:
    """Fill every stream concurrently; one failing with a non-upstream error stops the rest.

    ``gather`` alone would leave the siblings running detached (holding their breaker probes
    until their own deadline); cancelling them ends each through its ``finally``. The longest
    chains start first: each task runs until its first read is sent, so the order is the order
    in which the backends hear of the page.
    """
    first = sorted(streams, key=lambda s: -s.feed.waves)
    tasks = [asyncio.ensure_future(s.fill(deadline)) for s in first]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()


@dataclass
class Reach:
    """Which items can still reach the page: those with fewer than a page of known items
    (every stream's unconsumed window) strictly ahead of them, then, once the page is
    chosen, its items. Streams not yet answered are unknown, so this only ever keeps too
    many; a warm-up (``Feed.warm``) reads nothing for an item it drops."""

    streams: Sequence[Stream]
    key: Callable[[Any], datetime]
    first: int
    descending: bool
    chosen: set[int] | None = None
    # The buffers' sorted keys, by the streams' versions they were taken at: a warm-up asks
    # once per answer it reads, mostly while no buffer changed.
    _known: tuple[tuple[int, ...], list[datetime]] | None = None

    def __call__(self, records: Sequence[Any]) -> list[Any]:
        if self.chosen is not None:
            return [r for r in records if id(r) in self.chosen]
        known = self._sorted_keys()
        out = []
        for r in records:
            k = self.key(r)
            ahead = (
                len(known) - bisect_right(known, k) if self.descending else bisect_left(known, k)
            )
            if ahead < self.first:
                out.append(r)
        return out

    def _sorted_keys(self) -> list[datetime]:
        shape = tuple(s.version for s in self.streams)
        if self._known is None or self._known[0] != shape:
            keys = sorted(self.key(r) for s in self.streams for _, r in s.buffer)
            self._known = (shape, keys)
        return self._known[1]


def _updated_at(record: ChangeRecord) -> datetime:
    return record.updated_at


async def merge_feeds(
    feeds: Mapping[str, Feed],
    key: Callable[[Any], datetime],
    first: int,
    after: str | None,
    digest: str,
    descending: bool = True,
    budget: float = 10.0,
    breakers: Breakers | None = None,
) -> MergedPage:
    """``first`` items after ``after`` across ``feeds``, ordered by ``key``; see the module doc.

    Each feed must yield its items in ``key`` order (per ``descending``); ``digest`` binds the
    cursors to this list (see ``fingerprint``).
    """
    names = list(feeds)
    positions = decode_cursor(after, digest, names) if after else {}
    streams = [
        Stream(n, feeds[n], positions.get(n, 0), first, breaker=breakers(n) if breakers else None)
        for n in names
    ]
    reach = Reach(streams, key, first, descending)
    for s in streams:
        s.reachable = reach
    try:
        deadline = time.monotonic() + budget
        await _fill_all(streams, deadline)
        edges: list[tuple[Any, str]] = []
        while len(edges) < first:
            heads = [s for s in streams if s.buffer]
            if not heads:
                break
            best = heads[0]
            for s in heads[1:]:
                a, b = key(s.buffer[0][1]), key(best.buffer[0][1])
                if (a > b) if descending else (a < b):
                    best = s
            record = best.pop()
            for s in streams:
                s.settle()
            edges.append((record, encode_cursor({s.name: s.position for s in streams}, digest)))
            if len(edges) < first:  # refill only when the page needs more: has_next needs no read
                await best.fill(deadline)
    finally:
        for s in streams:
            s.close()
    reach.chosen = {id(record) for record, _ in edges}
    return MergedPage(
        edges=edges,
        has_next=any(s.live for s in streams),
        has_previous=any(positions.values()),
        missing={s.name: s.failed for s in streams if s.failed is not None},
    )
