"""Identical uncached GETs in flight share one upstream exchange (``HttpClient.get``).

A dashboard polled by many browsers, or a burst of bots, asks the same list at the same
moment: a GET issued while an identical one (same credential, URL, headers and allowed
statuses) is under way joins it and gets its answer or its error. Freshness is kept: a GET
joins only an exchange already under way, never a finished one, and a write through the
backend's client detaches every flight (``clear``), so no read issued after a write joins
one issued before it. A joiner that is cancelled leaves the flight alone; when the request
that leads a flight goes away, its joiners read on their own.

Flights belong to one backend client and the clones it makes for callers' credentials (the
REST compat layer's). An API key with its own ``backend_tokens`` has a client of its own:
its reads and writes see each other, but its write does not detach the flights of the
backend's shared client — a read there that was already under way when the write landed
may still be joined for the moment it takes to answer, as if it had been issued just before.

When others joined, the answer gets a fresh content stamp (``ContentStamps.shared``) if it
had none: what the first reader derives from it (parsed page, records, built list) the others
reuse. With a response cache (``cache_ttl``) the cache does this itself
(``adapters/http_cache.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Hashable, Mapping
from dataclasses import dataclass, replace

from adapters.http_model import Response
from adapters.stamps import ContentStamps

__all__ = ["Flights", "writes"]

_WRITES = [0]  # writes begun or ended through any backend client (``Flights.clear``)


def writes() -> int:
    """How many times any backend client began or ended a write: work that began before a
    change of this number may have read what the write changed (``schema/lean.py``)."""
    return _WRITES[0]


@dataclass(slots=True)
class _Flight:
    answer: asyncio.Future[Response]
    joined: int = 0


class Flights:
    """The GETs in flight of one backend's clients (shared by ``with_credentials`` clones,
    so a write by any detaches all; the key carries the credential). ``enabled`` False
    (``coalesce_reads = false``): every GET its own exchange."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._flights: dict[Hashable, _Flight] = {}
        self.joined = 0  # GETs that joined an identical one in flight

    def clear(self) -> None:
        """Detach every flight: reads issued from now on start their own (a write; counted
        for every backend's clients in ``writes``)."""
        self._flights.clear()
        _WRITES[0] += 1

    async def run(
        self,
        request: tuple[str | None, str, Mapping[str, str] | None, Collection[int]],
        fetch: Callable[[], Awaitable[Response]],
        stamps: ContentStamps | None,
    ) -> Response:
        """``fetch()``'s answer, or that of the identical GET in flight: ``request`` is the
        credential, URL, extra headers and allowed statuses. ``stamps``: the client's content
        stamps (None: no memo), which name an answer others joined when it has no stamp."""
        if not self.enabled:
            return await fetch()
        credential, url, headers, allow_status = request
        key = (credential, url, tuple(headers.items()) if headers else (), tuple(allow_status))
        flight = self._flights.get(key)
        if flight is not None:
            flight.joined += 1
            self.joined += 1
            try:
                return await asyncio.shield(flight.answer)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not flight.answer.cancelled() or (task is not None and task.cancelling()):
                    raise
                # the request that led the flight went away: read on our own
        flight = self._flights[key] = _Flight(asyncio.get_running_loop().create_future())
        try:
            resp = await fetch()
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                flight.answer.cancel()
            else:
                flight.answer.set_exception(exc)
                flight.answer.exception()  # retrieved: nobody may have joined
            raise
        finally:
            if self._flights.get(key) is flight:
                del self._flights[key]
        if flight.joined and resp.cache_stamp is None and stamps is not None:
            resp = replace(resp, cache_stamp=stamps.shared())
        flight.answer.set_result(resp)
        return resp
