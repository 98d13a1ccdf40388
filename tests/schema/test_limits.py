"""schema.limits: depth, aliases, tokens and cost — just under passes, just over is refused
before any upstream request; the cost model; introspection off; masked errors' request id."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from graphql import parse

from schema.build import build_schema
from schema.limits import CostCache, QueryLimits, query_cost
from tests.gateway.guarded import BOT_KEY, Guarded, bearer, guarded

SCHEMA = build_schema()._schema


def _cost(query: str, variables: dict[str, Any] | None = None) -> int:
    return query_cost(SCHEMA, parse(query), None, variables)


# -- the cost model --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "cost"),
    [
        ("{ backends { name } }", 1),  # a list, but at the root: one read
        ("{ __schema { types { name fields { name } } } }", 1),  # introspection is free
        ("{ patches(first: 10) { nodes { id } } }", 1),
        ("{ patches { nodes { id } edges { node { id } } totalCount } }", 1),
        ("{ projects(first: 5) { nodes { patches(first: 10) { nodes { id } } } } }", 6),
        (
            "{ projects(first: 5) { nodes { patches(first: 10) "
            "{ nodes { checks { state } } } } } }",
            56,
        ),
        # default page size (30) and out-of-range sizes counted as 1..100
        ("{ projects { nodes { patches { nodes { id } } } } }", 31),
        ("{ projects(first: 1000) { nodes { patches(first: 0) { nodes { id } } } } }", 101),
        (
            "{ projects(first: 100) { nodes { patches(first: 100) "
            "{ nodes { comments(first: 100) { nodes { id } } } } } } }",
            1 + 100 + 100 * 100,
        ),
        # fragments, named and inline, count where they are spread
        (
            "query { projects(first: 4) { nodes { ...P } } } "
            "fragment P on Project { patches(first: 3) "
            "{ nodes { ... on Patch { checks { id } } } } }",
            1 + 4 + 12,
        ),
    ],
)
def test_cost_model(query: str, cost: int) -> None:
    assert _cost(query) == cost


def test_cost_uses_variables_and_their_defaults() -> None:
    query = (
        "query($a: Int = 7, $b: Int) { projects(first: $a) "
        "{ nodes { patches(first: $b) { nodes { id } } } } }"
    )
    assert _cost(query) == 1 + 7
    assert _cost(query, {"a": 2, "b": 9}) == 1 + 2


def test_cost_of_the_named_operation() -> None:
    doc = (
        "query A { backends { name } } "
        "query B { projects(first: 9) { nodes { patches { nodes { id } } } } }"
    )
    assert query_cost(SCHEMA, parse(doc), "A") == 1
    assert query_cost(SCHEMA, parse(doc), "B") == 10


CHANGES_NESTED = """{ changes(first: 100) { nodes { id title
    ... on Patch { series { name } }
    comments(first: 10) { nodes { id } }
    checks { state } } } }"""


@pytest.mark.parametrize(
    ("query", "backends", "cost"),
    [
        # merged across 3 backends: 3 reads; per node: its series list, a comments page and
        # a checks list
        (CHANGES_NESTED, 3, 3 + 100 + 100 + 100),
        (CHANGES_NESTED, 1, 1 + 100 + 100 + 100),
        ("{ changes(first: 100) { nodes { id } } }", 3, 3),
        # the filter names the backends it spans
        ('{ changes(filter: {backends: ["a"]}) { nodes { id } } }', 3, 1),
        ('{ changes(filter: {backends: ["a", "b", "a"]}) { nodes { id } } }', 3, 2),
        ('{ series(filter: {backend: "a"}) { nodes { id } } }', 3, 1),
        ('{ projects(backends: ["a", "b"]) { nodes { id } } }', 3, 2),
        # a project's changes are one backend's; the projects list spans all of them
        (
            "{ projects(first: 5) { nodes { changes(first: 20) "
            "{ nodes { checks { state } } } } } }",
            3,
            3 + 5 + 100,
        ),
        ("{ patches(first: 100) { nodes { id } } }", 3, 1),  # one backend by definition
    ],
)
def test_cost_model_federated_lists(query: str, backends: int, cost: int) -> None:
    assert query_cost(SCHEMA, parse(query), None, None, backends) == cost


# -- limits end to end: just under passes, just over is refused without upstream traffic ----


def test_cost_cache_keys_by_variables_operation_and_backends() -> None:
    cache = CostCache(size=3)
    query = """query A($n: Int) { changes(first: $n) { nodes { id } } }
        query B { patches(first: 5) { nodes { id } } }"""
    doc = parse(query)
    cases: list[tuple[str | None, dict[str, Any] | None, int]] = [
        ("A", {"n": 10}, 1),
        ("A", {"n": 10}, 3),
        ("A", {"n": 20}, 3),
        ("A", {"n": 1.0}, 3),  # not the cost of {"n": 1} by accident: keys are JSON-encoded
        ("A", {"n": True}, 3),
        ("A", None, 2),
        ("B", None, 2),
        ("A", {"n": 10}, 1),
    ]
    for _ in range(2):  # the second pass answers from the cache (or recomputes evicted ones)
        for name, variables, backends in cases:
            expected = query_cost(SCHEMA, doc, name, variables, backends)
            assert cache.cost(SCHEMA, query, doc, name, variables, backends) == expected
    assert len(cache._costs) == 3


def test_cost_cache_skips_the_walk_when_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    import schema.limits as limits

    calls: list[object] = []
    real = limits.query_cost

    def counting(*args: Any) -> int:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(limits, "query_cost", counting)
    cache = CostCache()
    query = "{ patches(first: 7) { nodes { id } } }"
    doc = parse(query)
    assert cache.cost(SCHEMA, query, doc, None, None, 1) == cache.cost(
        SCHEMA, query, doc, None, None, 1
    )
    assert len(calls) == 1
    cache.cost(SCHEMA, None, doc, None, None, 1)  # no query text: not cached
    cache.cost(SCHEMA, query, doc, None, {"x": object()}, 1)  # unencodable variables: not cached
    assert len(calls) == 3


def _nested(depth: int) -> str:
    """A query of depth ``depth`` (>= 2; strawberry counts the root fields as depth 0):
    patches → nodes → series → patches → series … → id."""
    inner = "id"
    for level in reversed(range(depth - 2)):
        inner = f"{'series' if level % 2 == 0 else 'patches'} {{ {inner} }}"
    return f"{{ patches(first: 1) {{ nodes {{ {inner} }} }} }}"


async def _refused(gw: Guarded, query: str, code: str) -> dict[str, Any]:
    before = gw.upstream_requests()
    resp = await gw.post(query, headers=bearer(BOT_KEY))
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    assert body.get("data") is None, body
    error: dict[str, Any] = body["errors"][0]
    assert error["extensions"]["code"] == code, body
    assert gw.upstream_requests() == before  # refused before any upstream request
    return error


async def _served(gw: Guarded, query: str) -> dict[str, Any]:
    body = await gw.data(query, key=BOT_KEY)
    assert "errors" not in body, body["errors"]
    return body


async def test_limit_depth() -> None:
    async with guarded(limits={"max_depth": 6}) as gw:
        await _served(gw, _nested(6))
        error = await _refused(gw, _nested(7), "QUERY_TOO_DEEP")
        assert "depth" in error["message"]


async def test_limit_aliases() -> None:
    async with guarded(limits={"max_aliases": 3}) as gw:
        await _served(gw, "{ a: backends { name } b: backends { name } c: backends { name } }")
        await _refused(
            gw,
            "{ a: backends { name } b: backends { name } c: backends { name } "
            "d: backends { name } }",
            "TOO_MANY_ALIASES",
        )


async def test_limit_tokens() -> None:
    query = "{ backends { name } }"  # 6 tokens as graphql-core counts them (5 + <EOF>)
    async with guarded(limits={"max_tokens": 6}) as gw:
        await _served(gw, query)
        await _refused(gw, "{ backends { name kind } }", "TOO_MANY_TOKENS")


async def test_limit_cost() -> None:
    under = "{ projects(first: 9) { nodes { patches(first: 2) { nodes { id } } } } }"  # 10
    over = "{ projects(first: 10) { nodes { patches(first: 2) { nodes { id } } } } }"  # 11
    async with guarded(limits={"max_cost": 10}) as gw:
        body = await _served(gw, under)
        assert body["extensions"]["cost"]["requestedQueryCost"] == 10
        error = await _refused(gw, over, "QUERY_TOO_COSTLY")
        assert error["extensions"]["cost"] == 11 and error["extensions"]["maxCost"] == 10
        assert "11" in error["message"] and "10" in error["message"]


async def test_limit_cost_of_nested_changes_refused_before_any_upstream_request() -> None:
    cheap = "{ rateLimit { cost remaining resetAt } changes(first: 100) { nodes { id } } }"
    # 200 a minute refills a point every 300 ms: the three requests fit well inside that
    # on a loaded machine (1000 a minute refilled one every 60 ms, and the test flaked).
    async with guarded(limits={"max_cost": 150, "cost_per_minute": 200}) as gw:
        body = await _served(gw, cheap)
        assert body["data"]["rateLimit"]["cost"] == 1
        assert body["data"]["rateLimit"]["remaining"] == 199
        assert body["extensions"]["cost"]["requestedQueryCost"] == 1
        assert gw.upstream_requests() > 0  # the cheap one did reach the backend
        error = await _refused(gw, CHANGES_NESTED, "QUERY_TOO_COSTLY")  # asserts 0 upstream
        assert error["extensions"]["cost"] == 301 and error["extensions"]["maxCost"] == 150
        # a refused query is not charged to the caller's budget
        again = await _served(gw, "{ rateLimit { remaining } }")
        assert again["data"]["rateLimit"]["remaining"] == 198


async def test_limit_upstream_response_size_cap() -> None:
    async with guarded(backend={"max_body_bytes": 200}) as gw:
        body = await gw.data("{ patches(first: 5) { nodes { id } } }", key=BOT_KEY)
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_UPSTREAM_PAYLOAD"
        assert error["extensions"]["backend"] == "pw"
        assert "larger than 200 bytes" in error["message"]


async def test_limit_zero_turns_a_limit_off() -> None:
    limits = {"max_depth": 0, "max_aliases": 0, "max_tokens": 0, "max_cost": 0}
    async with guarded(limits=limits) as gw:
        await _served(gw, _nested(16))
        body = await _served(
            gw, "{ projects(first: 100) { nodes { patches(first: 100) { nodes { id } } } } }"
        )
        assert body["extensions"]["cost"]["maxQueryCost"] is None


async def test_limit_rate_limit_field() -> None:
    async with guarded(limits={"cost_per_minute": 100, "max_cost": 100}) as gw:
        query = "{ rateLimit { cost limit remaining resetAt } projects(first: 3) { nodes { id } } }"
        first = (await _served(gw, query))["data"]["rateLimit"]
        assert first["cost"] == 1 and first["limit"] == 100 and first["remaining"] == 99
        assert first["resetAt"] is not None
        second = (await _served(gw, query))["data"]["rateLimit"]
        assert second["remaining"] == 98


async def test_limit_rate_limit_field_without_budget() -> None:
    async with guarded(limits={"cost_per_minute": 0}) as gw:
        data = (await _served(gw, "{ rateLimit { cost limit remaining } }"))["data"]
        assert data["rateLimit"] == {"cost": 1, "limit": None, "remaining": None}


async def test_limits_defaults_accept_graphiql_introspection() -> None:
    from graphql import get_introspection_query

    result = await build_schema(QueryLimits()).execute(get_introspection_query())
    assert result.errors is None


# -- introspection ---------------------------------------------------------------------------


async def test_introspection_off() -> None:
    async with guarded(server={"introspection": False}) as gw:
        await _refused(gw, "{ __schema { queryType { name } } }", "INTROSPECTION_DISABLED")
        await _refused(gw, '{ __type(name: "Patch") { name } }', "INTROSPECTION_DISABLED")
        await _served(gw, "{ backends { name } __typename }")


async def test_introspection_on_by_default() -> None:
    async with guarded() as gw:
        body = await _served(gw, "{ __schema { queryType { name } } }")
        assert body["data"]["__schema"]["queryType"]["name"] == "Query"


# -- masked errors ---------------------------------------------------------------------------


async def test_masked_error_carries_the_request_id(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from adapters.patchwork.source import PatchworkSource

    async def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("internal detail Xylophone-4471")

    monkeypatch.setattr(PatchworkSource, "list_patches", boom)
    caplog.set_level(logging.DEBUG)
    async with guarded() as gw:
        resp = await gw.post("{ patches(first: 1) { nodes { id } } }", headers=bearer(BOT_KEY))
    assert resp.status_code == 200
    error = resp.json()["errors"][0]
    request_id = resp.headers["x-request-id"]
    assert error["message"] == "Internal server error"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    assert "Xylophone" not in resp.text and "Traceback" not in resp.text
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1
    assert request_id in tracebacks[0].getMessage()
    assert tracebacks[0].name == "revgate.errors"
    assert not [r for r in caplog.records if r.name.startswith("strawberry")]
