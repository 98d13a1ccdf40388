"""``adapters.paging.page_span``: the first upstream page of a window and where it starts."""

from __future__ import annotations

import pytest

from adapters.paging import page_span


@pytest.mark.parametrize("cap", [1, 5, 30, 100, 250])
def test_page_span_locates_the_window_start(cap: int) -> None:
    for offset in range(0, 260, 7):
        for count in (1, 3, 30, 101):
            page, per_page, skip = page_span(offset, count, cap)
            assert 1 <= per_page <= cap and page >= 1
            # the window's first item is item ``skip`` of upstream page ``page``
            assert (page - 1) * per_page + skip == offset
            assert 0 <= skip < per_page


def test_page_span_one_page_when_a_size_aligns() -> None:
    assert page_span(40, 20, 250) == (3, 20, 0)
    _, per_page, skip = page_span(9, 5, 250)
    assert skip + 5 <= per_page  # the whole window on one upstream page: one request
