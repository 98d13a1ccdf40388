"""HttpClient's cached GET path over both stores: hits, keys per credential, invalidation by
writes, shared in-flight requests, revalidation, and stamps."""

from __future__ import annotations

import asyncio
import base64
import contextlib

import pytest

from adapters.cache import Cache
from adapters.errors import NotFound, Unavailable
from adapters.http import Credentials
from adapters.http_cache import Entry
from tests.adapters.cache.support import (
    OTHER,
    SECRET,
    TTL,
    FakeClock,
    MakeClient,
    Upstream,
    _stored_keys,
    _until,
)

# -- HttpClient's cached GET path, over both stores ---------------------------------------


async def test_second_get_is_served_from_the_cache(
    make_client: MakeClient, upstream: Upstream, store: Cache
) -> None:
    client = await make_client()
    first = await client.get("/items/", {"q": "1"})
    second = await client.get("/items/", {"q": "1"})
    assert upstream.total() == 1
    assert second.json() == first.json() and second.status == 200
    assert second.links() == first.links()  # the Link header survives (pagination uses it)
    assert second.url == first.url and second.backend == "pw"
    assert (store.stats.hits, store.stats.misses) == (1, 1)
    await client.get("/items/", {"q": "2"})  # another query string is another entry
    assert upstream.total() == 2


async def test_entry_expires_after_ttl(
    make_client: MakeClient, upstream: Upstream, clock: FakeClock
) -> None:
    client = await make_client()
    await client.get("/items/")
    clock.advance(TTL - 1)
    await client.get("/items/")
    assert upstream.total() == 1
    clock.advance(2)
    body, _ = await client.get_json("/items/")
    assert upstream.total() == 2 and body[0]["n"] == 2
    assert upstream.conditional == []  # no validators: a plain GET


async def test_keys_differ_by_credentials(
    make_client: MakeClient, upstream: Upstream, store: Cache
) -> None:
    alice = await make_client(token=SECRET)
    bob = await make_client(token=OTHER)
    anonymous = await make_client(token=None)
    assert (await alice.get_json("/whoami"))[0]["auth"] == f"Token {SECRET}"
    assert (await bob.get_json("/whoami"))[0]["auth"] == f"Token {OTHER}"
    assert (await anonymous.get_json("/whoami"))[0]["auth"] is None
    assert upstream.total() == 3
    alice_again = await make_client(token=SECRET)  # same credentials: same entries
    assert (await alice_again.get_json("/whoami"))[0]["auth"] == f"Token {SECRET}"
    assert upstream.total() == 3
    assert alice.cache is not None and bob.cache is not None
    assert alice.cache.key("u", {"Authorization": f"Token {SECRET}"}) != bob.cache.key(
        "u", {"Authorization": f"Token {OTHER}"}
    )


async def test_keys_never_hold_credentials(make_client: MakeClient, store: Cache) -> None:
    client = await make_client(token=SECRET)
    await client.get("/whoami")
    keys = await _stored_keys(store)
    assert keys
    encoded = base64.b64encode(SECRET.encode()).decode()
    for key in keys:
        assert SECRET not in key and encoded not in key and "Token" not in key


async def test_per_request_credentials_are_part_of_the_key(
    make_client: MakeClient, upstream: Upstream, store: Cache
) -> None:
    """Credentials passed with one GET (a caller's own token) key it, not the client's."""
    client = await make_client(token=SECRET)
    alice = {"Authorization": "Token alice-own-token"}
    bob = {"Authorization": "Token bob-own-token"}
    assert (await client.get_json("/whoami", headers=alice))[0]["auth"] == alice["Authorization"]
    assert (await client.get_json("/whoami", headers=bob))[0]["auth"] == bob["Authorization"]
    assert (await client.get_json("/whoami"))[0]["auth"] == f"Token {SECRET}"
    assert upstream.total() == 3
    assert (await client.get_json("/whoami", headers=bob))[0]["auth"] == bob["Authorization"]
    assert upstream.total() == 3 and store.stats.hits == 1
    for key in await _stored_keys(store):
        assert "own-token" not in key


async def test_basic_auth_is_part_of_the_key(make_client: MakeClient, upstream: Upstream) -> None:
    alice = await make_client(token=None, credentials=Credentials(username="a", password="pw1"))
    mallory = await make_client(token=None, credentials=Credentials(username="a", password="x"))
    await alice.get("/whoami")
    assert (await mallory.get_json("/whoami"))[0]["auth"] == "Basic " + base64.b64encode(
        b"a:x"
    ).decode()
    assert upstream.total() == 2


