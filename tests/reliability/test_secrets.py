"""Secrets: configured credentials reach the upstream and nothing else.

This module configures known credentials of every shape (a token, HTTP Basic user/password, a
token that the upstream rejects, and tokens sent to upstreams that echo the ``Authorization``
header back or fail) and drives a mixed scenario through them: reads, writes, failed writes,
federated lists with failing backends, ``/``, ``/healthz``, ``/readyz``, ``/metrics`` and a
sample of fuzzed requests. It checks every response itself; the suite-wide
``tests/secrets_watch.py`` plugin also checks every response and log line of this module (and
of every other test) against the same credentials, which it learns from each backend client
as it is built.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from adapters.patchwork.simulator import PatchworkData, RunningSimulator, start_simulator
from gateway.app import create_app
from gateway.settings import settings_from_dict
from schema import node
from tests.reliability.faultserver import FaultServer, start_fault_server
from tests.reliability.fuzz import any_request, collect
from tests.reliability.harness import capture_logs
from tests.secrets_watch import WATCH, encoded_forms

TOKEN = "tok-Quokka-7f3a9c1e5b2d"  # accepted by the simulator (admin)
PASSWORD = "pw-Narwhal-0c4e8a6f"  # HTTP Basic password of the simulator's admin
WRONG_TOKEN = "tok-Wombat-bad-51d7e2"  # refused by the simulator (403)
ECHOED_TOKEN = "tok-Axolotl-e9b1c3d5"  # echoed back by a fault server in its 403 detail
ECHOED_PASSWORD = "pw-Pangolin-2a4c6e8"  # the same, over HTTP Basic
FAILING_TOKEN = "tok-Okapi-500-8d6b4f"  # sent to a backend that answers 500
SECRETS = (TOKEN, PASSWORD, WRONG_TOKEN, ECHOED_TOKEN, ECHOED_PASSWORD, FAILING_TOKEN)
ENV = {
    "TOKEN": TOKEN,
    "ADMIN": "admin",
    "PASSWORD": PASSWORD,
    "WRONG": WRONG_TOKEN,
    "ECHOED": ECHOED_TOKEN,
    "ECHOED_PASSWORD": ECHOED_PASSWORD,
    "FAILING": FAILING_TOKEN,
}
UPDATE = """mutation($input: UpdatePatchInput!) { updatePatch(input: $input) {
    patch { id rawState } errors { code message backend } } }"""
FAST = {"timeout": 0.5, "connect_timeout": 0.5, "retries": 0}


def forms(secret: str, user: str = "admin") -> list[str]:
    """``secret`` and the ways it travels (computed by the watch, not by production code)."""
    return encoded_forms(secret, user)


@dataclass
class Scene:
    """The gateway over the simulator and two fault servers, every answer recorded."""

    client: httpx.AsyncClient
    sim: RunningSimulator
    echo: FaultServer
    failing: FaultServer
    texts: list[str]

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        resp = await self.client.request(method, path, **kwargs)
        self.texts.append(
            f"{resp.status_code}\n{resp.headers}\n{resp.text}"  # everything the client sees
        )
        assert resp.status_code < 500, resp.text
        return resp

    async def graphql(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        resp = await self.call("POST", "/graphql", json={"query": query, "variables": variables})
        return resp.json()


@pytest.fixture
async def scene() -> AsyncIterator[Scene]:
    data = PatchworkData.generated(10)
    admin = data.tokens["a0" * 20]
    data.tokens[TOKEN] = admin
    data.passwords["admin"] = PASSWORD
    sim = await start_simulator(data)
    echo = await start_fault_server("patchwork", "echo-auth")
    failing = await start_fault_server("patchwork", "500")
    backends: list[dict[str, Any]] = [
        {"name": "tok", "url": sim.url, "token_env": "TOKEN"},
        {"name": "basic", "url": sim.url, "username_env": "ADMIN", "password_env": "PASSWORD"},
        {"name": "wrong", "url": sim.url, "token_env": "WRONG", **FAST},
        {"name": "echo", "url": echo.url, "token_env": "ECHOED", **FAST},
        {
            "name": "echo-basic",
            "url": echo.url,
            "username_env": "ADMIN",
            "password_env": "ECHOED_PASSWORD",
            **FAST,
        },
        {"name": "failing", "url": failing.url, "token_env": "FAILING", **FAST},
    ]
    settings = settings_from_dict(
        # anonymous_writes: the writes below must reach every credential, echoing ones too
        {"backends": [{"kind": "patchwork", "anonymous_writes": True, **b} for b in backends]},
        env=ENV,
    )
    app = create_app(settings)
    try:
        await app.state.backends.open()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as client:
            yield Scene(client, sim, echo, failing, [])
    finally:
        await app.state.backends.close()
        await echo.close()
        await failing.close()
        await sim.close()


async def drive(scene: Scene) -> None:
    """Reads, writes and failures through every configured credential."""
    await scene.call("GET", "/")
    await scene.call("GET", "/healthz")
    await scene.call("GET", "/readyz")
    await scene.graphql("{ backends { name kind apiVersion } }")
    for backend in ("tok", "basic", "wrong", "echo", "echo-basic", "failing"):
        await scene.graphql(
            "query($b: String!) { patches(first: 3, filter: {backend: $b}) { nodes { id } } }",
            {"b": backend},
        )
        patch = node.encode("Patch", backend, "1")
        body = await scene.graphql(UPDATE, {"input": {"id": patch, "state": "accepted"}})
        errors = body["data"]["updatePatch"]["errors"]
        # The accepted credentials write; every other one fails as a clear payload error.
        assert (errors == []) == (backend in ("tok", "basic")), (backend, errors)
        await scene.graphql(f'{{ node(id: "{patch}") {{ id }} }}')
    await scene.graphql("{ changes(first: 10) { nodes { id } missingBackends } }")
    await scene.graphql("{ projects(first: 5) { nodes { name } } }")
    await scene.graphql("{ nope }")
    for request in collect(any_request(), 40):
        await scene.call(
            request.method,
            request.path,
            params=list(request.params),
            headers=dict(request.headers),
            content=request.body,
        )
    await scene.call("GET", "/metrics")


async def test_secrets_never_leave_through_responses_or_logs(scene: Scene) -> None:
    with capture_logs() as logs:
        await drive(scene)
    # The scenario is not vacuous: every credential was configured, watched and sent.
    for secret in SECRETS:
        assert secret in WATCH.secrets, "the suite-wide watch must know every credential"
    sent = scene.echo.authorizations + scene.failing.authorizations
    assert f"Token {ECHOED_TOKEN}" in sent and f"Token {FAILING_TOKEN}" in sent
    basic = base64.b64encode(f"admin:{ECHOED_PASSWORD}".encode()).decode()
    assert f"Basic {basic}" in sent
    writes = [r for r in scene.sim.state.requests if r[0] == "PATCH"]
    assert writes, "the writes reached the simulator"
    # … and none of them came back, in any form.
    everything = scene.texts + logs.lines
    assert len(scene.texts) > 60 and len(logs.lines) > 20
    for secret in SECRETS:
        for form in forms(secret):
            assert not [t for t in everything if form in t], f"a credential leaked ({secret[:7]}…)"
    assert any("Invalid credentials: ***" in t for t in scene.texts)  # echoed, then scrubbed
