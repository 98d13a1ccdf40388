"""Who may do what (issue 15 items 4 and 8): the access matrix.

anonymous / read-only key / write key × GraphQL query / mutation / compat read / compat write
/ websocket query / websocket mutation, for every backend kind, against a real uvicorn on
loopback over the kind's simulator. A refused write must be refused by the gateway *before*
any upstream request (the simulator's request log is the witness), with a coded error.

Also: every field of the Mutation type (walked from the schema, so a new mutation is covered
without editing this file) is refused for anonymous callers and read-only keys; per-backend
``anonymous_writes``; and the per-operation request rate on a websocket.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
import pytest
import uvicorn
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from graphql.pyutils import Undefined

from adapters.abf.simulator import TOKEN as ABF_TOKEN
from adapters.abf.simulator import start_simulator as start_abf
from adapters.gerrit.simulator import start_simulator as start_gerrit
from adapters.patchwork.simulator import start_simulator as start_pw
from adapters.patchwork_fdo.simulator import FdoData
from adapters.patchwork_fdo.simulator import start_simulator as start_fdo
from gateway.app import create_app
from gateway.auth import hash_key
from gateway.cli import DEMO_ADMIN_TOKEN, DEMO_FDO_CI_TOKEN
from gateway.settings import settings_from_dict
from schema import node
from schema.build import build_schema
from tests.gateway.guarded import guarded

WRITER = "rgk-writer-Osprey-4411-Cinder"
READER = "rgk-reader-Marmot-7302-Basalt"
KEYS = [
    {"name": "writer", "sha256": hash_key(WRITER)},
    {"name": "reader", "sha256": hash_key(READER), "write": False},
]
CALLERS: dict[str, str | None] = {"anonymous": None, "reader": READER, "writer": WRITER}
PROTOCOL = ["graphql-transport-ws"]
READ = "query($b: String!) { projects(first: 1, backends: [$b]) { nodes { name } } }"


@dataclass(frozen=True)
class Kind:
    """How to reach one backend kind: its simulator, config and one read and write each way."""

    name: str
    kind: str
    start: Callable[[], Awaitable[Any]]
    credentials: dict[str, str]  # config key (…_env) → the credential (env var: key upper-cased)
    mutation: str  # a document with one mutation field, selecting { errors { code } }
    variables: dict[str, Any]
    compat_read: str  # path under /rest/<name>/ (anonymous form)
    compat_write: tuple[str, str, dict[str, Any]]  # method, path, JSON body
    compat_auth: Callable[[str], dict[str, str]]  # the key in the kind's own scheme
    keyed_prefix: str = ""  # Gerrit reads its credentials on /a/ paths only

    def field(self) -> str:
        return self.mutation.split("{", 2)[1].split("(")[0].strip()


def _token(key: str) -> dict[str, str]:
    return {"Authorization": f"Token {key}"}


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


KINDS = [
    Kind(
        "patchwork",
        "patchwork",
        lambda: start_pw(),
        {"token_env": DEMO_ADMIN_TOKEN},
        """mutation($i: UpdatePatchInput!) { updatePatch(input: $i) { errors { code } } }""",
        {"i": {"id": node.encode("Patch", "patchwork", "3"), "state": "accepted"}},
        "api/1.3/patches/?per_page=1",
        ("PATCH", "api/1.3/patches/3/", {"state": "accepted"}),
        _token,
    ),
    Kind(
        "fdo",
        "patchwork-fdo",
        lambda: start_fdo(FdoData.generated(12)),
        {"token_env": DEMO_FDO_CI_TOKEN},
        """mutation($i: ReportTestResultInput!) {
            reportTestResult(input: $i) { errors { code } } }""",
        {
            "i": {
                "seriesId": node.encode("Series", "fdo", "47"),
                "version": 1,
                "testName": "matrix",
                "state": "SUCCESS",
            }
        },
        "api/1.0/patches/?perpage=1",
        (
            "POST",
            "api/1.0/series/47/revisions/1/test-results/",
            {"test_name": "matrix", "state": "pending"},
        ),
        _token,
    ),
    Kind(
        "gerrit",
        "gerrit",
        lambda: start_gerrit(),
        {"username_env": "admin", "password_env": "secret"},
        """mutation($i: GerritSetTopicInput!) { gerritSetTopic(input: $i) { errors { code } } }""",
        {"i": {"change": node.encode("GerritChange", "gerrit", "1756"), "topic": "matrix"}},
        "changes/?q=status:open&n=1",
        ("PUT", "a/changes/1756/topic", {"topic": "matrix"}),
        lambda key: _basic("someone", key),
        keyed_prefix="a/",
    ),
    Kind(
        "abf",
        "abf",
        lambda: start_abf(),
        {"token_env": ABF_TOKEN},
        """mutation($i: UpdatePullRequestInput!) {
            updatePullRequest(input: $i) { errors { code } } }""",
        {"i": {"id": node.encode("PullRequest", "abf", "666/11"), "title": "matrix"}},
        "api/v1/projects/666/pull_requests/11.json",
        (
            "PUT",
            "api/v1/projects/666/pull_requests/11.json",
            {"pull_request": {"title": "matrix"}},
        ),
        lambda key: _basic(key, ""),
    ),
]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def _served(app: Any) -> AsyncIterator[str]:
    """``app`` under uvicorn on a loopback port; its base URL."""
    port = _port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # uvicorn offers no event for "listening"; poll, bounded
        if server.started or task.done():
            break
        await asyncio.sleep(0.02)
    assert server.started
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def _writes(sim: Any) -> int:
    """Write requests (not GET/HEAD) the simulator has received."""
    return sum(1 for r in sim.state.requests if r[0] not in ("GET", "HEAD"))


def _codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


async def _socket(
    url: str, key: str | None, document: str, variables: dict[str, Any]
) -> list[dict[str, Any]]:
    """One operation over graphql-transport-ws; the messages until complete/error."""
    payload = {"Authorization": f"Bearer {key}"} if key else {}
    got: list[dict[str, Any]] = []
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"ws://{url}/graphql", protocols=PROTOCOL) as ws,
    ):
        await ws.send_json({"type": "connection_init", "payload": payload})
        ack = await ws.receive_json(timeout=10)
        assert ack["type"] == "connection_ack", ack
        await ws.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": document, "variables": variables}}
        )
        while True:
            message = await ws.receive_json(timeout=10)
            got.append(message)
            if message["type"] in ("complete", "error"):
                return got


def _ws_errors(messages: list[dict[str, Any]]) -> list[str]:
    codes: list[str] = []
    for m in messages:
        payload: Any = m.get("payload")
        if m["type"] == "next":
            codes += _codes(payload)
        elif m["type"] == "error":
            codes += [e.get("extensions", {}).get("code") for e in payload]
    return codes


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
async def test_access_matrix(kind: Kind) -> None:
    sim = await kind.start()
    env = {key.upper(): value for key, value in kind.credentials.items()}
    entry = {"name": kind.name, "kind": kind.kind, "url": sim.url, "retries": 0}
    entry.update({key: key.upper() for key in kind.credentials})
    settings = settings_from_dict({"api_keys": KEYS, "backends": [entry]}, env=env)
    try:
        async with (
            _served(create_app(settings)) as url,
            httpx.AsyncClient(base_url=f"http://{url}", timeout=20) as client,
        ):
            for who, key in CALLERS.items():
                where = (kind.name, who)
                bearer = {"Authorization": f"Bearer {key}"} if key else {}
                # GraphQL query: everyone reads.
                resp = await client.post(
                    "/graphql",
                    json={"query": READ, "variables": {"b": kind.name}},
                    headers=bearer,
                )
                body = resp.json()
                assert resp.status_code == 200 and "errors" not in body, (where, body)
                assert body["data"]["projects"]["nodes"], where
                # GraphQL mutation: only the write key reaches the backend.
                before = len(sim.state.requests)
                resp = await client.post(
                    "/graphql",
                    json={"query": kind.mutation, "variables": kind.variables},
                    headers=bearer,
                )
                body = resp.json()
                assert resp.status_code == 200, (where, resp.text)
                _expect_write(kind, who, _codes(body), sim, before, where)
                # compat read: everyone (anonymous_reads defaults to true).
                prefix = kind.keyed_prefix if key else ""
                auth = kind.compat_auth(key) if key else {}
                resp = await client.get(
                    f"/rest/{kind.name}/{prefix}{kind.compat_read}", headers=auth
                )
                assert resp.status_code == 200, (where, resp.status_code, resp.text[:200])
                # compat write: refused for anonymous and read-only, before upstream.
                method, path, payload = kind.compat_write
                writes = _writes(sim)
                resp = await client.request(
                    method, f"/rest/{kind.name}/{path}", headers=auth, json=payload
                )
                if who == "writer":
                    assert _writes(sim) == writes + 1, (where, resp.status_code, resp.text)
                else:
                    assert resp.status_code in (401, 403), (where, resp.status_code)
                    assert _writes(sim) == writes, where
                # websocket: the same query and mutation, key in connection_init.
                messages = await _socket(url, key, READ, {"b": kind.name})
                assert _ws_errors(messages) == [], (where, messages)
                before = len(sim.state.requests)
                messages = await _socket(url, key, kind.mutation, kind.variables)
                _expect_write(kind, who, _ws_errors(messages), sim, before, where)
    finally:
        await sim.close()


def _expect_write(
    kind: Kind, who: str, codes: list[str], sim: Any, before: int, where: object
) -> None:
    """A mutation's outcome: refused with the caller's code and no upstream request, or (the
    write key) sent upstream."""
    if who == "writer":
        assert "UNAUTHENTICATED" not in codes and "FORBIDDEN" not in codes, (where, codes)
        sent = sim.state.requests[before:]
        assert any(r[0] not in ("GET", "HEAD") for r in sent), (where, sent)
    else:
        assert codes == ["UNAUTHENTICATED" if who == "anonymous" else "FORBIDDEN"], (where, codes)
        assert len(sim.state.requests) == before, (where, sim.state.requests[before:])


# -- every mutation field, walked from the schema ----------------------------------------------


def _value(typ: GraphQLInputType) -> Any:
    """A well-typed value for ``typ`` (required input fields only)."""
    if isinstance(typ, GraphQLNonNull):
        return _value(typ.of_type)
    if isinstance(typ, GraphQLList):
        return [_value(typ.of_type)]
    if isinstance(typ, GraphQLEnumType):
        return next(iter(typ.values))
    if isinstance(typ, GraphQLInputObjectType):
        return {
            name: _value(f.type)
            for name, f in typ.fields.items()
            if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined
        }
    assert isinstance(typ, GraphQLScalarType)
    return {
        "Int": 1,
        "Float": 1.0,
        "Boolean": True,
        "ID": node.encode("Patch", "pw", "3"),
    }.get(typ.name, "x")


def _mutations() -> list[tuple[str, str, dict[str, Any]]]:
    """``(field, document, variables)`` for every field of the Mutation type."""
    mutation = build_schema()._schema.mutation_type
    assert mutation is not None
    found = []
    for name, field in mutation.fields.items():
        params = ", ".join(f"${a}: {arg.type}" for a, arg in field.args.items())
        args = ", ".join(f"{a}: ${a}" for a in field.args)
        variables = {a: _value(arg.type) for a, arg in field.args.items()}
        head = f"mutation({params})" if params else "mutation"
        call = f"{name}({args})" if args else name
        found.append((name, f"{head} {{ {call} {{ __typename }} }}", variables))
    return found


MUTATIONS = _mutations()


def test_every_mutation_field_is_walked() -> None:
    names = {name for name, _, _ in MUTATIONS}
    # A sample per kind, so the walk cannot silently come back empty.
    assert {"updatePatch", "reportTestResult", "gerritSetTopic", "updatePullRequest"} <= names
    assert len(names) >= 20


@pytest.mark.parametrize(
    ("who", "code"), [("anonymous", "UNAUTHENTICATED"), ("reader", "FORBIDDEN")]
)
async def test_every_mutation_is_refused_before_upstream(who: str, code: str) -> None:
    keys: list[dict[str, Any]] = [
        {"name": "alice", "sha256": hash_key(WRITER)},
        {"name": "reader", "sha256": hash_key(READER), "write": False},
    ]
    async with guarded(api_keys=keys) as gw:
        headers = {"Authorization": f"Bearer {READER}"} if who == "reader" else None
        for name, document, variables in MUTATIONS:
            before = gw.upstream_requests()
            resp = await gw.post(document, variables, headers)
            body = resp.json()
            assert resp.status_code == 200, (name, resp.text)
            assert _codes(body) == [code], (name, body)
            assert body.get("data") is None, (name, body)
            assert gw.upstream_requests() == before, name


async def test_anonymous_writes_only_where_the_backend_allows_them() -> None:
    other = await start_pw()
    try:
        extra = {
            "name": "strict",
            "kind": "patchwork",
            "url": other.url,
            "token_env": "PW_TOKEN",
            "retries": 0,
        }
        settings = settings_from_dict(
            {
                "backends": [
                    {**extra, "name": "open", "anonymous_writes": True},
                    extra,
                ]
            },
            env={"PW_TOKEN": DEMO_ADMIN_TOKEN},
        )
        app = create_app(settings)
        update = """mutation($i: UpdatePatchInput!) { updatePatch(input: $i) {
            patch { rawState } errors { code backend } } }"""
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as c:
                for backend, state in (("strict", "rejected"), ("open", "accepted")):
                    writes = _writes(other)
                    resp = await c.post(
                        "/graphql",
                        json={
                            "query": update,
                            "variables": {
                                "i": {"id": node.encode("Patch", backend, "3"), "state": state}
                            },
                        },
                    )
                    payload = resp.json()["data"]["updatePatch"]
                    if backend == "strict":
                        assert [e["code"] for e in payload["errors"]] == ["UNAUTHENTICATED"]
                        assert _writes(other) == writes
                    else:
                        assert payload == {"patch": {"rawState": "accepted"}, "errors": []}
                        assert _writes(other) == writes + 1
    finally:
        await other.close()


# -- the request rate applies to each websocket operation (item 8) ----------------------------


async def test_each_websocket_operation_takes_a_request_token() -> None:
    sim = await start_pw()
    settings = settings_from_dict(
        {
            "limits": {"requests_per_minute": 5},
            "api_keys": KEYS,
            "backends": [
                {"name": "pw", "kind": "patchwork", "url": sim.url, "token_env": "PW_TOKEN"}
            ],
        },
        env={"PW_TOKEN": DEMO_ADMIN_TOKEN},
    )
    try:
        async with (
            _served(create_app(settings)) as url,
            aiohttp.ClientSession() as session,
            session.ws_connect(
                f"ws://{url}/graphql",
                protocols=PROTOCOL,
                headers={"Authorization": f"Bearer {WRITER}"},
            ) as ws,
        ):
            await ws.send_json({"type": "connection_init", "payload": {}})
            assert (await ws.receive_json(timeout=10))["type"] == "connection_ack"
            outcomes: list[list[str]] = []
            for n in range(40):
                await ws.send_json(
                    {"id": str(n), "type": "subscribe", "payload": {"query": "{ __typename }"}}
                )
                codes: list[str] = []
                while True:
                    message = await ws.receive_json(timeout=10)
                    if message["type"] == "next":
                        codes += _codes(message["payload"])
                    if message["type"] in ("complete", "error"):
                        break
                outcomes.append(codes)
            # The upgrade took one token of five: four operations run, the rest are refused.
            assert outcomes[:4] == [[]] * 4
            assert outcomes[4:] == [["RATE_LIMITED"]] * 36
            assert not ws.closed  # the socket stays usable once the bucket refills
    finally:
        await sim.close()
