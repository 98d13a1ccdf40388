"""Adversarial query documents (issue 15, item 1): every shape of about 10 KB is answered —
data or a coded refusal — within a bounded CPU time, by a linear gate that runs before any
validation rule, and never blocks the event loop (a ``/healthz`` probe sent at the same time
through a real socket is answered).

Time bounds are generous (the machine is shared); each test also asserts a deterministic
proxy: the gate refused the document before validation ran, or a walk visited a number of
nodes linear in the document.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import pytest
from graphql import get_introspection_query, parse
from strawberry.schema.schema import validate_document

import schema.documents as documents
import schema.execution.validation as validation
import schema.limits as limits
from adapters.patchwork.simulator import RunningSimulator, start_simulator
from schema.build import build_schema
from schema.documents import DocumentLimits, check
from schema.limits import query_cost
from tests.gateway.guarded import BOT_KEY, bearer, guarded
from tests.gateway.test_guard_socket import PROTOCOL, _init, _receive, _run, _serve
from tests.reliability.documents import SHAPES, SIZE, fan_out
from tests.reliability.harness import ServedGateway, capture_logs, simulator_setup

CPU_BOUND = 1.0  # s per document; the acceptance figure is 50 ms (docs/security.md)
GATE_CODES = {"QUERY_TOO_COMPLEX", "QUERY_TOO_DEEP", "TOO_MANY_ALIASES", "TOO_MANY_TOKENS"}
# The default token limit stops most 10 KB shapes at the parser; with 10,000 tokens the
# other budgets must hold them.
CONFIGS = {"default": {}, "10k tokens": {"max_tokens": 10_000}}
UNLIMITED = {"requests_per_minute": 0, "cost_per_minute": 0}


@pytest.fixture(params=list(CONFIGS), scope="module")
def config(request: pytest.FixtureRequest) -> dict[str, Any]:
    return {**UNLIMITED, **CONFIGS[request.param]}


def _validations(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Counts graphql-core validation runs (the rules the gate protects)."""
    calls: list[object] = []

    def counting(*args: Any) -> Any:
        calls.append(args)
        return validate_document(*args)

    monkeypatch.setattr(validation, "validate_document", counting)
    return calls


