"""Query-string handling of the Patchwork simulator: parameters, id/date/bool filters, ordering."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from adapters.patchwork.simulator.data import Record, parse_date


class Query:
    """The request's query parameters with Patchwork's filter semantics."""

    def __init__(self, request: web.Request) -> None:
        self.params = request.query

    def get(self, key: str) -> str | None:
        return self.params.get(key)

    def all(self, key: str) -> list[str]:
        return [v for v in self.params.getall(key, []) if v != ""]


class EmptyResult(Exception):
    """An invalid filter value: Patchwork answers 200 with an empty list."""


def _ids(values: list[str], table: dict[int, Record], alt: str | None = None) -> set[int]:
    """Patchwork's ModelMultipleChoiceField: each value a pk (or ``alt`` field, iexact)."""
    found: set[int] = set()
    for value in values:
        try:
            pk = int(value)
        except ValueError:
            if alt is None:
                raise EmptyResult from None
            matches = {
                k for k, r in table.items() if str(r.get(alt) or "").lower() == value.lower()
            }
            if not matches:
                raise EmptyResult from None
            found |= matches
            continue
        if pk not in table:
            raise EmptyResult
        found.add(pk)
    return found


def _date_param(q: Query, key: str) -> datetime | None:
    value = q.get(key)
    if not value:
        return None
    try:
        return parse_date(value.replace("Z", "")).replace(tzinfo=None)
    except ValueError:
        raise EmptyResult from None


def _time_filter(items: list[Record], q: Query) -> list[Record]:
    since, before = _date_param(q, "since"), _date_param(q, "before")
    if since is not None:
        items = [i for i in items if parse_date(i["date"]) >= since]
    if before is not None:
        items = [i for i in items if parse_date(i["date"]) < before]
    return items


def _bool_param(q: Query, key: str) -> bool | None:
    value = q.get(key)
    if value is None or value == "":
        return None
    low = value.lower()
    if low in ("true", "1", "yes", "on"):
        return True
    if low in ("false", "0", "no", "off"):
        return False
    return None


def _order(
    items: list[Record], q: Query, keys: dict[str, Callable[[Record], Any]], default: str
) -> list[Record]:
    """DRF OrderingFilter with ``order=``: comma separated, ``-`` prefix, unknown fields ignored."""
    wanted = [f.strip() for f in (q.get("order") or "").split(",") if f.strip()]
    valid = [f for f in wanted if f.lstrip("-") in keys]
    fields = valid or [default]
    result = sorted(items, key=lambda r: r["id"])
    for name in reversed(fields):
        result.sort(key=keys[name.lstrip("-")], reverse=name.startswith("-"))
    return result
