"""gateway.guard: API keys, anonymous access, rate limits, body cap, request ids, own tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.ratelimit import MemoryRateLimiter
from schema import node
from tests.gateway.guarded import ALICE_KEY, BOT_KEY, Guarded, bearer, guarded

BACKENDS = "{ backends { name } }"
PATCHES = "query($n: Int) { patches(first: $n) { nodes { id } } }"
PATCH3 = node.encode("Patch", "pw", "3")
UPDATE = """mutation($input: UpdatePatchInput!) { updatePatch(input: $input) {
    patch { rawState } errors { code message backend } } }"""


class FakeClock:
    """A settable monotonic clock for the in-process limiter."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _refusal(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/json"
    body: dict[str, Any] = resp.json()
    error: dict[str, Any] = body["errors"][0]
    assert error["extensions"]["code"] == code
    assert error["extensions"]["requestId"] == resp.headers["x-request-id"]
    assert "Traceback" not in resp.text
    return error


@pytest.fixture
async def closed() -> AsyncIterator[Guarded]:
    """Anonymous access off."""
    async with guarded(server={"anonymous": False}) as gw:
        yield gw


# -- authentication --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [bearer(ALICE_KEY), {"X-Api-Key": BOT_KEY}, {"authorization": f"bearer  {BOT_KEY} "}],
)
async def test_guard_valid_key_is_served(closed: Guarded, headers: dict[str, str]) -> None:
    resp = await closed.post(BACKENDS, headers=headers)
    assert resp.status_code == 200
    assert resp.json()["data"]["backends"] == [{"name": "pw"}]


@pytest.mark.parametrize(
    "headers",
    [
        bearer("rgk-not-a-configured-key"),
        {"X-Api-Key": "rgk-not-a-configured-key"},
        {"Authorization": f"Token {ALICE_KEY}"},
        {"Authorization": "Bearer "},
        {"Authorization": f"Bearer {ALICE_KEY}", "X-Api-Key": BOT_KEY},
    ],
)
async def test_guard_invalid_key_is_401(closed: Guarded, headers: dict[str, str]) -> None:
    before = closed.upstream_requests()
    resp = await closed.post(BACKENDS, headers=headers)
    _refusal(resp, 401, "UNAUTHENTICATED")
    assert resp.headers["www-authenticate"].startswith('Bearer realm="revgate"')
    assert 'error="invalid_token"' in resp.headers["www-authenticate"]
    assert ALICE_KEY not in resp.text and "rgk-not-a-configured-key" not in resp.text
    assert closed.upstream_requests() == before


async def test_guard_invalid_key_is_401_even_when_anonymous_allowed() -> None:
    async with guarded() as gw:
        _refusal(await gw.post(BACKENDS, headers=bearer("wrong")), 401, "UNAUTHENTICATED")


async def test_guard_missing_key_is_401_when_anonymous_off(closed: Guarded) -> None:
    resp = await closed.post(BACKENDS)
    error = _refusal(resp, 401, "UNAUTHENTICATED")
    assert "Authorization: Bearer" in error["message"]
    assert resp.headers["www-authenticate"] == 'Bearer realm="revgate"'


async def test_guard_open_routes_need_no_key(closed: Guarded) -> None:
    assert (await closed.client.get("/healthz")).status_code == 200
    page = await closed.client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "x-request-id" in page.headers
    assert (await closed.client.get("/")).status_code == 401


async def test_guard_probes_and_metrics_need_no_key(closed: Guarded) -> None:
    assert (await closed.client.get("/readyz")).status_code == 200
    metrics = await closed.client.get("/metrics")
    assert metrics.status_code == 200 and "revgate_" in metrics.text
    # refusals are counted like any other answer
    await closed.post(BACKENDS)
    after = (await closed.client.get("/metrics")).text
    assert 'route="/graphql",status="401"' in after


