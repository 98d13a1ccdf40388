"""The Gerrit compat layer: the gateway in front of the Gerrit simulator answers as the
simulator does (with and without ``/a/``), with Gerrit's byte details (``)]}'`` line,
``application/json; charset=UTF-8``, ``format=JSON`` pretty, gzip, basic auth on ``/a/``), and
pygerrit2 2.0.15 works against it unchanged."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
import requests
from pygerrit2 import Anonymous, GerritRestAPI, GerritReview, HTTPBasicAuth
from starlette.applications import Starlette

from adapters.gerrit.simulator import RunningSimulator, start_simulator
from gateway.app import create_app
from gateway.settings import settings_from_dict
from tests.gateway.compat_support import serve_app
from tests.gateway.gerrit_support import anonymous_json

pytestmark = pytest.mark.asyncio(loop_scope="module")

WRITER = "g1" * 20  # gateway compat tokens (the HTTP password a client sends)
READER = "g2" * 20
MAGIC = b")]}'\n"


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@dataclass
class GerritGateway:
    app: Starlette
    client: httpx.AsyncClient
    direct: httpx.AsyncClient
    sim: RunningSimulator

    def writes(self, before: int) -> list[tuple[str, str]]:
        return [r for r in self.sim.state.requests[before:] if r[0] != "GET"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw() -> AsyncIterator[GerritGateway]:
    sim = await start_simulator()
    settings = settings_from_dict(
        {
            "backends": [
                {
                    "name": "gerrit",
                    "kind": "gerrit",
                    "url": sim.url,
                    "retries": 0,
                    "username_env": "G_USER",
                    "password_env": "G_PASSWORD",
                }
            ],
            "compat": {
                "tokens": [
                    {"name": "writer", "sha256": _sha(WRITER)},
                    {"name": "reader", "sha256": _sha(READER), "write": False},
                ]
            },
        },
        env={"G_USER": "admin", "G_PASSWORD": "secret"},
    )
    app = create_app(settings)
    await app.state.backends.open()
    try:
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://revgate") as client,
            httpx.AsyncClient(base_url=sim.url) as direct,
        ):
            yield GerritGateway(app, client, direct, sim)
    finally:
        await app.state.backends.close()
        await sim.close()


def _decode(resp: httpx.Response) -> Any:
    assert resp.content.startswith(MAGIC), resp.content[:40]
    return json.loads(resp.content[len(MAGIC) :])


SAME_AS_BACKEND = [
    "changes/?q=status:open+project:myProject&n=10",
    "changes/?q=status:open&q=status:merged",
    "changes/?q=status:open&o=LABELS&o=DETAILED_ACCOUNTS",
    "changes/?q=status:open&o=CURRENT_REVISION&o=CURRENT_COMMIT&n=2",
    "changes/3965",
    "changes/3965/detail",
    "changes/3965/detail?o=CURRENT_REVISION&o=ALL_COMMITS",
    "changes/1756/topic",
    "projects/",
    "projects/myProject",
]


@pytest.mark.parametrize("auth", ["a/", ""], ids=["authenticated", "anonymous"])
@pytest.mark.parametrize("path", SAME_AS_BACKEND)
async def test_gerrit_compat_answers_as_the_backend(
    gw: GerritGateway, path: str, auth: str
) -> None:
    direct_headers = _basic("admin", "secret") if auth else {}
    direct = await gw.direct.get(f"/{auth}{path}", headers=direct_headers)
    headers = _basic("me", WRITER) if auth else {}
    resp = await gw.client.get(f"/rest/gerrit/{auth}{path}", headers=headers)
    assert resp.status_code == direct.status_code == 200, resp.text[:300]
    assert resp.headers["content-type"] == "application/json; charset=UTF-8"
    # Anonymous compat reads are served with the gateway's own credential: same answer as
    # the backend gives that user, less that account's own flags (stars, permitted votes …).
    as_admin = await gw.direct.get(f"/a/{path}", headers=_basic("admin", "secret"))
    assert _decode(resp) == (_decode(as_admin) if auth else anonymous_json(_decode(as_admin)))


async def test_gerrit_compat_capabilities(gw: GerritGateway) -> None:
    direct = await gw.direct.get("/a/accounts/self/capabilities", headers=_basic("admin", "secret"))
    resp = await gw.client.get(
        "/rest/gerrit/a/accounts/self/capabilities", headers=_basic("me", WRITER)
    )
    assert _decode(resp) == _decode(direct)
    some = await gw.client.get(
        "/rest/gerrit/a/accounts/self/capabilities?q=createAccount&q=createGroup",
        headers=_basic("me", WRITER),
    )
    assert set(_decode(some)) <= {"createAccount", "createGroup"}


async def test_gerrit_compat_format_json_is_pretty_and_default_compact(gw: GerritGateway) -> None:
    compact = await gw.client.get("/rest/gerrit/changes/3965")
    assert compact.content.startswith(MAGIC + b'{"')
    assert b"\n" not in compact.content[len(MAGIC) :].rstrip(b"\n")
    pretty = await gw.client.get("/rest/gerrit/changes/3965?format=JSON")
    assert pretty.content.startswith(MAGIC + b'{\n  "')
    assert _decode(pretty) == _decode(compact)
    assert compact.headers["content-disposition"] == "attachment"


async def test_gerrit_compat_gzip_on_accept_encoding(gw: GerritGateway) -> None:
    # Read the raw bytes: httpx would undo the gzip transparently.
    async with gw.client.stream(
        "GET", "/rest/gerrit/changes/?q=status:open", headers={"Accept-Encoding": "gzip"}
    ) as resp:
        raw = b"".join([chunk async for chunk in resp.aiter_raw()])
    assert resp.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw).startswith(MAGIC)
    plain = await gw.client.get(
        "/rest/gerrit/changes/3965", headers={"Accept-Encoding": "identity"}
    )
    assert "content-encoding" not in plain.headers


async def test_gerrit_compat_errors_are_gerrits_text(gw: GerritGateway) -> None:
    missing = await gw.client.get("/rest/gerrit/changes/424242/detail")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "text/plain; charset=UTF-8"
    assert missing.text.strip() == "Not found"
    unknown = await gw.client.get("/rest/gerrit/groups/no-such-group")  # passed through
    assert (unknown.status_code, unknown.text.strip()) == (404, "Not found")
    no_auth = await gw.client.get("/rest/gerrit/a/changes/3965")
    assert no_auth.status_code == 401
    assert no_auth.headers["www-authenticate"].startswith("Basic ")
    wrong = await gw.client.get("/rest/gerrit/a/changes/3965", headers=_basic("me", "nope"))
    assert wrong.status_code == 401
    backend_password = await gw.client.get(
        "/rest/gerrit/a/changes/3965", headers=_basic("admin", "secret")
    )
    assert backend_password.status_code == 401  # a backend credential is not a gateway token


async def test_gerrit_compat_writes_once_and_refusals(gw: GerritGateway) -> None:
    before = len(gw.sim.state.requests)
    anon = await gw.client.post("/rest/gerrit/changes/1756/abandon", json={})
    assert anon.status_code == 403
    reader = await gw.client.post(
        "/rest/gerrit/a/changes/1756/abandon", headers=_basic("me", READER), json={}
    )
    assert reader.status_code == 403
    assert gw.writes(before) == []
    merged = await gw.client.post(
        "/rest/gerrit/a/changes/9/abandon", headers=_basic("me", WRITER), json={}
    )
    assert merged.status_code == 409
    assert merged.text.strip() == "change is merged"
    assert gw.writes(before) == [("POST", "/a/changes/9/abandon")]


# -- pygerrit2 2.0.15, unchanged, against the gateway on a real socket ----------------------


async def test_pygerrit2_against_the_gateway(gw: GerritGateway) -> None:
    # The module's app, whose backends the fixture opened: uvicorn runs no lifespan for it.
    async with serve_app(gw.app, lifespan="off") as url:
        rest = GerritRestAPI(url=f"{url}/rest/gerrit", auth=HTTPBasicAuth("me", WRITER))
        opened = await asyncio.to_thread(rest.get, "/changes/?q=status:open+project:myProject&n=10")
        assert [c["_number"] for c in opened] == [4801, 4800, 4799, 3965]
        detail = await asyncio.to_thread(rest.get, "/changes/3965/detail")
        assert detail["project"] == "myProject" and set(detail["labels"]) == {
            "Verified",
            "Code-Review",
        }
        before = len(gw.sim.state.requests)
        review = GerritReview(message="Looks fine via the gateway")
        review.add_labels({"Code-Review": 1})
        applied = await asyncio.to_thread(rest.review, "3965", "current", review)
        assert applied["labels"] == {"Code-Review": 1}
        assert [p for m, p in gw.sim.state.requests[before:] if m == "POST"] == [
            "/a/changes/3965/revisions/current/review"
        ]
        votes = await asyncio.to_thread(rest.get, "/changes/3965/detail")
        admin = [v for v in votes["labels"]["Code-Review"]["all"] if v.get("username") == "admin"]
        assert admin and admin[0]["value"] == 1
        abandoned = await asyncio.to_thread(
            rest.post, "/changes/1756/abandon", json={"message": "not needed"}
        )
        assert abandoned["status"] == "ABANDONED"
        restored = await asyncio.to_thread(rest.post, "/changes/1756/restore", json={})
        assert restored["status"] == "NEW"
        with pytest.raises(requests.HTTPError) as conflict:
            await asyncio.to_thread(rest.post, "/changes/9/abandon", json={})
        assert conflict.value.response is not None
        assert conflict.value.response.status_code == 409
        anonymous = GerritRestAPI(url=f"{url}/rest/gerrit", auth=Anonymous())
        merged = await asyncio.to_thread(anonymous.get, "/changes/?q=status:merged")
        assert [c["_number"] for c in merged] == [9]


async def test_pygerrit2_reads_files_diffs_comments_and_writes_a_draft(gw: GerritGateway) -> None:
    path = "gerrit-gwtui/src/main/java/com/google/gerrit/client/ui/Screen.java"
    encoded = path.replace("/", "%2F")
    async with serve_app(gw.app, lifespan="off") as url:
        rest = GerritRestAPI(url=f"{url}/rest/gerrit", auth=HTTPBasicAuth("me", WRITER))
        files = await asyncio.to_thread(rest.get, "/changes/97/revisions/current/files/")
        assert path in files and "/COMMIT_MSG" in files
        diff = await asyncio.to_thread(
            rest.get, f"/changes/97/revisions/current/files/{encoded}/diff?intraline"
        )
        assert diff["change_type"] == "MODIFIED" and diff["intraline_status"] == "OK"
        comments = await asyncio.to_thread(rest.get, "/changes/3965/revisions/2/comments/")
        assert [c["message"] for c in next(iter(comments.values()))] == [
            "[nit] trailing whitespace",
            "Done",
        ]
        patch = await asyncio.to_thread(rest.get, "/changes/97/revisions/current/patch")
        assert base64.b64decode(patch).startswith(b"From 184ebe53805e102605d11f6b143486d15c23a09c")
        before = len(gw.sim.state.requests)
        draft = await asyncio.to_thread(
            rest.put,
            "/changes/97/revisions/current/drafts",
            json={"path": path, "line": 2, "message": "Drafted through the gateway"},
        )
        assert draft["line"] == 2 and draft["message"] == "Drafted through the gateway"
        assert [r for r in gw.sim.state.requests[before:] if r[0] != "GET"] == [
            ("PUT", "/a/changes/97/revisions/current/drafts")
        ]
        drafts = await asyncio.to_thread(rest.get, "/changes/97/revisions/current/drafts/")
        assert [d["id"] for d in drafts[path]] == [draft["id"]]
        await asyncio.to_thread(rest.delete, f"/changes/97/revisions/current/drafts/{draft['id']}")
        assert await asyncio.to_thread(rest.get, "/changes/97/revisions/current/drafts/") == {}
