"""Windows of a backend list with some items left out, at positions that stay consistent.

An anonymous view (``adapters/abf/anonymous.py``, ``adapters/gerrit/anonymous.py``) leaves out
what only the gateway's account may see. Dropping items from a fetched window would shift
every later cursor (a page's end cursor is its offset plus its length), so positions here
count *shown* items only: position *k* is the *k*-th shown item. A window is read from the
head of the backend's list in steps, skipping what is not shown, until it is full and one
more shown item is seen or proves absent: ``has_next`` stays exact, as ``ChangeLister``
requires. The first page, the usual one, costs one request of ``count + 1`` items.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from adapters.model import Page, PageRequest

T = TypeVar("T")

Fetch = Callable[[PageRequest], Awaitable[Page[T]]]
Shown = Callable[[Sequence[T]], Awaitable[list[bool]]]


async def shown_window(fetch: Fetch[T], shown: Shown[T], page: PageRequest, cap: int) -> Page[T]:
    """Window ``page`` of the items ``shown`` keeps; ``cap``: the most ``fetch`` may ask."""
    out: list[T] = []
    seen = 0  # shown items read so far
    pos = 0  # position in the backend's list
    step = max(1, min(cap, page.offset + page.count + 1))
    while True:
        got = await fetch(PageRequest(pos, step))
        for item, keep in zip(got.items, await shown(got.items), strict=True):
            if not keep:
                continue
            if len(out) == page.count:  # one more shown item: not the end
                return Page(items=tuple(out), offset=page.offset, has_next=True)
            if seen >= page.offset:
                out.append(item)
            seen += 1
        pos += len(got.items)
        if not got.has_next or not got.items:
            return Page(items=tuple(out), offset=page.offset, has_next=False, total=seen)
