"""Persisted queries: APQ's hash-only requests, registration with a checked hash, a store
shared through Redis, and trusted documents (``revgate persist``, ``persisted_only``)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.cli import main
from gateway.settings import ConfigError, settings_from_dict
from tests.browser.conftest import gateway_setup
from tests.gateway.guarded import ALICE_KEY, bearer, guarded
from tests.redis_server import RedisServer
from tests.reliability.harness import ServedGateway

QUERY = "{ backends { name } }"
HASH = hashlib.sha256(QUERY.encode()).hexdigest()


def apq(digest: str = HASH, query: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    if query is not None:
        body["query"] = query
    return body


def code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


async def test_apq_round_trip() -> None:
    async with guarded() as gw:
        miss = await gw.client.post("/graphql", json=apq(), headers=bearer(ALICE_KEY))
        assert miss.status_code == 200 and code(miss.json()) == "PERSISTED_QUERY_NOT_FOUND"
        assert miss.json()["errors"][0]["message"] == "PersistedQueryNotFound"  # Apollo's test
        registered = await gw.client.post(
            "/graphql", json=apq(query=QUERY), headers=bearer(ALICE_KEY)
        )
        assert registered.json()["data"] == {"backends": [{"name": "pw"}]}
        hit = await gw.client.post("/graphql", json=apq(), headers=bearer(ALICE_KEY))
        assert hit.json()["data"] == {"backends": [{"name": "pw"}]}


async def test_apq_hash_is_checked_and_nothing_is_stored_on_mismatch() -> None:
    other = "0" * 64
    async with guarded() as gw:
        wrong = await gw.client.post("/graphql", json=apq(other, QUERY), headers=bearer(ALICE_KEY))
        assert wrong.status_code == 400 and code(wrong.json()) == "PERSISTED_QUERY_HASH_MISMATCH"
        after = await gw.client.post("/graphql", json=apq(other), headers=bearer(ALICE_KEY))
        assert code(after.json()) == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    "extensions",
    [
        {"persistedQuery": "abc"},
        {"persistedQuery": {"version": 2, "sha256Hash": HASH}},
        {"persistedQuery": {"version": 1}},
        {"persistedQuery": {"version": 1, "sha256Hash": "xyz"}},
        {"persistedQuery": {"version": 1, "sha256Hash": HASH[:-1] + "g"}},
        {"persistedQuery": {"version": 1, "sha256Hash": 5}},
        {"documentId": "md5:abc"},
        {"documentId": 7},
    ],
)
async def test_apq_malformed_extensions_are_coded_400s(extensions: dict[str, Any]) -> None:
    async with guarded() as gw:
        resp = await gw.client.post(
            "/graphql", json={"extensions": extensions}, headers=bearer(ALICE_KEY)
        )
        assert resp.status_code == 400, resp.text
        assert code(resp.json()) in ("BAD_REQUEST", "PERSISTED_QUERY_NOT_SUPPORTED")


async def test_apq_off() -> None:
    async with guarded(server={"persisted_queries": False}) as gw:
        resp = await gw.client.post("/graphql", json=apq(), headers=bearer(ALICE_KEY))
        assert code(resp.json()) == "PERSISTED_QUERY_NOT_SUPPORTED"
        # a full query with its (right) hash still runs
        full = await gw.client.post("/graphql", json=apq(query=QUERY), headers=bearer(ALICE_KEY))
        assert full.json()["data"] == {"backends": [{"name": "pw"}]}


async def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.post(f"{url}/graphql", json=body) as resp:
        result: dict[str, Any] = await resp.json()
        return result


async def test_apq_store_is_shared_by_replicas_through_redis(redis_server: RedisServer) -> None:
    digest = hashlib.sha256(b"{ backends { kind } }").hexdigest()
    server: dict[str, Any] = {}
    cache = {"url": redis_server.url}
    with (
        ServedGateway(gateway_setup(server, cache=cache)) as one,
        ServedGateway(gateway_setup(server, cache=cache)) as two,
    ):
        assert code(await _post(two.url, apq(digest))) == "PERSISTED_QUERY_NOT_FOUND"
        await _post(one.url, apq(digest, "{ backends { kind } }"))
        assert (await _post(two.url, apq(digest)))["data"] == {"backends": [{"kind": "PATCHWORK"}]}


async def test_apq_with_redis_down_falls_back_to_the_query_text() -> None:
    cache = {"url": "redis://127.0.0.1:9/0"}  # nothing listens on port 9
    with ServedGateway(gateway_setup({}, cache=cache)) as gw:
        assert code(await _post(gw.url, apq())) == "PERSISTED_QUERY_NOT_FOUND"
        assert (await _post(gw.url, apq(query=QUERY)))["data"] == {"backends": [{"name": "pw"}]}


OPS = """query Names { backends { name ...Kind } }
fragment Kind on Backend { kind }
subscription Events { events { category } }
"""


def _manifest(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    source = tmp_path / "ops.graphql"
    source.write_text(OPS)
    manifest = tmp_path / "ops.json"
    assert main(["persist", str(source), "--output", str(manifest)]) == 0
    from gateway.persisted import Manifest

    documents = Manifest.load(manifest).documents
    return manifest, {body.split()[1]: digest for digest, body in documents.items()}


async def test_trusted_documents_only(tmp_path: Path) -> None:
    manifest, ids = _manifest(tmp_path)
    server = {"trusted_documents": str(manifest), "persisted_only": True}
    async with guarded(server=server) as gw:
        headers = bearer(ALICE_KEY)
        by_hash = await gw.client.post("/graphql", json=apq(ids["Names"]), headers=headers)
        expected = {"backends": [{"name": "pw", "kind": "PATCHWORK"}]}
        assert by_hash.json()["data"] == expected
        by_id = {"extensions": {"documentId": f"sha256:{ids['Names']}"}}
        assert (await gw.client.post("/graphql", json=by_id, headers=headers)).json()[
            "data"
        ] == expected
        before = gw.upstream_requests()
        other = await gw.client.post("/graphql", json={"query": QUERY}, headers=headers)
        assert other.status_code == 400 and code(other.json()) == "PERSISTED_QUERY_REQUIRED"
        register = await gw.client.post("/graphql", json=apq(query=QUERY), headers=headers)
        assert code(register.json()) == "PERSISTED_QUERY_REQUIRED"
        unknown = await gw.client.post("/graphql", json=apq(), headers=headers)
        assert code(unknown.json()) == "PERSISTED_QUERY_REQUIRED"
        assert gw.upstream_requests() == before  # refused before anything ran


async def test_trusted_documents_only_on_websockets_too(tmp_path: Path) -> None:
    manifest, _ = _manifest(tmp_path)
    server = {"trusted_documents": str(manifest), "persisted_only": True}
    with ServedGateway(gateway_setup(server)) as gw:
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(
                gw.url.replace("http", "ws") + "/graphql", protocols=["graphql-transport-ws"]
            ) as ws,
        ):
            await ws.send_json({"type": "connection_init"})
            assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
            payload = {"query": QUERY}
            await ws.send_json({"id": "1", "type": "subscribe", "payload": payload})
            message = await ws.receive_json(timeout=5)
    assert message["type"] in ("next", "error"), message
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert errors[0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"


@pytest.mark.parametrize(
    ("server", "message"),
    [
        ({"persisted_only": True}, "persisted_only = true needs trusted_documents"),
        ({"trusted_documents": "/nonexistent/ops.json"}, "cannot read"),
        ({"persisted_queries": "yes"}, "persisted_queries must be true or false"),
    ],
)
def test_persisted_settings_refuse_bad_values(server: dict[str, Any], message: str) -> None:
    backend = {"name": "pw", "kind": "patchwork", "url": "http://127.0.0.1:9"}
    with pytest.raises(ConfigError) as caught:
        settings_from_dict({"server": server, "backends": [backend]}, env={})
    assert message in str(caught.value)


def test_persisted_manifest_with_a_wrong_id_is_refused(tmp_path: Path) -> None:
    manifest, _ = _manifest(tmp_path)
    manifest.write_text(manifest.read_text().replace('"id": "', '"id": "0', 1)[:-1])
    backend = {"name": "pw", "kind": "patchwork", "url": "http://127.0.0.1:9"}
    server = {"trusted_documents": str(manifest)}
    with pytest.raises(ConfigError) as caught:
        settings_from_dict({"server": server, "backends": [backend]}, env={})
    assert "ops.json" in str(caught.value)


def test_persist_cli_lists_and_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest, ids = _manifest(tmp_path)
    assert main(["persist", "--list", str(manifest)]) == 0
    listed = capsys.readouterr().out
    assert ids["Names"] in listed and ids["Events"] in listed
    anonymous = tmp_path / "anon.graphql"
    anonymous.write_text("{ backends { name } }")
    assert main(["persist", str(anonymous)]) == 1
    assert "needs a name" in capsys.readouterr().err
