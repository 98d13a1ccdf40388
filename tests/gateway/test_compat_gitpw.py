"""git-pw 2.9.0 (from PyPI) run unchanged against the gateway's Patchwork compat layer.

The gateway runs on a real loopback socket (uvicorn) in front of the simulator; git-pw runs
as a subprocess in a temporary git repository whose ``pw.server`` is
``<gateway>/rest/pw/api/1.2`` and whose ``pw.token`` is a compat token of the gateway (here
the same string as the simulator's admin token, but the gateway calls the backend with its
own configured credentials).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from adapters.patchwork.simulator.data import PatchworkData
from tests.gateway.compat_support import ADMIN, BOT, LiveGateway, live_gateway

GIT_PW = Path(sys.executable).parent / "git-pw"
pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class GitPw:
    """A git repository configured for git-pw against the gateway."""

    repo: Path
    env: dict[str, str]
    gateway: LiveGateway

    async def git(self, *args: str) -> None:
        proc = await asyncio.create_subprocess_exec("git", *args, cwd=self.repo, env=self.env)
        assert await asyncio.wait_for(proc.wait(), 30) == 0

    async def run(self, *args: str, ok: bool = True) -> tuple[str, str]:
        """Run ``git-pw args…``; (stdout, stderr)."""
        proc = await asyncio.create_subprocess_exec(
            str(GIT_PW),
            *args,
            cwd=self.repo,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        if ok:
            assert proc.returncode == 0, err.decode()[-2000:]
        return out.decode(), err.decode()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gitpw(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[GitPw]:
    assert GIT_PW.exists(), "git-pw is a dev dependency: pip install -e '.[dev]'"
    home = tmp_path_factory.mktemp("home")
    repo = tmp_path_factory.mktemp("repo")
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", ""),
        "GIT_CONFIG_NOSYSTEM": "1",
        "LANG": "C.UTF-8",
        "NO_PROXY": "127.0.0.1",
    }
    async with live_gateway(PatchworkData.from_seed()) as gw:
        client = GitPw(repo, env, gw)
        await client.git("init", "-q")
        await client.git("config", "pw.server", f"{gw.url}/rest/pw/api/1.2")
        await client.git("config", "pw.token", ADMIN)
        await client.git("config", "pw.project", "patchwork")
        yield client


async def test_gitpw_patch_list(gitpw: GitPw) -> None:
    out, _ = await gitpw.run("patch", "list", "--format", "csv")
    rows = out.strip().splitlines()
    assert rows[0] == '"ID","Date","Name","Submitter","State","Archived","Delegate"'
    ids = [int(row.split(",")[0].strip('"')) for row in rows[1:]]
    # git-pw asks for new + under-review, not archived, newest first, in project "patchwork".
    assert 3 in ids and 20 in ids and ids[0] == 20
    assert any('"[v2,1/2] test: Add some lorem ipsum"' in row for row in rows)


async def test_gitpw_patch_show(gitpw: GitPw) -> None:
    out, _ = await gitpw.run("patch", "show", "3")
    assert "[v2,1/2] test: Add some lorem ipsum" in out
    assert "<1473632795-9971-2-git-send-email-stephenfinucane@gmail.com>" in out
    assert "under-review" in out
    # The URL git-pw shows points at the gateway, not the backend.
    assert f"{gitpw.gateway.url}/rest/pw/project/patchwork/patch/" in out
    assert gitpw.gateway.sim.url not in out


async def test_gitpw_series_list_and_show(gitpw: GitPw) -> None:
    out, _ = await gitpw.run("series", "list", "--format", "csv")
    assert '"2",' in out and "A sample series" in out
    out, _ = await gitpw.run("series", "show", "2")
    assert "A sample series" in out
    assert "2 of 2" in out
    assert "[v2,1/2] test: Add some lorem ipsum" in out
    assert "[v2,2/2] test: Convert to Markdown" in out


async def test_gitpw_patch_update_state_reaches_backend_once(gitpw: GitPw) -> None:
    requests = gitpw.gateway.sim.state.requests
    before = len(requests)
    out, _ = await gitpw.run("patch", "update", "--state", "accepted", "5")
    assert "accepted" in out
    writes = [r for r in requests[before:] if r[0] != "GET"]
    assert writes == [("PATCH", "/api/1.2/patches/5/")]
    assert gitpw.gateway.sim.state.data.patches[5]["state"] == "accepted"
    out, _ = await gitpw.run("patch", "show", "5")
    assert "accepted" in out


async def test_gitpw_patch_update_refused_for_read_only_token(gitpw: GitPw) -> None:
    requests = gitpw.gateway.sim.state.requests
    before = len(requests)
    env = dict(gitpw.env)
    # git-pw reads GIT_CONFIG_* pairs through git; set the token for this one run.
    env.update({"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "pw.token", "GIT_CONFIG_VALUE_0": BOT})
    client = GitPw(gitpw.repo, env, gitpw.gateway)
    _, err = await client.run("patch", "update", "--state", "rejected", "6", ok=False)
    assert "You do not have permission to perform this action." in err
    assert [r for r in requests[before:] if r[0] != "GET"] == []
    assert gitpw.gateway.sim.state.data.patches[6]["state"] != "rejected"


async def test_gitpw_patch_download(gitpw: GitPw, tmp_path: Path) -> None:
    _, log = await gitpw.run("patch", "download", "3", str(tmp_path))
    target = tmp_path / "v2-1-2-test-Add-some-lorem-ipsum.patch"
    assert f"Downloaded patch to {target}" in log
    assert target.read_bytes() == gitpw.gateway.sim.state.data.patch_mbox(3)


async def test_gitpw_series_download(gitpw: GitPw, tmp_path: Path) -> None:
    _, log = await gitpw.run("series", "download", "2", str(tmp_path))
    target = tmp_path / "A-sample-series.patch"
    assert f"Downloaded series to {target}" in log
    assert target.read_bytes() == gitpw.gateway.sim.state.data.series_mbox(2)


# Run inside git-pw's own HTTP layer (``git_pw.api``: requests, its Token auth, its error
# handling), configured from the same git repository as the CLI runs above.
FOLLOW = """
import json, sys
from git_pw import api

