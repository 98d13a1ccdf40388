"""Byte details of the Patchwork compat layer as a client sees them on the wire.

The gateway runs under uvicorn on 127.0.0.1 and is read with a raw socket, so header names
are seen as sent (Starlette would lower-case them; the compat layer writes them raw).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import pytest_asyncio

from tests.gateway.compat_support import LiveGateway, live_gateway

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Raw:
    """One HTTP/1.1 response exactly as received."""

    status: int
    headers: list[tuple[str, str]]  # names as spelled on the wire
    body: bytes

    def named(self, name: str) -> list[str]:
        """Values of the header spelled exactly ``name`` (case-sensitive)."""
        return [v for k, v in self.headers if k == name]

    def any_case(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


async def fetch(gw: LiveGateway, path: str, headers: dict[str, str] | None = None) -> Raw:
    """GET ``path`` over a fresh connection and read the whole answer."""
    netloc = urlsplit(gw.url).netloc
    host, port = netloc.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    lines = [f"GET {path} HTTP/1.1", f"Host: {netloc}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    await writer.wait_closed()
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = [tuple(h.split(": ", 1)) for h in header_lines]
    return Raw(int(status_line.split()[1]), [(k, v) for k, v in parsed], body)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw() -> AsyncIterator[LiveGateway]:
    async with live_gateway() as gateway:
        yield gateway


async def test_wire_link_header_spelled_and_ordered(gw: LiveGateway) -> None:
    resp = await fetch(gw, "/rest/pw/api/1.2/patches/?per_page=5&page=3")
    assert resp.status == 200
    assert len(resp.any_case("link")) == 1, resp.headers  # no second, lower-cased copy
    (link,) = resp.named("Link")
    base = f"{gw.url}/rest/pw/api/1.2/patches/"
    assert link == (
        f'<{base}?page=4&per_page=5>; rel="next", '
        f'<{base}?page=2&per_page=5>; rel="prev", '
        f'<{base}?page=1&per_page=5>; rel="first", '
        f'<{base}?page=9&per_page=5>; rel="last"'
    )
    assert resp.named("Content-Type") == ["application/json"]
    assert resp.named("Allow") == ["GET, HEAD, OPTIONS"]


async def test_wire_link_header_first_and_last_pages(gw: LiveGateway) -> None:
    first = await fetch(gw, "/rest/pw/api/1.2/patches/?per_page=5")
    rels = [part.split("; ")[1] for part in first.named("Link")[0].split(", ")]
    assert rels == ['rel="next"', 'rel="first"', 'rel="last"']
    last = await fetch(gw, "/rest/pw/api/1.2/patches/?per_page=5&page=9")
    rels = [part.split("; ")[1] for part in last.named("Link")[0].split(", ")]
    assert rels == ['rel="prev"', 'rel="first"', 'rel="last"']
    # prev to page 1 drops the page parameter, as Patchwork (DRF) does.
    second = await fetch(gw, "/rest/pw/api/1.2/patches/?per_page=5&page=2")
    assert f'<{gw.url}/rest/pw/api/1.2/patches/?per_page=5>; rel="prev"' in second.named("Link")[0]


@pytest.mark.parametrize(
    ("per_page", "count"),
    [("5", 5), ("0", 30), ("-3", 30), ("abc", 30), ("", 30), ("1000", 43)],
)
async def test_wire_per_page_rules(gw: LiveGateway, per_page: str, count: int) -> None:
    # Default 30, at most 250 (the seed has 43 patches), nonsense falls back to the default.
    import orjson

    resp = await fetch(gw, f"/rest/pw/api/1.2/patches/?per_page={per_page}")
    assert resp.status == 200
    assert len(orjson.loads(resp.body)) == count


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99"])
async def test_wire_invalid_page_is_404(gw: LiveGateway, page: str) -> None:
    resp = await fetch(gw, f"/rest/pw/api/1.2/patches/?page={page}")
    assert resp.status == 404
    assert resp.body == b'{"detail":"Invalid page."}'
    assert resp.named("Content-Type") == ["application/json"]


async def test_wire_mbox_content_disposition(gw: LiveGateway) -> None:
    msgid = "1473632795-9971-2-git-send-email-stephenfinucane@gmail.com"
    resp = await fetch(gw, f"/rest/pw/project/patchwork/patch/{msgid}/mbox/")
    assert resp.status == 200
    assert resp.named("Content-Disposition") == [
        "attachment; filename=v2-1-2-test-Add-some-lorem-ipsum.patch"
    ]
    assert resp.body == gw.sim.state.data.patch_mbox(3)
    series = await fetch(gw, "/rest/pw/series/2/mbox/")
    assert series.named("Content-Disposition") == ["attachment; filename=A-sample-series.patch"]


async def test_wire_redirect_location_stays_on_gateway(gw: LiveGateway) -> None:
    resp = await fetch(gw, "/rest/pw/patch/3/mbox/")
    assert resp.status == 302
    (location,) = resp.named("Location")
    assert location.startswith("/rest/pw/project/patchwork/patch/")
    assert location.endswith("/mbox/")