async def test_guard_graphiql_off_switch() -> None:
    html = {"Accept": "text/html"}
    async with guarded() as gw:
        page = await gw.client.get("/graphql", headers=html)
        assert page.status_code == 200 and "graphiql" in page.text.lower()
    async with guarded(server={"graphiql": False}) as gw:
        page = await gw.client.get("/graphql", headers=html)
        assert page.status_code == 404 and "graphiql" not in page.text.lower()
        # the API itself is unaffected
        assert (await gw.data(BACKENDS))["data"]["backends"] == [{"name": "pw"}]


async def test_guard_anonymous_allowed() -> None:
    async with guarded() as gw:
        body = await gw.data(BACKENDS, key=None)
        assert body["data"]["backends"] == [{"name": "pw"}]


async def test_guard_anonymous_forbidden_per_backend() -> None:
    async with guarded(backend={"anonymous": False}) as gw:
        assert (await gw.data(BACKENDS, key=None))["data"]["backends"] == []
        assert (await gw.client.get("/")).json()["backends"] == []
        index = await gw.client.get("/", headers=bearer(BOT_KEY))
        assert [b["name"] for b in index.json()["backends"]] == ["pw"]
        before = gw.upstream_requests()
        for query, variables in (
            ('{ patches(first: 1, filter: {backend: "pw"}) { nodes { id } } }', None),
            ("query($id: ID!) { node(id: $id) { id } }", {"id": PATCH3}),
            ('{ backend(name: "pw") { name } }', None),
        ):
            body = await gw.data(query, variables, key=None)
            assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body
            assert "API key" in body["errors"][0]["message"]
        assert gw.upstream_requests() == before
        # The same queries with a key reach the backend.
        assert (await gw.data(BACKENDS, key=BOT_KEY))["data"]["backends"] == [{"name": "pw"}]
        assert len((await gw.data(PATCHES, {"n": 2}, key=BOT_KEY))["data"]["patches"]["nodes"]) == 2


async def test_guard_anonymous_off_via_environment() -> None:
    env = {"PW_TOKEN": "b0" * 20, "ALICE_PW_TOKEN": "a0" * 20, "REVGATE_ANONYMOUS": "false"}
    async with guarded(env=env) as gw:
        _refusal(await gw.post(BACKENDS), 401, "UNAUTHENTICATED")


# -- rate limits ------------------------------------------------------------------------------


async def test_guard_request_rate_burst_then_429() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock)
    keys: list[dict[str, Any]] = [
        {"name": "alice", "sha256": _hash(ALICE_KEY), "requests_per_minute": 3},
        {"name": "bot", "sha256": _hash(BOT_KEY)},
    ]
    async with guarded(api_keys=keys, limiter=limiter) as gw:
        for remaining in (2, 1, 0):
            resp = await gw.post(BACKENDS, headers=bearer(ALICE_KEY))
            assert resp.status_code == 200
            assert resp.headers["x-ratelimit-limit"] == "3"
            assert resp.headers["x-ratelimit-remaining"] == str(remaining)
        before = gw.upstream_requests()
        resp = await gw.post(PATCHES, {"n": 1}, headers=bearer(ALICE_KEY))
        error = _refusal(resp, 429, "RATE_LIMITED")
        assert resp.headers["retry-after"] == "20"  # 3 per minute: one token every 20 s
        assert error["extensions"]["retryAfter"] == 20
        assert gw.upstream_requests() == before
        # Another caller has its own bucket; time refills this one.
        assert (await gw.post(BACKENDS, headers=bearer(BOT_KEY))).status_code == 200
        clock.now += 20
        assert (await gw.post(BACKENDS, headers=bearer(ALICE_KEY))).status_code == 200
        assert (await gw.post(BACKENDS, headers=bearer(ALICE_KEY))).status_code == 429


async def test_guard_anonymous_callers_share_the_default_rate() -> None:
    async with guarded(limits={"requests_per_minute": 2}) as gw:
        assert (await gw.post(BACKENDS)).status_code == 200
        assert (await gw.post(BACKENDS)).status_code == 200
        _refusal(await gw.post(BACKENDS), 429, "RATE_LIMITED")
        assert (await gw.post(BACKENDS, headers=bearer(BOT_KEY))).status_code == 200


