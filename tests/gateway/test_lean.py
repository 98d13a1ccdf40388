"""Planned queries answered by ``gateway/lean.py`` answer as strawberry's view and pipeline do.

Each request is sent once to compile its plan, then through strawberry's path (the view's
lean entry switched off) and through the lean entry; status, headers, body, upstream
requests, operation metrics and log records must be the same (less what differs between any
two requests: request ids, the rate-limit bucket, the remaining budget); GETs too, with their
caching headers and 304s. Requests the lean entry must leave to strawberry (an unplanned or
ambiguous operation, GraphiQL's page, a stream, a batch, a bad body or query string) or
refuse as it does (a persisted query's hash that does not match or is unknown) are in the
same table, with whether the lean entry answered them.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest

from adapters.patchwork.simulator import PatchworkData
from gateway.cli import main
from schema.loader import Loader
from tests.gateway.guarded import BOT_KEY, Guarded, bearer, guarded

LIST = (
    '{ patches(first: 3, filter: {project: "generated"}) '
    "{ nodes { id title state author { name } } } }"
)
VARS = (
    'query Q($n: Int) { patches(first: $n, filter: {project: "generated"}) { nodes { id title } } }'
)
TWO = VARS + " query R { backends { name } }"
NODE = '{ node(id: "UGF0Y2g6cHc6NDQ") { ... on Patch { id title checkState project { name } } } }'
PAGE = (
    '{ patches(first: 2, filter: {project: "generated"}) { pageInfo { hasNextPage endCursor } } }'
)
# node(id:) alone reads its record at once (``Context.read_now``); beside another root field,
# through ``nodes`` or for a type whose loader reads otherwise it batches as before
SERIES = '{ node(id: "U2VyaWVzOnB3OjE") { ... on Series { id name patches { id title } } } }'
PERSON = '{ node(id: "UGVyc29uOnB3OjE") { id ... on Person { name } } }'  # private: anonymous
PROJECT = '{ node(id: "UHJvamVjdDpwdzox") { ... on Project { id name } } }'
MISSING = '{ node(id: "UGF0Y2g6cHc6OTk5OQ") { id } }'
BAD_ID = '{ node(id: "bm9wZQ") { id } }'
TWO_NODES = '{ a: node(id: "UGF0Y2g6cHc6NDQ") { id } b: node(id: "UGF0Y2g6cHc6NDU") { id } }'
NODES = '{ nodes(ids: ["UGF0Y2g6cHc6NDQ", "UGF0Y2g6cHc6NDU", "UGF0Y2g6cHc6NDQ"]) { id } }'
CHECK = '{ node(id: "Q2hlY2s6cHc6NDQvMQ") { id } }'  # Check:pw:44/1, not one record read
CHANGES = "{ changes(first: 3) { nodes { id title updatedAt } } }"
# the only field's check presence is read at once (``Context.prefetch_check_presence``)
PRESENCE = '{ patches(first: 8, filter: {project: "generated"}) { nodes { id checkState } } }'
PRESENCE_TWO = PRESENCE.replace("} } }", "} } b: patches(first: 3) { nodes { checkState } } }")
CHECKS = "{ projects { nodes { name patches(first: 2) { nodes { id checkState } } } } }"
_LIST = hashlib.sha256(LIST.encode()).hexdigest()
JSON = {"Content-Type": "application/json"}
NEW_TYPE = {**JSON, "Accept": "application/graphql-response+json"}

# (body, headers, answered by the lean entry); "fault": a path the simulator fails (500)
CASES: list[tuple[Any, Mapping[str, str], bool]] = [
    ({"query": LIST}, JSON, True),
    ({"query": LIST, "variables": None, "operationName": None}, JSON, True),
    ({"query": LIST}, NEW_TYPE, True),
    ({"query": LIST}, {"Content-Type": "application/json; charset=utf-8"}, True),
    ({"query": VARS, "variables": {"n": 2}}, JSON, True),
    ({"query": VARS, "variables": {"n": "two"}}, JSON, True),  # BAD_USER_INPUT, uncharged
    ({"query": VARS, "variables": {"n": "two"}}, NEW_TYPE, True),  # … a 400 there
    ({"query": VARS, "variables": {"n": 100000}}, JSON, True),  # over the page size
    ({"query": VARS, "variables": {"m": 1}}, JSON, True),
    ({"query": TWO, "operationName": "Q", "variables": {"n": 1}}, JSON, True),
    ({"query": TWO, "variables": {"n": 1}}, JSON, False),  # ambiguous: never planned
    ({"query": TWO, "operationName": "Nope"}, JSON, False),
    ({"query": TWO, "operationName": 1}, JSON, False),
    ({"query": NODE}, JSON, True),
    ({"query": NODE, "fault": "/api/1.3/patches/44/"}, JSON, True),  # an upstream failure
    ({"query": SERIES}, JSON, False),  # not planned (a series's patches)
    ({"query": PERSON}, JSON, True),
    ({"query": PROJECT}, JSON, True),
    ({"query": MISSING}, JSON, True),
    ({"query": BAD_ID}, JSON, True),
    ({"query": TWO_NODES}, JSON, True),
    ({"query": NODES}, JSON, True),
    ({"query": CHECK}, JSON, True),
    ({"query": CHANGES}, JSON, True),
    ({"query": PRESENCE}, JSON, True),
    ({"query": PRESENCE, "fault": "/api/1.3/events/"}, JSON, True),  # the presence read fails
    ({"query": PRESENCE_TWO}, JSON, False),  # not planned: two lists asking presence
    ({"query": CHANGES, "fault": "/api/1.3/events/"}, JSON, True),  # reported, not raised
    ({"query": CHECKS, "fault": "/api/1.3/events/"}, JSON, False),  # not planned
    ({"query": PAGE}, JSON, True),
    ({"query": LIST, "extensions": {}}, JSON, True),
    (
        {"query": LIST, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": _LIST}}},
        JSON,
        True,
    ),
    ({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": _LIST}}}, JSON, True),
    ({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": _LIST}}}, NEW_TYPE, True),
    (
        {"query": VARS, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": _LIST}}},
        JSON,
        False,
    ),
    ({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}}, JSON, False),
    ({"query": LIST, "extensions": "x"}, JSON, False),
    ({"extensions": {}}, JSON, False),
    ({"query": LIST, "variables": []}, JSON, False),
    ({"query": LIST, "variables": "x"}, JSON, False),
    ([{"query": LIST}], JSON, False),
    ({"query": LIST}, {"Content-Type": "text/plain"}, False),
    ({"query": LIST}, {**JSON, "Accept": "text/event-stream"}, False),
    (b'{"query": "{ patches', JSON, False),
    (b"\xff", JSON, False),
]
_HASH_ONLY = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": _LIST}}}
# A GET: its query-string parameters (``variables``/``extensions`` as the JSON text sent)
_GETS: list[tuple[Any, Mapping[str, str], bool]] = [
    (("GET", {"query": LIST}), {}, True),
    (("GET", {"query": LIST}), {"Accept": "application/json"}, True),
    (("GET", {"query": LIST}), {"Accept": "application/graphql-response+json"}, True),
    (("GET", {"query": LIST}), {"If-None-Match": "*"}, True),  # 304, caching headers
    (("GET", {"query": VARS, "variables": '{"n": 2}'}), {}, True),
    (("GET", {"query": VARS, "variables": '{"n": "two"}'}), {}, True),  # BAD_USER_INPUT
    (("GET", {"query": TWO, "operationName": "Q", "variables": '{"n": 1}'}), {}, True),
    (("GET", {"query": NODE}), {}, True),
    (("GET", {"query": CHANGES}), {}, True),
    (("GET", {"query": PRESENCE}), {}, True),
    (
        ("GET", {"extensions": orjson.dumps(_HASH_ONLY["extensions"]).decode()}),
        {},
        True,
    ),
    (("GET", {"query": VARS, "variables": "x"}), {}, False),  # not JSON: the view's 400
    (("GET", {"query": VARS, "variables": "[1]"}), {}, False),
    (("GET", {"query": TWO, "variables": '{"n": 1}'}), {}, False),  # ambiguous
    (("GET", {"query": SERIES}), {}, False),  # not planned
    (("GET", {"query": "mutation { x }"}), {}, False),
    (("GET", {}), {}, False),
    (("GET", {"query": LIST}), {"Accept": "text/event-stream"}, False),
    (("GET", {"query": LIST}), {"Accept": "text/html"}, False),  # GraphiQL's page
]
CASES += _GETS
_VARYING_HEADERS = {"x-request-id", "x-ratelimit-remaining", "content-length", "date"}
_VARYING_BODY = re.compile(rb'"(requestId|remaining|resetAt)":("[^"]*"|\d+)')


def _lean_hits(gw: Guarded) -> int:
    hits: int = gw.app.state.graphql.lean.queries.hits
    return hits


def _operations(gw: Guarded) -> dict[tuple[str, ...], float]:
    metrics = gw.app.state.metrics
    counted: dict[tuple[str, ...], float] = {}
    for family in (metrics.operations, metrics.operation_seconds):
        for metric in family.collect():
            for sample in metric.samples:
                if sample.name.endswith(("_total", "_count")):
                    counted[(sample.name, *sample.labels.values())] = sample.value
    return counted


async def _exchange(
    gw: Guarded, body: Any, headers: Mapping[str, str], caplog: pytest.LogCaptureFixture
) -> dict[str, Any]:
    upstream, operations = gw.upstream_requests(), _operations(gw)
    caplog.clear()
    if isinstance(body, tuple):  # ("GET", its query-string parameters)
        resp = await gw.client.get("/graphql", params=body[1], headers=headers)
    else:
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        resp = await gw.client.post("/graphql", content=content, headers=headers)
    counted = _operations(gw)
    return {
        "status": resp.status_code,
        "headers": [(k, v) for k, v in resp.headers.items() if k not in _VARYING_HEADERS],
        "body": _VARYING_BODY.sub(b"", resp.content),
        "upstream": gw.upstream_requests() - upstream,
        "operations": {k: v - operations.get(k, 0) for k, v in counted.items()},
        "logs": [
            (r.name, r.levelname, re.sub(r"request \w+", "request -", r.getMessage()))
            for r in caplog.records
            if r.name.startswith("revgate")
        ],
    }


async def _both_paths(
    gw: Guarded, body: Any, headers: Mapping[str, str], caplog: pytest.LogCaptureFixture
) -> tuple[dict[str, Any], dict[str, Any], int]:
    """The answer by strawberry's path (the lean entry switched off), then with the lean entry,
    and how many of those the lean entry answered (the plan compiled before)."""
    view = gw.app.state.graphql
    lean, view.lean = view.lean, None
    normal = await _exchange(gw, body, headers, caplog)
    view.lean = lean
    hits = _lean_hits(gw)
    answered = await _exchange(gw, body, headers, caplog)
    return normal, answered, _lean_hits(gw) - hits


@pytest.mark.parametrize(
    ("auth", "server"),
    [({}, {}), (bearer(BOT_KEY), {}), ({}, {"introspection": False})],
    ids=["anonymous", "api-key", "no-introspection"],
)
async def test_lean_entry_answers_as_strawberry(
    auth: dict[str, str], server: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with guarded(data=PatchworkData.generated(20), server=server) as gw:
        for case, headers, expected in CASES:
            body = case
            gw.sim.state.clear_faults()
            if isinstance(case, dict) and "fault" in case:
                body = {k: v for k, v in case.items() if k != "fault"}
                gw.sim.state.fault(case["fault"], "500")
            sent = {**headers, **auth}
            await _exchange(gw, body, sent, caplog)  # compiles the plan
            normal, answered, hits = await _both_paths(gw, body, sent, caplog)
            assert answered == normal, (body, headers)
            assert hits == int(expected), (body, headers)


async def test_lean_answers_carry_cost_and_refusals() -> None:
    """The cost is charged on the lean path too: a spent budget is refused there."""
    limits = {"cost_per_minute": 3, "max_cost": 3}
    async with guarded(data=PatchworkData.generated(20), limits=limits) as gw:
        first = (await gw.post(LIST, headers=bearer(BOT_KEY))).json()
        assert first["extensions"]["cost"]["requestedQueryCost"] == 1
        hits = _lean_hits(gw)
        second = (await gw.post(LIST, headers=bearer(BOT_KEY))).json()
        assert second["extensions"]["cost"]["remaining"] == 1
        upstream = gw.upstream_requests()
        await gw.post(LIST, headers=bearer(BOT_KEY))
        refused = (await gw.post(LIST, headers=bearer(BOT_KEY))).json()
        assert refused["data"] is None
        assert refused["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert gw.upstream_requests() == upstream + 1  # the refused one asked nothing
        assert _lean_hits(gw) - hits == 3


@pytest.mark.parametrize("headers", [JSON, NEW_TYPE], ids=["json", "graphql-response"])
async def test_lean_refusal_answers_as_strawberry(
    headers: Mapping[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """A refused cost charge: 429 with ``Retry-After`` on both paths, headers in order."""
    async with guarded(
        data=PatchworkData.generated(20), limits={"cost_per_minute": 1, "max_cost": 1}
    ) as gw:
        sent = {**headers, **bearer(BOT_KEY)}
        await _exchange(gw, {"query": LIST}, sent, caplog)  # compiles the plan, spends the budget
        normal, answered, hits = await _both_paths(gw, {"query": LIST}, sent, caplog)
        assert hits == 1
        for one in (answered, normal):  # seconds to wait, as of each request
            one["body"] = re.sub(rb'"retryAfter":[\d.]+', b"", one["body"])
        assert answered == normal
        assert answered["status"] == 429
        assert "retry-after" in dict(answered["headers"])


async def test_only_a_lone_node_reads_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lean entry's ``node(id:)`` alone reads its record in its own task, at once; a
    second root field, ``nodes``, a record asked again, or strawberry's path batch as before."""
    alone: list[object] = []
    load_now = Loader.load_now

    async def spy(self: Loader[Any, Any], key: Any) -> Any:
        alone.append(key)
        return await load_now(self, key)

    monkeypatch.setattr(Loader, "load_now", spy)
    async with guarded(data=PatchworkData.generated(20)) as gw:
        view = gw.app.state.graphql
        for query in (NODE, PROJECT, TWO_NODES, NODES, PERSON, MISSING):
            await gw.post(query)  # compiles the plan: strawberry's path
        assert alone == []
        reads: list[int] = []
        for query in (NODE, PROJECT, TWO_NODES, NODES, MISSING):
            before = gw.upstream_requests()
            assert (await gw.post(query)).status_code == 200
            reads.append(gw.upstream_requests() - before)
        assert alone == ["44", "1", "9999"]  # NODE, PROJECT, MISSING
        assert reads == [1, 1, 2, 2, 1]  # NODES reads 44 once
        lean, view.lean = view.lean, None
        await gw.post(NODE)
        view.lean = lean
        assert alone == ["44", "1", "9999"]


