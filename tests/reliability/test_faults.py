"""Fault injection: every way an upstream can misbehave becomes a clear, backend-named error.

The gateway serves ``good`` (the simulator) and, for each scenario of
``faultserver.SCENARIOS``, a backend ``f-<scenario>`` on its own fault server (read/connect
timeout 0.3 s, one retry, 1 MiB answer cap; ``f-refused`` is a closed port), so all scenarios
run at once. Each must answer HTTP 200 with either data or a GraphQL error carrying
``extensions.backend`` and ``extensions.code`` — never an HTTP 500, never a traceback, never
the credentials — within a bounded time, and must not disturb the other backends queried in
the same request.

``pytest -s tests/reliability/test_faults.py -k matrix`` prints the fault matrix.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from schema import node
from tests.reliability.faultserver import SCENARIOS, Scenario
from tests.reliability.harness import (
    ADMIN_TOKEN,
    FAULT_MAX_BYTES,
    FaultGateway,
    backend_of,
    fault_gateway,
)

FAULTY_TOKEN = "fault-token-Platypus-9931"
MAX_SECONDS = 3.0  # 2 attempts × 0.9 s deadline + backoff, with a margin for a busy CI
# Upstream requests per scenario: transient faults are retried once (``retries = 1``), bad
# answers are not. On "reset" aiohttp itself re-sends a GET once when a reused keep-alive
# connection dies under it, so each of our two attempts may count twice.
UPSTREAM_HITS: dict[str, tuple[int, ...]] = {
    "ok": (1,),
    "refused": (0,),
    "reset": (2, 3, 4),
    "hang": (2,),
    "drip": (2,),
    "500": (2,),
    "429-once": (2,),
    "429": (2,),
    "truncated": (2,),
    "non-json": (1,),
    "empty": (1,),
    "huge": (1,),
    "huge-chunked": (1,),
    "echo-auth": (1,),
}


@dataclass
class Outcome:
    """What the gateway answered for one scenario."""

    scenario: Scenario
    status: int
    body: dict[str, Any]
    seconds: float
    upstream_hits: int

    @property
    def backend(self) -> str:
        return backend_of(self.scenario.name)

    @property
    def code(self) -> str | None:
        errors = self.body.get("errors") or []
        code: str | None = errors[0].get("extensions", {}).get("code") if errors else None
        return code

    def row(self) -> str:
        expected = self.scenario.code or "data"
        got = self.code or ("data" if self.body.get("data") else "none")
        mark = "ok " if got == expected else "BAD"
        return (
            f"{mark} {self.scenario.name:<13} {self.status:>4} {got:<22} "
            f"{self.upstream_hits:>4} {self.seconds:6.2f}s  {self.scenario.what}"
        )


@pytest.fixture
async def gw() -> AsyncIterator[FaultGateway]:
    async with fault_gateway(
        faulty_auth={"token_env": "FAULTY_TOKEN"}, env={"FAULTY_TOKEN": FAULTY_TOKEN}
    ) as gateway:
        # Settle API version detection (the index never misbehaves) before timing anything.
        await gateway.graphql("{ backends { name apiVersion } }")
        yield gateway


async def run_list(gw: FaultGateway, scenario: Scenario) -> Outcome:
    """List through the scenario's backend; time it and count its upstream requests."""
    before = gw.hits(scenario.name, gw.profile.list_path)
    start = time.monotonic()
    resp = await gw.graphql(gw.profile.list_query, {"backend": backend_of(scenario.name)})
    seconds = time.monotonic() - start
    hits = gw.hits(scenario.name, gw.profile.list_path) - before
    return Outcome(scenario, resp.status_code, resp.json(), seconds, hits)


async def run_matrix(gw: FaultGateway) -> list[Outcome]:
    """Every scenario at the same time."""
    return list(await asyncio.gather(*(run_list(gw, s) for s in SCENARIOS)))


def assert_outcome(outcome: Outcome) -> None:
    """The contract every scenario must meet."""
    body, scenario = outcome.body, outcome.scenario
    text = str(body)
    assert outcome.status == 200, outcome.row()
    assert "Traceback" not in text and "Internal server error" not in text, text
    assert FAULTY_TOKEN not in text and ADMIN_TOKEN not in text, text
    assert outcome.seconds < MAX_SECONDS, outcome.row()
    assert outcome.upstream_hits in UPSTREAM_HITS[scenario.name], outcome.row()
    if scenario.code is None:
        assert "errors" not in body, body
        assert len(body["data"]["patches"]["nodes"]) == 5
        return
    assert body["data"] is None  # `patches` is non-null: the error reaches the root
    (error,) = body["errors"]
    ext = error["extensions"]
    assert ext["code"] == scenario.code, outcome.row()
    assert ext["backend"] == outcome.backend
    assert error["message"].startswith(f"{outcome.backend}: "), error["message"]
    assert error["path"] == ["patches"]


async def test_fault_matrix(gw: FaultGateway) -> None:
    outcomes = await run_matrix(gw)
    print("\nfault matrix: scenario, HTTP status, extensions.code, upstream requests, time")
    for outcome in outcomes:
        print("  " + outcome.row())
    assert [o.scenario.name for o in outcomes] == list(UPSTREAM_HITS)
    for outcome in outcomes:
        assert_outcome(outcome)