out = {}
first = api._get(api._get_server() + "/patches/", [("per_page", "2"), ("order", "id")])
out["next"] = first.links["next"]["url"]
out["page1"] = [p["id"] for p in first.json()]
second = api._get(out["next"])
out["page2"] = [p["id"] for p in second.json()]
patch = first.json()[0]
out["url"] = patch["url"]
out["detail"] = api.get(patch["url"])["id"]
out["web_url"] = patch["web_url"]
out["web_page"] = api._get(patch["web_url"]).text
out["mbox"] = patch["mbox"]
out["mbox_file"] = api.download(patch["mbox"], output=sys.argv[1])
series = api.get(api.get(patch["url"])["series"][0]["url"])
out["series_url"] = series["url"]
out["series_web_page"] = api._get(series["web_url"]).text
out["series_mbox_file"] = api.download(series["mbox"], output=sys.argv[2])
print(json.dumps(out))
"""


async def test_gitpw_follows_gateway_urls(gitpw: GitPw, tmp_path: Path) -> None:
    """Every URL the gateway hands out (url, web_url, mbox, Link next) works with git-pw."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        FOLLOW,
        str(tmp_path / "patch.mbox"),
        str(tmp_path / "series.mbox"),
        cwd=gitpw.repo,
        env=gitpw.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    raw, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()[-2000:]
    out = json.loads(raw)
    base = f"{gitpw.gateway.url}/rest/pw/"
    for key in ("next", "url", "web_url", "mbox", "series_url"):
        assert out[key].startswith(base), (key, out[key])
    assert out["page1"] == [1, 2] and out["page2"] == [3, 4]
    assert out["detail"] == 1
    data = gitpw.gateway.sim.state.data
    assert f"<title>{data.patches[1]['name']}</title>" in out["web_page"]
    mbox, series_mbox = tmp_path / "patch.mbox", tmp_path / "series.mbox"
    assert out["mbox_file"] == str(mbox)
    assert mbox.read_bytes() == data.patch_mbox(1)
    series_id = int(out["series_url"].rstrip("/").rsplit("/", 1)[1])
    assert "<ul>" in out["series_web_page"]
    assert out["series_mbox_file"] == str(series_mbox)
    assert series_mbox.read_bytes() == data.series_mbox(series_id)
    assert gitpw.gateway.sim.url not in raw.decode()


async def test_gitpw_patch_download_diff_follows_raw(gitpw: GitPw, tmp_path: Path) -> None:
    # git-pw turns the gateway's mbox URL into the raw-diff URL by string replacement.
    _, log = await gitpw.run("patch", "download", "--diff", "3", str(tmp_path))
    target = tmp_path / "v2-1-2-test-Add-some-lorem-ipsum.diff"
    assert f"Downloaded patch to {target}" in log
    assert target.read_bytes() == gitpw.gateway.sim.state.data.patch_raw(3)


async def test_gitpw_bundle_round_trip(gitpw: GitPw) -> None:
    """``git pw bundle create|add|remove|delete`` (issue 20): each one write, as Patchwork."""
    data = gitpw.gateway.sim.state.data
    requests = gitpw.gateway.sim.state.requests
    before = len(requests)
    out, _ = await gitpw.run(
        "bundle", "create", "--public", "round-trip", "5", "6", "--format", "simple"
    )
    [bid] = [b for b, v in data.bundles.items() if v["name"] == "round-trip"]
    assert data.bundles[bid]["patches"] == [5, 6] and data.bundles[bid]["public"] is True
    assert "round-trip" in out and gitpw.gateway.sim.url not in out
    await gitpw.run("bundle", "add", str(bid), "7")
    assert sorted(data.bundles[bid]["patches"]) == [5, 6, 7]
    await gitpw.run("bundle", "remove", str(bid), "5")
    assert sorted(data.bundles[bid]["patches"]) == [6, 7]
    out, _ = await gitpw.run("bundle", "show", str(bid))
    assert "round-trip" in out
    await gitpw.run("bundle", "delete", str(bid))
    assert bid not in data.bundles
    writes = [r for r in requests[before:] if r[0] not in ("GET", "HEAD")]
    path = f"/api/1.2/bundles/{bid}/"
    assert writes == [
        ("POST", "/api/1.2/bundles/"),
        ("PATCH", path),
        ("PATCH", path),
        ("DELETE", path),
    ]
