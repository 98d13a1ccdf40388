"""The compat layer goes through the backend's HTTP client, so the response cache applies."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.gateway.compat_support import ADMIN, BOT, CompatGateway, compat_gateway, sha

pytestmark = pytest.mark.asyncio(loop_scope="module")

CI = "c2" * 20  # mapped to the simulator's "bot" user


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw() -> AsyncIterator[CompatGateway]:
    tokens = [
        {"name": "admin", "sha256": sha(ADMIN)},
        {"name": "ci", "sha256": sha(CI), "backend_tokens": {"pw": "PW_CI_TOKEN"}},
    ]
    async with compat_gateway(
        env={"PW_CI_TOKEN": BOT}, backend={"cache_ttl": 60}, tokens=tokens
    ) as gateway:
        yield gateway


def _gets(gw: CompatGateway, before: int, path: str) -> int:
    return sum(1 for m, p in gw.upstream()[before:] if m == "GET" and p == path)


async def test_compat_cache_repeated_reads_hit_the_cache(gw: CompatGateway) -> None:
    before = len(gw.upstream())
    for _ in range(3):
        resp = await gw.client.get("/rest/pw/api/1.3/patches/4/")
        assert resp.status_code == 200
    assert _gets(gw, before, "/api/1.3/patches/4/") == 1


async def test_compat_cache_per_backend_user(gw: CompatGateway) -> None:
    await gw.client.get("/rest/pw/api/1.3/patches/8/")
    before = len(gw.upstream())
    resp = await gw.client.get(
        "/rest/pw/api/1.3/patches/8/", headers={"Authorization": f"Token {CI}"}
    )
    assert resp.status_code == 200
    # Another backend credential: not served from the anonymous caller's entry.
    assert _gets(gw, before, "/api/1.3/patches/8/") == 1


async def test_compat_cache_write_invalidates(gw: CompatGateway) -> None:
    first = await gw.client.get("/rest/pw/api/1.3/patches/9/")
    assert first.json()["state"] != "superseded"
    resp = await gw.client.patch(
        "/rest/pw/api/1.3/patches/9/",
        headers={"Authorization": f"Token {ADMIN}"},
        json={"state": "superseded"},
    )
    assert resp.status_code == 200
    after = await gw.client.get("/rest/pw/api/1.3/patches/9/")
    assert after.json()["state"] == "superseded"
