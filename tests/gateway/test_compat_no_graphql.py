"""The compat layer renders from records: it never imports nor executes GraphQL."""

from __future__ import annotations

import subprocess
import sys

import pytest
from strawberry import Schema

from tests.gateway.compat_support import ADMIN, compat_gateway


def test_compat_imports_no_graphql() -> None:
    # A fresh interpreter: what importing the compat mount pulls in, and nothing else.
    code = (
        "import sys, gateway.compat, adapters.registry, adapters.patchwork.pages\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('strawberry', 'graphql', 'schema')]\n"
        "print(','.join(sorted(bad)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""


async def test_compat_requests_execute_no_graphql(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the compat layer executed GraphQL")

    monkeypatch.setattr(Schema, "execute", refuse)
    monkeypatch.setattr(Schema, "execute_sync", refuse)
    async with compat_gateway() as gw:
        auth = {"Authorization": f"Token {ADMIN}"}
        for path in (
            "api/1.3/patches/?per_page=5",
            "api/1.3/patches/3/",
            "api/1.3/series/2/",
            "api/1.1/events/",
            "series/2/mbox/",
        ):
            resp = await gw.client.get(f"/rest/pw/{path}", headers=auth)
            assert resp.status_code == 200, path
        resp = await gw.client.patch(
            "/rest/pw/api/1.3/patches/5/", headers=auth, json={"state": "accepted"}
        )
        assert resp.status_code == 200
