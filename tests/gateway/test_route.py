"""`/graphql` straight to the view (`gateway/route.py`) answers as through the router."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest
from starlette.routing import Route

from gateway.route import GraphQLRoute
from tests.gateway.guarded import BOT_KEY, Guarded, bearer, guarded

QUERY = "{ backends { name } }"
_VARYING = {"x-request-id", "x-ratelimit-remaining", "date", "content-length"}
_VARYING_BODY = re.compile(rb'"(requestId|remaining|resetAt)":("[^"]*"|\d+)')
# (method, path, headers, body)
CASES: list[tuple[str, str, Mapping[str, str], bytes | None]] = [
    ("POST", "/graphql", {"Content-Type": "application/json"}, b'{"query": "%s"}' % QUERY.encode()),
    ("POST", "/graphql", {"Content-Type": "application/json"}, b'{"query": "{ nope }"}'),
    ("POST", "/graphql", {"Content-Type": "application/json"}, b"{"),
    ("POST", "/graphql", {"Content-Type": "text/plain"}, b"x"),
    ("GET", "/graphql?query=" + QUERY, {}, None),
    ("HEAD", "/graphql?query=" + QUERY, {}, None),
    ("GET", "/graphql", {"Accept": "text/html"}, None),  # the GraphiQL page
    ("PUT", "/graphql", {}, b"{}"),  # 405 from the route, through the router
    ("POST", "/graphql/", {"Content-Type": "application/json"}, b"{}"),
    (
        "POST",
        "/graphql",
        {"Content-Type": "application/json", "Origin": "https://elsewhere.example"},
        b'{"query": "%s"}' % QUERY.encode(),
    ),
]


def _route(gw: Guarded) -> GraphQLRoute:
    layer: Any = gw.app.middleware_stack  # built by the first request
    while not isinstance(layer, GraphQLRoute):
        layer = layer.app
    return layer


async def _answer(
    gw: Guarded, method: str, path: str, headers: Mapping[str, str], body: Any
) -> Any:
    resp = await gw.client.request(
        method, path, headers={**headers, **bearer(BOT_KEY)}, content=body
    )
    kept = [(k, v) for k, v in resp.headers.items() if k not in _VARYING]
    return resp.status_code, kept, _VARYING_BODY.sub(b"", resp.content)


@pytest.mark.parametrize(("method", "path", "headers", "body"), CASES)
async def test_graphql_route_answers_as_the_router(
    method: str, path: str, headers: Mapping[str, str], body: bytes | None
) -> None:
    async with guarded() as gw:
        await gw.post(QUERY)  # builds the middleware stack
        route = _route(gw)
        direct = route.graphql
        route.graphql = route.app  # through the exception middleware and the router
        routed = await _answer(gw, method, path, headers, body)
        route.graphql = direct
        assert await _answer(gw, method, path, headers, body) == routed


async def test_graphql_route_skips_the_router(monkeypatch: pytest.MonkeyPatch) -> None:
    """The route table is not walked for ``/graphql`` over HTTP; other requests still are."""
    matched: list[str] = []
    original = Route.matches

    def matches(self: Route, scope: Any) -> Any:
        matched.append(scope["path"])
        return original(self, scope)

    monkeypatch.setattr(Route, "matches", matches)
    async with guarded() as gw:
        assert (await gw.post(QUERY)).status_code == 200
        assert (await gw.client.get("/graphql", params={"query": QUERY})).status_code == 200
        assert matched == []
        assert (await gw.client.put("/graphql", content=b"{}")).status_code == 405
        assert (await gw.client.get("/healthz")).status_code == 200
        assert matched and set(matched) == {"/graphql", "/healthz"}
