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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from adapters.base import ChangeFilter, ChangeLister
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


@dataclass(frozen=True)
class Feed:
    """One backend's part in a merged list: how to fetch a window and what to keep."""

    fetch: Callable[[PageRequest], Awaitable[Page[Any]]]
    keep: Callable[[Any], bool] = lambda _: True


def change_feed(lister: ChangeLister, flt: ChangeFilter, descending: bool) -> Feed:
    """A backend's changes matching ``flt`` as a feed."""
    return Feed(
        fetch=lambda page: lister.list_changes(flt, page, descending),
        keep=lambda record: matches(record, flt),
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
            if not self.buffer and not self.more:
                self.position = self.fetched_to

    async def _fetch(self, deadline: float, attempt: Attempt | None) -> Page[Any] | None:
        """The next window, or None after recording the failure on ``self.failed``."""
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise TimeoutError
            async with asyncio.timeout(remaining):
                page = await self.feed.fetch(PageRequest(self.fetched_to, self.window))
        except TimeoutError:
            self.failed = Timeout(self.name, "exceeded its time budget for this query")
        except UpstreamError as exc:
            self.failed = exc
        if attempt is not None:
            attempt.record(self.failed)
        return None if self.failed is not None else page

    def pop(self) -> Any:
        """Consume the head."""
        raw, record = self.buffer.pop(0)
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
) -> MergedPage:
    """``first`` changes after ``after`` across ``listers`` (in configuration order)."""
    feeds = {n: change_feed(lister, filters[n], descending) for n, lister in listers.items()}
    digest = fingerprint(
        list(listers), sorted((n, repr(f)) for n, f in filters.items()), descending
    )
    return await merge_feeds(feeds, _updated_at, first, after, digest, descending, budget, breakers)


async def _fill_all(streams: Sequence[Stream], deadline: float) -> None:
    """Fill every stream concurrently; one failing with a non-upstream error stops the rest.

    ``gather`` alone would leave the siblings running detached (holding their breaker probes
    until their own deadline); cancelling them ends each through its ``finally``.
    """
    tasks = [asyncio.ensure_future(s.fill(deadline)) for s in streams]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()


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
    return MergedPage(
        edges=edges,
        has_next=any(s.live for s in streams),
        has_previous=any(positions.values()),
        missing={s.name: s.failed for s in streams if s.failed is not None},
    )
