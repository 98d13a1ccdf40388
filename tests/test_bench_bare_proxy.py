"""bench/bare_proxy (the compat bench's floor) forwards the backend's answers faithfully:
a floor that answered errors or empty bodies would look fast and mean nothing."""

from __future__ import annotations

import aiohttp
from aiohttp.test_utils import TestServer

from adapters.patchwork.simulator import start_simulator
from bench.bare_proxy import make_app
from tests.conftest import ADMIN_TOKEN


async def test_floor_proxy_passes_status_body_and_link_through() -> None:
    sim = await start_simulator(None)
    server = TestServer(make_app(sim.url.rstrip("/")), host="127.0.0.1")
    await server.start_server()
    auth = {"Authorization": f"Token {ADMIN_TOKEN}"}
    try:
        seen = []
        async with aiohttp.ClientSession() as http:
            for path in ("/api/1.3/patches/?per_page=2", "/api/1.3/patches/999999/"):
                async with http.get(sim.url.rstrip("/") + path, headers=auth) as direct:
                    expected = (direct.status, await direct.read(), direct.headers.get("Link"))
                async with http.get(str(server.make_url("/rest/pw" + path)), headers=auth) as got:
                    assert (got.status, await got.read(), got.headers.get("Link")) == expected
                    assert got.content_type == direct.content_type
                seen.append(expected)
        (list_status, _, link), (missing_status, _, _) = seen
        assert list_status == 200 and link is not None and 'rel="next"' in link
        assert missing_status == 404  # the unhappy answer is passed on as it is
    finally:
        await server.close()
        await sim.close()
