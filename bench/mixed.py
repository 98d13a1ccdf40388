"""Load: 10,000 mixed GraphQL queries at concurrency 64 against ``revgate demo``.

Starts ``revgate demo`` (the gateway with its embedded simulators, one process) on
127.0.0.1 — with the per-caller rate limits off, since every request comes from one client
address and the default 600 requests per minute would turn the run into a rate-limiter
test; the per-query limits (depth, cost…) stay on — warms it up, then drives the mix below
with 64 concurrent clients and prints:

- requests, errors (HTTP status other than 200, or a GraphQL ``errors`` entry), throughput;
- latency p50 / p90 / p99 / max, overall and per query kind;
- the demo process's resident memory (VmRSS) after start-up, after the warm-up, and after the
  run, and the growth over the run.

The mix: paged project/patch listings with checks, the merged ``changes`` list, ``node``
and ``nodes`` look-ups, series and events, backends, and a few ``updatePatch`` writes. Every
kind is a valid request that must succeed, so any error is a real failure; the exit status is
1 when there were errors (or more than ``--max-rss-growth-mb`` memory growth). Bounded: a
10-minute overall timeout; loopback only.

Run: ``make bench-load`` or ``.venv/bin/python -m bench.mixed [--requests N] [--concurrency C]``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp

from bench.procs import free_port, spawn

PROJECTS = """{ projects(first: 5) { nodes { name linkName
  patches(first: 10) { pageInfo { hasNextPage endCursor }
    nodes { id title state checkState author { name email } checks { context state } } } } } }"""
PATCHES = """query($b: String!, $after: String) {
  patches(first: 20, after: $after, filter: {backend: $b}) {
  pageInfo { endCursor } nodes { id title state updatedAt submitter { email } } } }"""
CHANGES = """{ changes(first: 25) { missingBackends
  nodes { __typename id title state updatedAt author { name } project { name } } } }"""
NODE = """query($id: ID!) { node(id: $id) { id ... on Patch { title state msgid
  checks { context state } comments(first: 5) { nodes { id } } series { name } } } }"""
NODES = """query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Patch { title author { name } } } }"""
SERIES = """{ series(first: 10) {
  nodes { id name version total receivedTotal complete submitter { name } } } }"""
EVENTS = """{ events(first: 20) { nodes { category date } } }"""
BACKENDS = """{ backends { name kind apiVersion } }"""
PATCH_KINDS = ("PATCHWORK", "PATCHWORK_FDO")  # backend kinds that serve `patches`
UPDATE = """mutation($input: UpdatePatchInput!) { updatePatch(input: $input) {
  patch { id rawState } errors { code message } } }"""
# kind -> weight (of 100)
MIX: dict[str, int] = {
    "projects": 10,
    "patches": 20,
    "changes": 15,
    "node": 25,
    "nodes": 10,
    "series": 8,
    "events": 5,
    "backends": 5,
    "update": 2,
}


@dataclass
class Stats:
    """What the run measured."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def all_latencies(self) -> list[float]:
        return [x for samples in self.latencies.values() for x in samples]


