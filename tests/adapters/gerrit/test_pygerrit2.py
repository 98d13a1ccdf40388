"""pygerrit2 (the PyPI Gerrit REST client) against the simulator on 127.0.0.1: a check that the
simulator speaks real Gerrit (magic prefix, ``/a/`` with basic auth, JSON bodies, text errors).

pygerrit2 is synchronous (requests), so its calls run in a worker thread while the simulator
serves on this test's event loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import requests
from pygerrit2 import Anonymous, GerritRestAPI, GerritReview, HTTPBasicAuth

from tests.adapters.gerrit.conftest import gerrit


def _client(url: str, user: str | None = "admin", password: str = "secret") -> Any:
    auth = HTTPBasicAuth(user, password) if user else Anonymous()
    return GerritRestAPI(url=url, auth=auth)


async def test_pygerrit2_query_detail_review_abandon_restore() -> None:
    async with gerrit() as (_, sim):
        rest = _client(sim.url)
        opened = await asyncio.to_thread(rest.get, "/changes/?q=status:open+project:myProject&n=10")
        assert [c["_number"] for c in opened] == [4801, 4800, 4799, 3965]  # 4801: admin's draft
        assert [c["status"] for c in opened] == ["DRAFT", "NEW", "NEW", "NEW"]

        detail = await asyncio.to_thread(rest.get, "/changes/3965/detail")
        assert detail["change_id"].startswith("I") and detail["project"] == "myProject"
        assert set(detail["labels"]) == {"Verified", "Code-Review"}
        assert detail["messages"]

        review = GerritReview(message="Looks fine")
        review.add_labels({"Code-Review": 1})
        applied = await asyncio.to_thread(rest.review, "3965", "current", review)
        assert applied["labels"] == {"Code-Review": 1}
        votes = await asyncio.to_thread(rest.get, "/changes/3965/detail")
        admin = [v for v in votes["labels"]["Code-Review"]["all"] if v.get("username") == "admin"]
        assert admin and admin[0]["value"] == 1

        abandoned = await asyncio.to_thread(
            rest.post, "/changes/1756/abandon", json={"message": "not needed"}
        )
        assert abandoned["status"] == "ABANDONED"
        restored = await asyncio.to_thread(rest.post, "/changes/1756/restore", json={})
        assert restored["status"] == "NEW"
        requests_seen = [p for _, p in sim.state.requests]
        assert all(p.startswith("/a/") for p in requests_seen)  # authenticated calls


async def test_pygerrit2_sees_documented_errors() -> None:
    async with gerrit() as (_, sim):
        rest = _client(sim.url)
        with pytest.raises(requests.HTTPError) as conflict:
            await asyncio.to_thread(rest.post, "/changes/9/abandon", json={})
        assert conflict.value.response is not None
        assert conflict.value.response.status_code == 409
        assert conflict.value.response.text.strip() == "change is merged"
        with pytest.raises(requests.HTTPError) as missing:
            await asyncio.to_thread(rest.get, "/changes/424242/detail")
        assert missing.value.response is not None
        assert missing.value.response.status_code == 404
        wrong = _client(sim.url, password="nope")
        with pytest.raises(requests.HTTPError) as denied:
            await asyncio.to_thread(wrong.get, "/changes/?q=status:open")
        assert denied.value.response is not None
        assert denied.value.response.status_code == 401


async def test_pygerrit2_anonymous_reads() -> None:
    async with gerrit() as (_, sim):
        rest = _client(sim.url, user=None)
        merged = await asyncio.to_thread(rest.get, "/changes/?q=status:merged")
        assert [c["_number"] for c in merged] == [9]
        assert not any(p.startswith("/a/") for _, p in sim.state.requests)
