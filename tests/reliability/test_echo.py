"""Issue 15 items 2, 3, 13: a backend that echoes its credential gets nothing out of the gateway.

Every kind (patchwork, patchwork-fdo, gerrit, abf) runs its simulator behind an echo proxy
(``tests/reliability/echoproxy.py``) that hands back the ``Authorization`` header it was sent,
with the URL and query, in its body and in ``WWW-Authenticate``/``Location``/``Set-Cookie``/
``Link``/``X-Echo`` — on answers of 200 (the echo inside the data the gateway maps and
re-serves) and of every error status. The gateway's own credential of each backend, an API
key's own backend tokens (``gateway/callers.py``) and a compat token's (``gateway/compat.py``)
are all sent. GraphQL reads and writes, compat reads and writes, ``/``, ``/readyz`` and
``/metrics`` are driven in every mode, and every status line, header, body and log line is
checked for every form of every secret — forms computed here (``tests.secrets_watch``), not
taken from the production scrubber.

The second half (item 13) checks that client-visible messages say which backend failed and
how, never where it lives (``127.0.0.1:<port>``, upstream API paths).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

import aiohttp
import httpx
import pytest
import uvicorn

from adapters.abf.simulator import start_simulator as start_abf
from adapters.abf.simulator.data import TOKEN as ABF_TOKEN
from adapters.gerrit.simulator import start_simulator as start_gerrit
from adapters.http import Credentials
from adapters.patchwork.simulator import start_simulator as start_patchwork
from adapters.patchwork_fdo.simulator import start_simulator as start_fdo
from adapters.registry import BackendSpec, build_source
from gateway.app import create_app
from gateway.auth import hash_key
from gateway.settings import settings_from_dict
from schema import node
from tests.reliability.echoproxy import MODES, EchoProxy, start_echo_proxy
from tests.reliability.harness import capture_logs, fault_gateway
from tests.secrets_watch import WATCH, encoded_forms

PW_TOKEN = "a0" * 20  # the simulators' own credentials (accepted: writes go through)
FDO_TOKEN = "fd" * 20
G_USER, G_PASSWORD = "jdoe", "jdoe-secret"
# Per-caller backend credentials: an API key's and a compat token's (secrets too).
KEY = "rgk-Echo-Caller-Key-6b1f0c"
KEY_TOKENS = {b: f"key-{b}-Tapir-{i}9c4e7a2" for i, b in enumerate(("pw", "fdo", "g", "abf"))}
COMPAT_KEY = "compat-Echo-Writer-5d2a"
COMPAT_TOKENS = {b: f"cmp-{b}-Lemur-{i}3e8b0d" for i, b in enumerate(("pw", "fdo", "g", "abf"))}
COMPAT_TOKENS["g"] = "echo-bot:" + COMPAT_TOKENS["g"]  # Gerrit's are user:http-password
ENV = {
    "PW_TOKEN": PW_TOKEN,
    "FDO_TOKEN": FDO_TOKEN,
    "G_USER": G_USER,
    "G_PASSWORD": G_PASSWORD,
    "ABF_TOKEN": ABF_TOKEN,
    **{f"KEY_{b.upper()}": t for b, t in KEY_TOKENS.items()},
    **{f"CMP_{b.upper()}": t for b, t in COMPAT_TOKENS.items()},
}
FAST = {"timeout": 2.0, "connect_timeout": 2.0, "retries": 0}


def secret_forms() -> dict[str, str]:
    """Every form of every credential configured here -> a name for reports."""
    forms: dict[str, str] = {}
    users: dict[str, str | None] = {G_PASSWORD: G_USER}
    named = {
        "pw token": PW_TOKEN,
        "fdo token": FDO_TOKEN,
        "gerrit password": G_PASSWORD,
        "abf token": ABF_TOKEN,
        **{f"API key token for {b}": t for b, t in KEY_TOKENS.items()},
        **{f"compat token for {b}": t for b, t in COMPAT_TOKENS.items()},
    }
    for name, secret in named.items():
        for form in encoded_forms(secret, users.get(secret)):
            forms.setdefault(form, name)
    return forms


FORMS = secret_forms()


def leaks(text: str) -> list[str]:
    """The names of the credentials some form of which occurs in ``text``."""
    return sorted({name for form, name in FORMS.items() if form in text})


@dataclass
class Echoed:
    """The gateway over four echoing backends, every exchange recorded as text."""

    client: httpx.AsyncClient
    proxies: dict[str, EchoProxy]
    texts: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # failure messages of JSON answers

    def mode(self, mode: str) -> None:
        for proxy in self.proxies.values():
            proxy.mode = mode

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        resp = await self.client.request(method, path, **kwargs)
        head = "\n".join(f"{k}: {v}" for k, v in resp.headers.multi_items())
        self.texts.append(f"HTTP {resp.status_code} {resp.reason_phrase}\n{head}\n\n{resp.text}")
        self.statuses.append(resp.status_code)
        if path in ("/graphql", "/readyz"):
            self.messages += messages(resp.json())
        return resp

    async def graphql(
        self, query: str, variables: dict[str, Any] | None = None, key: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return await self.call(
            "POST", "/graphql", json={"query": query, "variables": variables}, headers=headers
        )


def _basic(user: str, password: str) -> dict[str, str]:
    value = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {value}"}


@pytest.fixture
async def echoed() -> AsyncIterator[Echoed]:
    sims: dict[str, Any] = {
        "pw": await start_patchwork(),
        "fdo": await start_fdo(),
        "g": await start_gerrit(),
        "abf": await start_abf(),
    }
    proxies: dict[str, EchoProxy] = {}
    try:
        for name, sim in sims.items():
            proxies[name] = await start_echo_proxy(sim.url)
        backends = [
            {"name": "pw", "kind": "patchwork", "token_env": "PW_TOKEN"},
            {"name": "fdo", "kind": "patchwork-fdo", "token_env": "FDO_TOKEN"},
            {"name": "g", "kind": "gerrit", "username_env": "G_USER", "password_env": "G_PASSWORD"},
            {"name": "abf", "kind": "abf", "token_env": "ABF_TOKEN"},
        ]
        config = {
            "limits": {"requests_per_minute": 0, "cost_per_minute": 0},
            "backends": [{**b, "url": proxies[str(b["name"])].url, **FAST} for b in backends],
            "api_keys": [
                {
                    "name": "ci",
                    "sha256": hash_key(KEY),
                    "backend_tokens": {b: f"KEY_{b.upper()}" for b in KEY_TOKENS},
                }
            ],
            "compat": {
                "tokens": [
                    {
                        "name": "writer",
                        "sha256": hashlib.sha256(COMPAT_KEY.encode()).hexdigest(),
                        "write": True,
                        "backend_tokens": {b: f"CMP_{b.upper()}" for b in COMPAT_TOKENS},
                    }
                ]
            },
        }
        app = create_app(settings_from_dict(config, env=ENV))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://revgate", timeout=30.0
            ) as client:
                yield Echoed(client, proxies)
    finally:
        for proxy in proxies.values():
            await proxy.close()
        for sim in sims.values():
            await sim.close()


READS = (
    "{ backends { name kind apiVersion } }",
    "{ changes(first: 5) { nodes { id title } missingBackends } }",
    '{ patches(first: 3, filter: {backend: "pw"}) { nodes { id title author { name } } } }',
    '{ patches(first: 3, filter: {backend: "fdo"}) { nodes { id title } } }',
    "{ projects(first: 5) { nodes { id name } } }",
)
NODES = (
    node.encode("Patch", "pw", "1"),
    node.encode("Series", "fdo", "1"),
    node.encode("GerritChange", "g", "1"),
    node.encode("PullRequest", "abf", "666/11"),
)
UPDATE_PATCH = """mutation($id: ID!) { updatePatch(input: {id: $id, state: "accepted"}) {
    patch { id title } errors { code message backend } } }"""
SET_TOPIC = """mutation($id: ID!) { gerritSetTopic(input: {change: $id, topic: "echo"}) {
    errors { code message backend } } }"""
UPDATE_PR = """mutation($id: ID!) { updatePullRequest(input: {id: $id, title: "echo"}) {
    errors { code message backend } } }"""
WRITES = (
    (UPDATE_PATCH, node.encode("Patch", "pw", "1")),
    (UPDATE_PATCH, node.encode("Patch", "fdo", "1")),
    (SET_TOPIC, node.encode("GerritChange", "g", "1")),
    (UPDATE_PR, node.encode("PullRequest", "abf", "666/11")),
)
COMPAT_READS = (
    "/rest/pw/api/1.3/patches/",
    "/rest/pw/api/1.3/patches/1/",
    "/rest/pw/api/1.3/patches/1/mbox/",
    "/rest/fdo/api/1.0/series/",
    "/rest/fdo/api/1.0/series/1/",
    "/rest/g/changes/?q=status:open",
    "/rest/g/changes/1",
    "/rest/abf/api/v1/projects/666/pull_requests.json",
    "/rest/abf/api/v1/projects/666/pull_requests/11.json",
    # binary/text downloads re-served from the backend's bytes, with some of its headers
    "/rest/pw/series/1/mbox/",
    "/rest/pw/patch/1/mbox/",
    "/rest/pw/patch/1/raw/",
    "/rest/fdo/api/1.0/series/1/revisions/1/mbox/",
    "/rest/g/changes/1/revisions/current/patch",
    "/rest/g/changes/1/revisions/current/files/README/content",
)


async def drive(echoed: Echoed) -> None:
    """Everything a client can reach, anonymous and with credentials."""
    await echoed.call("GET", "/")
    await echoed.call("GET", "/readyz")
    for query in READS:
        await echoed.graphql(query)
        await echoed.graphql(query, key=KEY)
    for node_id in NODES:
        await echoed.graphql("query($id: ID!) { node(id: $id) { id } }", {"id": node_id})
    for mutation, node_id in WRITES:
        await echoed.graphql(mutation, {"id": node_id}, key=KEY)
    for path in COMPAT_READS:
        await echoed.call("GET", path)
        await echoed.call("GET", path, headers={"Accept-Encoding": "gzip"})
    writer = {"Authorization": f"Token {COMPAT_KEY}"}
    as_key = {"Authorization": f"Token {KEY}"}
    for headers in (writer, as_key):
        await echoed.call("PATCH", "/rest/pw/api/1.3/patches/1/", headers=headers, json={})
        await echoed.call("PATCH", "/rest/fdo/api/1.0/patches/1/", headers=headers, json={})
    for password in (COMPAT_KEY, KEY):
        basic = _basic("someone", password)
        await echoed.call("PUT", "/rest/g/a/changes/1/topic", headers=basic, json={"topic": "e"})
        await echoed.call("GET", "/rest/g/a/changes/1", headers=basic)
        await echoed.call(
            "PUT",
            "/rest/abf/api/v1/projects/666/pull_requests/11.json",
            headers=basic,
            json={"pull_request": {"title": "e"}},
        )
    await echoed.call("GET", "/metrics")


async def test_echoing_backends_of_every_kind_get_no_secret_out(echoed: Echoed) -> None:
    with capture_logs() as logs:
        for mode in MODES:
            echoed.mode(mode)
            await drive(echoed)
    # Not vacuous: every kind was sent its credential in its own scheme, and the callers'.
    sent = [a for proxy in echoed.proxies.values() for a in proxy.authorizations]
    abf_basic = base64.b64encode(f"{ABF_TOKEN}:".encode()).decode()
    g_basic = base64.b64encode(f"{G_USER}:{G_PASSWORD}".encode()).decode()
    for expected in (f"Token {PW_TOKEN}", f"Token {FDO_TOKEN}", f"Basic {g_basic}"):
        assert expected in sent, expected
    assert f"Basic {abf_basic}" in sent  # ABF's own header (item 3)
    assert any(KEY_TOKENS["pw"] in a for a in sent)  # an API key's own backend token
    assert any(COMPAT_TOKENS["pw"] in a for a in sent)  # a compat token's
    for proxy in echoed.proxies.values():
        assert sum(proxy.hits.values()) > 10
    invalid = [t for t in echoed.texts if "GRAPHQL_VALIDATION_FAILED" in t]
    assert not invalid, invalid[:1]  # every operation ran (none refused before upstream)
    # … the echoes came back to the gateway and were masked, in bodies and in headers …
    everything = [*echoed.texts, *logs.lines]
    assert any("[auth ***" in t for t in echoed.texts)
    heads = [t.partition("\n\n")[0] for t in echoed.texts]
    assert any("***" in head for head in heads)  # a forwarded header, masked
    # … and no form of any secret left: no status line, header, body or log line.
    assert len(echoed.texts) > 300 and len(logs.lines) > 100
    found = {name for text in everything for name in leaks(text)}
    assert not found, found
    # Item 13 under the echo fault too: the upstream's own words may be shown, its location
    # (echoed URL, host:port) may not.
    assert echoed.messages, "the error modes produced no message"
    ports = [proxy.url.rsplit(":", 1)[1] for proxy in echoed.proxies.values()]
    located = [m for m in echoed.messages if "127.0.0.1" in m or any(p in m for p in ports)]
    assert not located, located
    assert 500 not in echoed.statuses  # an upstream's fault is never a gateway crash


def test_the_watch_forms_cover_every_scheme() -> None:
    """The forms the tests look for are the ones on the wire (computed independently)."""
    abf = "Basic " + base64.b64encode(f"{ABF_TOKEN}:".encode()).decode()
    gerrit = "Basic " + base64.b64encode(f"{G_USER}:{G_PASSWORD}".encode()).decode()
    for header in (f"Token {PW_TOKEN}", abf, gerrit, f"Bearer {FDO_TOKEN}"):
        assert leaks(f"echo: {header}"), header
    assert leaks("Location: /x?t=" + quote_plus(abf))  # URL-encoded, padding and all
    assert leaks(base64.urlsafe_b64encode(f"{G_USER}:{G_PASSWORD}".encode()).decode())


# -- item 13: say which backend failed and how, not where it lives ---------------------------

KINDS = ("patchwork", "patchwork-fdo", "gerrit", "abf")
COMPAT_LIST = {
    "patchwork": "api/1.3/patches/",
    "patchwork-fdo": "api/1.0/patches/",
    "gerrit": "changes/?q=status:open",
    "abf": "api/v1/projects/1/pull_requests.json",
}
FAULTS = ("refused", "hang", "500", "truncated", "non-json", "echo-auth", "429")
WHERE = re.compile(r"127\.0\.0\.1|localhost|:\d{2,5}\b|/api/|/changes/|/a/|\.json|\('")


def messages(body: Any) -> list[str]:
    """Every client-visible message about a failure in a GraphQL or ``/readyz`` answer: the
    ``errors`` (top level and in mutation payloads), ``missingBackends`` and ``error``."""
    found: list[str] = []

    def walk(value: Any, key: str = "", in_errors: bool = False) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k, in_errors or k == "errors")
        elif isinstance(value, list):
            for v in value:
                walk(v, key, in_errors)
        elif isinstance(value, str) and (
            (in_errors and key == "message") or key in ("missingBackends", "error")
        ):
            found.append(value)

    walk(body)
    return found


@pytest.mark.parametrize("kind", KINDS)
async def test_messages_name_the_backend_and_the_failure_not_its_location(kind: str) -> None:
    async with fault_gateway(kind=kind) as gw:
        texts: list[str] = []
        compat_bodies: list[str] = []
        for fault in FAULTS:
            backend = f"f-{fault}"
            for query, variables in (
                ("{ changes(first: 3) { nodes { id } missingBackends } }", None),
                (
                    "query($b: [String!]) { projects(first: 3, backends: $b) { nodes { id } } }",
                    {"b": [backend]},
                ),
            ):
                resp = await gw.graphql(query, variables)
                assert resp.status_code < 500, resp.text
                texts += messages(resp.json())
            mutation, native = {
                "patchwork": (UPDATE_PATCH, ("Patch", "3")),
                "patchwork-fdo": (UPDATE_PATCH, ("Patch", "3")),
                "gerrit": (SET_TOPIC, ("GerritChange", "3")),
                "abf": (UPDATE_PR, ("PullRequest", "1/3")),
            }[kind]
            node_id = node.encode(native[0], backend, native[1])
            resp = await gw.graphql(mutation, {"id": node_id})
            texts += messages(resp.json())
            resp = await gw.graphql("query($id: ID!) { node(id: $id) { id } }", {"id": node_id})
            texts += messages(resp.json())
            # The compat layer's own bodies for an upstream failure (502/504).
            resp = await gw.request("GET", f"/rest/{backend}/{COMPAT_LIST[kind]}")
            assert resp.status_code < 500 or resp.status_code in (502, 503, 504), resp.text
            if resp.status_code in (502, 503, 504):
                # ABF's error shape carries the status ("status":502): not a port
                compat_bodies.append(re.sub(r'"status":\d+', "", resp.text))
        ready = await gw.request("GET", "/readyz")
        texts += messages(ready.json())
    failures = [t for t in texts if backend_named(t)]
    assert failures, "the faults produced no message naming a backend"
    located = [t for t in texts if WHERE.search(t)]
    assert not located, located
    assert compat_bodies, "no compat request failed upstream"
    located = [t for t in compat_bodies if WHERE.search(t)]
    assert not located, located


def backend_named(text: str) -> bool:
    return "f-" in text


def test_the_watch_learns_every_form_from_the_config_alone() -> None:
    """Item 3: the suite-wide watch derives ABF's ``Basic base64(token:)`` (and every other
    form) from the configured credential, not from the production client's secret list."""
    token = "abf-Watch-Token-Gecko-42"
    build_source(
        BackendSpec(
            name="w-abf", kind="abf", url="http://127.0.0.1:1", credentials=Credentials(token)
        )
    )
    basic = base64.b64encode(f"{token}:".encode()).decode()
    for form in (token, basic, basic.rstrip("="), f"Token {token}", quote_plus(token)):
        assert form in WATCH.secrets, form
    settings_from_dict(
        {
            "backends": [
                {
                    "name": "w",
                    "kind": "gerrit",
                    "url": "http://127.0.0.1:1",
                    "username_env": "U",
                    "password_env": "P",
                }
            ]
        },
        env={"U": "watcher", "P": "gerrit-Watch-Pass-Gecko-7"},
    )
    assert base64.b64encode(b"watcher:gerrit-Watch-Pass-Gecko-7").decode() in WATCH.secrets