def percentile(samples: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``samples``."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[rank]


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


class Driver:
    """Sends the mix to one gateway URL and records latencies and errors."""

    def __init__(self, url: str, http: aiohttp.ClientSession, seed: int = 8) -> None:
        self.url = url
        self.http = http
        self.rng = random.Random(seed)
        self.ids: list[str] = []  # patch IDs of every patch backend (look-ups)
        self.writable: list[str] = []  # patch IDs of upstream Patchwork backends (writes)
        self.cursors: list[tuple[str, str | None]] = []  # (backend, page cursor)
        self.stats = Stats()

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        async with self.http.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables}
        ) as resp:
            body = await resp.json(content_type=None)
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}: {str(body)[:200]}")
            if body.get("errors"):
                raise RuntimeError(f"GraphQL errors: {str(body['errors'])[:200]}")
            return body["data"]

    async def discover(self) -> None:
        """Patch IDs and page cursors for the look-ups (also warms connection pools)."""
        backends = (await self.post(BACKENDS))["backends"]
        for backend in (b for b in backends if b["kind"] in PATCH_KINDS):
            name, after = backend["name"], None
            for _ in range(5):
                self.cursors.append((name, after))
                page = (await self.post(PATCHES, {"b": name, "after": after}))["patches"]
                ids = [n["id"] for n in page["nodes"]]
                self.ids += ids
                if backend["kind"] == "PATCHWORK":
                    self.writable += ids
                after = page["pageInfo"]["endCursor"]
                if after is None:
                    break
        if not self.ids or not self.writable:
            raise RuntimeError("the demo has no patches (or no upstream Patchwork backend)")

    def request(self, kind: str) -> Callable[[], Awaitable[Any]]:
        """One request of ``kind`` with its variables drawn now."""
        rng = self.rng
        if kind == "projects":
            return lambda: self.post(PROJECTS)
        if kind == "patches":
            backend, after = rng.choice(self.cursors)
            return lambda: self.post(PATCHES, {"b": backend, "after": after})
        if kind == "changes":
            return lambda: self.post(CHANGES)
        if kind == "node":
            one = rng.choice(self.ids)
            return lambda: self.post(NODE, {"id": one})
        if kind == "nodes":
            some = rng.sample(self.ids, min(10, len(self.ids)))
            return lambda: self.post(NODES, {"ids": some})
        if kind == "series":
            return lambda: self.post(SERIES)
        if kind == "events":
            return lambda: self.post(EVENTS)
        if kind == "backends":
            return lambda: self.post(BACKENDS)
        if kind == "update":
            state = rng.choice(["new", "under-review", "accepted"])
            patch = {"id": rng.choice(self.writable), "state": state}

            async def update() -> Any:
                data = await self.post(UPDATE, {"input": patch})
                if data["updatePatch"]["errors"]:
                    raise RuntimeError(f"payload errors: {data['updatePatch']['errors']}")
                return data

            return update
        raise ValueError(kind)

    def plan(self, total: int) -> list[str]:
        """``total`` query kinds drawn by weight (reproducible)."""
        kinds, weights = zip(*MIX.items(), strict=True)
        return self.rng.choices(kinds, weights=weights, k=total)

    async def run(self, total: int, concurrency: int) -> float:
        """Send ``total`` requests with ``concurrency`` workers; the wall time in seconds."""
        plan = iter(self.plan(total))

        async def worker() -> None:
            for kind in plan:  # shared iterator: each kind is taken by exactly one worker
                call = self.request(kind)
                start = time.perf_counter()
                try:
                    await call()
                except Exception as exc:
                    self.stats.errors[kind] += 1
                    if len(self.stats.examples) < 5:
                        self.stats.examples.append(f"{kind}: {type(exc).__name__}: {exc}")
                self.stats.latencies[kind].append((time.perf_counter() - start) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start


def report(stats: Stats, seconds: float, concurrency: int) -> list[str]:
    """The printed summary (without memory)."""
    every = stats.all_latencies()
    errors = sum(stats.errors.values())
    lines = [
        f"requests: {len(every)} at concurrency {concurrency} in {seconds:.1f} s "
        f"({len(every) / seconds:.0f} req/s)",
        f"errors:   {errors} ({100 * errors / max(1, len(every)):.2f} %)",
        f"latency:  p50 {percentile(every, 50):.1f} ms, p90 {percentile(every, 90):.1f} ms, "
        f"p99 {percentile(every, 99):.1f} ms, max {max(every):.1f} ms",
        "per kind: kind       n      p50 ms   p99 ms  errors",
    ]
    for kind, samples in sorted(stats.latencies.items()):
        lines.append(
            f"          {kind:<9} {len(samples):>5} {percentile(samples, 50):>8.1f} "
            f"{percentile(samples, 99):>8.1f} {stats.errors[kind]:>7}"
        )
    lines += [f"  e.g. {example}" for example in stats.examples]
    return lines


async def run(total: int, concurrency: int, max_growth: float) -> int:
    """Start the demo, load it, print the report; the exit status."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = await spawn(["-m", "bench.mixed", "--serve-demo", str(port)], f"{url}/healthz")
    try:
        rss_start = rss_mb(proc.pid)
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as http:
            driver = Driver(url, http)
            await driver.discover()
            warm = Driver(url, http, seed=1)  # every query kind once per 10 % of the run
            warm.ids, warm.writable, warm.cursors = driver.ids, driver.writable, driver.cursors
            await warm.run(max(len(MIX) * 10, total // 10), concurrency)
            rss_before = rss_mb(proc.pid)
            seconds = await driver.run(total, concurrency)
            rss_after = rss_mb(proc.pid)
        growth = rss_after - rss_before
        print(f"load: {total} mixed queries against revgate demo ({url})")
        for line in report(driver.stats, seconds, concurrency):
            print(line)
        print(
            f"memory:   RSS {rss_start:.1f} MiB after start-up, {rss_before:.1f} MiB after "
            f"warm-up, {rss_after:.1f} MiB after the run (growth {growth:+.1f} MiB)"
        )
        warm_errors = sum(warm.stats.errors.values())
        if warm_errors:
            print(f"warm-up errors: {warm_errors}; e.g. {warm.stats.examples[:2]}")
        failed = sum(driver.stats.errors.values()) + warm_errors > 0 or growth > max_growth
        return 1 if failed else 0
    finally:
        proc.terminate()
        await proc.wait()


async def _bounded(work: Awaitable[int]) -> int:
    async with asyncio.timeout(600):
        return await work


def serve_demo(port: int) -> int:
    """``revgate demo`` on ``port`` without per-caller rate limits (the child process)."""
    from gateway import cli

    original = cli.demo_settings

    def unlimited(*args: Any, **kwargs: Any) -> Any:
        settings = original(*args, **kwargs)
        limits = replace(settings.limits, requests_per_minute=0, cost_per_minute=0)
        return replace(settings, limits=limits)

    cli.demo_settings = unlimited  # the demo exactly as shipped, minus the rate limits
    return cli.main(["demo", "--port", str(port)])


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m bench.mixed``."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--serve-demo", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--max-rss-growth-mb",
        type=float,
        default=50.0,
        help="fail when RSS grows more than this over the run (default 50)",
    )
    args = parser.parse_args(argv)
    if args.serve_demo:
        return serve_demo(args.serve_demo)
    return asyncio.run(_bounded(run(args.requests, args.concurrency, args.max_rss_growth_mb)))


if __name__ == "__main__":
    sys.exit(main())
