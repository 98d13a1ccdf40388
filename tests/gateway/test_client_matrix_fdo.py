"""The client matrix for the freedesktop Patchwork fork (issue 22): the fork has no client on
PyPI; its documentation drives it with ``curl`` piped into git (``curl -s …/mbox/ | git am
-3``) and CI bots post test results with a token. Those real programs — Debian's ``curl`` and
``git mailsplit``/``git mailinfo``, the first half of ``git am`` — run against a simulator
straight and through the gateway's compat mount on a real socket, and must see the same.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from adapters.patchwork_fdo.simulator import FdoData, RunningFdoSimulator, start_simulator
from gateway.app import create_app
from gateway.settings import settings_from_dict
from tests.gateway.client_matrix import git_env
from tests.gateway.compat_support import serve_app

pytestmark = pytest.mark.asyncio(loop_scope="module")

CI_TOKEN = "fd" * 20  # the simulator's CI user: the gateway's backend token, the direct one
WRITER = "e3" * 20  # the gateway's compat token for the bot
CURL = ("curl", "-s", "--noproxy", "*")


@dataclass
class Sides:
    direct: str  # the simulator's own URL
    through: str  # the gateway's compat mount for it
    sim: RunningFdoSimulator
    twin: RunningFdoSimulator  # what the direct side writes to


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sides() -> AsyncIterator[Sides]:
    sim = await start_simulator(FdoData.from_seed())
    twin = await start_simulator(FdoData.from_seed())
    settings = settings_from_dict(
        {
            "backends": [
                {"name": "fdo", "kind": "patchwork-fdo", "url": sim.url, "token_env": "T"}
            ],
            "compat": {
                "tokens": [{"name": "bot", "sha256": hashlib.sha256(WRITER.encode()).hexdigest()}]
            },
        },
        env={"T": CI_TOKEN},
    )
    app = create_app(settings)
    await app.state.backends.open()
    try:
        async with serve_app(app, lifespan="off") as url:
            yield Sides(twin.url, f"{url}/rest/fdo", sim, twin)
    finally:
        await app.state.backends.close()
        await sim.close()
        await twin.close()


async def _curl(url: str, token: str, *extra: str) -> tuple[int, bytes]:
    """``curl -s`` with the fork's token header, off the event loop the servers run on;
    (HTTP status, body)."""
    done = await asyncio.to_thread(
        subprocess.run,
        [*CURL, "-H", f"Authorization: Token {token}", "-w", "\n%{http_code}", *extra, url],
        capture_output=True,
        timeout=60,
        check=True,
    )
    body, _, status = done.stdout.rpartition(b"\n")
    return int(status), body


def _normalise(body: bytes, s: Sides) -> object:
    text = body.decode().replace(s.through, "<base>").replace(s.direct, "<base>")
    return json.loads(text.replace(s.sim.url, "<base>"))


def _mailinfo(mbox: bytes, work: Path) -> list[str]:
    """What ``git am`` reads from an mbox before applying it: each message's author, email,
    subject and date (``git mailsplit`` then ``git mailinfo``), and the commit message."""
    (work / "parts").mkdir(parents=True)
    (work / "in.mbox").write_bytes(mbox)
    env = git_env(work)
    run = {"cwd": work, "env": env, "capture_output": True, "timeout": 60, "check": True}
    count = subprocess.run(["git", "mailsplit", "-oparts", "in.mbox"], **run)  # type: ignore[call-overload]
    out = []
    for n in range(1, int(count.stdout) + 1):
        part = (work / "parts" / f"{n:04d}").read_bytes()
        info = subprocess.run(["git", "mailinfo", "msg", "patch"], input=part, **run)  # type: ignore[call-overload]
        out.append(info.stdout.decode() + (work / "msg").read_text())
    return out


async def test_fdo_curl_reads_the_same(sides: Sides) -> None:
    for path in (
        "/api/1.0/",
        "/api/1.0/projects/",
        "/api/1.0/series/",
        "/api/1.0/series/1/",
        "/api/1.0/series/1/revisions/",
        "/api/1.0/series/1/revisions/1/",
        "/api/1.0/series/1/revisions/1/test-results/",
        "/api/1.0/patches/1/",
        "/api/1.0/projects/1/events/",
        "/api/1.0/series/999999/",
    ):
        straight = await _curl(sides.direct + path, CI_TOKEN)
        through = await _curl(sides.through + path, WRITER)
        assert straight[0] == through[0], path
        assert _normalise(straight[1], sides) == _normalise(through[1], sides), path
        assert straight[0] in (200, 404), (path, straight[0])


async def test_fdo_mbox_piped_into_git_reads_the_same(sides: Sides, tmp_path: Path) -> None:
    for n, path in enumerate(("/api/1.0/series/1/revisions/1/mbox/", "/api/1.0/patches/1/mbox/")):
        straight = await _curl(sides.direct + path, CI_TOKEN)
        through = await _curl(sides.through + path, WRITER)
        assert straight[0] == through[0] == 200, path
        assert straight[1] == through[1], path
        mails = _mailinfo(through[1], tmp_path / f"through-{n}")
        assert mails == _mailinfo(straight[1], tmp_path / f"straight-{n}")
        assert mails and all("Author: " in m and "Subject: " in m for m in mails), mails


async def test_fdo_ci_bot_posts_a_test_result_the_same(sides: Sides) -> None:
    result = json.dumps(
        {
            "test_name": "ci/matrix",
            "state": "success",
            "url": "http://ci.example.com/runs/matrix/",
            "summary": "posted with curl",
        }
    )
    path = "/api/1.0/series/1/revisions/1/test-results/"
    post = ("-X", "POST", "-H", "Content-Type: application/json", "--data", result)
    straight = await _curl(sides.direct + path, CI_TOKEN, *post)
    through = await _curl(sides.through + path, WRITER, *post)
    assert straight[0] == through[0] == 201, (straight, through)
    mine, theirs = _normalise(straight[1], sides), _normalise(through[1], sides)
    assert isinstance(mine, dict) and isinstance(theirs, dict)
    assert {k: v for k, v in mine.items() if k != "date"} == {
        k: v for k, v in theirs.items() if k != "date"
    }
    # the result reached the gateway's backend once, and reads back the same on both sides
    listed = [await _curl(sides.direct + path, CI_TOKEN), await _curl(sides.through + path, WRITER)]
    names = [[r["test_name"] for r in json.loads(body)] for _, body in listed]
    assert names[0] == names[1] and names[0].count("ci/matrix") == 1
