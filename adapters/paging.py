"""Windows over page-numbered upstream lists: which pages hold ``[offset, offset+count)``.

Patchwork, its fdo fork and ABF page lists by number (``page`` and a page size); a GraphQL or
compat window is an absolute ``offset`` and ``count``. A page size that holds the whole window
on one page makes it one upstream request.
"""

from __future__ import annotations


def choose_per_page(offset: int, count: int, cap: int) -> int:
    """The smallest page size ≥ ``count`` whose pages hold ``[offset, offset+count)`` whole.

    Falls back to ``count`` (two upstream pages) when no size up to ``cap`` aligns.
    """
    count = max(1, min(count, cap))
    last = offset + count - 1
    for size in range(count, cap + 1):
        if offset // size == last // size:
            return size
    return count


def page_span(offset: int, count: int, cap: int) -> tuple[int, int, int]:
    """``(page, per_page, skip)``: the first upstream page (1-based) of the window, the page
    size (``choose_per_page``) and how many items of that page come before ``offset``."""
    per_page = choose_per_page(offset, count, cap)
    page = offset // per_page + 1
    return page, per_page, offset - (page - 1) * per_page
