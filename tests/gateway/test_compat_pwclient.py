"""pwclient (PyPI, pinned in pyproject's dev extra) run unchanged against the Patchwork
simulator directly and through the gateway's compat mount: its read commands print the
same (issue 22, item 5 of the client matrix).

Each side runs as a subprocess with its own ``~/.pwclientrc`` in a temporary HOME (REST
backend, API 1.2, a token): the simulator's admin token directly, a gateway compat token
through the gateway (which calls the backend with its configured credentials).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from adapters.patchwork.simulator.data import PatchworkData
from tests.gateway.compat_support import ADMIN, LiveGateway, live_gateway

PWCLIENT = Path(sys.executable).parent / "pwclient"
pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Side:
    """One configured pwclient: its HOME (also its working directory) and server URL."""

    home: Path
    url: str

    async def run(self, *args: str) -> tuple[int, str, str]:
        """``pwclient args…``: (exit status, stdout, stderr)."""
        env = {
            "HOME": str(self.home),
            "PATH": os.environ.get("PATH", ""),
            "LANG": "C.UTF-8",
            "NO_PROXY": "127.0.0.1",
        }
        proc = await asyncio.create_subprocess_exec(
            str(PWCLIENT),
            *args,
            cwd=self.home,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        return proc.returncode or 0, out.decode(), err.decode()


@dataclass
class Pair:
    direct: Side
    via: Side
    gateway: LiveGateway

    async def both(self, *args: str) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
        straight = await self.direct.run(*args)
        through = await self.via.run(*args)
        # Links the gateway moves under its mount on purpose; all else must be the same.
        mount = f"{self.gateway.url}/rest/pw"
        status, out, err = through
        sim = self.gateway.sim.url
        return straight, (status, out.replace(mount, sim), err.replace(mount, sim))


def _home(root: Path, url: str) -> Side:
    root.joinpath(".pwclientrc").write_text(
        "[options]\ndefault = patchwork\n\n"
        f"[patchwork]\nbackend = rest\nurl = {url}\ntoken = {ADMIN}\n"
    )
    return Side(root, url)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pair]:
    assert PWCLIENT.exists(), "pwclient is a dev dependency: pip install -e '.[dev]'"
    async with live_gateway(PatchworkData.from_seed()) as gw:
        direct = _home(tmp_path_factory.mktemp("direct"), f"{gw.sim.url}/api/1.2")
        via = _home(tmp_path_factory.mktemp("via"), f"{gw.url}/rest/pw/api/1.2")
        yield Pair(direct, via, gw)


# (arguments, a line the output must have: so that equal outputs are not equal failures)
READS = [
    (("list",), "under-review [v2,1/2] test: Add some lorem ipsum"),
    (("list", "-a", "yes"), "[2/2] test: Convert to Markdown"),
    (("list", "-s", "new"), "new          [v2,2/2] test: Convert to Markdown"),
    (("list", "-p", "patchwork", "-s", "superseded"), "superseded   [1/2] test: Add some lorem"),
    (("search", "lorem"), "[1/2] test: Add some lorem ipsum"),
    (("view", "3"), "Subject: [PATCH v2 1/2] test: Add some lorem ipsum"),
    (("view", "4"), "test: Convert to Markdown"),
    (
        ("info", "3"),
        "- msgid         : <1473632795-9971-2-git-send-email-stephenfinucane@gmail.com>",
    ),
    (("info", "4"), "Information for patch id 4"),
    (("projects",), "patchwork"),
]


@pytest.mark.parametrize(("args", "expected_line"), READS, ids=[" ".join(a) for a, _ in READS])
async def test_pwclient_reads_print_the_same(
    pair: Pair, args: tuple[str, ...], expected_line: str
) -> None:
    straight, through = await pair.both(*args)
    assert straight[0] == 0, straight[2][-2000:]
    assert expected_line in straight[1]
    assert through == straight


async def test_pwclient_get_saves_the_same_patch(pair: Pair) -> None:
    straight, through = await pair.both("get", "3")
    assert straight[0] == 0 and straight == through
    name = straight[1].removeprefix("Saved patch to ").strip()
    saved = (pair.direct.home / name).read_bytes()
    assert saved.startswith(b"From patchwork ") and b"lorem ipsum" in saved
    assert (pair.via.home / name).read_bytes() == saved


@pytest.mark.parametrize("args", [("info", "999"), ("view", "999"), ("list", "-s", "nope")])
async def test_pwclient_missing_things_fail_the_same(pair: Pair, args: tuple[str, ...]) -> None:
    """A missing patch or state: pwclient's own failure (status and text), the same both
    ways (the gateway's 404 is Patchwork's body)."""
    straight, through = await pair.both(*args)
    assert through == straight
