"""What only the gateway's own account may see stays hidden from anonymous callers
(issue 15 item 11), as the compat layer hides it: the account's private bundles (listed, by
node id, through a fragment), Patchwork people and user accounts (Patchwork shows them to
authenticated users only), Gerrit drafts and reviewed flags (the account's own). An API key
caller still sees them (it is trusted with the backend credential it maps to).
"""

from __future__ import annotations

from typing import Any

from adapters.patchwork.simulator_data import PatchworkData
from schema import node
from tests.gateway.guarded import BOT_KEY, ENV, guarded
from tests.schema.gerrit.conftest import gerrit_gateway

ADMIN_TOKEN = "a0" * 20
SECRET = node.encode("Bundle", "pw", "2")
BUNDLES = '{ bundles(backend: "pw") { nodes { id name public } } }'
BY_ID = """query($id: ID!) { node(id: $id) { id ... on Bundle { name public } } }"""
NESTED = """query($id: ID!) { a: node(id: $id) { ...B } } fragment B on Bundle { name }"""


def _data() -> PatchworkData:
    data = PatchworkData.from_seed()
    # a private bundle owned by the gateway's account (the admin token's user)
    data.bundles[2] = {**data.bundles[1], "id": 2, "name": "secret", "public": False}
    return data


async def test_private_bundles_are_hidden_from_anonymous_callers() -> None:
    env = {**ENV, "PW_TOKEN": ADMIN_TOKEN}
    async with guarded(data=_data(), env=env) as gw:

        async def names(key: str | None) -> list[str]:
            body = await gw.data(BUNDLES, key=key)
            return [b["name"] for b in body["data"]["bundles"]["nodes"]]

        assert "secret" not in await names(None)
        assert await names(None)  # the public one is still listed
        assert "secret" in await names(BOT_KEY)
        for query in (BY_ID, NESTED):
            anon: dict[str, Any] = await gw.data(query, {"id": SECRET}, key=None)
            assert "secret" not in str(anon["data"]), (query, anon)
            keyed = await gw.data(query, {"id": SECRET}, key=BOT_KEY)
            assert "secret" in str(keyed["data"]), (query, keyed)


async def test_patchwork_people_and_users_are_hidden_from_anonymous_callers() -> None:
    env = {**ENV, "PW_TOKEN": ADMIN_TOKEN}
    query = """query($id: ID!) { node(id: $id) { ... on Person { name email } } }"""
    async with guarded(env=env) as gw:
        for native in ("1", "u1"):
            pid = node.encode("Person", "pw", native)
            before = gw.upstream_requests()
            anon = await gw.data(query, {"id": pid}, key=None)
            assert anon["data"]["node"] is None, anon
            assert gw.upstream_requests() == before  # never read with the gateway's token
            keyed = await gw.data(query, {"id": pid}, key=BOT_KEY)
            assert keyed["data"]["node"] is not None, keyed


async def test_gerrit_drafts_and_reviewed_flags_are_hidden_from_anonymous_callers() -> None:
    query = """query($id: ID!) { node(id: $id) { ... on GerritRevision {
        drafts { message } reviewedFiles } } }"""
    async with gerrit_gateway(keyed=False) as gw:
        rid = node.encode("GerritRevision", "g", "1756/1")
        before = len(gw.sim.state.requests)
        body = await gw.data(query, {"id": rid})
        assert body["node"] == {"drafts": [], "reviewedFiles": []}, body
        sent = [r[1] for r in gw.sim.state.requests[before:]]
        assert not any("/drafts" in p or "/reviewed" in p for p in sent), sent
