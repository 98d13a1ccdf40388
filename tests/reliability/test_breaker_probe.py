"""Issue 15 item 6: a half-open probe gives its token back on every exit path.

Before, ``Stream.fill`` released the probe only on a recorded outcome, so a probe ending in a
non-upstream exception or a cancellation left the breaker half-open with ``probing`` set:
every later federated list skipped a healthy backend ("circuit open") until restart.
"""

from __future__ import annotations

import asyncio

import pytest

from adapters.base import ChangeFilter
from adapters.breaker import Breakers, CircuitBreaker
from adapters.errors import Unavailable
from adapters.model import ChangeRecord, Page, PageRequest
from schema.merge import merge_page
from tests.schema.test_merge import FakeLister, _backend


class Raising(FakeLister):
    """A backend whose next answers raise ``error`` (a bug in mapping, say) instead."""

    def __init__(self, error: BaseException | None) -> None:
        super().__init__(_backend("x", [1, 2], 10).changes, 10)
        self.error = error

    async def list_changes(
        self, flt: ChangeFilter, page: PageRequest, descending: bool
    ) -> Page[ChangeRecord]:
        if self.error is not None:
            self.calls += 1
            raise self.error
        return await super().list_changes(flt, page, descending)


def _opened(now: list[float]) -> Breakers:
    """Breakers whose ``b`` circuit is open and due for a probe at ``now[0] = 11``."""
    breakers = Breakers(threshold=1, reset_seconds=10, clock=lambda: now[0])
    breakers("b").record(Unavailable("b", "down"))
    assert breakers("b").state == "open"
    now[0] = 11.0
    return breakers


async def _page(listers: dict[str, FakeLister], breakers: Breakers) -> list[str]:
    filters = {n: ChangeFilter() for n in listers}
    page = await merge_page(listers, filters, 5, None, breakers=breakers)
    assert "b" not in page.missing, page.missing
    return [r.id for r, _ in page.edges]


@pytest.mark.parametrize("error", [KeyError("id"), ValueError("bad date"), RuntimeError("bug")])
async def test_probe_ending_in_non_upstream_error_releases_the_circuit(error: Exception) -> None:
    now = [0.0]
    breakers = _opened(now)
    backend = Raising(error)
    with pytest.raises(type(error)):
        await merge_page({"b": backend}, {"b": ChangeFilter()}, 5, None, breakers=breakers)
    assert backend.calls == 1
    assert not breakers("b").probing, "the probe token must come back"
    backend.error = None  # healthy again: the next list probes it and closes the circuit
    assert await _page({"b": backend}, breakers) == ["1", "0"]
    assert breakers("b").state == "closed"


async def test_probe_cancelled_releases_the_circuit() -> None:
    now = [0.0]
    breakers = _opened(now)
    backend = _backend("b", [1], 10)
    backend.hang = True
    task = asyncio.create_task(
        merge_page({"b": backend}, {"b": ChangeFilter()}, 5, None, breakers=breakers)
    )
    for _ in range(10):  # let the probe go out and hang
        await asyncio.sleep(0)
    assert backend.calls == 1
    assert breakers("b").probing
    task.cancel()  # the client went away
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not breakers("b").probing and breakers("b").state == "half-open"
    backend.hang = False
    assert await _page({"b": backend}, breakers) == ["0"]
    assert breakers("b").state == "closed" and backend.calls == 2


async def test_sibling_failure_cancels_and_releases_the_probe() -> None:
    """Another backend's bug ends the list: the probing sibling is stopped and released."""
    now = [0.0]
    breakers = _opened(now)
    probing = _backend("b", [1], 10)
    probing.hang = True
    buggy = Raising(RuntimeError("bug"))
    listers: dict[str, FakeLister] = {"buggy": buggy, "b": probing}
    with pytest.raises(RuntimeError):
        await merge_page(listers, {n: ChangeFilter() for n in listers}, 5, None, breakers=breakers)
    await asyncio.sleep(0)  # the cancelled sibling runs its exit path
    assert not breakers("b").probing
    probing.hang = False
    assert await _page({"b": probing}, breakers) == ["0"]


async def test_probe_timing_out_reopens_then_probes_again() -> None:
    now = [0.0]
    breakers = _opened(now)
    backend = _backend("b", [1], 10)
    backend.hang = True
    page = await merge_page(
        {"b": backend}, {"b": ChangeFilter()}, 5, None, budget=0.05, breakers=breakers
    )
    assert page.missing["b"].code == "UPSTREAM_TIMEOUT" and breakers("b").state == "open"
    now[0] = 22.0
    backend.hang = False
    assert await _page({"b": backend}, breakers) == ["0"]


def test_lost_probe_token_expires_after_a_reset_period() -> None:
    """Belt and braces: even a probe that never reports cannot hold the circuit forever."""
    now = [0.0]
    breaker = CircuitBreaker(threshold=1, reset_seconds=10, clock=lambda: now[0])
    breaker.record(Unavailable("b", "down"))
    now[0] = 10.0
    assert breaker.allow() and not breaker.allow()  # one probe at a time
    now[0] = 19.9
    assert not breaker.allow()
    now[0] = 20.0
    assert breaker.allow()


def test_attempt_context_releases_unrecorded_and_keeps_recorded() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=1, reset_seconds=10, clock=lambda: now[0])
    breaker.record(Unavailable("b", "down"))
    now[0] = 10.0
    attempt = breaker.attempt()
    assert attempt is not None and breaker.probing
    with pytest.raises(GeneratorExit), attempt:
        raise GeneratorExit
    assert not breaker.probing and breaker.state == "half-open"
    attempt = breaker.attempt()
    assert attempt is not None
    with attempt:
        attempt.record(Unavailable("b", "still down"))
    assert breaker.state == "open" and breaker.attempt() is None