async def test_only_a_lone_list_reads_its_check_presence_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[list[Any]] = []
    ask_now = Loader.ask_now

    async def spy(self: Loader[Any, Any], keys: Any) -> Any:
        keys = list(keys)
        asked.append(keys)
        return await ask_now(self, keys)

    monkeypatch.setattr(Loader, "ask_now", spy)
    async with guarded(data=PatchworkData.generated(20)) as gw:
        view = gw.app.state.graphql
        for query in (PRESENCE, PRESENCE_TWO):
            await gw.post(query)  # compiles the plan: strawberry's path
        assert asked == []
        lean_reads = []
        for query in (PRESENCE, PRESENCE_TWO):
            before = gw.upstream_requests()
            assert (await gw.post(query)).status_code == 200
            lean_reads.append(gw.upstream_requests() - before)
        assert len(asked) == 1 and asked[0]  # PRESENCE's pending patches, in one batch
        lean, view.lean = view.lean, None
        normal_reads = []
        for query in (PRESENCE, PRESENCE_TWO):
            before = gw.upstream_requests()
            await gw.post(query)
            normal_reads.append(gw.upstream_requests() - before)
        view.lean = lean
        assert len(asked) == 1
        assert lean_reads == normal_reads


async def test_lean_entry_follows_the_plan_cache() -> None:
    """A plan given up, evicted or cleared (a reload) is not run by the lean entry."""
    async with guarded(data=PatchworkData.generated(20)) as gw:
        fast = gw.app.state.fast_path
        await gw.post(LIST)
        hits = _lean_hits(gw)
        await gw.post(LIST)
        assert _lean_hits(gw) == hits + 1
        fast.clear()
        await gw.post(LIST)  # strawberry's path, which plans it again
        assert _lean_hits(gw) == hits + 1
        await gw.post(LIST)
        assert _lean_hits(gw) == hits + 2
        fast.enabled = False
        assert (await gw.post(LIST)).status_code == 200
        assert _lean_hits(gw) == hits + 2


