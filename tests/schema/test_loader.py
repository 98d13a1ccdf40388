"""``schema.loader.Loader``: aiodataloader's batches, answers and failures for ``load`` (held
to a plain ``DataLoader``), and ``load_now``/``ask_now`` reading at once in the caller's task."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest
from aiodataloader import DataLoader

from schema.loader import Loader

Make = Callable[[Callable[[Sequence[Any]], Awaitable[list[Any]]]], Any]


def _loader(batch: Callable[[Sequence[Any]], Awaitable[list[Any]]]) -> Any:
    return Loader(batch, max_batch_size=3)


def _dataloader(batch: Callable[[Sequence[Any]], Awaitable[list[Any]]]) -> Any:
    async def load(keys: list[Any]) -> list[Any]:  # schema/context.py's wrapper, as it was
        return list(await batch(keys))

    return DataLoader(load, max_batch_size=3)


async def _turns(n: int) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def _scenario(make: Make) -> list[list[Any]]:
    """Loads made at different loop turns, from nested tasks as graphql-core's gathers make
    them, with repeated keys and a second wave asked after the first answers."""
    batches: list[list[Any]] = []

    async def batch(keys: Sequence[Any]) -> list[Any]:
        batches.append(list(keys))
        await asyncio.sleep(0)
        return [f"v{k}" for k in keys]

    loader = make(batch)

    async def field(key: int, delay: int) -> Any:
        await _turns(delay)
        value = await loader.load(key)
        return value, await loader.load(key + 100)  # a nested field's load, once answered

    async def item(keys: list[int], delay: int) -> Any:
        await _turns(delay)
        return await asyncio.gather(*(field(k, d) for d, k in enumerate(keys)))

    first = loader.load(1)  # the root field's own load, before any task runs
    answers = await asyncio.gather(
        item([1, 2, 3], 0), item([4, 5], 1), item([6, 2], 2), item([7], 3), item([8], 5)
    )
    assert await first == "v1"
    assert answers[0][1] == ("v2", "v102")
    return batches


async def test_the_same_batches_as_aiodataloader() -> None:
    ours = await _scenario(_loader)
    theirs = await _scenario(_dataloader)
    assert ours == theirs
    assert len(ours) > 3 and max(len(b) for b in ours) == 3  # several batches, capped at 3


@pytest.mark.parametrize("make", [_loader, _dataloader])
async def test_a_failed_batch_fails_its_loads_and_forgets_them(make: Make) -> None:
    calls: list[list[Any]] = []

    async def batch(keys: Sequence[Any]) -> list[Any]:
        calls.append(list(keys))
        if len(calls) == 1:
            raise RuntimeError("upstream down")
        return [k * 2 for k in keys]

    loader = make(batch)
    results = await asyncio.gather(loader.load(1), loader.load(2), return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]
    assert await loader.load(1) == 2  # asked again, not the cached failure
    assert calls == [[1, 2], [1]]


@pytest.mark.parametrize("make", [_loader, _dataloader])
async def test_an_exception_value_fails_only_its_load(make: Make) -> None:
    async def batch(keys: Sequence[Any]) -> list[Any]:
        return [ValueError(k) if k == 2 else k for k in keys]

    loader = make(batch)
    results = await asyncio.gather(loader.load(1), loader.load(2), return_exceptions=True)
    assert results[0] == 1 and isinstance(results[1], ValueError)


@pytest.mark.parametrize("make", [_loader, _dataloader])
async def test_a_wrong_number_of_values_fails_the_batch(make: Make) -> None:
    async def batch(keys: Sequence[Any]) -> list[Any]:
        return [1]

    loader = make(batch)
    results = await asyncio.gather(loader.load(1), loader.load(2), return_exceptions=True)
    assert all(isinstance(r, TypeError) for r in results)


@pytest.mark.parametrize("make", [_loader, _dataloader])
async def test_prime_answers_without_a_batch(make: Make) -> None:
    calls: list[list[Any]] = []

    async def batch(keys: Sequence[Any]) -> list[Any]:
        calls.append(list(keys))
        return list(keys)

    loader = make(batch)
    loader.prime("a", "known")
    loader.prime("a", "ignored")  # already there: kept
    assert await loader.load("a") == "known"
    assert await loader.load("b") == "b"
    assert calls == [["b"]]
    with pytest.raises(TypeError):
        loader.load(None)


async def test_load_now_reads_in_the_callers_task_at_once_and_shares_its_future() -> None:
    calls: list[list[Any]] = []
    others_ran = False

    async def batch(keys: Sequence[Any]) -> list[Any]:
        calls.append(list(keys))
        assert not others_ran  # no loop turn went by before the read
        return [f"v{k}" for k in keys]

    async def other() -> None:
        nonlocal others_ran
        others_ran = True

    loader = Loader(batch)
    task = asyncio.ensure_future(other())
    assert await loader.load_now(7) == "v7"
    assert await loader.load(7) == "v7" and await loader.load_now(7) == "v7"
    await task
    assert calls == [[7]]


async def test_load_now_fails_and_forgets_as_a_batch_does() -> None:
    calls = 0

    async def batch(keys: Sequence[Any]) -> list[Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("upstream down")
        return list(keys)

    loader = Loader(batch)
    with pytest.raises(RuntimeError):
        await loader.load_now(1)
    assert await loader.load_now(1) == 1 and calls == 2
    with pytest.raises(TypeError):
        await loader.load_now(None)


async def test_ask_now_settles_every_key_in_capped_batches() -> None:
    calls: list[list[Any]] = []

    async def batch(keys: Sequence[Any]) -> list[Any]:
        calls.append(list(keys))
        return [k * 10 for k in keys]

    loader = Loader(batch, max_batch_size=3)
    loader.prime(2, 99)
    futures = await loader.ask_now([1, 2, 3, 4, 5, 1])
    assert all(f.done() for f in futures)
    assert [f.result() for f in futures] == [10, 99, 30, 40, 50, 10]
    assert calls == [[1, 3, 4], [5]]