async def test_guard_cost_rate_then_429() -> None:
    clock = FakeClock()
    query = "{ projects(first: 5) { nodes { patches(first: 2) { nodes { id } } } } }"  # 1 + 5
    async with guarded(
        limits={"cost_per_minute": 10, "max_cost": 10}, limiter=MemoryRateLimiter(clock=clock)
    ) as gw:
        first = await gw.post(query, headers=bearer(BOT_KEY))
        assert first.status_code == 200
        cost = first.json()["extensions"]["cost"]
        assert cost["requestedQueryCost"] == 6 and cost["remaining"] == 4 and cost["limit"] == 10
        before = gw.upstream_requests()
        resp = await gw.post(query, headers=bearer(BOT_KEY))
        assert resp.status_code == 429
        assert resp.headers["retry-after"] == "12"  # 2 points short at 10 per minute
        body = resp.json()
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert gw.upstream_requests() == before
        # A cheap query still fits in what is left.
        assert (await gw.post(BACKENDS, headers=bearer(BOT_KEY))).status_code == 200
        clock.now += 60
        assert (await gw.post(query, headers=bearer(BOT_KEY))).status_code == 200


# -- body size -------------------------------------------------------------------------------


def _padded(size: int) -> bytes:
    """A GraphQL request body of exactly ``size`` bytes."""
    head = b'{"query": "{ backends { name } }", "variables": {"pad": "'
    tail = b'"}}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


async def test_guard_body_just_under_the_cap_is_served() -> None:
    async with guarded(server={"max_body_bytes": 1000}) as gw:
        resp = await gw.client.post(
            "/graphql", content=_padded(1000), headers={"Content-Type": "application/json"}
        )
        assert resp.status_code == 200, resp.text


async def test_guard_body_over_the_cap_is_413() -> None:
    async with guarded(server={"max_body_bytes": 1000}) as gw:
        resp = await gw.client.post(
            "/graphql", content=_padded(1001), headers={"Content-Type": "application/json"}
        )
        _refusal(resp, 413, "PAYLOAD_TOO_LARGE")


async def test_guard_streamed_body_over_the_cap_is_413_without_reading_it_all() -> None:
    pulled = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(1000):
            pulled += 1
            yield b"x" * 512

    async with guarded(server={"max_body_bytes": 2048}) as gw:
        resp = await gw.client.post(
            "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
        )
        _refusal(resp, 413, "PAYLOAD_TOO_LARGE")
    assert pulled < 1000


# -- request ids ------------------------------------------------------------------------------


async def test_guard_every_response_has_a_fresh_request_id() -> None:
    async with guarded() as gw:
        ids = {(await gw.post(BACKENDS)).headers["x-request-id"] for _ in range(3)}
        ids.add((await gw.client.get("/healthz")).headers["x-request-id"])
        assert len(ids) == 4 and all(len(i) == 32 for i in ids)


# -- per-caller backend credentials ----------------------------------------------------------


async def test_guard_caller_token_makes_writes_as_that_user() -> None:
    async with guarded() as gw:
        variables = {"input": {"id": PATCH3, "state": "accepted"}}
        # bot key: no token of its own, so the configured (bot) token is used: 403 upstream.
        bot = await gw.data(UPDATE, variables, key=BOT_KEY)
        assert bot["data"]["updatePatch"]["errors"][0]["code"] == "FORBIDDEN"
        # anonymous: refused by the gateway before any upstream request (issue 15 item 4).
        anon = await gw.data(UPDATE, variables, key=None)
        assert anon["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        # alice's own token is the maintainer's: the write goes through.
        alice = await gw.data(UPDATE, variables, key=ALICE_KEY)
        assert alice["data"]["updatePatch"] == {"patch": {"rawState": "accepted"}, "errors": []}
        patches = [r for r in gw.sim.state.requests if r[0] == "PATCH"]
        assert len(patches) == 2


def _hash(key: str) -> str:
    from gateway.auth import hash_key

    return hash_key(key)
