"""Uncached backends: identical GETs in flight share one exchange (``HttpClient._shared``).

Freshness is kept: a GET joins only a read already under way (never a finished one), a
write detaches every flight, and different credentials or headers never share one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import pytest

from adapters.errors import Unavailable
from adapters.http import Credentials, HttpClient, HttpConfig
from tests.adapters.cache.support import OTHER, SECRET, Upstream, _until

Make = Callable[..., Awaitable[HttpClient]]


@pytest.fixture
async def make(upstream: Upstream) -> AsyncIterator[Make]:
    clients: list[HttpClient] = []

    async def build(token: str | None = SECRET, **config: Any) -> HttpClient:
        values: dict[str, Any] = {
            "backend": "pw",
            "base_url": upstream.url,
            "credentials": Credentials(token=token),
            "retries": 0,
            **config,
        }
        client = HttpClient(HttpConfig(**values))
        assert client.cache is None
        clients.append(client)
        return client

    try:
        yield build
    finally:
        for client in clients:
            await client.close()


async def _released(
    upstream: Upstream, gets: Sequence[asyncio.Future[Any]], expect: int
) -> list[Any]:
    """Wait until ``expect`` reads reached the upstream (and a moment for any other to), then
    let them all answer."""
    await _until(lambda: upstream.hits.get("/slow", 0) + upstream.hits.get("/fail", 0) == expect)
    await asyncio.sleep(0.05)
    upstream.release.set()
    return await asyncio.gather(*gets, return_exceptions=True)


async def test_identical_gets_in_flight_share_one_exchange(make: Make, upstream: Upstream) -> None:
    client = await make()
    gets = [asyncio.ensure_future(client.get_json("/slow")) for _ in range(10)]
    answers = await _released(upstream, gets, 1)
    assert upstream.hits == {"/slow": 1}
    assert [body for body, _ in answers] == [{"n": 1}] * 10
    assert client.flights.joined == 9 and client.request_count == 1


async def test_finished_reads_are_never_reused(make: Make, upstream: Upstream) -> None:
    client = await make()
    upstream.release.set()
    bodies = [(await client.get_json("/slow"))[0] for _ in range(3)]
    assert bodies == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert client.flights.joined == 0


async def test_off_when_configured(make: Make, upstream: Upstream) -> None:
    client = await make(coalesce_reads=False)
    gets = [asyncio.ensure_future(client.get("/slow")) for _ in range(4)]
    await _released(upstream, gets, 4)
    assert upstream.hits == {"/slow": 4} and client.flights.joined == 0


async def test_other_credentials_and_headers_never_share(make: Make, upstream: Upstream) -> None:
    client = await make()
    other = client.with_credentials(Credentials(token=OTHER))
    anonymous = client.anonymous()
    gets = [
        asyncio.ensure_future(c.get("/slow", headers=h))
        for c, h in (
            (client, None),
            (other, None),
            (anonymous, None),
            (client, {"Accept": "text/plain"}),
            (client, None),  # joins the first
        )
    ]
    await _released(upstream, gets, 4)
    assert upstream.hits == {"/slow": 4} and client.flights.joined == 1


async def test_a_failure_reaches_every_joiner_and_is_not_kept(
    make: Make, upstream: Upstream
) -> None:
    client = await make()
    gets = [asyncio.ensure_future(client.get("/fail")) for _ in range(3)]
    results = await _released(upstream, gets, 1)
    assert all(isinstance(r, Unavailable) for r in results), results
    await client.get("/fail", allow_status=(500,))  # a new read: nothing was kept
    assert upstream.hits == {"/fail": 2}


async def test_a_gone_leader_leaves_its_joiners_reading_on_their_own(
    make: Make, upstream: Upstream
) -> None:
    client = await make()
    leader = asyncio.ensure_future(client.get_json("/slow"))
    await _until(lambda: upstream.hits.get("/slow") == 1)
    joiner = asyncio.ensure_future(client.get_json("/slow"))
    await asyncio.sleep(0.01)
    assert client.flights.joined == 1
    leader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await leader
    await _until(lambda: upstream.hits.get("/slow") == 2)
    upstream.release.set()
    assert (await joiner)[0] == {"n": 2}


async def test_a_cancelled_joiner_leaves_the_flight_alone(make: Make, upstream: Upstream) -> None:
    client = await make()
    leader = asyncio.ensure_future(client.get_json("/slow"))
    await _until(lambda: upstream.hits.get("/slow") == 1)
    joiner = asyncio.ensure_future(client.get_json("/slow"))
    await asyncio.sleep(0.01)
    joiner.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await joiner
    assert joiner.cancelled()
    upstream.release.set()
    assert (await leader)[0] == {"n": 1}
    assert upstream.hits == {"/slow": 1}


async def test_a_read_after_a_write_never_joins_one_from_before(
    make: Make, upstream: Upstream
) -> None:
    client = await make()
    other = client.with_credentials(Credentials(token=OTHER))
    before = asyncio.ensure_future(client.get_json("/slow"))
    await _until(lambda: upstream.hits.get("/slow") == 1)
    await other.send("PATCH", "/items/1/", json={})  # a write by any client of the backend
    after = asyncio.ensure_future(client.get_json("/slow"))
    await _released(upstream, [before, after], 2)
    assert upstream.hits == {"/slow": 2, "/items/1/": 1}
    assert client.flights.joined == 0


@pytest.mark.parametrize("memo", [True, False])
async def test_a_joined_answer_is_stamped_for_its_readers(
    make: Make, upstream: Upstream, memo: bool
) -> None:
    """A first answer has no content stamp (nothing is kept for an answer read once); one that
    several readers got from one exchange gets one, so what one derives the others reuse —
    unless the memo is off."""
    client = await make(content_memo=memo)
    gets = [asyncio.ensure_future(client.get("/slow")) for _ in range(3)]
    answers = await _released(upstream, gets, 1)
    stamps = {a.cache_stamp for a in answers}
    assert len(stamps) == 1
    assert (stamps.pop() is not None) is memo
    upstream.release.set()
    alone = await client.get("/slow")  # a new answer, read by one: no stamp
    assert alone.cache_stamp is None
