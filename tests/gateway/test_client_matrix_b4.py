"""Client matrix, Patchwork (issue 22): what of b4 0.16.0 (PyPI, pinned in pyproject's dev
extra) talks to Patchwork — its ``b4.pw-url``/``pw-key``/``pw-project`` settings — run
unchanged in a subprocess against the Patchwork simulator directly and through the
gateway's compat mount: the patch lookup by Message-ID (what ``b4 am``/``shazam`` use for
the CI status line) and ``patchwork_set_state`` (what ``b4 ty`` runs to set the state of the
thanked patches). Each side has its own simulator seeded alike, so the state write is the
same on both; b4's output and the state it leaves must be the same.

``b4 am``/``shazam`` fetch the thread itself from a public-inbox (lore) URL, not from
Patchwork, so they are not part of Patchwork's surface; the Patchwork mbox URLs users feed
them (``/project/<p>/patch/<msgid>/mbox/``, ``/series/<id>/mbox/``) are compared byte for
byte.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from adapters.patchwork.simulator import RunningSimulator, start_simulator
from adapters.patchwork.simulator.data import PatchworkData
from tests.gateway.client_matrix import run
from tests.gateway.compat_support import ADMIN, LiveGateway, live_gateway

pytestmark = pytest.mark.asyncio(loop_scope="module")
MSGID = "1473632795-9971-2-git-send-email-stephenfinucane@gmail.com"  # patch 3 of the seed

# Runs inside the repository, as b4 would: its config comes from git config.
SCRIPT = """
import argparse, json, logging, sys
import b4
b4.setup_config(argparse.Namespace(config=None))  # what b4's command line does first
logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
b4.logger.setLevel(logging.INFO)
data = b4.LoreMessage.get_patchwork_data_by_msgid(sys.argv[1])
print(json.dumps({k: data.get(k) for k in ("id", "name", "state", "check", "msgid")}))
b4.patchwork_set_state([sys.argv[1]], sys.argv[2])
"""


def _repo(root: Path, pw_url: str) -> Path:
    env = {**_env(root)}
    for args in (
        ["init", "-q", str(root)],
        ["-C", str(root), "config", "b4.pw-url", pw_url],
        ["-C", str(root), "config", "b4.pw-key", ADMIN],
        ["-C", str(root), "config", "b4.pw-project", "patchwork"],
    ):
        subprocess.run(["git", *args], check=True, env=env, capture_output=True)
    return root


def _env(home: Path) -> dict[str, str]:
    return {
        "HOME": str(home),  # b4's lookup cache lives under it: one per side
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
        "NO_PROXY": "127.0.0.1",
        "GIT_CONFIG_NOSYSTEM": "1",
    }


async def _b4(repo: Path, state: str) -> tuple[int, str, str]:
    return await run([sys.executable, "-c", SCRIPT, MSGID, state], repo, _env(repo))


@contextlib.asynccontextmanager
async def _twin() -> AsyncIterator[RunningSimulator]:
    sim = await start_simulator(PatchworkData.from_seed())
    try:
        yield sim
    finally:
        await sim.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sides(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[LiveGateway, RunningSimulator]]:
    async with live_gateway(PatchworkData.from_seed()) as gw, _twin() as twin:
        yield gw, twin


async def _state(base: str) -> str:
    async with httpx.AsyncClient() as client:
        resp = await client.get(f"{base}/api/1.2/patches/3/")
        state = resp.json()["state"]
        assert isinstance(state, str)
        return state


async def test_b4_patchwork_lookup_and_set_state_the_same(
    sides: tuple[LiveGateway, RunningSimulator], tmp_path: Path
) -> None:
    gw, twin = sides
    mount = f"{gw.url}/rest/pw"
    direct = _repo(tmp_path / "direct", twin.url)
    via = _repo(tmp_path / "via", mount)
    straight = await _b4(direct, "accepted")
    status, out, err = await _b4(via, "accepted")
    through = (status, out.replace(mount, twin.url), err.replace(mount, twin.url))
    assert straight[0] == 0, straight[2][-2000:]
    looked_up = json.loads(straight[1].splitlines()[0])
    assert looked_up["id"] == 3 and looked_up["state"] == "under-review"
    # b4 logs the host it set states on: the only place a URL shows.
    host = twin.url.removeprefix("http://")
    assert f"Patchwork: setting state on {host}/patchwork" in straight[1]
    assert " -> accepted : " in straight[1]
    gw_host = gw.url.removeprefix("http://")
    assert through == (straight[0], straight[1].replace(host, gw_host), straight[2])
    assert await _state(twin.url) == await _state(gw.sim.url) == "accepted"


async def test_b4_mbox_urls_from_patchwork_the_same(
    sides: tuple[LiveGateway, RunningSimulator],
) -> None:
    """The mbox URLs b4 users feed ``b4 am``/``shazam`` from Patchwork (a patch's and a
    series'): the same bytes straight from the simulator and through the gateway."""
    gw, twin = sides
    async with httpx.AsyncClient() as client:
        for path in (f"/project/patchwork/patch/{MSGID}/mbox/", "/series/1/mbox/"):
            straight = await client.get(f"{twin.url}{path}")
            through = await client.get(f"{gw.url}/rest/pw{path}")
            assert straight.status_code == 200, path
            assert straight.content.startswith(b"From ")
            assert through.content == straight.content
