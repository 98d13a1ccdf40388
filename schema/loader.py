"""A request's batching loader: aiodataloader's ``DataLoader``, plus reads made at once.

Batching, de-duplication, ``prime`` and failures are aiodataloader's (the project's choice
of batching library). What it adds is for a key known to be the only one asked — the only
field of an operation that is alone in its request (``Context.solo``): ``load_now`` and
``ask_now`` run that batch in the caller's task at once, through aiodataloader's own batch
step (``dispatch_queue_batch``), instead of waiting two loop turns for keys that cannot come.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from aiodataloader import DataLoader, dispatch_queue_batch
from aiodataloader import Loader as Queued

K = TypeVar("K")
V = TypeVar("V")


class Loader(DataLoader[K, V]):
    """``DataLoader`` over ``batch(keys)`` for one request (see the module docstring)."""

    def __init__(
        self,
        batch: Callable[[Sequence[K]], Awaitable[Iterable[V]]],
        max_batch_size: int = 100,
    ) -> None:
        async def load(keys: list[K]) -> list[V]:  # aiodataloader wants a coroutine function
            return list(await batch(keys))

        super().__init__(load, max_batch_size=max_batch_size)

    async def load_now(self, key: K) -> V:
        """``load(key)`` as a batch of its own, read in the caller's task at once: for a key
        known to be the only one asked (``Context.read_now``), no two loop turns to wait."""
        found = self._cache.get(key) if key is not None else None
        if found is None:
            if key is None:
                raise TypeError("a loader key may not be None")
            found = self._cache[key] = self.loop.create_future()
            await dispatch_queue_batch(self, [Queued(key=key, future=found)])
        return await found

    async def ask_now(self, keys: Iterable[K]) -> list[asyncio.Future[V]]:
        """The futures of ``keys``: those not asked before asked as batches run in the
        caller's task at once (keys known to be all there is to ask, ``Context.prefetch``).
        Each future is settled once this returns, unless another load had asked its key."""
        futures: list[asyncio.Future[V]] = []
        queue: list[Any] = []
        for key in keys:
            found = self._cache.get(key)
            if found is None:
                found = self._cache[key] = self.loop.create_future()
                queue.append(Queued(key=key, future=found))
            futures.append(found)
        size = self.max_batch_size or len(queue) or 1
        for start in range(0, len(queue), size):
            await dispatch_queue_batch(self, queue[start : start + size])
        return futures
