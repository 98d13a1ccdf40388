"""A real ``redis-server`` on 127.0.0.1 for the tests: one per session, started and stopped here.

``make test`` installs the Debian package when it is missing; where it still is not installed
the tests that need it skip, saying so. Nothing is persisted (``--save '' --appendonly no``)
and the server's files live in a pytest temporary directory.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

START_TIMEOUT = 10.0
NOT_INSTALLED = (
    "redis-server is not installed (`make test` installs it: apt-get install redis-server)"
)


@dataclass(frozen=True)
class RedisServer:
    """A running server: its ``redis://`` URL and port."""

    url: str
    port: int


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(directory: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``redis-server`` in ``directory`` and wait until it answers ``PING``."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise FileNotFoundError(NOT_INSTALLED)
    port = free_port()
    args = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    args += ["--dir", str(directory), "--logfile", str(directory / "redis.log")]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + START_TIMEOUT
    while not _answers_ping(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_redis(proc)
            log = directory / "redis.log"
            tail = log.read_text(errors="replace")[-500:] if log.exists() else ""
            raise RuntimeError(f"redis-server did not start on port {port}: {tail}")
        time.sleep(0.02)
    return proc, port


def stop_redis(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server started by ``start_redis`` (SIGTERM, then SIGKILL after 5 s)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """The session's Redis server; skips the test when ``redis-server`` is not installed."""
    if shutil.which("redis-server") is None:
        pytest.skip(NOT_INSTALLED)
    proc, port = start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield RedisServer(url=f"redis://127.0.0.1:{port}/0", port=port)
    finally:
        stop_redis(proc)