async def test_lean_entry_masks_as_strawberry(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected failure is masked (with the request id) and logged with its traceback."""
    from adapters.patchwork.source import PatchworkSource

    async with guarded(data=PatchworkData.generated(20)) as gw:
        await _exchange(gw, {"query": NODE}, JSON, caplog)

        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("mapping bug, secret=s3cr3t")

        monkeypatch.setattr(PatchworkSource, "get_patches", broken)
        normal, answered, hits = await _both_paths(gw, {"query": NODE}, JSON, caplog)
        assert hits == 1
        assert answered == normal
        assert b"INTERNAL_SERVER_ERROR" in answered["body"] and b"s3cr3t" not in answered["body"]
        assert [level for _, level, _ in answered["logs"]] == ["ERROR"]


async def test_no_lean_entry_beside_extensions_it_does_not_mirror(tmp_path: Path) -> None:
    """Trusted documents only: strawberry's pipeline checks every request."""
    source, manifest = tmp_path / "ops.graphql", tmp_path / "ops.json"
    source.write_text("query Names { backends { name } }\n")
    assert main(["persist", str(source), "--output", str(manifest)]) == 0
    server = {"trusted_documents": str(manifest), "persisted_only": True}
    async with guarded(server=server) as gw:
        assert gw.app.state.graphql.lean is None
    async with guarded() as gw:
        assert gw.app.state.graphql.lean is not None
