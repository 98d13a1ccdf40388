"""Helpers for benchmarks: free loopback ports and servers in child processes."""

from __future__ import annotations

import asyncio
import socket
import sys
import time

import aiohttp


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def spawn(
    args: list[str], ready_url: str, wait_seconds: float = 30.0
) -> asyncio.subprocess.Process:
    """Run ``python ARGS`` and wait until ``ready_url`` answers (any status)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
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
