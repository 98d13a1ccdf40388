"""``base.fetch_each``: per-id reads in order, concurrently, a 404 as ``None`` in its slot."""

from __future__ import annotations

import asyncio

import pytest

from adapters.base import fetch_each
from adapters.errors import NotFound, Unavailable


async def _fetch(native_id: str) -> str:
    await asyncio.sleep(0.01 if native_id == "1" else 0)  # the first answers last
    if native_id == "404":
        raise NotFound("pw", "no such object")
    if native_id == "500":
        raise Unavailable("pw", "backend down")
    return f"record {native_id}"


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        (["1"], ["record 1"]),
        (["404"], [None]),
        (["1", "404", "2"], ["record 1", None, "record 2"]),
        ([], []),
    ],
)
async def test_answers_in_the_order_asked_with_none_for_missing(
    ids: list[str], expected: list[str | None]
) -> None:
    assert await fetch_each(ids, _fetch) == expected


@pytest.mark.parametrize("ids", [["500"], ["1", "500"]])
async def test_other_errors_propagate(ids: list[str]) -> None:
    with pytest.raises(Unavailable, match="backend down"):
        await fetch_each(ids, _fetch)


async def test_many_ids_are_fetched_concurrently() -> None:
    running = 0
    most = 0

    async def fetch(native_id: str) -> str:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0)
        running -= 1
        return native_id

    assert await fetch_each([str(i) for i in range(5)], fetch) == ["0", "1", "2", "3", "4"]
    assert most == 5
