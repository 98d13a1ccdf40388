"""Patchwork compat details a real 3.2.1 server showed (issue 20, item 9): a bad ``page``
keeps the view's ``Allow``, downloads keep the backend's ``Vary``, 404 pages say what
Patchwork's own page (DEBUG off, templates/404.html) says."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.gateway.compat_support import ADMIN, CompatGateway, compat_gateway

pytestmark = pytest.mark.asyncio(loop_scope="module")
READ = "GET, HEAD, OPTIONS"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw() -> AsyncIterator[CompatGateway]:
    async with compat_gateway() as gateway:
        yield gateway


@pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", "%00", "1e3", " 1x"])
@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("patches/", READ),
        ("projects/", READ),
        ("events/", READ),
        ("patches/3/checks/", "GET, POST, HEAD, OPTIONS"),
        ("patches/3/comments/", READ),
        ("bundles/", "GET, POST, HEAD, OPTIONS"),
    ],
)
async def test_invalid_page_keeps_allow(
    gw: CompatGateway, path: str, allow: str, page: str
) -> None:
    before = len(gw.upstream())
    resp = await gw.client.get(
        f"/rest/pw/api/1.3/{path}",
        params={"page": page},
        headers={"Authorization": f"Token {ADMIN}"},
    )
    assert resp.status_code == 404
    assert resp.json() == {"detail": "Invalid page."}
    assert resp.headers["Allow"] == allow
    assert resp.headers["Vary"] == "Accept, Cookie"
    assert len(gw.upstream()) == before  # refused without asking the backend


async def test_unicode_digit_page_left_to_the_backend(gw: CompatGateway) -> None:
    # Django's Paginator takes int("९") == 9: the backend decides, its refusal keeps Allow
    resp = await gw.client.get("/rest/pw/api/1.3/patches/", params={"page": "९"})
    assert resp.status_code == 404 and resp.json() == {"detail": "Invalid page."}
    assert resp.headers["Allow"] == READ


async def test_bundle_mbox_keeps_vary(gw: CompatGateway) -> None:
    resp = await gw.client.get("/rest/pw/bundle/admin/my-bundle/mbox/")
    assert resp.status_code == 200
    assert resp.headers["Vary"] == "Cookie"
    assert resp.headers["Content-Disposition"] == "attachment; filename=bundle-1-my-bundle.mbox"


@pytest.mark.parametrize(
    "path",
    [
        "/rest/pw/api/1.4/",
        "/rest/pw/api/1.0/patches/3/comments/",
        "/rest/pw/api/1.3/nothing/",
        "/rest/pw/nothing/here/",
        "/rest/pw/api/1.3/patches/3/checks/1/extra/",
        "/rest/pw/project/<script>alert(1)</script>/list/",
    ],
)
async def test_html_404_says_what_patchwork_says(gw: CompatGateway, path: str) -> None:
    resp = await gw.client.get(path)
    assert resp.status_code == 404
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    text = resp.text
    assert "<title>404: File not found - Patchwork</title>" in text
    assert "<h1>404: File not found</h1>" in text
    assert "<script>" not in text  # the path is quoted and escaped, never markup
    shown = text.split("<code>")[1].split("</code>")[0]
    assert shown.startswith("/rest/pw/") and "does not exist." in text