async def test_write_invalidates_the_backend(
    make_client: MakeClient, upstream: Upstream, store: Cache
) -> None:
    client = await make_client()
    await client.get("/items/")
    await client.get("/whoami")
    await client.send("PATCH", "/items/1/", json={"state": "accepted"})
    body, _ = await client.get_json("/items/")
    await client.get("/whoami")
    assert body[0]["n"] == 2
    assert upstream.hits == {"/items/": 2, "/whoami": 2, "/items/1/": 1}
    assert store.stats.invalidations == 1


async def test_failed_write_invalidates_too(make_client: MakeClient, upstream: Upstream) -> None:
    client = await make_client()
    await client.get("/items/")
    with pytest.raises(Exception, match="HTTP 409"):
        await client.send("PATCH", "/items/1/", params={"status": 409}, json={})
    await client.get("/items/")
    assert upstream.hits["/items/"] == 2


async def test_write_through_another_client_of_the_same_backend_invalidates(
    make_client: MakeClient, upstream: Upstream
) -> None:
    reader = await make_client(token=OTHER)
    writer = await make_client(token=SECRET)  # another user (or replica) on the same store
    await reader.get("/items/")
    await writer.send("PATCH", "/items/1/", json={})
    await reader.get("/items/")
    assert upstream.hits["/items/"] == 2


async def test_concurrent_identical_gets_share_one_request(
    make_client: MakeClient, upstream: Upstream, store: Cache
) -> None:
    client = await make_client()
    gets = [asyncio.ensure_future(client.get_json("/slow")) for _ in range(10)]
    await _until(lambda: upstream.hits.get("/slow") == 1)
    await asyncio.sleep(0.05)  # give every other GET the time to (not) go upstream
    upstream.release.set()
    bodies = await asyncio.gather(*gets)
    assert upstream.hits == {"/slow": 1}
    assert all(body == ({"n": 1}) for body, _ in bodies)
    assert store.stats.coalesced == 9 and store.stats.misses == 1


async def test_concurrent_gets_by_different_users_are_not_shared(
    make_client: MakeClient, upstream: Upstream
) -> None:
    alice, bob = await make_client(token=SECRET), await make_client(token=OTHER)
    gets = [asyncio.ensure_future(c.get("/slow")) for c in (alice, bob, alice, bob)]
    await _until(lambda: upstream.hits.get("/slow") == 2)
    upstream.release.set()
    await asyncio.gather(*gets)
    assert upstream.hits == {"/slow": 2}


async def test_shared_request_failure_reaches_every_caller(
    make_client: MakeClient, upstream: Upstream, store: Cache
) -> None:
    client = await make_client()
    gets = [asyncio.ensure_future(client.get("/fail")) for _ in range(3)]
    await _until(lambda: upstream.hits.get("/fail") == 1)
    upstream.release.set()
    results = await asyncio.gather(*gets, return_exceptions=True)
    assert all(isinstance(r, Unavailable) for r in results)
    assert upstream.hits == {"/fail": 1}
    await client.get("/fail", allow_status=(500,))  # an error is never cached
    assert upstream.hits == {"/fail": 2}


async def test_cancelled_caller_does_not_cancel_the_shared_request(
    make_client: MakeClient, upstream: Upstream
) -> None:
    client = await make_client()
    first = asyncio.ensure_future(client.get_json("/slow"))
    second = asyncio.ensure_future(client.get_json("/slow"))
    await _until(lambda: upstream.hits.get("/slow") == 1)
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    upstream.release.set()
    assert (await second)[0] == {"n": 1}
    await client.get("/slow")  # and the answer was cached for later
    assert upstream.hits == {"/slow": 1}


async def test_read_after_a_write_never_joins_a_read_from_before_it(
    make_client: MakeClient, upstream: Upstream
) -> None:
    client = await make_client()
    before = asyncio.ensure_future(client.get_json("/slow"))
    await _until(lambda: upstream.hits.get("/slow") == 1)
    await client.send("PATCH", "/items/1/", json={})
    after = asyncio.ensure_future(client.get_json("/slow"))
    await _until(lambda: upstream.hits.get("/slow") == 2)
    upstream.release.set()
    await asyncio.gather(before, after)
    assert upstream.hits == {"/slow": 2, "/items/1/": 1}  # the later read went upstream itself