@pytest.mark.parametrize("shape", list(SHAPES))
async def test_shape_is_answered_in_bounded_cpu(
    shape: str, config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    query = SHAPES[shape]()
    assert len(query.encode()) <= SIZE
    validated = _validations(monkeypatch)
    async with guarded(limits=config) as gw:
        with capture_logs() as logs:
            start = time.process_time()
            resp = await gw.post(query, headers=bearer(BOT_KEY))
            cpu = time.process_time() - start
    assert resp.status_code == 200, resp.text
    body = resp.json()
    errors = body.get("errors") or []
    codes = [e.get("extensions", {}).get("code") for e in errors]
    assert all(codes) and "INTERNAL_SERVER_ERROR" not in codes, body
    assert errors or body.get("data") is not None
    # (aiohttp.server is the simulator behind the gateway, in this process: a 10 KB search
    # string is too long a request line for it, which the gateway reports as a coded error.)
    ours = [line for line in logs.lines if not line.startswith("ERROR aiohttp.server")]
    assert not [line for line in ours if "Traceback" in line or line.startswith("ERROR")]
    if codes and codes[0] in GATE_CODES:
        assert validated == [], "refused by the gate, before any validation rule"
    print(f"{shape}: {cpu * 1000:.1f} ms CPU, {codes[:1] or 'data'}")  # the figures (-s)
    assert cpu < CPU_BOUND, f"{shape}: {cpu:.3f} s of CPU"


@pytest.mark.parametrize(("copies", "levels"), [(2, 40), (3, 30), (2, 200)])
def test_gate_walk_is_linear_in_the_document(
    copies: int, levels: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    visits: list[int] = []
    real = documents._Measure.selections

    def counting(self: documents._Measure, *args: Any, **kwargs: Any) -> Any:
        visits.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(documents._Measure, "selections", counting)
    refusal = check(fan_out(copies, levels), DocumentLimits(max_tokens=0))
    assert isinstance(refusal, documents.Refusal) and refusal.code == "QUERY_TOO_COMPLEX"
    assert len(visits) <= levels + 2  # each fragment measured once, not copies**levels times


def test_cost_walk_is_linear_in_the_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cost walker memoises fragments too (it also runs on documents the gate let
    through, and ``query_cost`` is public): 2^40 expansions would never end."""
    calls: list[int] = []
    real = limits._CostWalker.field

    def counting(self: limits._CostWalker, *args: Any) -> int:
        calls.append(1)
        assert len(calls) < 10_000, "the cost walk expands fragments"
        return real(self, *args)

    monkeypatch.setattr(limits._CostWalker, "field", counting)
    doc = fan_out(2, 40).replace("__typename", "backends { name }")
    schema = build_schema()._schema
    assert query_cost(schema, parse(doc)) == 2**40  # one read per expanded `backends`
    assert len(calls) <= 2


@pytest.mark.parametrize("shape", ["fan-out x2", "same-named fields", "wide fan-out 40x40"])
def test_health_probe_answered_while_a_bad_document_is_handled(shape: str) -> None:
    """Over a real socket: the bad document and /healthz probes at the same time; every
    probe is answered promptly and the document is refused (not left hanging)."""
    query = SHAPES[shape]()
    if shape == "fan-out x2":
        query = fan_out(2, 40)  # the 1 KB reproduction: 2^40 once expanded
    setup = simulator_setup(None)

    async def scenario(url: str) -> tuple[float, dict[str, Any]]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            bad = asyncio.create_task(http.post("/graphql", json={"query": query}))
            slowest = 0.0
            for _ in range(5):
                start = time.monotonic()
                probe = await http.get("/healthz", timeout=5)
                slowest = max(slowest, time.monotonic() - start)
                assert probe.status_code == 200
                await asyncio.sleep(0.01)
            answer = await asyncio.wait_for(bad, 10)
            return slowest, answer.json()

    with ServedGateway(setup) as served:
        slowest, body = asyncio.run(scenario(served.url))
    assert body["errors"][0]["extensions"]["code"] in GATE_CODES, body
    assert slowest < 2.0, f"/healthz waited {slowest:.2f} s"


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    running = await start_simulator()
    yield running
    await running.close()


async def test_websocket_operations_pass_the_same_gate(sim: RunningSimulator) -> None:
    async with (
        _serve(sim, limits={"max_tokens": 10_000}) as (url, _),
        aiohttp.ClientSession() as http,
        http.ws_connect(url, protocols=PROTOCOL, headers=bearer(BOT_KEY)) as ws,
    ):
        assert await _init(ws, None) == "connection_ack"
        for op, shape in enumerate(["fan-out x2", "same-named fields", "deep fields"]):
            start = time.process_time()
            answer = await _run(ws, SHAPES[shape](), str(op))
            assert time.process_time() - start < CPU_BOUND
            errors = answer["payload"] if answer["type"] == "error" else answer["payload"]["errors"]
            assert errors[0]["extensions"]["code"] in GATE_CODES, answer
            if answer["type"] == "next":
                await _run_complete(ws)
        sub = await _run(ws, "subscription{...F0}" + fan_out(2, 40)[len("query{...F0}") :], "s")
        assert sub["type"] == "error" and sub["payload"][0]["extensions"]["code"] in GATE_CODES


async def _run_complete(ws: aiohttp.ClientWebSocketResponse) -> None:
    assert (await _receive(ws))["type"] == "complete"


@pytest.mark.parametrize(
    "query",
    [
        get_introspection_query(descriptions=True),  # what GraphiQL sends
        """query Review($n: Int) { changes(first: $n) { nodes { ...Change } } }
        fragment Change on Change { id title state ...Who ... on Patch { series { name } } }
        fragment Who on Change { author { name email } }""",
    ],
)
def test_real_queries_pass_the_gate(query: str) -> None:
    assert not isinstance(check(query, DocumentLimits()), documents.Refusal)
