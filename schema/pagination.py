"""Relay cursor connections over backend windows.

A cursor is opaque: ``base64url("o:<offset>")`` for one list, or ``"c:<backend index>:<offset>"``
for lists concatenated across backends. ``first`` must be 1–100 (default 30); a bad cursor is a
``BAD_CURSOR`` error, not an empty page.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import strawberry

from adapters.model import Page, PageRequest
from schema import descriptions as doc
from schema.errors import UserInputError
from schema.execution.projection import LazyList, RecordList

if TYPE_CHECKING:
    from schema.merge import MergedPage

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_PAGE = 30
MAX_PAGE = 100


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether more items follow: ask again with `after: endCursor`."
    )
    has_previous_page: bool = strawberry.field(
        description="Whether items come before this page (it was asked for with `after`)."
    )
    start_cursor: str | None = strawberry.field(
        description="The first item's cursor (null: the page is empty)."
    )
    end_cursor: str | None = strawberry.field(
        description="The last item's cursor, the next page's `after` (null: the page is empty)."
    )


@strawberry.type(description=doc.EDGE)
class Edge(Generic[T]):
    cursor: str = strawberry.field(description=doc.CURSOR)
    node: T = strawberry.field(description=doc.NODE)


@strawberry.type(description=doc.CONNECTION)
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description=doc.EDGES)
    nodes: list[T] = strawberry.field(description=doc.NODES)
    page_info: PageInfo = strawberry.field(description=doc.PAGE_INFO)
    total_count: int | None = strawberry.field(description=doc.TOTAL_COUNT)
    missing_backends: list[str] = strawberry.field(
        default_factory=list,
        description="Backends that failed or ran out of time in a list merged across backends: "
        "their items are not in this page (always empty for a one-backend list).",
    )


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode("ascii").rstrip("=")


def _unb64(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
    except (ValueError, UnicodeError, binascii.Error):
        raise UserInputError(f"invalid cursor {cursor[:60]!r}", "BAD_CURSOR") from None


def page_size(first: int | None) -> int:
    """Validate ``first``."""
    if first is None:
        return DEFAULT_PAGE
    if not 1 <= first <= MAX_PAGE:
        raise UserInputError(
            f"first must be between 1 and {MAX_PAGE}, got {first}", "BAD_PAGE_SIZE"
        )
    return first


@functools.lru_cache(maxsize=4096)  # every page of a list re-encodes the same offsets
def offset_cursor(offset: int) -> str:
    """The cursor of the item at ``offset``."""
    return _b64(f"o:{offset}")


def parse_offset(after: str | None) -> int:
    """The offset of the item following ``after``."""
    if after is None:
        return 0
    text = _unb64(after)
    kind, _, value = text.partition(":")
    if kind != "o" or not value.isdigit():
        raise UserInputError(f"invalid cursor {after[:60]!r}", "BAD_CURSOR")
    return int(value) + 1


def page_request(first: int | None, after: str | None) -> PageRequest:
    """The backend window a connection argument pair asks for."""
    return PageRequest(offset=parse_offset(after), count=page_size(first))


def connection(page: Page[R], convert: Callable[[R], T]) -> Connection[T]:
    """Wrap one backend window as a connection."""
    # The items stay records until something reads them (schema/execution/projection.py): the fast
    # path projects them straight into the response; normal execution converts on iteration.
    nodes: RecordList[R, T] = RecordList(page.items, convert, page.kept)
    offset = page.offset

    def edges() -> list[Edge[T]]:
        return [Edge(cursor=offset_cursor(offset + i), node=n) for i, n in enumerate(nodes)]

    count = len(page.items)
    return Connection(
        edges=cast(list[Edge[T]], LazyList(edges)),
        nodes=cast(list[T], nodes),
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.offset > 0,
            start_cursor=offset_cursor(offset) if count else None,
            end_cursor=offset_cursor(offset + count - 1) if count else None,
        ),
        total_count=page.total,
    )


def _concat_cursor(index: int, offset: int) -> str:
    return _b64(f"c:{index}:{offset}")


def _parse_concat(after: str | None, count: int) -> tuple[int, int]:
    if after is None:
        return 0, 0
    parts = _unb64(after).split(":")
    if len(parts) != 3 or parts[0] != "c" or not (parts[1].isdigit() and parts[2].isdigit()):
        raise UserInputError(f"invalid cursor {after[:60]!r}", "BAD_CURSOR")
    index, offset = int(parts[1]), int(parts[2])
    if index >= count:
        raise UserInputError(f"cursor {after[:60]!r} does not belong to this list", "BAD_CURSOR")
    return index, offset + 1


async def concatenated(
    fetchers: Sequence[Callable[[PageRequest], Awaitable[Page[R]]]],
    first: int | None,
    after: str | None,
    convert: Callable[[R], T],
) -> Connection[T]:
    """One connection over several lists, one after the other (e.g. projects per backend)."""
    want = page_size(first)
    index, offset = _parse_concat(after, len(fetchers))
    start = (index, offset)
    edges: list[Edge[T]] = []
    has_next = False
    while index < len(fetchers):
        page = await fetchers[index](PageRequest(offset=offset, count=want - len(edges)))
        for i, item in enumerate(page.items):
            edges.append(Edge(cursor=_concat_cursor(index, offset + i), node=convert(item)))
        if len(edges) >= want:
            has_next = page.has_next or index + 1 < len(fetchers)
            break
        index, offset = index + 1, 0
    return Connection(
        edges=edges,
        nodes=[e.node for e in edges],
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=start != (0, 0),
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=None,
    )


def merged_edges(
    info: Any, page: MergedPage, convert: Callable[[Any], T]
) -> tuple[list[Edge[T]], PageInfo]:
    """The edges and page info of a page merged across backends (``schema/merge.py``); the
    backends that failed are reported on ``info`` (not fatal: the page holds the others)."""
    for error in page.missing.values():
        info.context.report(info, error)
    edges = [Edge(cursor=cursor, node=convert(record)) for record, cursor in page.edges]
    return edges, PageInfo(
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
