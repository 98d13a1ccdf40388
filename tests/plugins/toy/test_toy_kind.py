"""A kind is a plugin: the toy kind, defined entirely in this folder, configured as a backend
and queried through ``backends``, ``changes``, ``node`` and its own root field, with the
descriptor list as its only registration (``docs/adding-a-kind.md`` is written from this)."""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import httpx
import pytest

from adapters.kinds import KINDS
from gateway.app import create_app
from gateway.settings import ConfigError, Settings, settings_from_dict
from schema import node
from schema.build import build_schema
from schema.plugin import load_part
from tests.plugins.toy import KIND as TOY
from tests.plugins.toy.source import COUNT

HERE = Path(__file__).resolve().parent
WITH_TOY = (*KINDS, TOY)
CHANGES = """{ changes(first: 20) { nodes { __typename id title state
    backend { name kind } author { username } project { name }
    ... on ToyChange { number } } } }"""


def _settings(greeting: str = "ahoy") -> Settings:
    return settings_from_dict(
        {
            "backends": [
                {"name": "box", "kind": "toy", "url": "http://toys.invalid", "greeting": greeting}
            ]
        },
        env={},
        kinds=WITH_TOY,
    )


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(_settings())
    backends = app.state.backends  # httpx's ASGITransport runs no lifespan: open them here
    await backends.open()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as http:
            yield http
    finally:
        await backends.close()


async def _query(http: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    resp = await http.post("/graphql", json={"query": query, "variables": variables})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


async def test_toy_backend_lists_its_changes_and_loads_them_by_id(
    client: httpx.AsyncClient,
) -> None:
    data = await _query(client, '{ backends { name kind } toyGreeting(backend: "box") }')
    assert data == {"backends": [{"name": "box", "kind": "TOY"}], "toyGreeting": "ahoy"}
    nodes = (await _query(client, CHANGES))["changes"]["nodes"]
    assert [n["number"] for n in nodes] == list(range(COUNT, 0, -1))  # newest first
    assert {n["__typename"] for n in nodes} == {"ToyChange"}
    assert nodes[0]["title"] == f"ahoy #{COUNT}"  # the kind's own config key reached it
    assert nodes[0]["backend"] == {"name": "box", "kind": "TOY"}
    assert nodes[0]["author"] == {"username": "maker"} and nodes[0]["project"] == {"name": "Toys"}
    first = nodes[-1]
    found = await _query(
        client,
        "query($id: ID!) { node(id: $id) { __typename id ... on Change { title state } } }",
        id=first["id"],
    )
    assert found["node"] == {
        "__typename": "ToyChange",
        "id": first["id"],
        "title": "ahoy #1",
        "state": first["state"],
    }
    missing = node.encode("ToyChange", "box", "999")
    assert (await _query(client, "query($id: ID!) { node(id: $id) { id } }", id=missing)) == {
        "node": None
    }


async def test_toy_backend_is_ready_measured_and_has_no_compat_mount(
    client: httpx.AsyncClient,
) -> None:
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["backends"]["box"] == {"status": "up", "kind": "toy", "ms": ANY}
    await _query(client, CHANGES)
    metrics = (await client.get("/metrics")).text
    assert 'backend="box"' in metrics
    rest = await client.get("/rest/box/api/")
    assert rest.status_code == 404 and "Traceback" not in rest.text


async def test_toy_backend_id_of_another_type_is_a_coded_error(client: httpx.AsyncClient) -> None:
    resp = await client.post(
        "/graphql",
        json={
            "query": "query($id: ID!) { node(id: $id) { id } }",
            "variables": {"id": node.encode("GerritChange", "box", "1")},
        },
    )
    body = resp.json()
    assert body["data"] == {"node": None}
    assert body["errors"][0]["extensions"]["code"] == "UNSUPPORTED"


def test_toy_kind_is_registered_only_by_the_descriptor_list() -> None:
    # Without the toy in the list it is unknown everywhere: config, schema.
    with pytest.raises(ConfigError, match="unknown kind 'toy'"):
        settings_from_dict(
            {"backends": [{"name": "box", "kind": "toy", "url": "http://toys.invalid"}]}, env={}
        )
    default = build_schema().as_str()
    assert "ToyChange" not in default and "toyGreeting" not in default
    assert "  TOY\n" not in default
    with_toy = build_schema(kinds=WITH_TOY).as_str()
    assert "type ToyChange implements Change & Node" in with_toy
    assert "toyGreeting(" in with_toy and "  TOY\n" in with_toy
    # Everything the toy kind is made of lives in this folder.
    part = load_part(TOY)
    pieces: list[Any] = [TOY.factory, *part.query, *part.types, *part.nodes.values()]
    pieces += list(part.changes)
    files = {Path(inspect.getfile(p)).resolve() for p in pieces}
    files.add(Path(sys.modules[TOY.schema.split(":")[0]].__file__ or "").resolve())
    assert files and all(f.is_relative_to(HERE) for f in files), files


def test_toy_kind_config_key_is_checked_by_its_kind() -> None:
    with pytest.raises(
        ConfigError, match=re.escape("greeting must be a string of 1..20 characters")
    ):
        _settings(greeting="")
    with pytest.raises(ConfigError, match="greeting only applies to kind 'toy'"):
        settings_from_dict(
            {
                "backends": [
                    {
                        "name": "pw",
                        "kind": "patchwork",
                        "url": "http://pw.invalid",
                        "greeting": "hi",
                    }
                ]
            },
            env={},
            kinds=WITH_TOY,
        )
