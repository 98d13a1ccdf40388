"""GraphQL over HTTP: GET queries, ``application/graphql-response+json`` with the spec's
status codes, and caching headers (``Cache-Control``, ``ETag``/304) on GET answers."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from starlette.datastructures import Headers

from gateway.auth import hash_key
from gateway.over_http import header
from tests.gateway.guarded import ALICE_KEY, bearer, guarded

QUERY = "{ backends { name } }"
NEW = {"Accept": "application/graphql-response+json"}
JSON = {"Accept": "application/json"}


async def test_get_runs_queries() -> None:
    async with guarded() as gw:
        resp = await gw.client.get("/graphql", params={"query": QUERY}, headers=JSON)
        assert resp.status_code == 200 and resp.json()["data"] == {"backends": [{"name": "pw"}]}
        named = await gw.client.get(
            "/graphql",
            params={
                "query": "query A($n: Int!) { projects(first: $n) { nodes { name } } } "
                "query B { backends { name } }",
                "variables": json.dumps({"n": 1}),
                "operationName": "A",
            },
            headers=JSON,
        )
        assert len(named.json()["data"]["projects"]["nodes"]) == 1


async def test_get_refuses_mutations_with_405() -> None:
    mutation = 'mutation { updatePatch(input: {id: "x", state: "accepted"}) { errors { code } } }'
    async with guarded() as gw:
        before = gw.upstream_requests()
        resp = await gw.client.get("/graphql", params={"query": mutation}, headers=JSON)
        assert resp.status_code == 405 and resp.headers["allow"] == "POST"
        assert resp.json()["errors"][0]["extensions"]["code"]
        assert gw.upstream_requests() == before


async def test_get_queries_need_a_key_when_anonymous_is_off() -> None:
    async with guarded(server={"anonymous": False}) as gw:
        resp = await gw.client.get("/graphql", params={"query": QUERY}, headers=JSON)
        assert resp.status_code == 401
        keyed = await gw.client.get(
            "/graphql", params={"query": QUERY}, headers={**JSON, **bearer(ALICE_KEY)}
        )
        assert keyed.status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": "{ backends { name }"}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ nope }"}, "GRAPHQL_VALIDATION_FAILED"),
        (
            {
                "query": "query($n: Int!) { projects(first: $n) { nodes { name } } }",
                "variables": {"n": "many"},
            },
            None,
        ),
    ],
)
async def test_graphql_response_json_request_errors_are_400_without_data(
    body: dict[str, Any], code: str | None
) -> None:
    async with guarded() as gw:
        new = await gw.client.post("/graphql", json=body, headers=NEW)
        assert new.status_code == 400, new.text
        assert new.headers["content-type"].startswith("application/graphql-response+json")
        assert "data" not in new.json() and new.json()["errors"][0]["extensions"]["code"]
        if code:
            assert new.json()["errors"][0]["extensions"]["code"] == code
        legacy = await gw.client.post("/graphql", json=body, headers=JSON)
        assert legacy.status_code == 200 and legacy.headers["content-type"] == "application/json"


async def test_graphql_response_json_success_and_transport_errors() -> None:
    async with guarded() as gw:
        ok = await gw.client.post("/graphql", json={"query": QUERY}, headers=NEW)
        assert ok.status_code == 200 and ok.json()["data"]["backends"]
        assert ok.headers["content-type"].startswith("application/graphql-response+json")
        bad = await gw.client.post(
            "/graphql", content=b"{not json", headers={**NEW, "Content-Type": "application/json"}
        )
        assert bad.status_code == 400 and "data" not in bad.json()
        assert bad.json()["errors"][0]["extensions"]["code"]
        refused = await gw.client.post(
            "/graphql",
            json={"query": QUERY},
            headers={"Accept": "application/graphql-response+json;q=0, application/json"},
        )
        assert refused.headers["content-type"] == "application/json"


async def test_get_answers_carry_cache_control_and_etag() -> None:
    server = {"cache_max_age": {"backends": 300, "projects": 60}}
    async with guarded(server=server) as gw:
        first = await gw.client.get("/graphql", params={"query": QUERY}, headers=JSON)
        assert first.headers["cache-control"] == "public, max-age=300"
        tag = first.headers["etag"]
        assert tag.startswith('W/"') and "Accept" in first.headers["vary"]
        again = await gw.client.get(
            "/graphql", params={"query": QUERY}, headers={**JSON, "If-None-Match": tag}
        )
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
        both = "{ backends { name } projects(first: 1) { nodes { name } } }"
        mixed = await gw.client.get("/graphql", params={"query": both}, headers=JSON)
        assert mixed.headers["cache-control"] == "public, max-age=60"  # the smallest
        keyed = await gw.client.get(
            "/graphql", params={"query": QUERY}, headers={**JSON, **bearer(ALICE_KEY)}
        )
        assert keyed.headers["cache-control"] == "private, max-age=300"
        unlisted = await gw.client.get(
            "/graphql", params={"query": "{ __typename backends { name } }"}, headers=JSON
        )
        assert unlisted.headers["cache-control"] == "no-cache" and "etag" in unlisted.headers
        posted = await gw.client.post("/graphql", json={"query": QUERY}, headers=JSON)
        assert "etag" not in posted.headers and "cache-control" not in posted.headers
        failed = await gw.client.get("/graphql", params={"query": "{ nope }"}, headers=JSON)
        assert "etag" not in failed.headers


async def test_apq_over_get_for_short_cacheable_urls() -> None:
    digest = hashlib.sha256(QUERY.encode()).hexdigest()
    extensions = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": digest}})
    async with guarded(server={"cache_max_age": {"backends": 30}}) as gw:
        miss = await gw.client.get("/graphql", params={"extensions": extensions}, headers=JSON)
        assert miss.json()["errors"][0]["message"] == "PersistedQueryNotFound"
        await gw.client.get(
            "/graphql", params={"query": QUERY, "extensions": extensions}, headers=JSON
        )
        hit = await gw.client.get("/graphql", params={"extensions": extensions}, headers=JSON)
        assert hit.json()["data"] == {"backends": [{"name": "pw"}]}
        assert "etag" in hit.headers and hit.headers["cache-control"] == "public, max-age=30"


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("PUT", "/graphql", 405, "METHOD_NOT_ALLOWED"),
        ("DELETE", "/graphql", 405, "METHOD_NOT_ALLOWED"),
        ("POST", "/healthz", 405, "METHOD_NOT_ALLOWED"),
        ("GET", "/no/such/route", 404, "NOT_FOUND"),
    ],
)
async def test_transport_refusals_are_coded_json(
    method: str, path: str, status: int, code: str
) -> None:
    async with guarded() as gw:
        resp = await gw.client.request(method, path, headers=bearer(ALICE_KEY))
        assert resp.status_code == status
        assert resp.headers["content-type"] == "application/json"
        assert resp.json()["errors"][0]["extensions"]["code"] == code
        if status == 405:
            assert resp.headers["allow"]


BATCH = [{"query": QUERY}, {"query": "{ projects(first: 1) { nodes { name } } }"}]


async def test_batching_is_off_by_default() -> None:
    async with guarded() as gw:
        resp = await gw.client.post("/graphql", json=BATCH, headers=bearer(ALICE_KEY))
        assert resp.status_code == 400
        assert resp.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        assert gw.upstream_requests() == 0


async def test_opt_in_batching_runs_each_operation_and_counts_each() -> None:
    keys = [{"name": "alice", "sha256": hash_key(ALICE_KEY), "requests_per_minute": 4}]
    async with guarded(server={"batch_max_operations": 3}, api_keys=keys) as gw:
        resp = await gw.client.post("/graphql", json=BATCH, headers=bearer(ALICE_KEY))
        assert resp.status_code == 200, resp.text
        first, second = resp.json()
        assert first["data"] == {"backends": [{"name": "pw"}]}
        assert len(second["data"]["projects"]["nodes"]) == 1
        too_many = await gw.client.post("/graphql", json=BATCH * 2, headers=bearer(ALICE_KEY))
        assert too_many.status_code == 400  # over batch_max_operations
        # 4 requests a minute: the batch of 2 took 2 tokens, the refused batch of 4 one; the
        # next batch passes the Guard (its 4th) but not its second operation's charge
        before = gw.upstream_requests()
        limited = await gw.client.post("/graphql", json=BATCH, headers=bearer(ALICE_KEY))
        assert limited.status_code == 429 and limited.headers["retry-after"]
        assert limited.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert "batch" in limited.json()["errors"][0]["message"]
        assert gw.upstream_requests() == before


@pytest.mark.parametrize("body", [{}, {"query": ""}, {"query": None, "variables": {}}])
@pytest.mark.parametrize("accept", ["text/event-stream", "multipart/mixed;subscriptionSpec=1.0"])
async def test_streamed_requests_without_a_query_are_refused_with_a_code(
    body: dict[str, Any], accept: str
) -> None:
    # strawberry raised MissingQueryError inside the stream: a 200 carrying an internal error
    async with guarded() as gw:
        before = gw.upstream_requests()
        resp = await gw.client.post("/graphql", json=body, headers={"Accept": accept})
        assert resp.status_code == 400
        assert resp.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        assert gw.upstream_requests() == before


@pytest.mark.parametrize("name", [b"accept", b"content-type", b"last-event-id"])
def test_header_reads_as_starlette_headers(name: bytes) -> None:
    """The first value of a (lower-case) name, latin-1; a missing one is None."""
    raw = [(b"accept", b"a/b"), (b"content-type", b"\xe9/x"), (b"accept", b"c/d")]
    scope = {"type": "http", "headers": raw}
    assert header(scope, name) == Headers(scope=scope).get(name.decode())
