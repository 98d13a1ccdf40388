"""The freedesktop Patchwork compat layer: the gateway in front of the fdo simulator must
answer every documented entry point as the simulator itself does (status, every documented
field, envelope links moved onto the gateway), and pass test-result writes on exactly once."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from adapters.patchwork_fdo.simulator import FdoData, RunningFdoSimulator, start_simulator
from gateway.app import create_app
from gateway.settings import settings_from_dict

pytestmark = pytest.mark.asyncio(loop_scope="module")

CI_TOKEN = "fd" * 20  # the simulator's CI user (a maintainer): the gateway's backend token
WRITER = "e1" * 20  # gateway compat tokens
READER = "e2" * 20
BASE = "http://revgate/rest/fdo"


@dataclass
class FdoGateway:
    client: httpx.AsyncClient
    direct: httpx.AsyncClient
    sim: RunningFdoSimulator

    def writes(self, before: int) -> list[tuple[str, str]]:
        return [r for r in self.sim.state.requests[before:] if r[0] != "GET"]


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw() -> AsyncIterator[FdoGateway]:
    sim = await start_simulator(FdoData.generated(12))
    settings = settings_from_dict(
        {
            "backends": [
                {
                    "name": "fdo",
                    "kind": "patchwork-fdo",
                    "url": sim.url,
                    "retries": 0,
                    "token_env": "FDO_TOKEN",
                }
            ],
            "compat": {
                "tokens": [
                    {"name": "writer", "sha256": _sha(WRITER)},
                    {"name": "reader", "sha256": _sha(READER), "write": False},
                ]
            },
        },
        env={"FDO_TOKEN": CI_TOKEN},
    )
    app = create_app(settings)
    await app.state.backends.open()
    try:
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://revgate") as client,
            httpx.AsyncClient(
                base_url=sim.url, headers={"Authorization": f"Token {CI_TOKEN}"}
            ) as direct,
        ):
            yield FdoGateway(client, direct, sim)
    finally:
        await app.state.backends.close()
        await sim.close()


def _swap(value: Any, sim_url: str) -> Any:
    text = httpx.Response(200, json=value).text.replace(sim_url, BASE)
    return httpx.Response(200, text=text).json()


SAME_AS_BACKEND = [
    "",
    "projects/",
    "projects/?perpage=2",
    "projects/?perpage=2&page=2",
    "projects/1/",
    "projects/intel-gfx/",
    "projects/intel-gfx/series/",
    "projects/intel-gfx/series/?perpage=3&page=2",
    "projects/1/patches/?perpage=5&page=3",
    "projects/intel-gfx/events/",
    "projects/intel-gfx/events/?since=2016-01-01T00:00:00&name=patch-state-change",
    "series/",
    "series/?test_state=success,null&perpage=4",
    "series/?submitter=1",
    "series/?reviewer=null&updated_since=2015-10-09T07:55:00",
    "series/47/",
    "series/1/",
    "series/47/revisions/",
    "series/47/revisions/1/",
    "series/47/revisions/1/test-results/",
    "series/1000/revisions/1/test-results/",
    "patches/",
    "patches/?perpage=100",
    "patches/120/",
    "patches/?submitted_since=2015-01-01T00:00:00&perpage=3&page=2",
    # The fork's own refusals, re-served as sent:
    "series/99999/",
    "patches/99999/",
    "projects/nope/",
    "series/?page=999",
    "series/?page=x",
    "series/?submitted_since=yesterday",
    "series/?test_state=purple",
    "series/47/revisions/9/",
]


@pytest.mark.parametrize("path", SAME_AS_BACKEND)
async def test_fdo_compat_answers_as_the_backend(gw: FdoGateway, path: str) -> None:
    direct = await gw.direct.get(f"/api/1.0/{path}")
    resp = await gw.client.get(f"/rest/fdo/api/1.0/{path}")
    assert resp.status_code == direct.status_code, resp.text[:300]
    assert resp.headers["content-type"] == "application/json"
    assert resp.json() == _swap(direct.json(), gw.sim.url)


async def test_fdo_compat_envelope_links_are_followable(gw: FdoGateway) -> None:
    resp = await gw.client.get("/rest/fdo/api/1.0/patches/?perpage=7")
    seen = [p["id"] for p in resp.json()["results"]]
    while resp.json()["next"]:
        url = resp.json()["next"]
        assert url.startswith(f"{BASE}/api/1.0/patches/")
        resp = await gw.client.get(url)
        assert resp.status_code == 200
        seen += [p["id"] for p in resp.json()["results"]]
    assert sorted(seen) == sorted(gw.sim.state.data.patches)
    back = await gw.client.get(resp.json()["previous"])
    assert back.status_code == 200 and len(back.json()["results"]) == 7


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("patches/120/mbox/", ""),
        ("patches/120/mbox/", "?link=Patchwork"),
        ("series/47/revisions/1/mbox/", ""),
        ("series/47/revisions/1/mbox/", "?link=Link"),
    ],
)
async def test_fdo_compat_mbox(gw: FdoGateway, path: str, query: str) -> None:
    direct = await gw.direct.get(f"/api/1.0/{path}{query}")
    resp = await gw.client.get(f"/rest/fdo/api/1.0/{path}{query}")
    assert resp.status_code == 200
    # ?link= names the patch page: the gateway's, not the backend's; nothing else changes.
    assert resp.content == direct.content.replace(gw.sim.url.encode(), BASE.encode())
    assert gw.sim.url.encode() not in resp.content
    assert resp.headers["content-disposition"] == direct.headers["content-disposition"]
    assert resp.headers["content-disposition"].startswith("attachment; filename=")


async def test_fdo_compat_mbox_link_leads_to_the_patch_page(gw: FdoGateway) -> None:
    mbox = await gw.client.get("/rest/fdo/api/1.0/patches/120/mbox/?link=Patchwork")
    lines = [x for x in mbox.text.splitlines() if x.startswith("Patchwork: ")]
    assert lines == [f"Patchwork: {BASE}/patch/120/"]
    page = await gw.client.get(lines[0].removeprefix("Patchwork: ").removeprefix("http://revgate"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    name = (await gw.direct.get("/api/1.0/patches/120/")).json()["name"]
    assert name.replace("&", "&amp;").replace("<", "&lt;") in page.text
    assert f'href="{BASE}/api/1.0/patches/120/mbox/"' in page.text
    assert gw.sim.url not in page.text
    missing = await gw.client.get("/rest/fdo/patch/999999/")
    assert missing.status_code == 404


async def test_fdo_compat_redirects_and_unknown_paths(gw: FdoGateway) -> None:
    resp = await gw.client.get("/rest/fdo/api/1.0/series/47?x=1")
    assert resp.status_code == 301
    assert resp.headers["location"] == "/rest/fdo/api/1.0/series/47/?x=1"
    for path in ("api/1.0/people/", "api/1.0/series/47/covers/", "api/1.0/patches/x/"):
        resp = await gw.client.get(f"/rest/fdo/{path}")
        assert resp.status_code == 404 and resp.json() == {"detail": "Not found."}
    assert (await gw.client.get("/rest/fdo/api/1.1/")).status_code == 404
    resp = await gw.client.delete("/rest/fdo/api/1.0/series/47/")
    assert resp.status_code == 405


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


async def test_fdo_compat_test_result_post_reaches_backend_once(gw: FdoGateway) -> None:
    url = "/rest/fdo/api/1.0/series/47/revisions/1/test-results/"
    before = len(gw.sim.state.requests)
    body = {"test_name": "compat-ci", "state": "pending", "url": "http://ci/1"}
    resp = await gw.client.post(url, headers=_auth(WRITER), json=body)
    assert resp.status_code == 201, resp.text
    assert resp.json()["test_name"] == "compat-ci" and resp.json()["state"] == "pending"
    assert gw.writes(before) == [("POST", "/api/1.0/series/47/revisions/1/test-results/")]
    # Same test_name again: the fork updates it (200).
    resp = await gw.client.post(url, headers=_auth(WRITER), json={**body, "state": "success"})
    assert resp.status_code == 200 and resp.json()["state"] == "success"
    listed = await gw.client.get(url)
    assert {"compat-ci": "success"}.items() <= {
        r["test_name"]: r["state"] for r in listed.json()
    }.items()


async def test_fdo_compat_test_result_refusals(gw: FdoGateway) -> None:
    url = "/rest/fdo/api/1.0/series/47/revisions/1/test-results/"
    before = len(gw.sim.state.requests)
    body = {"test_name": "x", "state": "success"}
    anon = await gw.client.post(url, json=body)
    assert anon.status_code == 401
    reader = await gw.client.post(url, headers=_auth(READER), json=body)
    assert reader.status_code == 403
    bad = await gw.client.post(url, headers=_auth("99" * 20), json=body)
    assert bad.status_code == 401 and bad.json() == {"detail": "Invalid username/password."}
    assert gw.writes(before) == []
    # The fork's validation answer is re-served (after one write attempt).
    invalid = await gw.client.post(url, headers=_auth(WRITER), json={"state": "broken"})
    assert invalid.status_code == 400
    assert set(invalid.json()) == {"test_name", "state"}
    assert len(gw.writes(before)) == 1


async def test_fdo_compat_basic_auth_with_gateway_token(gw: FdoGateway) -> None:
    basic = base64.b64encode(f"ci:{WRITER}".encode()).decode()
    resp = await gw.client.post(
        "/rest/fdo/api/1.0/series/47/revisions/1/test-results/",
        headers={"Authorization": f"Basic {basic}"},
        json={"test_name": "basic-ci", "state": "warning"},
    )
    assert resp.status_code == 201
    assert CI_TOKEN not in resp.text
