"""Stamps: names for upstream answers, so that what is derived from one is derived once.

A *stamp* names one upstream answer's content. Anything expensive derived from an answer —
the parsed page and its records (``adapters.patchwork.client``), the REST compat layer's
rendered body (``adapters/patchwork/rest.py``) — may be kept under the answer's stamp
(``StampMemo``) and reused whenever an answer with the same stamp comes back. Two sources
of stamps:

- the response cache (``adapters.http_cache``, ``cache_ttl > 0``): a random stamp per
  stored entry;
- without a response cache, ``ContentStamps``: every ``200`` GET still goes upstream, and
  its answer gets the stamp of the previous answer to the same URL when status, headers
  (but those that say nothing of the content, ``IGNORED_HEADERS``) and body are
  byte-for-byte the same, else a new one. This is the polling case — a dashboard or bot
  re-reading a list that did not change: the upstream request is made as always (so nothing
  is ever staler than without it), and only the parse, the mapping to records and the
  rendering are skipped. A changed byte means a new stamp, so nothing derived is reused.
  An answer seen for the first time gets no stamp at all (``None``): only an answer that
  came back unchanged once is worth keeping anything for, so a URL whose answers change on
  every read (a busy list) never pays for storing and evicting what is never reused —
  unless several readers got it from one exchange (identical GETs in flight together,
  ``adapters/http.py``): then it gets a fresh stamp of its own (``shared``), and what the
  first of them derives, the others reuse.

Stamps are per ``HttpClient`` (one per backend and per caller credential), so two
credentials never share a stamp. Both memos are bounded (entries and bytes), least recently
used first out; old stamps are never asked for again and age out.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any, Generic, TypeVar, cast

__all__ = ["IGNORED_HEADERS", "ContentStamps", "StampMemo", "derived"]

V = TypeVar("V")
T = TypeVar("T")

# Response headers that vary between identical answers and that nothing derives anything
# from: they do not take part in the content comparison.
IGNORED_HEADERS = frozenset(
    {
        "date",
        "age",
        "expires",
        "connection",
        "keep-alive",
        "x-request-id",
        "x-runtime",
        "x-response-time",
        "server-timing",
    }
)

_counter = itertools.count(1)


def _new_stamp() -> str:
    return f"c{next(_counter)}"  # unique in the process; never a response-cache stamp


def _headers_key(headers: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    items = headers.items()
    return tuple((k.lower(), v) for k, v in items if k.lower() not in IGNORED_HEADERS)


class ContentStamps:
    """Stamps for uncached answers by content: same URL, status, headers and body → same stamp.

    Keeps the last answer per URL: at most ``entries`` URLs and ``budget`` body bytes
    (an answer over the budget alone gets a fresh stamp each time and is not kept)."""

    def __init__(self, entries: int = 256, budget: int = 32 * 1024 * 1024) -> None:
        self._entries = entries
        self._budget = budget
        self._used = 0
        # url → [status, headers, their key (None until a repeat asks), body, stamp]
        self._last: OrderedDict[str, list[Any]] = OrderedDict()
        self.reused = 0  # answers that got the previous answer's stamp (unchanged)
        self.stamped = 0  # answers stamped in all

    def stamp(self, url: str, status: int, headers: Mapping[str, str], body: bytes) -> str | None:
        """The stamp of this answer when it is the previous one's for ``url`` again (the
        same stamp from then on); ``None`` for an answer not seen before. ``headers`` are
        kept as given until a repeat compares them: an answer's own, never changed after."""
        self.stamped += 1
        last = self._last.get(url)
        # the headers are compared last, and keyed only then: a changed body decides alone
        if last is not None and last[3] == body and last[0] == status:
            head = _headers_key(headers)
            if last[2] is None:
                last[2] = _headers_key(last[1])
            if last[2] == head:
                self._last.move_to_end(url)
                self.reused += 1
                if last[4] is None:  # its first repeat: from now on it is worth memoising
                    last[4] = _new_stamp()
                return cast(str, last[4])
        if last is not None:
            del self._last[url]
            self._used -= len(last[3])
        if len(body) <= self._budget:
            self._last[url] = [status, headers, None, body, None]
            self._used += len(body)
            while len(self._last) > self._entries or self._used > self._budget:
                _, dropped = self._last.popitem(last=False)
                self._used -= len(dropped[3])
        return None

    def shared(self) -> str:
        """A stamp for one answer that several readers got from one exchange (identical GETs
        in flight together, ``HttpClient._shared``): it names exactly those bytes, so what the
        first reader derives from them is worth keeping for the others."""
        return _new_stamp()

    def __len__(self) -> int:
        return len(self._last)


class StampMemo(Generic[V]):
    """Values derived from stamped answers, kept per (stamp, route).

    ``route`` holds everything else the value depends on (for the compat layer: the gateway
    base, path, query, what the caller may see; for a page: the slice of it). An answer
    without a stamp is never memoised. At most ``entries`` values and ``budget`` bytes
    (``size(value)``) are kept, least recently used first out.
    """

    def __init__(
        self, size: Callable[[V], int], entries: int = 512, budget: int = 64 * 1024 * 1024
    ) -> None:
        self._size = size
        self._entries = entries
        self._budget = budget
        self._used = 0
        self._items: OrderedDict[tuple[str, Hashable], V] = OrderedDict()

    def get(self, stamp: str | None, route: Hashable) -> V | None:
        """What was derived for ``route`` from the answer stamped ``stamp``, if kept."""
        if stamp is None:
            return None
        key = (stamp, route)
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, stamp: str | None, route: Hashable, value: V) -> None:
        """Keep ``value`` (no-op without a stamp, or when it alone exceeds the budget)."""
        size = self._size(value)
        if stamp is None or size > self._budget:
            return
        key = (stamp, route)
        old = self._items.pop(key, None)
        if old is not None:
            self._used -= self._size(old)
        self._items[key] = value
        self._used += size
        while len(self._items) > self._entries or self._used > self._budget:
            _, dropped = self._items.popitem(last=False)
            self._used -= self._size(dropped)

    def __len__(self) -> int:
        return len(self._items)


def derived(
    memo: StampMemo[tuple[Any, int]],
    stamp: str | None,
    route: Hashable,
    size: int,
    make: Callable[[], T],
) -> T:
    """What ``make()`` derives from the answer stamped ``stamp`` (``size`` bytes), kept in
    ``memo`` under ``route`` with that size: made once per stamp, then given back."""
    known = memo.get(stamp, route)
    if known is not None:
        return cast(T, known[0])
    value = make()
    memo.put(stamp, route, (value, size))
    return value
