"""Fuzzing the gateway over a real loopback socket: no 5xx, no traceback, nothing masked.

The gateway runs under uvicorn on ``127.0.0.1:0`` (a thread) over the Patchwork simulator
with 30 generated patches. schemathesis generates valid GraphQL documents for every root
field of the committed ``schema/schema.graphql``; hypothesis generates raw bodies, content
types, query strings, methods and paths. Every run draws the same examples
(``derandomize``); the sizes keep the file well under 30 s.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings

from adapters.patchwork.simulator import PatchworkData
from tests.reliability.fuzz import (
    FUZZ_SETTINGS,
    SURFACE,
    FuzzRequest,
    check_answer,
    compat_requests,
    graphql_bodies,
    graphql_gets,
    graphql_operations,
    http_requests,
)
from tests.reliability.harness import ServedGateway, simulator_setup

EXAMPLES_PER_OPERATION = 25  # x 12 root fields
EXAMPLES = 100


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    setup = simulator_setup(PatchworkData.generated(30), retries=0)
    with ServedGateway(setup) as served, httpx.Client(base_url=served.url, timeout=10) as http:
        yield http


def send(client: httpx.Client, request: FuzzRequest) -> httpx.Response:
    return client.request(
        request.method,
        request.path,
        params=list(request.params),
        headers=dict(request.headers),
        content=request.body,
    )


def assert_fine(client: httpx.Client, request: FuzzRequest, **options: Any) -> httpx.Response:
    resp = send(client, request)
    verdict = check_answer(request, resp.status_code, resp.text, **options)
    assert verdict, f"{verdict.problems} for {request.describe()}: {resp.text[:500]}"
    return resp


@pytest.mark.parametrize("operation", graphql_operations(), ids=lambda op: op.label)
def test_fuzz_schemathesis_graphql(client: httpx.Client, operation: Any) -> None:
    @settings(FUZZ_SETTINGS, max_examples=EXAMPLES_PER_OPERATION)
    @given(operation.as_strategy())
    def run(case: Any) -> None:
        request = FuzzRequest(
            "POST",
            "/graphql",
            headers=(("Content-Type", "application/json"),),
            body=httpx.Request("POST", "/", json={"query": case.body}).content,
            label=operation.label,
        )
        resp = assert_fine(client, request)
        assert resp.status_code == 200, resp.text  # a valid document is never refused
        assert "data" in resp.json()

    run()


def test_fuzz_graphql_post_bodies(client: httpx.Client) -> None:
    @settings(FUZZ_SETTINGS, max_examples=EXAMPLES)
    @given(graphql_bodies())
    def run(request: FuzzRequest) -> None:
        resp = assert_fine(client, request)
        assert resp.status_code in (200, 400, 415), resp.text

    run()


def test_fuzz_graphql_get(client: httpx.Client) -> None:
    @settings(FUZZ_SETTINGS, max_examples=EXAMPLES // 2)
    @given(graphql_gets())
    def run(request: FuzzRequest) -> None:
        assert_fine(client, request)

    run()


def test_fuzz_http_surface(client: httpx.Client) -> None:
    known = {route.path.rstrip("/") or "/" for route in SURFACE}

    @settings(FUZZ_SETTINGS, max_examples=EXAMPLES)
    @given(http_requests())
    def run(request: FuzzRequest) -> None:
        resp = assert_fine(client, request)
        path = request.path.rstrip("/") or "/"
        served_by_compat = path.startswith("/rest/pw/") or path == "/rest/pw"
        if path not in known and not served_by_compat:
            assert resp.status_code == 404, request.describe()

    run()


def test_fuzz_compat_rest(client: httpx.Client) -> None:
    """The REST compat layer: no 5xx, no traceback, whatever the path, filter or body."""

    @settings(FUZZ_SETTINGS, max_examples=EXAMPLES)
    @given(compat_requests())
    def run(request: FuzzRequest) -> None:
        resp = assert_fine(client, request)
        assert resp.status_code != 429, "the fuzz gateway has no rate limit"

    run()


@pytest.mark.parametrize("path", ["/", "/healthz", "/readyz", "/metrics"])
def test_fuzz_surface_routes_answer(client: httpx.Client, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 200
    expected = "text/plain" if path == "/metrics" else "application/json"
    assert resp.headers["content-type"].startswith(expected)
