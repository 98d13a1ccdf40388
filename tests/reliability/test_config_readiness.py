"""Issue 15 item 10: a config without backends is refused; readiness sees every kind.

- An empty config file (or whitespace, comments, no ``[[backends]]``) used to be valid at
  start-up, in ``check-config`` and on reload, where it dropped every backend. It is now a
  config problem everywhere a file is read; a reload keeps the running backends and logs why.
- ``/readyz`` counted a backend whose kind had no probe (fdo, Gerrit) as "not down", so a
  gateway with every backend down answered ready. Every kind now has a cheap probe; a
  backend that is down is named (``down``), and only when none answers is it 503.
- ``revgate_backend_up`` was only ever set by ``/readyz`` (and 0 for the unprobed kinds):
  it is now set by the probes of every kind and by real upstream traffic.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import signal
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.abf.simulator import start_simulator as start_abf
from adapters.base import Pinger, Source
from adapters.gerrit.simulator import start_simulator as start_gerrit
from adapters.patchwork.simulator import start_simulator as start_patchwork
from adapters.patchwork_fdo.simulator import start_simulator as start_fdo
from adapters.registry import FACTORIES, BackendSpec, build_source
from gateway.app import create_app
from gateway.cli import demo_settings, main
from gateway.reload import Backends, sighup_reload
from gateway.settings import ConfigError, Settings, check_config, load_settings
from tests.reliability.faultserver import closed_port_url

KINDS = {"patchwork": "patchwork", "fdo": "patchwork-fdo", "abf": "abf", "gerrit": "gerrit"}
EMPTY_CONFIGS = ["", "\n\n", "  \t \n", "# only a comment\n", "[server]\nport = 8080\n"]


# -- config ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", EMPTY_CONFIGS)
def test_config_without_backends_is_refused_at_start_and_by_check_config(
    tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "revgate.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="no backends configured"):
        load_settings(str(path), {})
    assert next(p.message for p in check_config(str(path), {})).startswith("no backends")
    assert main(["check-config", "--config", str(path)]) == 1
    assert "no backends configured" in capsys.readouterr().err


class FakeSource:
    kind = "patchwork"

    def __init__(self, name: str) -> None:
        self.name = name
        self.url = "http://127.0.0.1:9"

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX only")
@pytest.mark.parametrize("text", EMPTY_CONFIGS)
async def test_reload_of_a_config_without_backends_keeps_the_running_ones(
    tmp_path: Path, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "revgate.toml"
    path.write_text(text)
    running: Mapping[str, Any] = {"pw": FakeSource("pw")}
    backends = Backends(running)

    def load() -> tuple[Mapping[str, Source], None]:
        settings = load_settings(str(path), {})
        return {b.name: FakeSource(b.name) for b in settings.backends}, None  # type: ignore[misc]

    caplog.set_level(logging.ERROR, logger="revgate.reload")
    async with sighup_reload(backends, load):
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(100):
            if "reload rejected" in caplog.text:
                break
            await asyncio.sleep(0.01)
    assert backends.sources is running and backends.current.number == 1
    assert "reload rejected" in caplog.text and "no backends configured" in caplog.text


# -- readiness -------------------------------------------------------------------------------


def test_every_kind_has_a_readiness_probe() -> None:
    for kind in FACTORIES:
        source = build_source(BackendSpec(name="b", kind=kind, url="http://127.0.0.1:9"))
        assert isinstance(source, Pinger), kind


@pytest.fixture
async def sims() -> AsyncIterator[dict[str, str]]:
    started: list[Any] = [
        await start_patchwork(),
        await start_fdo(),
        await start_abf(),
        await start_gerrit(),
    ]
    try:
        yield dict(zip(KINDS, (s.url for s in started), strict=True))
    finally:
        for sim in started:
            await sim.close()


def _settings(urls: Mapping[str, str]) -> Settings:
    settings = demo_settings(
        urls["patchwork"],
        urls["fdo"],
        "127.0.0.1",
        8080,
        abf_url=urls["abf"],
        gerrit_url=urls["gerrit"],
    )
    quick = tuple(dataclasses.replace(b, retries=0, connect_timeout=1.0) for b in settings.backends)
    return dataclasses.replace(settings, backends=quick)


async def _gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    backends = app.state.backends
    await backends.open()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as client:
            yield client
    finally:
        await backends.close()


def _backend_up(metrics: str) -> dict[str, float]:
    found = {}
    for line in metrics.splitlines():
        if line.startswith("revgate_backend_up{"):
            name = line.split('backend="', 1)[1].split('"', 1)[0]
            found[name] = float(line.rsplit(" ", 1)[1])
    return found


async def test_readyz_every_kind_up_and_backend_up_metric_is_one(sims: dict[str, str]) -> None:
    async for client in _gateway(_settings(sims)):
        resp = await client.get("/readyz")
        report = resp.json()
        assert resp.status_code == 200 and report["status"] == "ready", report
        assert {n: r["status"] for n, r in report["backends"].items()} == dict.fromkeys(KINDS, "up")
        assert "down" not in report
        assert _backend_up((await client.get("/metrics")).text) == dict.fromkeys(KINDS, 1.0)


@pytest.mark.parametrize("down", list(KINDS))
async def test_readyz_names_the_one_kind_that_is_down(sims: dict[str, str], down: str) -> None:
    urls = {**sims, down: closed_port_url()}
    async for client in _gateway(_settings(urls)):
        resp = await client.get("/readyz")
        report = resp.json()
        # Partial data is still served: 200, but not "ready", and the backend is named.
        assert resp.status_code == 200 and report["status"] == "degraded", report
        assert report["down"] == [down]
        assert report["backends"][down]["status"] == "down"
        assert report["backends"][down]["code"] in ("UPSTREAM_UNAVAILABLE", "UPSTREAM_TIMEOUT")
        assert all(r["status"] == "up" for n, r in report["backends"].items() if n != down)
        up = _backend_up((await client.get("/metrics")).text)
        assert up == {n: 0.0 if n == down else 1.0 for n in KINDS}


async def test_readyz_with_every_backend_down_is_not_ready() -> None:
    """The issue: fdo and Gerrit had no probe, so this answered 200 "ready"."""
    urls = {kind: closed_port_url() for kind in KINDS}
    async for client in _gateway(_settings(urls)):
        resp = await client.get("/readyz")
        report = resp.json()
        assert resp.status_code == 503 and report["status"] == "unavailable", report
        assert sorted(report["down"]) == sorted(KINDS)
        assert _backend_up((await client.get("/metrics")).text) == dict.fromkeys(KINDS, 0.0)


async def test_backend_up_follows_real_traffic_without_probes(sims: dict[str, str]) -> None:
    """No /readyz at all: answered upstream requests of every kind set the gauge to 1."""
    fields = [f'{n}: projects(backends: ["{n}"], first: 1) {{ nodes {{ id }} }}' for n in KINDS]
    query = "{ " + " ".join(fields) + " }"
    async for client in _gateway(_settings(sims)):
        assert _backend_up((await client.get("/metrics")).text) == {}  # no false 0 at start
        resp = await client.post("/graphql", json={"query": query})
        assert resp.status_code == 200 and not resp.json().get("errors"), resp.text
        assert _backend_up((await client.get("/metrics")).text) == dict.fromkeys(KINDS, 1.0)
