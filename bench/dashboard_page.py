"""Bench: the review dashboard's own requests (docs/dashboard.md) — its first screen and one
live update — over the four demo simulators.

The requests are the page's: its shipped operations (``gateway/static/dashboard/
operations.graphql``) sent by hash, as the browser sends them, with the page's variables:

- first screen: ``DashboardBackends`` and ``DashboardChanges(first: 30)``, issued together
  (as the page does; the project list is read only when its menu is opened);
- one live update: what an event costs the page — the list's head again
  (``DashboardChanges(first: 20)``) and the event's patch (``DashboardRow``).

Two parts, like ``bench.waves`` (whose recording and fleet it reuses): the upstream requests
and waves per backend, in-process; then with ``--latency-ms L`` (default 20) the p50 of each
screen against the gateway in its own process over simulators answering L ms late.

Run: ``.venv/bin/python -m bench.dashboard_page`` (``--requests N`` per round, default 20;
0: count only).
"""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
import orjson

from bench import waves
from bench.waves import BACKENDS, demo_gateway, fleet, recording

Request = tuple[str, Mapping[str, Any]]  # operation name, variables
_CONFIG = re.compile(r'<script id="revgate-config" type="application/json">(.*?)</script>', re.S)
FIRST_SCREEN: tuple[Request, ...] = (
    ("DashboardBackends", {}),
    ("DashboardChanges", {"first": 30, "filter": {}}),
)
HEAD: Request = ("DashboardChanges", {"first": 20, "filter": {}})


async def page_hashes(client: httpx.AsyncClient) -> dict[str, str]:
    """The operation hashes the page is given (name → sha256)."""
    page = await client.get("/dashboard", headers={"Accept": "text/html"})
    found = _CONFIG.search(page.text)
    assert found is not None, "no dashboard config in the page"
    hashes: dict[str, str] = orjson.loads(found.group(1))["operations"]
    return hashes


async def send(client: httpx.AsyncClient, hashes: Mapping[str, str], request: Request) -> Any:
    name, variables = request
    body = {
        "operationName": name,
        "variables": dict(variables),
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": hashes[name]}},
    }
    answer = orjson.loads((await client.post("/graphql", json=body)).content)
    assert not answer.get("errors"), (name, answer["errors"])
    return answer["data"]


async def screens(
    client: httpx.AsyncClient, hashes: Mapping[str, str]
) -> dict[str, Callable[[], Awaitable[None]]]:
    """Each screen as one call: its requests issued together, as the page issues them."""
    changes = await send(client, hashes, HEAD)
    patch = next(
        n["id"] for n in changes["changes"]["nodes"] if n["backend"]["kind"] == "PATCHWORK"
    )
    live: tuple[Request, ...] = (HEAD, ("DashboardRow", {"id": patch}))

    def together(requests: tuple[Request, ...]) -> Callable[[], Awaitable[None]]:
        async def call() -> None:
            await asyncio.gather(*(send(client, hashes, r) for r in requests))

        return call

    return {"first screen": together(FIRST_SCREEN), "live update": together(live)}


async def count() -> dict[str, dict[str, tuple[int, int]]]:
    """Per screen, per backend (and ``"all"``): (upstream requests, waves), warm."""
    counted: dict[str, dict[str, tuple[int, int]]] = {}
    with recording() as log:
        async with demo_gateway() as (client, _):
            hashes = await page_hashes(client)
            for name, call in (await screens(client, hashes)).items():
                for _ in range(2):  # the first warms versions and pools, as in bench.waves
                    log.clear()
                    await call()
                counts = {b: (log.requests(b), log.waves(b)) for b in BACKENDS}
                counts["all"] = (log.requests(), log.waves())
                counted[name] = counts
    return counted


async def timed(latency_ms: float, requests: int) -> dict[str, float]:
    """Median of 3 rounds' median latency (ms) of each screen."""
    results: dict[str, float] = {}
    async with fleet(latency_ms) as url, httpx.AsyncClient(base_url=url, timeout=60) as client:
        hashes = await page_hashes(client)
        for name, call in (await screens(client, hashes)).items():
            await call()  # warm-up
            rounds = []
            for _ in range(3):
                samples = []
                for _ in range(requests):
                    start = time.perf_counter()
                    await call()
                    samples.append((time.perf_counter() - start) * 1000)
                rounds.append(statistics.median(samples))
            results[name] = statistics.median(rounds)
    return results


async def run(latency_ms: float, requests: int) -> None:
    counted = await count()
    for name, counts in counted.items():
        print(waves.row(f"dashboard {name}", counts))
    if requests <= 0:
        return
    for name, p50 in (await timed(latency_ms, requests)).items():
        floor = counted[name]["all"][1] * latency_ms
        print(
            f"dashboard {name}: p50 {p50:.1f} ms with {latency_ms:g} ms latency (waves: {floor:g})"
        )


def main() -> None:
    waves.main(run, __doc__, requests=20)


if __name__ == "__main__":
    main()
