"""The ``web_url`` pages of the Patchwork compat layer (adapters/patchwork/pages.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.gateway.compat_support import CompatGateway, compat_gateway

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw() -> AsyncIterator[CompatGateway]:
    async with compat_gateway() as gateway:
        yield gateway


async def _web_url(gw: CompatGateway, path: str) -> str:
    resp = await gw.client.get(f"/rest/pw/api/1.3/{path}")
    assert resp.status_code == 200
    url = resp.json()["web_url"]
    assert isinstance(url, str) and url.startswith("http://revgate/rest/pw/project/")
    return url


async def test_pages_patch_page_from_records(gw: CompatGateway) -> None:
    url = await _web_url(gw, "patches/3/")
    resp = await gw.client.get(url)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/html; charset=utf-8"
    page = resp.text
    assert "<title>[v2,1/2] test: Add some lorem ipsum</title>" in page
    assert 'href="http://revgate/rest/pw/project/patchwork/patch/' in page
    assert "/mbox/" in page and "/raw/" in page
    assert gw.sim.url not in page


async def test_pages_cover_and_series_pages(gw: CompatGateway) -> None:
    cover = await gw.client.get(await _web_url(gw, "covers/1/"))
    assert cover.status_code == 200 and "<h1>" in cover.text
    series = await gw.client.get(await _web_url(gw, "series/2/"))
    assert series.status_code == 200
    assert "A sample series" in series.text and "2 of 2" in series.text


async def test_pages_head_has_no_body(gw: CompatGateway) -> None:
    resp = await gw.client.head(await _web_url(gw, "patches/3/"))
    assert resp.status_code == 200 and resp.content == b""


@pytest.mark.parametrize(
    "path",
    [
        "project/patchwork/patch/no-such-msgid@example.com/",
        "project/nosuchproject/patch/1473632795-9971-2-git-send-email-stephenfinucane@gmail.com/",
        "project/patchwork/list/?series=999",
        "project/patchwork/list/?series=x",
        "project/patchwork/list/",
        "project/sandbox/list/?series=2",
    ],
)
async def test_pages_unknown_is_html_404(gw: CompatGateway, path: str) -> None:
    resp = await gw.client.get(f"/rest/pw/{path}")
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("text/html")