async def test_etag_revalidation_with_304(
    make_client: MakeClient, upstream: Upstream, store: Cache, clock: FakeClock
) -> None:
    client = await make_client()
    first, _ = await client.get_json("/etag")
    clock.advance(TTL + 1)  # stale, but kept: it has an ETag
    again = await client.get("/etag")
    assert upstream.conditional == [("If-None-Match", '"v1"')]
    assert upstream.not_modified == 1 and store.stats.revalidated == 1
    assert again.status == 200 and again.json() == first and again.headers["ETag"] == '"v1"'
    await client.get("/etag")  # the 304 made it fresh again
    assert upstream.hits["/etag"] == 2
    clock.advance(TTL + 1)
    upstream.etag = '"v2"'  # changed upstream: a full answer replaces the entry
    changed, _ = await client.get_json("/etag")
    assert changed == {"version": '"v2"', "n": 3}
    assert store.stats.revalidated == 1 and store.stats.misses == 2


async def test_last_modified_revalidation_with_304(
    make_client: MakeClient, upstream: Upstream, store: Cache, clock: FakeClock
) -> None:
    client = await make_client()
    first, _ = await client.get_json("/modified")
    clock.advance(TTL + 1)
    again, _ = await client.get_json("/modified")
    assert upstream.conditional == [("If-Modified-Since", "Wed, 21 Oct 2026 07:28:00 GMT")]
    assert again == first and store.stats.revalidated == 1


async def test_only_200_without_no_store_is_cached(
    make_client: MakeClient, upstream: Upstream
) -> None:
    client = await make_client()
    for _ in range(2):
        assert (await client.get("/missing", allow_status=(404,))).status == 404
        await client.get("/nostore")
    with pytest.raises(NotFound):
        await client.get("/missing")
    assert upstream.hits == {"/missing": 3, "/nostore": 2}


async def test_ttl_zero_means_no_cache(
    make_client: MakeClient, upstream: Upstream, store: Cache
) -> None:
    client = await make_client(ttl=0)
    assert client.cache is None
    for _ in range(3):  # one after the other: concurrent ones share a flight (test_coalesce.py)
        await client.get("/items/")
    assert upstream.total() == 3
    assert (store.stats.hits, store.stats.misses, store.stats.coalesced) == (0, 0, 0)


async def test_corrupt_entry_is_a_miss(store: Cache) -> None:
    generation, _ = await store.get("pw", "k")
    await store.set("pw", generation, "k", b"garbage", 60)
    _, raw = await store.get("pw", "k")
    assert raw is not None and Entry.decode(raw) is None
    assert Entry.decode(b"RGC1\x00\x00\x00\x05nope!") is None


async def test_stamps_name_one_stored_answer(make_client: MakeClient, store: Cache) -> None:
    """The compat layer memoises renderings by stamp (adapters/http_cache.py "Stamps")."""
    alice = await make_client(token=SECRET)
    bob = await make_client(token=OTHER)
    filled = await alice.get("/items/")
    hit = await alice.get("/items/")
    assert filled.cache_stamp is not None and hit.cache_stamp == filled.cache_stamp
    assert (await alice.get("/items/", {"q": "1"})).cache_stamp != filled.cache_stamp
    # Another credential: another entry, another stamp.
    assert (await bob.get("/items/")).cache_stamp not in (None, filled.cache_stamp)
    await alice.send("PATCH", "/items/1/", json={"state": "accepted"})
    refilled = await alice.get("/items/")
    assert refilled.cache_stamp not in (None, filled.cache_stamp)
    assert refilled.json()[0]["n"] > filled.json()[0]["n"]  # a fresh upstream answer


async def test_no_stamp_without_a_cache_entry(make_client: MakeClient, upstream: Upstream) -> None:
    client = await make_client()
    assert (await client.get("/missing", allow_status=(404,))).cache_stamp is None


async def test_entry_stamp_survives_encoding() -> None:
    entry = Entry(200, "u", (("Link", "<x>"),), b"body", 1.0, stamp="abc")
    assert Entry.decode(entry.encode()) == entry
    bare = Entry(200, "u", (), b"", 1.0)
    assert Entry.decode(bare.encode()) == bare
