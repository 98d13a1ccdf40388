"""Golden tests: the compat layer in front of the simulator against the real Patchwork 3.2.1.

Every recording in ``tests/fixtures/patchwork-3.2.1`` is replayed against
``<gateway>/rest/pw`` + its URL. The answer must equal the recording on status, JSON body
bytes — key order included — after the recorded origin is replaced by the gateway's
``/rest/pw`` base (``wire_bytes``: the recordings are stored indented), mbox bytes, and
the headers clients rely on (``Link``, ``Location``, ``Content-Disposition``, ``Allow``, ``Vary``,
``Content-Type``). ``NOT_SERVED`` lists, with the reason, what the compat layer does not serve.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.gateway.compat_support import ADMIN, BOT, CompatGateway, compat_gateway

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "patchwork-3.2.1"
META: dict[str, dict[str, Any]] = json.loads((FIXTURES / "_meta.json").read_text())
ORIGIN = "http://127.0.0.1:8800"
GATEWAY = "http://revgate/rest/pw"

# Request details the recordings do not hold (token used, request body).
SPECIAL: dict[str, dict[str, Any]] = {
    "v1.3-queries/patch-3-bad-token.json": {"token": "c0" * 20, "json": {"state": "accepted"}},
    "v1.3-queries/patch-3-bot-forbidden.json": {"token": BOT, "json": {"state": "accepted"}},
    "v1.3-queries/patch-3-checks-post-anon.json": {"json": {"state": "success"}},
    "v1.3-queries/patch-3-checks-post-bad-state.json": {"json": {"state": "broken"}},
    "v1.3-queries/patch-3-checks-post-missing-state.json": {"json": {"context": "x"}},
    "v1.3-queries/patch-3-patch-noop.json": {"json": {}},
    "v1.3-queries/patches-post-not-allowed.json": {"json": {}},
}

NOT_SERVED: dict[str, str] = {
    "v1.3-queries/patches-accept-html.html": "DRF's browsable HTML page (Accept: text/html)",
    "v1.3-queries/patches-format-api.html": "DRF's browsable HTML page (?format=api)",
    "v1.3-queries/people-basic-auth.json": (
        "HTTP Basic login to the backend: compat callers authenticate with a gateway token"
    ),
    "v1.3-queries/covers-series-project-id-hits.json": (
        "a Patchwork 3.2.1 bug (500 HTML); through the gateway it is a 502 naming the backend"
    ),
}
SERVED = sorted(set(META) - set(NOT_SERVED))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw() -> AsyncIterator[CompatGateway]:
    # One simulator for the module: no recording changes its data (the one successful write
    # is a no-op PATCH; the others are refused).
    async with compat_gateway() as gateway:
        yield gateway


ORIGIN_B, GATEWAY_B = ORIGIN.encode(), GATEWAY.encode()


def wire_bytes(recorded: bytes) -> bytes:
    """The bytes Patchwork sent for a recording: the recorder stored the JSON indented
    (keys in the order sent), DRF's ``JSONRenderer`` writes it compact, non-ASCII as is
    (``UNICODE_JSON``), with U+2028/U+2029 escaped (rest_framework/renderers.py)."""
    text = json.dumps(json.loads(recorded), ensure_ascii=False, separators=(",", ":"))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


def _expected_header(name: str, value: str) -> str:
    if name == "Location" and value.startswith("/"):
        return "/rest/pw" + value
    return value.replace(ORIGIN, GATEWAY)


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("name", SERVED)
async def test_golden_compat(name: str, gw: CompatGateway) -> None:
    meta = META[name]
    special = SPECIAL.get(name, {})
    headers = dict(meta.get("request_headers") or {})
    if meta["auth"] == "token":
        headers["Authorization"] = f"Token {special.get('token', ADMIN)}"
    resp = await gw.client.request(
        meta["method"], "/rest/pw" + meta["url"], headers=headers, json=special.get("json")
    )
    assert resp.status_code == meta["status"], resp.text[:300]
    recorded_headers = meta["headers"]
    for header in ("Link", "Location", "Content-Disposition", "Allow", "Vary"):
        if header in recorded_headers:
            expected = _expected_header(header, recorded_headers[header])
            assert resp.headers.get(header) == expected, header
    recorded_type = recorded_headers.get("Content-Type", "").split(";")[0]
    assert resp.headers.get("Content-Type", "").split(";")[0] == recorded_type
    recorded = (FIXTURES / name).read_bytes()
    if meta["method"] == "HEAD":
        assert resp.content == b""
    elif name.endswith(".json"):
        # bytes, not parsed JSON: key order per API version is part of what clients see
        assert resp.content == wire_bytes(recorded).replace(ORIGIN_B, GATEWAY_B)
    elif name.endswith((".mbox", ".txt")):
        assert resp.content == recorded


def test_golden_coverage() -> None:
    """The numbers the report quotes: recordings served vs not served."""
    assert len(META) == 210
    assert len(SERVED) == 210 - len(NOT_SERVED) == 206
