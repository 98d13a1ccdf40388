"""Compat auth: a client's gateway token maps to a backend credential by configuration.

``[[compat.tokens]] backend_tokens = { pw = "ENV" }`` makes the gateway call the backend as
that user; a token without a mapping uses the backend's own configured credential. Either
way the client never sees a backend credential.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import cast

import httpx
import pytest
import pytest_asyncio

from adapters.base import Source
from adapters.patchwork.simulator.data import PatchworkData
from gateway.compat import as_caller
from gateway.settings import CompatToken
from tests.gateway.compat_support import ADMIN, BOT, CompatGateway, compat_gateway, sha

pytestmark = pytest.mark.asyncio(loop_scope="module")

CI = "c1" * 20  # a gateway token mapped to the simulator's "bot" user
OWNER = "d1" * 20  # a gateway token with no mapping: the backend's configured (admin) token
DELEGATED = 7  # a patch delegated to "bot", which bot may therefore edit


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw() -> AsyncIterator[CompatGateway]:
    data = PatchworkData.from_seed()
    data.patches[DELEGATED]["delegate"] = 2
    data.bundles[2] = {**data.bundles[1], "id": 2, "name": "secret", "public": False}
    tokens = [
        {"name": "ci", "sha256": sha(CI), "backend_tokens": {"pw": "PW_CI_TOKEN"}},
        {"name": "owner", "sha256": sha(OWNER)},
    ]
    async with compat_gateway(data, env={"PW_CI_TOKEN": BOT}, tokens=tokens) as gateway:
        yield gateway


def _writes(gw: CompatGateway, before: int) -> list[tuple[str, str]]:
    return [r for r in gw.upstream()[before:] if r[0] != "GET"]


def _assert_no_backend_secret(resp: httpx.Response) -> None:
    shown = resp.text + "".join(f"{k}: {v}\n" for k, v in resp.headers.items())
    assert ADMIN not in shown and BOT not in shown


async def _patch(gw: CompatGateway, token: str, pid: int, state: str) -> httpx.Response:
    return await gw.client.patch(
        f"/rest/pw/api/1.3/patches/{pid}/",
        headers={"Authorization": f"Token {token}"},
        json={"state": state},
    )


async def test_auth_mapped_token_acts_as_its_backend_user(gw: CompatGateway) -> None:
    before = len(gw.upstream())
    resp = await _patch(gw, CI, DELEGATED, "changes-requested")
    assert resp.status_code == 200, resp.text
    assert resp.json()["state"] == "changes-requested"
    assert gw.sim.state.data.patches[DELEGATED]["state"] == "changes-requested"
    assert _writes(gw, before) == [("PATCH", f"/api/1.3/patches/{DELEGATED}/")]
    _assert_no_backend_secret(resp)


async def test_auth_mapped_token_gets_its_backend_users_refusals(gw: CompatGateway) -> None:
    # The admin credential could do this; bot cannot, and the backend says so.
    before = len(gw.upstream())
    resp = await _patch(gw, CI, 6, "rejected")
    assert resp.status_code == 403
    assert resp.json() == {"detail": "You do not have permission to perform this action."}
    assert _writes(gw, before) == [("PATCH", "/api/1.3/patches/6/")]
    assert gw.sim.state.data.patches[6]["state"] != "rejected"
    _assert_no_backend_secret(resp)


async def test_auth_check_is_posted_as_the_mapped_user(gw: CompatGateway) -> None:
    resp = await gw.client.post(
        f"/rest/pw/api/1.3/patches/{DELEGATED}/checks/",
        headers={"Authorization": f"Token {CI}"},
        json={"state": "success", "context": "ci-build"},
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["user"]["username"] == "bot"
    _assert_no_backend_secret(resp)


async def test_auth_unmapped_token_uses_the_backend_credential(gw: CompatGateway) -> None:
    resp = await _patch(gw, OWNER, 6, "rejected")
    assert resp.status_code == 200, resp.text
    assert gw.sim.state.data.patches[6]["state"] == "rejected"
    check = await gw.client.post(
        "/rest/pw/api/1.3/patches/6/checks/",
        headers={"Authorization": f"Token {OWNER}"},
        json={"state": "warning", "context": "owner"},
    )
    assert check.json()["user"]["username"] == "admin"


async def test_auth_backend_tokens_are_not_gateway_tokens(gw: CompatGateway) -> None:
    # A backend credential presented to the gateway is just an unknown token.
    resp = await _patch(gw, BOT, DELEGATED, "accepted")
    assert resp.status_code == 403
    assert resp.json() == {"detail": "Invalid token."}
    _assert_no_backend_secret(resp)


async def test_auth_reads_show_no_backend_secret(gw: CompatGateway) -> None:
    for path in ("api/1.3/users/", "api/1.3/patches/3/", "api/1.3/", "api/1.3/nope/"):
        resp = await gw.client.get(f"/rest/pw/{path}", headers={"Authorization": f"Token {CI}"})
        _assert_no_backend_secret(resp)


async def test_auth_anonymous_callers_see_public_bundles_only(gw: CompatGateway) -> None:
    # The backend is read with the gateway's (admin) credential, which sees admin's private
    # bundle; an anonymous caller must not.
    anon = await gw.client.get("/rest/pw/api/1.3/bundles/")
    assert [b["name"] for b in anon.json()] == ["my-bundle"]
    assert (await gw.client.get("/rest/pw/api/1.3/bundles/2/")).status_code == 404
    assert (await gw.client.get("/rest/pw/bundle/admin/secret/mbox/")).status_code == 404
    assert (await gw.client.get("/rest/pw/bundle/admin/my-bundle/mbox/")).status_code == 200
    owner = {"Authorization": f"Token {OWNER}"}
    listed = await gw.client.get("/rest/pw/api/1.3/bundles/", headers=owner)
    assert sorted(b["name"] for b in listed.json()) == ["my-bundle", "secret"]
    assert (await gw.client.get("/rest/pw/bundle/admin/secret/mbox/", headers=owner)).is_success


async def test_auth_kind_without_caller_credentials_refuses_mapping() -> None:
    """A mapped token on a kind that cannot switch user is refused, not silently upgraded."""

    class Plain:
        name = "pw"
        kind = "other"

    source = cast(Source, Plain())
    mapped = CompatToken(name="ci", sha256=sha(CI), backend_tokens=(("pw", BOT),))
    assert as_caller(source, mapped) is None
    assert as_caller(source, CompatToken(name="owner", sha256=sha(OWNER))) is source
    assert as_caller(source, None) is source
