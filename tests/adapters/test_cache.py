"""The upstream response cache: stores (memory, Redis) and HttpClient's cached GET path.

The same contract runs against both stores (``store`` is parametrised); the Redis runs use the
session's real ``redis-server`` on 127.0.0.1 and skip, saying why, where it is not installed.
Upstream is a real aiohttp server on 127.0.0.1 that counts what it is asked.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.cache import Cache, MemoryCache, RedisCache, open_cache
from adapters.errors import NotFound, Unavailable
from adapters.http import Credentials, HttpClient, HttpConfig, Response
from adapters.http_cache import Entry, ResponseCache, credentials_digest
from tests.redis_server import RedisServer, free_port

SECRET = "tok-Zq9xW-cache-never-in-a-key"
OTHER = "tok-Other-user-7781"
TTL = 30.0


class FakeClock:
    """An injectable clock that only moves when told to."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Upstream:
    """The test server: its URL, what it saw, and a gate for slow answers."""

    url: str = ""
    hits: dict[str, int] = field(default_factory=dict)
    conditional: list[tuple[str, str]] = field(default_factory=list)
    not_modified: int = 0
    etag: str = '"v1"'
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def total(self) -> int:
        return sum(self.hits.values())


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", headers=headers
    )


def build_app(up: Upstream) -> web.Application:
    async def count(request: web.Request) -> None:
        up.hits[request.path] = up.hits.get(request.path, 0) + 1
        for name in ("If-None-Match", "If-Modified-Since"):
            if name in request.headers:
                up.conditional.append((name, request.headers[name]))

    async def items(request: web.Request) -> web.Response:
        await count(request)
        nxt = f'<http://{request.host}/items/?page=2>; rel="next"'
        return _json(
            [{"n": up.hits[request.path], "q": request.query_string}], headers={"Link": nxt}
        )

    async def whoami(request: web.Request) -> web.Response:
        await count(request)
        return _json({"auth": request.headers.get("Authorization")})

    async def etag(request: web.Request) -> web.Response:
        await count(request)
        if request.headers.get("If-None-Match") == up.etag:
            up.not_modified += 1
            return web.Response(status=304, headers={"ETag": up.etag})
        return _json({"version": up.etag, "n": up.hits[request.path]}, headers={"ETag": up.etag})

    modified = "Wed, 21 Oct 2026 07:28:00 GMT"

    async def last_modified(request: web.Request) -> web.Response:
        await count(request)
        if request.headers.get("If-Modified-Since") == modified:
            up.not_modified += 1
            return web.Response(status=304)
        return _json({"n": up.hits[request.path]}, headers={"Last-Modified": modified})

    async def slow(request: web.Request) -> web.Response:
        await count(request)
        await up.release.wait()
        return _json({"n": up.hits[request.path]})

    async def fail(request: web.Request) -> web.Response:
        await count(request)
        await up.release.wait()
        return _json({"detail": "down"}, status=500)

    async def missing(request: web.Request) -> web.Response:
        await count(request)
        return _json({"detail": "Not found."}, status=404)

    async def no_store(request: web.Request) -> web.Response:
        await count(request)
        return _json({"n": up.hits[request.path]}, headers={"Cache-Control": "no-store"})

    async def write(request: web.Request) -> web.Response:
        await count(request)
        return _json({"ok": True}, status=int(request.query.get("status", "200")))

    app = web.Application()
    app.router.add_get("/items/", items)
    app.router.add_get("/whoami", whoami)
    app.router.add_get("/etag", etag)
    app.router.add_get("/modified", last_modified)
    app.router.add_get("/slow", slow)
    app.router.add_get("/fail", fail)
    app.router.add_get("/missing", missing)
    app.router.add_get("/nostore", no_store)
    app.router.add_patch("/items/1/", write)
    return app


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    up = Upstream()
    server = TestServer(build_app(up), host="127.0.0.1", port=0)
    await server.start_server()
    up.url = str(server.make_url("")).rstrip("/")
    try:
        yield up
    finally:
        up.release.set()
        await server.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[Cache]:
    """Each store kind behind the same contract (Redis: a fresh key prefix per test)."""
    if request.param == "memory":
        yield MemoryCache(clock=clock)
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    cache = RedisCache.from_url(server.url, clock=clock, prefix=f"test:{uuid.uuid4().hex}:")
    try:
        yield cache
    finally:
        await cache.close()


MakeClient = Callable[..., Awaitable[HttpClient]]


