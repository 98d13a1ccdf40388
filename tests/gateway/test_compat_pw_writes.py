"""Patchwork compat writes as a Patchwork 3.2.1 server answers them (issue 20, items 5–6).

Bundle writes (API 1.2+: patchwork/api/bundle.py ``BundlePermission``): ``POST bundles/`` →
201 + ``Location``, ``PATCH``/``PUT bundles/<id>/`` → 200, ``DELETE`` → 204 without a body;
below 1.2 → 405 (with the view's ``Allow``, as the server). Each write reaches the backend
once, as the caller's mapped backend user. A created check carries ``Location`` too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.gateway.compat_support import ADMIN, BOT, CompatGateway, compat_gateway, sha

BOT_WRITER = "d0" * 20  # a compat token that may write, mapped to the backend user ``bot``
BUNDLE_LIST = "GET, POST, HEAD, OPTIONS"
BUNDLE_DETAIL = "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
pytestmark = pytest.mark.asyncio(loop_scope="function")


@pytest_asyncio.fixture
async def gw() -> AsyncIterator[CompatGateway]:
    tokens = [
        {"name": "admin", "sha256": sha(ADMIN)},
        {"name": "bot", "sha256": sha(BOT), "write": False},
        {
            "name": "bot-writer",
            "sha256": sha(BOT_WRITER),
            "backend_tokens": {"pw": "BOT_PW_TOKEN"},
        },
    ]
    async with compat_gateway(env={"BOT_PW_TOKEN": BOT}, tokens=tokens) as gateway:
        yield gateway


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Token {token}"} if token else {}


def _writes(gw: CompatGateway, since: int) -> list[tuple[str, str]]:
    return [r for r in gw.upstream()[since:] if r[0] not in ("GET", "HEAD")]


@pytest.mark.parametrize("version", ["1.2", "1.3", None])
async def test_bundle_create_update_delete(gw: CompatGateway, version: str | None) -> None:
    api = f"/rest/pw/api/{version}" if version else "/rest/pw/api"
    upstream_api = f"/api/{version or '1.3'}"
    data = gw.sim.state.data
    before = len(gw.upstream())
    # a form, as git-pw sends it: one ``patches`` per value
    resp = await gw.client.post(
        f"{api}/bundles/",
        content=b"name=fixes&patches=5&patches=3&public=True",
        headers={**_auth(ADMIN), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    bid = body["id"]
    assert resp.headers["Location"] == body["url"] == f"http://revgate{api}/bundles/{bid}/"
    assert resp.headers["Allow"] == BUNDLE_LIST
    assert [p["id"] for p in body["patches"]] == [5, 3]  # the order given
    assert body["owner"]["username"] == "admin" and body["public"] is True
    assert data.bundles[bid]["patches"] == [5, 3]
    assert _writes(gw, before) == [("POST", f"{upstream_api}/bundles/")]

    resp = await gw.client.patch(
        f"{api}/bundles/{bid}/", json={"name": "more-fixes", "public": False}, headers=_auth(ADMIN)
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == "more-fixes" and resp.json()["public"] is False
    assert resp.headers["Allow"] == BUNDLE_DETAIL
    resp = await gw.client.put(
        f"{api}/bundles/{bid}/", json={"name": "fixes", "patches": [7]}, headers=_auth(ADMIN)
    )
    assert resp.status_code == 200 and [p["id"] for p in resp.json()["patches"]] == [7]

    resp = await gw.client.delete(f"{api}/bundles/{bid}/", headers=_auth(ADMIN))
    assert resp.status_code == 204 and resp.content == b""
    assert "Content-Type" not in resp.headers and resp.headers["Allow"] == BUNDLE_DETAIL
    assert bid not in data.bundles
    assert [m for m, _ in _writes(gw, before)] == ["POST", "PATCH", "PUT", "DELETE"]
    resp = await gw.client.get(f"{api}/bundles/{bid}/", headers=_auth(ADMIN))
    assert resp.status_code == 404


@pytest.mark.parametrize("version", ["1.0", "1.1"])
@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "bundles/", BUNDLE_LIST),
        ("PATCH", "bundles/1/", BUNDLE_DETAIL),
        ("PUT", "bundles/1/", BUNDLE_DETAIL),
        ("DELETE", "bundles/1/", BUNDLE_DETAIL),
    ],
)
async def test_bundle_writes_need_api_1_2(
    gw: CompatGateway, version: str, method: str, path: str, allow: str
) -> None:
    before = len(gw.upstream())
    resp = await gw.client.request(
        method, f"/rest/pw/api/{version}/{path}", json={"name": "x"}, headers=_auth(ADMIN)
    )
    assert resp.status_code == 405
    assert resp.json() == {"detail": f'Method "{method}" not allowed.'}
    assert resp.headers["Allow"] == allow  # the server's view advertises it all the same
    assert _writes(gw, before) == []


@pytest.mark.parametrize(
    ("token", "status", "detail"),
    [
        (None, 403, "Authentication credentials were not provided."),
        (BOT, 403, "You do not have permission to perform this action."),
    ],
)
async def test_bundle_writes_refused_before_backend(
    gw: CompatGateway, token: str | None, status: int, detail: str
) -> None:
    before = len(gw.upstream())
    for method, path in (("POST", "bundles/"), ("PATCH", "bundles/1/"), ("DELETE", "bundles/1/")):
        resp = await gw.client.request(
            method, f"/rest/pw/api/1.3/{path}", json={"name": "x"}, headers=_auth(token)
        )
        assert (resp.status_code, resp.json()) == (status, {"detail": detail})
    assert _writes(gw, before) == []
    assert gw.sim.state.data.bundles[1]["name"] == "my-bundle"


async def test_bundle_writes_as_the_callers_backend_user(gw: CompatGateway) -> None:
    # bot's own bundle is bot's; admin's public bundle is not bot's to change (the backend
    # refuses, once, and its answer is re-served)
    resp = await gw.client.post(
        "/rest/pw/api/1.2/bundles/",
        json={"name": "bots", "patches": [3]},
        headers=_auth(BOT_WRITER),
    )
    assert resp.status_code == 201 and resp.json()["owner"]["username"] == "bot"
    before = len(gw.upstream())
    resp = await gw.client.patch(
        "/rest/pw/api/1.2/bundles/1/", json={"name": "mine"}, headers=_auth(BOT_WRITER)
    )
    assert resp.status_code == 403
    assert resp.json() == {"detail": "You do not have permission to perform this action."}
    assert resp.headers["Allow"] == BUNDLE_DETAIL
    assert _writes(gw, before) == [("PATCH", "/api/1.2/bundles/1/")]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"patches": [3]}, {"name": ["This field is required."]}),
        ({"name": "x"}, {"patches": ["This field is required."]}),
        ({"name": "x", "patches": []}, {"patches": ["Bundles cannot be empty"]}),
        (
            {"name": "x", "patches": [3, 23]},
            {"patches": ["Bundle patches must belong to the same project"]},
        ),
        (
            {"name": "x", "patches": [99999]},
            {"patches": ['Invalid pk "99999" - object does not exist.']},
        ),
        (
            {"name": "x", "patches": ["abc"]},
            {"patches": ["Incorrect type. Expected pk value, received str."]},
        ),
        (
            {"name": "x", "patches": "3"},
            {"patches": ['Expected a list of items but got type "str".']},
        ),
    ],
)
async def test_bundle_create_validation_reserved(
    gw: CompatGateway, body: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    before = len(gw.upstream())
    resp = await gw.client.post("/rest/pw/api/1.3/bundles/", json=body, headers=_auth(ADMIN))
    assert resp.status_code == 400 and resp.json() == errors
    assert len(_writes(gw, before)) == 1
    assert list(gw.sim.state.data.bundles) == [1]


async def test_bundle_bad_bodies_are_coded_errors(gw: CompatGateway) -> None:
    cases = [
        (b"{", "application/json", 400, "detail"),
        (b"[1]", "application/json", 400, "non_field_errors"),
        (b"\xff\xfe", "text/x-unknown", 415, "detail"),
    ]
    before = len(gw.upstream())
    for content, ctype, status, key in cases:
        resp = await gw.client.post(
            "/rest/pw/api/1.3/bundles/",
            content=content,
            headers={**_auth(ADMIN), "Content-Type": ctype},
        )
        assert resp.status_code == status and key in resp.json(), resp.text
    assert _writes(gw, before) == []
    assert list(gw.sim.state.data.bundles) == [1]


@pytest.mark.parametrize("version", ["1.0", "1.3", None])
async def test_created_check_has_location(gw: CompatGateway, version: str | None) -> None:
    api = f"/rest/pw/api/{version}" if version else "/rest/pw/api"
    resp = await gw.client.post(
        f"{api}/patches/7/checks/",
        json={"state": "success", "context": "ci"},
        headers=_auth(ADMIN),
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert resp.headers["Location"] == body["url"]
    assert body["url"] == f"http://revgate{api}/patches/7/checks/{body['id']}/"


async def test_writes_not_documented_are_405(gw: CompatGateway) -> None:
    before = len(gw.upstream())
    for method, path in (
        ("POST", "patches/"),
        ("DELETE", "patches/3/"),
        ("POST", "series/"),
        ("DELETE", "patches/3/checks/"),
        ("PUT", "events/"),
    ):
        resp = await gw.client.request(method, f"/rest/pw/api/1.3/{path}", headers=_auth(ADMIN))
        assert resp.status_code == 405, (method, path)
        assert method not in resp.headers["Allow"]
    assert _writes(gw, before) == []


@pytest.mark.parametrize(
    ("path", "body", "field", "stored"),
    [
        ("projects/1/", {"web_url": "https://pw.example/new"}, "web_url", None),
        ("users/1/", {"first_name": "Adam"}, "first_name", None),
        ("patches/3/comments/3/", {"addressed": True}, "addressed", ("patch_comments", 3)),
        ("covers/2/comments/1/", {"addressed": True}, "addressed", ("cover_comments", 1)),
    ],
)
@pytest.mark.parametrize("method", ["PATCH", "PUT"])
async def test_other_documented_writes(
    gw: CompatGateway,
    path: str,
    body: dict[str, Any],
    field: str,
    stored: tuple[str, int] | None,
    method: str,
) -> None:
    """Every write ``Allow`` advertises is served (projects, users, 1.3 comments)."""
    before = len(gw.upstream())
    resp = await gw.client.request(
        method, f"/rest/pw/api/1.3/{path}", json=body, headers=_auth(ADMIN)
    )
    assert resp.status_code == 200, resp.text
    value = next(iter(body.values()))
    assert resp.json()[field] == value
    assert resp.json()["url"] == f"http://revgate/rest/pw/api/1.3/{path}"
    assert resp.headers["Allow"] == "GET, PUT, PATCH, HEAD, OPTIONS"
    assert _writes(gw, before) == [(method, f"/api/1.3/{path}")]
    if stored is not None:
        table, key = stored
        assert getattr(gw.sim.state.data, table)[key][field] == value
    for token, detail in ((None, "Authentication credentials"), (BOT, "You do not have")):
        resp = await gw.client.request(
            method, f"/rest/pw/api/1.3/{path}", json=body, headers=_auth(token)
        )
        assert resp.status_code == 403 and resp.json()["detail"].startswith(detail)
    assert len(_writes(gw, before)) == 1


async def test_other_writes_refused_by_backend_reserved(gw: CompatGateway) -> None:
    # bot (mapped) is no maintainer of project 1 and is not user 1: the backend's 403s
    for path, body in (("projects/1/", {"scm_url": "x"}), ("users/1/", {"last_name": "x"})):
        resp = await gw.client.patch(
            f"/rest/pw/api/1.3/{path}", json=body, headers=_auth(BOT_WRITER)
        )
        assert resp.status_code == 403, resp.text
        assert resp.json() == {"detail": "You do not have permission to perform this action."}
    # a comment is writable from 1.3 only: below, the view does not exist
    resp = await gw.client.patch(
        "/rest/pw/api/1.2/patches/3/comments/3/", json={"addressed": True}, headers=_auth(ADMIN)
    )
    assert resp.status_code == 404
    assert resp.headers["Content-Type"].startswith("text/html")
