"""The ``revgate`` command: schema, check-config, serve over a config file, and demo."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.patchwork.simulator import start_simulator
from gateway.cli import DEMO_COMPAT_TOKEN, DEMO_HINTS, DEMO_QUERY, demo_compat_lines, main
from gateway.ide import EXAMPLES
from schema.build import SDL_PATH

ALL_KINDS = {"PATCHWORK", "PATCHWORK_FDO", "GERRIT", "ABF"}

QUERY = """{ backends { name apiVersion }
  projects(first: 2) { nodes { linkName patches(first: 2) {
    nodes { title author { name } checkState checks { context state } } } } } }"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def _revgate(*args: str, env: dict[str, str] | None = None) -> AsyncIterator[str]:
    """Run ``revgate ARGS`` as a subprocess until it prints its GraphiQL URL; stop it after."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    url = None
    try:
        async with asyncio.timeout(30):
            while url is None:
                raw = await proc.stdout.readline()
                if not raw:
                    raise AssertionError("revgate exited:\n" + "".join(lines))
                line = raw.decode()
                lines.append(line)
                if "GraphiQL at " in line:
                    url = line.split("GraphiQL at ", 1)[1].strip()
        async with aiohttp.ClientSession() as http, asyncio.timeout(30):
            while True:  # the URL is printed just before uvicorn binds
                with contextlib.suppress(aiohttp.ClientConnectionError):
                    async with http.get(url.replace("/graphql", "/healthz")) as resp:
                        if resp.status == 200:
                            break
                await asyncio.sleep(0.1)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):  # a test may have stopped it already
            proc.terminate()
        with contextlib.suppress(ProcessLookupError):
            await asyncio.wait_for(proc.wait(), 15)


async def _post(url: str, query: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.post(url, json={"query": query}) as resp:
        assert resp.status == 200
        body: dict[str, Any] = await resp.json()
        return body


def test_cli_schema_prints_committed_sdl(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == SDL_PATH.read_text()


def test_cli_check_config_reports_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "revgate.toml"
    config.write_text(
        textwrap.dedent(
            """\
            [[backends]]
            name = "a"
            kind = "patchwerk"
            url = "https://a.example.org"

            [[backends]]
            name = "a"
            kind = "patchwork"
            url = "not a url"
            token_env = "REVGATE_TEST_UNSET_TOKEN"
            """
        )
    )
    assert main(["check-config", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert f"{config}:3:" in err and "patchwerk" in err
    assert f"{config}:7:" in err  # the duplicate name
    assert f"{config}:9:" in err  # the URL
    assert "REVGATE_TEST_UNSET_TOKEN" in err
    assert "problem(s)" in err


def test_cli_check_config_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "ok.toml"
    config.write_text('[[backends]]\nname = "pw"\nkind = "patchwork"\nurl = "https://x.org"\n')
    assert main(["check-config", "--config", str(config)]) == 0
    assert "OK" in capsys.readouterr().out


def test_cli_check_config_without_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("REVGATE_CONFIG", raising=False)
    assert main(["check-config"]) == 2
    assert "no config file" in capsys.readouterr().err


def test_cli_serve_refuses_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[[backends]]\nname = "pw"\nkind = "nope"\nurl = "https://x.org"\n')
    assert main(["serve", "--config", str(config)]) == 1
    assert "nope" in capsys.readouterr().err


async def test_cli_serve_over_config_detects_version(tmp_path: Path) -> None:
    sim = await start_simulator()
    try:
        config = tmp_path / "revgate.toml"
        config.write_text(
            f'[[backends]]\nname = "upstream"\nkind = "patchwork"\nurl = "{sim.url}"\n'
            'token_env = "PW_TOKEN"\n'
        )
        port = _free_port()
        env = {"PATH": "/usr/bin:/bin", "PW_TOKEN": "a0" * 20}
        args = ("serve", "--config", str(config), "--port", str(port))
        async with _revgate(*args, env=env) as url:
            body = await _post(url, QUERY)
    finally:
        await sim.close()
    assert "errors" not in body, body
    assert body["data"]["backends"] == [{"name": "upstream", "apiVersion": "1.3"}]
    first = body["data"]["projects"]["nodes"][0]["patches"]["nodes"][0]
    assert first["author"] == {"name": "Stephen Finucane"}
    assert ("GET", "/api/1.3/") in sim.state.requests


async def test_cli_demo_serves_graphiql_and_recorded_data() -> None:
    port = _free_port()
    async with _revgate("demo", "--port", str(port)) as url:
        assert url == f"http://127.0.0.1:{port}/graphql"
        body = await _post(url, QUERY)
        side_by_side = await _post(url, DEMO_QUERY.replace("first: 10", "first: 100"))
        hinted = [await _post(url, hint) for hint in DEMO_HINTS]
        examples = [await _post(url, q) for _, q in EXAMPLES]
        compat = await _compat_reads(url.removesuffix("/graphql"))
        async with (
            aiohttp.ClientSession() as http,
            http.get(url, headers={"Accept": "text/html"}) as resp,
        ):
            page = await resp.text()
    assert "errors" not in body, body
    # The demo serves an upstream and an fdo backend: one query lists both series.
    assert "errors" not in side_by_side, side_by_side
    series = side_by_side["data"]["series"]["nodes"]
    assert {s["backend"]["kind"] for s in series} == {"PATCHWORK", "PATCHWORK_FDO"}
    assert any(len(s["revisions"]) == 3 for s in series)  # an fdo series with 3 revisions
    projects = body["data"]["projects"]["nodes"]
    assert projects[0]["linkName"] == "patchwork"
    assert projects[0]["patches"]["nodes"][0]["title"] == "[1/2] test: Add some lorem ipsum"
    assert resp.status == 200 and "graphiql" in page.lower()
    # Every query the demo prints answers without errors, with data.
    for hint, answer in zip(DEMO_HINTS, hinted, strict=True):
        assert "errors" not in answer, (hint, answer)
        assert all(v["nodes"] for v in answer["data"].values()), (hint, answer)
    # The REST clients' lines it prints work as printed: each URL with the demo token.
    assert compat == {"patchwork": 200, "fdo": 200, "gerrit": 200, "abf": 200}, compat
    # So does every example tab of the shipped GraphiQL, with no backend missing.
    for (name, _), answer in zip(EXAMPLES, examples, strict=True):
        assert "errors" not in answer, (name, answer)
        (listed,) = answer["data"].values()
        assert listed["nodes"] and not listed.get("missingBackends"), (name, answer)
    # The first tab (README's first query): the demo's timeline puts every kind in its first 20.
    first = examples[0]["data"]["changes"]["nodes"]
    assert {n["backend"]["kind"] for n in first[:20]} == ALL_KINDS, first


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def _compat_reads(gateway: str) -> dict[str, int]:
    """GET each compat URL the demo prints, authenticated with the demo token as printed."""
    token = DEMO_COMPAT_TOKEN
    auth = {
        "patchwork": {"Authorization": f"Token {token}"},
        "fdo": {"Authorization": f"Token {token}"},
        "gerrit": {"Authorization": _basic("me", token)},
        "abf": {"Authorization": _basic(token, "")},
    }
    statuses: dict[str, int] = {}
    lines = demo_compat_lines(gateway)
    assert token in lines[0]
    async with aiohttp.ClientSession() as http:
        for line in lines[1:5]:
            name, url = line.split()[:2]
            async with http.get(url, headers=auth[name]) as resp:
                statuses[name] = resp.status
    return statuses


async def test_cli_demo_says_the_port_is_taken_before_any_url() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = await _demo_process(port, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in err.decode()
    assert f"--port {port + 1}" in err.decode() and "Traceback" not in err.decode()
    assert "GraphiQL at" not in out.decode()


def test_cli_help_is_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "revgate demo" in text and "``" not in text


@pytest.mark.parametrize("how", ["terminate", "kill"])
async def test_cli_demo_simulators_run_apart_and_end_with_the_demo(how: str) -> None:
    # Each simulator serves from a process of its own (its CPU is not the gateway's, as a real
    # server's is not); none outlives the demo, even one killed without a chance to clean up.
    proc = await _demo_process(_free_port(), stderr=asyncio.subprocess.STDOUT)
    assert proc.stdout is not None
    ports: list[int] = []
    try:
        async with asyncio.timeout(60):
            while not (line := (await proc.stdout.readline()).decode()).count("GraphiQL at"):
                assert line, "revgate demo exited"
                if " simulator at http://127.0.0.1:" in line:
                    ports.append(int(line.split("127.0.0.1:", 1)[1].split()[0].strip("/")))
        assert len(ports) == 4
        owners = {_listener_pid(port) for port in ports}
        assert proc.pid not in owners and None not in owners and len(owners) == 4
    finally:
        proc.terminate() if how == "terminate" else proc.kill()
        await asyncio.wait_for(proc.wait(), 15)
    for _ in range(150):  # 15 s at most
        if not any([await _accepts(port) for port in ports]):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"a simulator outlived the demo ({how})")


def _listener_pid(port: int) -> int | None:
    """The process listening on ``127.0.0.1:port`` (Linux ``/proc``), None if not found."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            for row in list(rows)[1:]:
                cols = row.split()
                if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "0A":  # LISTEN
                    inodes.add(cols[9])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(pid)
    return None


async def _accepts(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    return True


async def _demo_process(port: int, stderr: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "gateway.cli", "demo", "--port", str(port)),
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
    )