@pytest.fixture
async def make_client(upstream: Upstream, store: Cache) -> AsyncIterator[MakeClient]:
    """HttpClients on the upstream sharing ``store`` (token ``SECRET`` unless told)."""
    clients: list[HttpClient] = []

    async def make(token: str | None = SECRET, ttl: float = TTL, **config: Any) -> HttpClient:
        values: dict[str, Any] = {
            "backend": "pw",
            "base_url": upstream.url,
            "credentials": Credentials(token=token),
            "cache_ttl": ttl,
            "retries": 0,
        }
        values.update(config)
        client = HttpClient(HttpConfig(**values), cache=store)
        clients.append(client)
        return client

    try:
        yield make
    finally:
        for client in clients:
            await client.close()


# -- the store contract ------------------------------------------------------------------


async def test_store_miss_set_hit(store: Cache) -> None:
    generation, value = await store.get("pw", "k")
    assert value is None
    await store.set("pw", generation, "k", b"\x00bytes\xff", 60)
    assert await store.get("pw", "k") == (generation, b"\x00bytes\xff")
    assert (await store.get("other", "k"))[1] is None


async def test_store_invalidate_bumps_generation_of_one_namespace(store: Cache) -> None:
    generation, _ = await store.get("pw", "k")
    await store.set("pw", generation, "k", b"v", 60)
    other_generation, _ = await store.get("other", "k")
    await store.set("other", other_generation, "k", b"w", 60)
    await store.invalidate("pw")
    new_generation, value = await store.get("pw", "k")
    assert value is None and new_generation == generation + 1
    assert (await store.get("other", "k"))[1] == b"w"
    assert store.stats.invalidations == 1


async def test_store_set_under_a_retired_generation_is_never_read(store: Cache) -> None:
    generation, _ = await store.get("pw", "k")
    await store.invalidate("pw")  # a write lands while the GET was upstream
    await store.set("pw", generation, "k", b"pre-write", 60)
    assert (await store.get("pw", "k"))[1] is None


def test_open_cache_by_url() -> None:
    assert isinstance(open_cache("memory://", max_entries=3), MemoryCache)
    with pytest.raises(ValueError, match="memory://, redis://"):
        open_cache("memcached://127.0.0.1")


# -- the in-process store: TTL and LRU bounds ---------------------------------------------


async def test_memory_entry_expires_after_keep(clock: FakeClock) -> None:
    cache = MemoryCache(clock=clock)
    await cache.set("pw", 0, "k", b"v", 10)
    clock.advance(9.9)
    assert (await cache.get("pw", "k"))[1] == b"v"
    clock.advance(0.2)
    assert (await cache.get("pw", "k"))[1] is None
    assert len(cache) == 0 and cache.size_bytes == 0


async def test_memory_lru_bound_on_entries_evicts_least_recently_used() -> None:
    cache = MemoryCache(max_entries=2)
    await cache.set("pw", 0, "a", b"1", 60)
    await cache.set("pw", 0, "b", b"2", 60)
    assert (await cache.get("pw", "a"))[1] == b"1"  # a is now the most recently used
    await cache.set("pw", 0, "c", b"3", 60)
    assert (await cache.get("pw", "b"))[1] is None
    assert (await cache.get("pw", "a"))[1] == b"1"
    assert (await cache.get("pw", "c"))[1] == b"3"
    assert cache.stats.evictions == 1 and len(cache) == 2


async def test_memory_bound_on_bytes() -> None:
    cache = MemoryCache(max_bytes=100)
    await cache.set("pw", 0, "a", b"x" * 40, 60)
    await cache.set("pw", 0, "b", b"x" * 40, 60)
    await cache.set("pw", 0, "c", b"x" * 40, 60)
    assert cache.size_bytes <= 100 and len(cache) == 2
    assert (await cache.get("pw", "a"))[1] is None
    await cache.set("pw", 0, "huge", b"x" * 200, 60)  # larger than the whole cache: skipped
    assert (await cache.get("pw", "huge"))[1] is None and len(cache) == 2


async def test_memory_invalidate_drops_entries_eagerly() -> None:
    cache = MemoryCache()
    await cache.set("pw", 0, "a", b"1", 60)
    await cache.set("other", 0, "a", b"2", 60)
    await cache.invalidate("pw")
    assert len(cache) == 1 and cache.size_bytes == len("a") + 1


def test_memory_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError):
        MemoryCache(max_entries=0)


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
    gets = [client.get("/items/") for _ in range(3)]
    await asyncio.gather(*gets)
    assert upstream.total() == 3
    assert (store.stats.hits, store.stats.misses, store.stats.coalesced) == (0, 0, 0)


