"""Patchwork's web mbox routes, straight from the simulator and through the gateway (issue 22).

``pwclient get``, ``git-pw patch download`` and b4-style downloads fetch Patchwork's *web*
routes (not the API): ``/patch/<id>/mbox/`` (a 302 to the msgid URL), ``/project/<p>/patch/
<msgid>/mbox/``, ``/series/<id>/mbox/``, ``/cover/<id>/mbox/`` (a 302 too) and
``/bundle/<owner>/<name>/mbox/``. The gateway *models* them (``adapters/patchwork/rest.py``
``_web``: one upstream request, the bytes re-served with Patchwork's content type and
``Content-Disposition``); the simulator serves them as Patchwork 3.2.1 does (the recordings
in tests/fixtures/patchwork-3.2.1/mbox, replayed by test_compat_golden.py). Here each route,
redirects followed, must give the same status, headers that matter to a client and bytes
both ways, for an anonymous caller and a token.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from tests.gateway.compat_support import ADMIN, compat_gateway

pytestmark = pytest.mark.asyncio(loop_scope="module")

MSGID = quote("1473632795-9971-2-git-send-email-stephenfinucane@gmail.com", safe="@")
ROUTES = [
    "patch/3/mbox/",
    "patch/3/mbox/?series=*",
    "patch/3/raw/",
    f"project/patchwork/patch/{MSGID}/mbox/",
    f"project/patchwork/patch/{MSGID}/raw/",
    "series/2/mbox/",
    "cover/2/mbox/",
    "bundle/admin/my-bundle/mbox/",
    "series/999/mbox/",  # a refusal: Patchwork's 404 page both ways
]
KEPT = ("content-type", "content-disposition")


async def _follow(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> httpx.Response:
    resp = await client.get(url, headers=headers)
    for _ in range(3):
        if resp.status_code not in (301, 302):
            break
        resp = await client.get(httpx.URL(url).join(resp.headers["location"]), headers=headers)
    return resp


@pytest.mark.parametrize("token", [None, ADMIN])
@pytest.mark.parametrize("route", ROUTES)
async def test_web_mbox_same_bytes_direct_and_through(route: str, token: str | None) -> None:
    async with compat_gateway() as gw:
        direct_headers = {"Authorization": f"Token {token}"} if token else {}
        async with httpx.AsyncClient() as plain:
            direct = await _follow(plain, f"{gw.sim.url}/{route}", direct_headers)
        through = await _follow(gw.client, f"http://revgate/rest/pw/{route}", direct_headers)
    assert through.status_code == direct.status_code, route
    if direct.status_code == 404:
        assert "404: File not found" in through.text
        return
    assert direct.status_code == 200
    for name in KEPT:
        assert through.headers.get(name) == direct.headers.get(name), (route, name)
    assert through.content == direct.content
    assert direct.content.startswith(b"From ") or route.endswith("raw/")
    assert "attachment; filename=" in through.headers["content-disposition"]
