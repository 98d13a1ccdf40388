"""A bounded load generator: wrk (Debian's ``wrk``) when installed, else a small aiohttp one.

Both run a closed loop — ``connections`` clients each sending the next request when the last
answer arrived — for a fixed duration, and report requests per second and latency percentiles.
Non-2xx answers and socket errors are counted; a run with any is reported as failed, so a
broken server never shows up as a fast one.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.procs import pinned

# Prints one JSON line at the end of a wrk run (latencies in microseconds).
_WRK_SCRIPT = """
wrk.method = %(method)s
wrk.body = %(body)s
%(headers)s
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nRESULT {"requests": %%d, "duration_us": %%d, "errors": %%d, "p50": %%d, "p99": %%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Target:
    """One HTTP request to repeat: GET ``url``, or POST ``body`` as JSON."""

    url: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Result:
    """What one load run measured."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def _lua(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal here


def have_wrk() -> bool:
    """Whether wrk is installed."""
    return shutil.which("wrk") is not None


def run_wrk(target: Target, connections: int, seconds: float, cpu: int | None) -> Result:
    """Load ``target`` with wrk (one thread) for ``seconds``."""
    headers = list(target.headers)
    if target.body is not None:
        headers.append(("Content-Type", "application/json"))
    script = _WRK_SCRIPT % {
        "method": _lua("POST" if target.body is not None else "GET"),
        "body": _lua(target.body.decode()) if target.body is not None else "nil",
        "headers": "\n".join(f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in headers),
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "load.lua"
        path.write_text(script)
        cmd = [
            *pinned(cpu),
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(path),
            target.url,
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    raw = json.loads(line.removeprefix("RESULT "))
    # wrk counts non-2xx separately ("Non-2xx or 3xx responses"); fold it into errors
    non2xx = 0
    for x in out.stdout.splitlines():
        if "Non-2xx" in x:
            non2xx = int(x.rsplit(":", 1)[1])
    return Result(
        rps=raw["requests"] / (raw["duration_us"] / 1e6),
        p50_ms=raw["p50"] / 1000,
        p99_ms=raw["p99"] / 1000,
        requests=raw["requests"],
        errors=raw["errors"] + non2xx,
    )


async def run_python(target: Target, connections: int, seconds: float) -> Result:
    """Load ``target`` with ``connections`` aiohttp clients for ``seconds`` (no wrk needed)."""
    samples: list[float] = []
    errors = 0
    headers = dict(target.headers)
    if target.body is not None:
        headers["Content-Type"] = "application/json"
    conn = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=conn) as http:
        deadline = time.perf_counter() + seconds

        async def client() -> None:
            nonlocal errors
            while (start := time.perf_counter()) < deadline:
                try:
                    if target.body is None:
                        resp = await http.get(target.url, headers=headers)
                    else:
                        resp = await http.post(target.url, data=target.body, headers=headers)
                    async with resp:
                        await resp.read()
                        if resp.status >= 300:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                samples.append(time.perf_counter() - start)

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    samples.sort()
    n = len(samples)
    return Result(
        rps=n / elapsed,
        p50_ms=samples[n // 2] * 1000 if n else 0.0,
        p99_ms=samples[min(n - 1, int(n * 0.99))] * 1000 if n else 0.0,
        requests=n,
        errors=errors,
    )


async def count_requests(target: Target, total: int, connections: int = 8) -> int:
    """Send exactly ``total`` requests (``connections`` at a time); returns how many failed."""
    failed = 0
    remaining = total
    headers = dict(target.headers)
    if target.body is not None:
        headers["Content-Type"] = "application/json"
    async with aiohttp.ClientSession() as http:

        async def client() -> None:
            nonlocal failed, remaining
            while remaining > 0:
                remaining -= 1
                if target.body is None:
                    resp = await http.get(target.url, headers=headers)
                else:
                    resp = await http.post(target.url, data=target.body, headers=headers)
                async with resp:
                    await resp.read()
                    failed += resp.status >= 300

        await asyncio.gather(*(client() for _ in range(connections)))
    return failed


async def measure(target: Target, connections: int, seconds: float, cpu: int | None) -> Result:
    """One load run with wrk when installed, else with the Python generator."""
    if have_wrk():
        return await asyncio.to_thread(run_wrk, target, connections, seconds, cpu)
    return await run_python(target, connections, seconds)
