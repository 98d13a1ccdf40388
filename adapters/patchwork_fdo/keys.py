"""Small helpers the fdo source's modules share: ids as path segments, windows of lists held
whole, and the microsecond/second steps of the fork's strict date filters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TypeVar

from adapters.errors import NotFound
from adapters.model import Page, PageRequest
from adapters.paths import digits

T = TypeVar("T")

ONE_MICROSECOND = timedelta(microseconds=1)
ONE_SECOND = timedelta(seconds=1)


def window(items: Sequence[T], page: PageRequest) -> Page[T]:
    """One window of a list held whole."""
    end = page.offset + page.count
    return Page(
        items=tuple(items[page.offset : end]),
        offset=page.offset,
        has_next=end < len(items),
        total=len(items),
    )


def numeric_key(native_id: str) -> int:
    """A numeric id's value for sorting (non-numeric ids first)."""
    return int(native_id) if digits(native_id) else -1


def numeric(native_id: str, backend: str) -> str:
    """``native_id`` when it is all digits (safe as a path segment), else ``NotFound``."""
    if digits(native_id) is None:
        raise NotFound(backend, f"no such object {native_id[:40]!r}")
    return native_id


def revision_key(key: str, backend: str) -> tuple[str, int]:
    """``"<series>/<version>"`` as its parts, else ``NotFound``."""
    series_id, _, version = key.partition("/")
    if digits(series_id) is None or digits(version) is None:
        raise NotFound(backend, f"no such revision {key[:40]!r} (expected <series>/<version>)")
    return series_id, int(version)
