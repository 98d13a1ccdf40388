"""Identical GraphQL requests at the same moment share their upstream reads (issue 21):
dashboards polled by many browsers ask the same list at once. Each still gets a whole, fresh
answer — the reads it joined were under way when it asked — and the first reader's parsed
page and built list serve the others (``adapters/http_flights.py``)."""

from __future__ import annotations

import asyncio

import pytest

from bench.waves import demo_gateway, recording

QUERY = """{ patches(first: 10, filter: {backend: "patchwork"}) { nodes {
  id title state checkState author { name } project { name } } } }"""


@pytest.mark.parametrize("together", [1, 6])
async def test_identical_requests_at_once_share_their_upstream_reads(together: int) -> None:
    with recording() as log:
        async with demo_gateway(latency_ms=50) as (client, _):
            alone = (await client.post("/graphql", json={"query": QUERY})).json()
            assert not alone.get("errors") and len(alone["data"]["patches"]["nodes"]) == 10
            log.clear()
            once = (await client.post("/graphql", json={"query": QUERY})).json()
            reads = log.requests("patchwork")
            log.clear()
            posts = [client.post("/graphql", json={"query": QUERY}) for _ in range(together)]
            answers = [r.json() for r in await asyncio.gather(*posts)]
    assert [a["data"] for a in answers] == [once["data"]] * together  # each a whole answer
    assert not any(a.get("errors") for a in answers)
    assert reads >= 1 and log.requests("patchwork") == reads  # however many asked at once
