"""Helpers for benchmarks: free loopback ports and servers in child processes."""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import socket
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import aiohttp


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def interpreter() -> str:
    """The interpreter the benches run their Python servers on: the same code runs 6–16 %
    faster on a PGO+LTO build than on one without (bench/README.md, twelfth pass), so a
    figure means little without it."""
    built = platform.python_build()[1]
    return f"{sys.executable} (CPython {platform.python_version()}, built {built})"


def pinned(cpu: int | None) -> list[str]:
    """A ``taskset`` prefix pinning a child to ``cpu`` (empty when not possible or not asked)."""
    if cpu is None or shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        return []
    return ["taskset", "-c", str(cpu)]


async def spawn(
    args: list[str],
    ready_url: str,
    wait_seconds: float = 30.0,
    *,
    cpu: int | None = None,
    env: Mapping[str, str] | None = None,
    program: str | None = None,
    cwd: Path | None = None,
) -> asyncio.subprocess.Process:
    """Run ``python ARGS`` (or ``program ARGS``) and wait until ``ready_url`` answers."""
    proc = await asyncio.create_subprocess_exec(
        *pinned(cpu),
        program or sys.executable,
        *args,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
    deadline = time.monotonic() + wait_seconds
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise RuntimeError(f"{' '.join(args)} exited with {proc.returncode}")
            try:
                async with http.get(ready_url) as resp:
                    await resp.read()
                    return proc
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"{ready_url} did not come up in {wait_seconds:.0f} s")


async def stop(procs: list[asyncio.subprocess.Process]) -> None:
    """Terminate the children we started and wait for them."""
    for proc in procs:
        if proc.returncode is None:
            proc.terminate()
    for proc in procs:
        try:
            async with asyncio.timeout(10):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()


def rss_kib(pid: int) -> int:
    """Resident set size of process ``pid`` in KiB (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time process ``pid`` has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
