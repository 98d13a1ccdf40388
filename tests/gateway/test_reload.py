"""Backend generations: reload swaps them without dropping or breaking in-flight requests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
from starlette.types import Message, Receive, Scope, Send

from adapters.patchwork.simulator import start_simulator
from gateway.reload import Backends, PinGeneration
from tests.gateway.test_cli import _free_port, _post, _revgate


class FakeSource:
    """A source that records whether it is open."""

    kind = "patchwork"

    def __init__(self, name: str) -> None:
        self.name = name
        self.url = "http://127.0.0.1:9"
        self.is_open = False
        self.request_count = 0

    async def open(self) -> None:
        self.is_open = True

    async def close(self) -> None:
        self.is_open = False


async def test_reload_old_generation_closes_after_its_last_request() -> None:
    old, new = FakeSource("a"), FakeSource("b")
    backends = Backends({"a": old}, drain_seconds=5)
    await backends.open()
    with backends.pin() as gen:
        assert gen.sources == {"a": old}
        await backends.replace({"b": new})
        assert backends.sources == {"b": new} and new.is_open
        await asyncio.sleep(0.05)
        assert old.is_open, "closed while a request still used it"
    await asyncio.sleep(0.05)
    assert not old.is_open
    await backends.close()
    assert not new.is_open


@pytest.mark.parametrize("fails", [False, True])
async def test_pin_generation_holds_the_generation_for_the_request(fails: bool) -> None:
    """The middleware's request keeps its generation open until it ends, even by raising."""
    old, new = FakeSource("a"), FakeSource("b")
    backends = Backends({"a": old}, drain_seconds=5)
    await backends.open()
    seen: list[object] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        pass

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["state"])
        await backends.replace({"b": new})
        await asyncio.sleep(0.05)
        assert old.is_open, "closed while a request still used it"
        if fails:
            raise RuntimeError("the app failed")

    pin = PinGeneration(app, backends)
    with pytest.raises(RuntimeError) if fails else contextlib.nullcontext():
        await pin({"type": "http"}, receive, send)
    assert seen == [{"revgate_sources": {"a": old}, "revgate_policy": None}]
    await asyncio.sleep(0.05)
    assert not old.is_open and backends.current.in_flight == 0
    await backends.close()


async def test_reload_idle_old_generation_closes_at_once() -> None:
    old, new = FakeSource("a"), FakeSource("b")
    backends = Backends({"a": old})
    await backends.open()
    await backends.replace({"b": new})
    await backends.close()
    assert not old.is_open and not new.is_open


async def test_reload_on_sighup_swaps_backends_and_rejects_bad_config(tmp_path: Path) -> None:
    if not hasattr(signal, "SIGHUP"):  # pragma: no cover - POSIX only
        return
    sim = await start_simulator()
    config = tmp_path / "revgate.toml"

    def write(name: str, kind: str = "patchwork") -> None:
        config.write_text(f'[[backends]]\nname = "{name}"\nkind = "{kind}"\nurl = "{sim.url}"\n')

    try:
        write("before")
        port = _free_port()
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
        env.pop("REVGATE_CONFIG", None)
        query = "{ backends { name } }"
        args = ("serve", "--config", str(config), "--port", str(port))
        async with _revgate(*args, env=env) as url:
            assert (await _post(url, query))["data"]["backends"] == [{"name": "before"}]
            pid = _pid_listening(port)
            write("after")
            os.kill(pid, signal.SIGHUP)
            names = await _wait_for_names(url, query, "after")
            assert names == ["after"]
            write("broken", kind="nope")
            os.kill(pid, signal.SIGHUP)
            await asyncio.sleep(0.5)
            assert [b["name"] for b in (await _post(url, query))["data"]["backends"]] == ["after"]
    finally:
        await sim.close()


async def _wait_for_names(url: str, query: str, want: str) -> list[str]:
    names: list[str] = []
    for _ in range(50):
        names = [b["name"] for b in (await _post(url, query))["data"]["backends"]]
        if names == [want]:
            break
        await asyncio.sleep(0.1)
    return names


def _pid_listening(port: int) -> int:
    """The pid of the revgate child serving ``port`` (our only gateway.cli child)."""
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # After the last ")": a command name may hold spaces and parentheses.
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat[1]) == me and b"gateway.cli" in cmdline and str(port).encode() in cmdline:
            return int(entry.name)
    raise AssertionError(f"no revgate child on port {port} ({sys.platform})")


async def test_sigterm_drains_the_in_flight_request_then_exits(tmp_path: Path) -> None:
    """Graceful shutdown: a query in flight when SIGTERM arrives is answered in full; new
    connections are refused from then on, and the process exits."""
    sim = await start_simulator()
    sim.state.slow_seconds = 1.5
    config = tmp_path / "revgate.toml"
    config.write_text(f'[[backends]]\nname = "pw"\nkind = "patchwork"\nurl = "{sim.url}"\n')
    query = "{ projects(first: 2) { nodes { name } } }"
    try:
        port = _free_port()
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
        env.pop("REVGATE_CONFIG", None)
        async with _revgate("serve", "--config", str(config), "--port", str(port), env=env) as url:
            warm = await _post(url, query)  # API version detected before the slow fault
            pid = _pid_listening(port)
            sim.state.fault("/api/1.3/projects/", "slow")
            in_flight = asyncio.create_task(_post(url, query))
            await asyncio.sleep(0.5)  # the request is now waiting on the slow upstream
            os.kill(pid, signal.SIGTERM)
            answered = await asyncio.wait_for(in_flight, 10)
            # the data, not the extensions: cost.resetAt follows the wall clock
            assert answered["data"] == warm["data"] and "errors" not in answered
            for _ in range(100):  # then the process goes away on its own
                if _is_gone(pid):
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("revgate did not exit after draining")
            with pytest.raises(aiohttp.ClientConnectionError):
                await _post(url, query)
    finally:
        await sim.close()


def _is_gone(pid: int) -> bool:
    """Exited: no such process, or a zombie its parent has not reaped yet."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"
