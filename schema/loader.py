"""A request's batching loader: aiodataloader's ``DataLoader`` as revgate uses it, cheaper.

Same contract (``load`` de-duplicates by key and batches the keys asked together, at most
``max_batch_size`` a call; ``prime`` seeds a value; a failed batch fails each of its loads
and forgets their keys; an ``Exception`` value fails its own load) and the same timing: the
keys of one batch are those asked until the second loop turn after the first of them, which
is when aiodataloader's dispatch task first runs, so batches hold the same keys. What it
saves per batch: that dispatch task and its coroutine (two scheduled callbacks instead),
the coroutine check of the batch function on every construction, a namedtuple per key.
``tests/schema/test_loader.py`` holds it to aiodataloader's batches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Loader(Generic[K, V]):
    """Batches and caches ``batch(keys)`` for one request (see the module docstring)."""

    __slots__ = ("_batch", "_cache", "_loop", "_max", "_queue")

    def __init__(
        self,
        batch: Callable[[Sequence[K]], Awaitable[Iterable[V]]],
        max_batch_size: int = 100,
    ) -> None:
        self._batch = batch
        self._max = max(1, max_batch_size)
        self._loop = asyncio.get_running_loop()
        self._cache: dict[K, asyncio.Future[V]] = {}
        self._queue: list[tuple[K, asyncio.Future[V]]] = []

    def load(self, key: K) -> asyncio.Future[V]:
        """The value for ``key``: asked in the next batch, or the future already made for it."""
        if key is None:
            raise TypeError("a loader key may not be None")
        found = self._cache.get(key)
        if found is not None:
            return found
        future = self._cache[key] = self._loop.create_future()
        self._queue.append((key, future))
        if len(self._queue) == 1:  # the first key of a batch: dispatch two turns later
            self._loop.call_soon(self._loop.call_soon, self._dispatch)
        return future

    async def load_now(self, key: K) -> V:
        """``load(key)`` as a batch of its own, read in the caller's task at once: for a key
        known to be the only one asked (``Context.read_now``), no two loop turns to wait."""
        if key is None:
            raise TypeError("a loader key may not be None")
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._loop.create_future()
            await self._run([(key, found)])
        return await found

    async def ask_now(self, keys: Iterable[K]) -> list[asyncio.Future[V]]:
        """The futures of ``keys``: those not asked before asked as batches run in the
        caller's task at once (keys known to be all there is to ask, ``Context.prefetch``).
        Each future is settled once this returns, unless another load had asked its key."""
        futures: list[asyncio.Future[V]] = []
        queue: list[tuple[K, asyncio.Future[V]]] = []
        for key in keys:
            found = self._cache.get(key)
            if found is None:
                found = self._cache[key] = self._loop.create_future()
                queue.append((key, found))
            futures.append(found)
        size = self._max
        for start in range(0, len(queue), size):
            await self._run(queue[start : start + size])
        return futures

    def prime(self, key: K, value: V) -> Loader[K, V]:
        """Seed ``key`` with ``value`` unless it is already loaded or asked."""
        if key not in self._cache:
            future = self._cache[key] = self._loop.create_future()
            if isinstance(value, Exception):
                future.set_exception(value)
            else:
                future.set_result(value)
        return self

    def _dispatch(self) -> None:
        queue, self._queue = self._queue, []
        size = self._max
        for start in range(0, len(queue), size):
            self._loop.create_task(self._run(queue[start : start + size]))

    async def _run(self, queue: list[tuple[K, asyncio.Future[V]]]) -> None:
        try:
            values = list(await self._batch([key for key, _ in queue]))
            if len(values) != len(queue):
                raise TypeError(
                    f"a batch function answered {len(values)} values for {len(queue)} keys"
                )
        except Exception as error:  # every load of the batch fails; none is kept
            for key, future in queue:
                self._cache.pop(key, None)
                if not future.done():
                    future.set_exception(error)
            return
        for (_, future), value in zip(queue, values, strict=True):
            if not future.done():
                if isinstance(value, Exception):
                    future.set_exception(value)
                else:
                    future.set_result(value)