async def test_fault_every_backend_failing_in_one_query(gw: FaultGateway) -> None:
    """One query over all backends: the healthy parts answer, each broken part is one error."""
    fields = "\n".join(
        f'  s{i}: node(id: "{node.encode(gw.profile.node_type, backend_of(s.name), gw.profile.node_id)}") {{ id }}'  # noqa: E501
        for i, s in enumerate(SCENARIOS)
    )
    query = f'{{ good: project(backend: "good", linkName: "patchwork") {{ name }}\n{fields} }}'
    start = time.monotonic()
    resp = await gw.graphql(query)
    assert time.monotonic() - start < MAX_SECONDS
    assert resp.status_code == 200
    body = resp.json()
    assert body["data"]["good"] == {"name": "Patchwork"}
    errors = {e["path"][0]: e for e in body.get("errors", [])}
    for i, scenario in enumerate(SCENARIOS):
        alias = f"s{i}"
        if scenario.code is None:
            assert body["data"][alias] is not None and alias not in errors, scenario.name
            continue
        assert body["data"][alias] is None, scenario.name
        ext = errors[alias]["extensions"]
        assert (ext["backend"], ext["code"]) == (backend_of(scenario.name), scenario.code)
    assert "Traceback" not in resp.text and FAULTY_TOKEN not in resp.text


async def test_fault_huge_answer_names_the_cap(gw: FaultGateway) -> None:
    for name in ("huge", "huge-chunked"):
        outcome = await run_list(gw, next(s for s in SCENARIOS if s.name == name))
        message = outcome.body["errors"][0]["message"]
        assert f"larger than {FAULT_MAX_BYTES} bytes" in message


async def test_fault_echoed_credentials_are_scrubbed(gw: FaultGateway) -> None:
    outcome = await run_list(gw, next(s for s in SCENARIOS if s.name == "echo-auth"))
    assert f"Token {FAULTY_TOKEN}" in gw.authorizations()  # it was sent …
    message = outcome.body["errors"][0]["message"]
    assert "Invalid credentials: ***" in message  # … and never shown
    assert FAULTY_TOKEN not in message


async def test_fault_backend_recovers_after_the_fault(gw: FaultGateway) -> None:
    quick = [s for s in SCENARIOS if s.name in ("reset", "500", "truncated", "non-json", "huge")]
    for outcome in await asyncio.gather(*(run_list(gw, s) for s in quick)):
        assert outcome.code == outcome.scenario.code
    for scenario in quick:
        gw.servers[scenario.name].reset("ok")
    for outcome in await asyncio.gather(*(run_list(gw, s) for s in quick)):
        assert outcome.code is None and len(outcome.body["data"]["patches"]["nodes"]) == 5


async def test_fault_federated_changes_partial(gw: FaultGateway) -> None:
    """The merged ``changes`` list over all backends: data from the healthy ones, each broken
    one named in ``missingBackends`` and in exactly one error with its code."""
    start = time.monotonic()
    resp = await gw.graphql("{ changes(first: 10) { nodes { id } missingBackends } }")
    assert time.monotonic() - start < MAX_SECONDS
    assert resp.status_code == 200 and "Traceback" not in resp.text
    body = resp.json()
    broken = {backend_of(s.name): s.code for s in SCENARIOS if s.code is not None}
    assert len(body["data"]["changes"]["nodes"]) == 10
    assert sorted(body["data"]["changes"]["missingBackends"]) == sorted(broken)
    got = {e["extensions"]["backend"]: e["extensions"]["code"] for e in body["errors"]}
    assert got == broken and len(body["errors"]) == len(broken)
    assert FAULTY_TOKEN not in resp.text


# Every kind: the faults are HTTP-level, so each kind's client must turn them into the same
# backend-named errors. Paths differ per kind, so "ok" and "429-once" (which need the kind's
# payloads) are left to the kind's own tests; the merged `changes` list reaches every kind.
KIND_SCENARIOS = [s for s in SCENARIOS if s.code is not None]


@pytest.mark.parametrize("kind", ["patchwork", "patchwork-fdo", "abf", "gerrit"])
async def test_fault_matrix_every_kind(kind: str) -> None:
    async with fault_gateway(
        faulty_auth={"token_env": "FAULTY_TOKEN"}, env={"FAULTY_TOKEN": FAULTY_TOKEN}, kind=kind
    ) as gw:
        start = time.monotonic()
        resp = await gw.graphql("{ changes(first: 5) { nodes { id } missingBackends } }")
        seconds = time.monotonic() - start
    assert resp.status_code == 200 and "Traceback" not in resp.text
    assert FAULTY_TOKEN not in resp.text
    assert seconds < MAX_SECONDS, seconds
    body = resp.json()
    assert len(body["data"]["changes"]["nodes"]) == 5  # the healthy backend still answers
    broken = {backend_of(s.name): s.code for s in KIND_SCENARIOS}
    assert set(body["data"]["changes"]["missingBackends"]) >= set(broken)
    got = {e["extensions"]["backend"]: e["extensions"]["code"] for e in body["errors"]}
    print(f"\n{kind}: " + ", ".join(f"{b[2:]}={got.get(b)}" for b in broken))
    for backend, code in broken.items():
        assert got.get(backend) == code, (kind, backend, got.get(backend))
        message = next(
            e["message"]
            for e in body["errors"]
            if e["path"] == ["changes"] and e["extensions"]["backend"] == backend
        )
        assert message.startswith(f"{backend}: "), message