async def test_corrupt_entry_is_a_miss(store: Cache) -> None:
    generation, _ = await store.get("pw", "k")
    await store.set("pw", generation, "k", b"garbage", 60)
    _, raw = await store.get("pw", "k")
    assert raw is not None and Entry.decode(raw) is None
    assert Entry.decode(b"RGC1\x00\x00\x00\x05nope!") is None


# -- Redis-specific ------------------------------------------------------------------------


async def test_redis_down_degrades_to_no_cache(
    upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="revgate.cache")
    port = free_port()  # nothing listens there
    store = RedisCache.from_url(f"redis://127.0.0.1:{port}/0", timeout=0.5)
    client = HttpClient(
        HttpConfig(backend="pw", base_url=upstream.url, cache_ttl=TTL, retries=0), cache=store
    )
    try:
        await client.get("/items/")
        await client.get("/items/")
        await client.send("PATCH", "/items/1/", json={})
    finally:
        await client.close()
        await store.close()
    assert upstream.hits == {"/items/": 2, "/items/1/": 1}
    # The first lookup fails; the second is skipped (backoff) and nothing is stored after a
    # failed lookup; the invalidation is attempted anyway, and fails.
    assert store.stats.errors == 2 and store.stats.misses == 2
    logged = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "revgate.cache"]
    assert [level for level, _ in logged] == [logging.WARNING] * 2
    assert "Redis get failed" in logged[0][1] and "Redis invalidate failed" in logged[1][1]
    assert str(port) not in caplog.text  # only the exception type, never the URL


async def test_redis_invalidation_that_failed_is_retried_before_any_read(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A write while Redis is unreachable: its pre-write entries never come back with Redis."""
    monkeypatch.setattr("adapters.cache.REDIS_BACKOFF", 0.0)
    store = RedisCache.from_url(redis_server.url, prefix=f"test:{uuid.uuid4().hex}:")
    try:
        generation, _ = await store.get("pw", "k")
        await store.set("pw", generation, "k", b"before the write", 60)
        real_incr = store._redis.incr
        store._redis.incr = _refuse  # Redis unreachable during the invalidation …
        await store.invalidate("pw")
        assert await store.get("pw", "k") == (-1, None)  # … and still when read: a miss
        store._redis.incr = real_incr  # Redis is back: the INCR goes first, then the read
        new_generation, value = await store.get("pw", "k")
        assert value is None and new_generation == generation + 1
        assert store.stats.errors == 2 and "Redis invalidate failed" in caplog.text
    finally:
        await store.close()


async def _refuse(*args: object) -> None:
    raise ConnectionError("refused")


async def test_redis_entries_are_shared_between_stores(
    upstream: Upstream, redis_server: RedisServer
) -> None:
    """Two replicas, each with its own client on the same Redis: one fetch serves both."""
    prefix = f"test:{uuid.uuid4().hex}:"
    stores = [RedisCache.from_url(redis_server.url, prefix=prefix) for _ in range(2)]
    clients = [
        HttpClient(HttpConfig(backend="pw", base_url=upstream.url, cache_ttl=TTL), cache=s)
        for s in stores
    ]
    try:
        await clients[0].get("/items/")
        await clients[1].get("/items/")
        assert upstream.hits == {"/items/": 1}
        await clients[1].send("PATCH", "/items/1/", json={})  # a write on replica 2 …
        await clients[0].get("/items/")  # … is seen by replica 1
        assert upstream.hits["/items/"] == 2
    finally:
        for client in clients:
            await client.close()
        for store in stores:
            await store.close()


# -- keys ----------------------------------------------------------------------------------


def test_credentials_digest_is_salted_by_backend_and_stable() -> None:
    headers = {"Authorization": f"Token {SECRET}", "Accept": "application/json"}
    digest = credentials_digest("pw", headers)
    assert digest == credentials_digest("pw", {"authorization": f"Token {SECRET}"})
    assert digest != credentials_digest("other", headers)
    assert credentials_digest("pw", {"Accept": "application/json"}) == "anon"
    assert SECRET not in digest


def test_response_cache_refuses_ttl_zero() -> None:
    with pytest.raises(ValueError, match="ttl > 0"):
        ResponseCache(MemoryCache(), "pw", 0, lambda s, u, h, b, _: Response(s, u, h, b))


# -- helpers -------------------------------------------------------------------------------


async def _until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` (what a test server saw) for up to 5 s."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not met within 5 s")


async def _stored_keys(store: Cache) -> list[str]:
    if isinstance(store, MemoryCache):
        return [f"{ns}:{gen}:{key}" for ns, gen, key in store._entries]
    assert isinstance(store, RedisCache)
    raw = await store._redis.keys("*")
    return [k.decode() for k in raw]


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