async def test_websocket_answers_carry_no_echoed_secret() -> None:
    """GraphQL over a real websocket (uvicorn) to an echoing backend: frames are scrubbed."""
    sim = await start_patchwork()
    proxy = await start_echo_proxy(sim.url)
    port = _free_port()
    try:
        settings = settings_from_dict(
            {
                "backends": [
                    {"name": "pw", "kind": "patchwork", "url": proxy.url, "token_env": "PW_TOKEN"}
                    | FAST
                ]
            },
            env=ENV,
        )
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None)
        )
        task = asyncio.create_task(server.serve())
        for _ in range(500):  # uvicorn offers no "listening" event; poll, bounded
            if server.started:
                break
            await asyncio.sleep(0.02)
        assert server.started
        frames: list[str] = []
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.ws_connect(
                    f"ws://127.0.0.1:{port}/graphql", protocols=["graphql-transport-ws"]
                ) as ws,
            ):
                await ws.send_json({"type": "connection_init"})
                frames.append((await asyncio.wait_for(ws.receive(), 10)).data)
                for number, mode in enumerate(("200", "403", "500")):
                    proxy.mode = mode
                    query = '{ patches(first: 2, filter: {backend: "pw"}) { nodes { title } } }'
                    await ws.send_json(
                        {"id": str(number), "type": "subscribe", "payload": {"query": query}}
                    )
                    while True:  # "next" (data or errors), then "complete"
                        frame = (await asyncio.wait_for(ws.receive(), 10)).data
                        frames.append(frame)
                        if '"complete"' in frame or '"error"' in frame:
                            break
        finally:
            server.should_exit = True
            await task
    finally:
        await proxy.close()
        await sim.close()
    assert f"Token {PW_TOKEN}" in proxy.authorizations, frames
    assert any("[auth ***" in f for f in frames[1:]), frames  # the 200's data, masked
    assert any("Invalid credentials: [auth ***" in f for f in frames[1:]), frames
    assert not {name for f in frames for name in leaks(f)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
