"""Git's smart HTTP through the Gerrit compat mount (issue 22): fetch and clone are passed
through (``<project>/info/refs?service=git-upload-pack``, ``POST <project>/git-upload-pack``,
and their ``/a/`` twins), pushes and traversal-shaped project names are refused before the
backend is asked, and an operator's allow-list governs git like every other pass-through.

Debian's ``git`` runs as a subprocess against the simulator and the gateway, both on
127.0.0.1 and stopped after.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.gateway.client_matrix import GerritPair, gerrit_pair, git_env, run
from tests.gateway.gerrit_support import READER, basic, gerrit_gateway

pytestmark = pytest.mark.asyncio(loop_scope="module")
REF = "refs/changes/65/3965/2"  # change 3965 of myProject, its current patch set
UPLOAD_ADS = "application/x-git-upload-pack-advertisement"


async def _git(cwd: Path, *args: str) -> tuple[int, str, str]:
    return await run(["git", *args], cwd, git_env(cwd))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pair() -> AsyncIterator[GerritPair]:
    async with gerrit_pair() as running:
        yield running


def _upstream(pair: GerritPair, before: int) -> list[tuple[str, str]]:
    return pair.gw.sim.state.requests[before:]


async def test_clone_and_fetch_a_change_ref_through_the_gateway(
    pair: GerritPair, tmp_path: Path
) -> None:
    shas = {}
    for side, url in (("direct", pair.direct_url), ("via", pair.gateway_url)):
        status, _, err = await _git(tmp_path, "clone", "-q", f"{url}/myProject", side)
        assert status == 0, err
        status, _, err = await _git(tmp_path / side, "fetch", "-q", "origin", REF)
        assert status == 0, err
        shas[side] = (await _git(tmp_path / side, "rev-parse", "FETCH_HEAD", "HEAD"))[1]
        log = (await _git(tmp_path / side, "log", "-1", "--format=%s%n%b", "FETCH_HEAD"))[1]
        assert log.startswith("Implementing Feature X\n"), log
        assert "Change-Id: I" in log
    assert shas["via"] == shas["direct"]  # the twins build the same commits


async def test_authenticated_fetch_goes_up_as_the_mapped_user(
    pair: GerritPair, tmp_path: Path
) -> None:
    before = len(pair.gw.sim.state.requests)
    url = pair.gateway_url.replace("http://", f"http://reader:{READER}@")
    status, out, err = await _git(tmp_path, "ls-remote", f"{url}/a/platform%2Ftools")
    assert status == 0, err
    assert "refs/heads/master" in out
    seen = _upstream(pair, before)
    assert ("GET", "/a/platform%2Ftools/info/refs?service=git-upload-pack") in seen
    # Without /a/ Gerrit's anonymous view: the gateway lends no credential.
    resp = await pair.gw.client.get(
        "/rest/gerrit/myProject/info/refs", params={"service": "git-upload-pack"}
    )
    assert resp.status_code == 200
    assert resp.headers["content-type"] == UPLOAD_ADS
    assert b"refs/changes/65/3965/2" in resp.content


async def test_push_is_refused_without_an_upstream_request(
    pair: GerritPair, tmp_path: Path
) -> None:
    before = len(pair.gw.sim.state.requests)
    auth = basic("writer", "g1" * 20)
    for method, path in (
        ("GET", "/rest/gerrit/myProject/info/refs?service=git-receive-pack"),
        ("GET", "/rest/gerrit/a/myProject/info/refs?service=git-receive-pack"),
        ("POST", "/rest/gerrit/myProject/git-receive-pack"),
        ("POST", "/rest/gerrit/a/myProject/git-receive-pack"),
    ):
        resp = await pair.gw.client.request(method, path, headers=auth, content=b"0000")
        assert (resp.status_code, resp.text) == (403, "not permitted\n"), path
    await _git(tmp_path, "init", "-q", "repo")
    who = ("-c", "user.name=M", "-c", "user.email=m@example.com")
    assert (await _git(tmp_path / "repo", *who, "commit", "-q", "--allow-empty", "-m", "x"))[0] == 0
    for url in (pair.gateway_url, pair.direct_url):
        status, _, err = await _git(
            tmp_path / "repo", "push", f"{url}/myProject", "HEAD:refs/for/master"
        )
        assert status != 0 and "403" in err, err
    assert _upstream(pair, before) == []


@pytest.mark.parametrize(
    "path",
    [
        "..%2F..%2Fetc/info/refs?service=git-upload-pack",
        "a/..%2FmyProject/info/refs?service=git-upload-pack",
        "%2e%2e/info/refs?service=git-upload-pack",
        "my%00Project/info/refs?service=git-upload-pack",
        "myProject%2F..%2F..%2Fx/git-upload-pack",
        "%0a/git-upload-pack",
        "/info/refs?service=git-upload-pack",
    ],
)
async def test_traversal_shaped_project_is_native_404(pair: GerritPair, path: str) -> None:
    before = len(pair.gw.sim.state.requests)
    method = "POST" if "git-upload-pack" in path.split("?")[0] else "GET"
    auth = basic("reader", READER) if path.startswith("a/") else {}
    resp = await pair.gw.client.request(method, f"/rest/gerrit/{path}", headers=auth)
    assert (resp.status_code, resp.text) == (404, "Not found\n")
    assert _upstream(pair, before) == []


async def test_allow_list_governs_git_reads() -> None:
    path = "/rest/gerrit/myProject/info/refs?service=git-upload-pack"
    async with gerrit_gateway(backend={"passthrough": ["/changes/"]}) as gw:
        before = len(gw.sim.state.requests)
        resp = await gw.client.get(path)
        assert (resp.status_code, resp.text) == (404, "Not found\n")
        assert gw.sim.state.requests[before:] == []
    async with gerrit_gateway(backend={"passthrough": ["/git-upload-pack/myProject/"]}) as gw:
        assert (await gw.client.get(path)).status_code == 200
        other = await gw.client.get(path.replace("myProject", "demo"))
        assert other.status_code == 404


async def test_anonymous_git_reads_follow_the_anonymous_setting() -> None:
    path = "/rest/gerrit/myProject/info/refs?service=git-upload-pack"
    async with gerrit_gateway(server={"anonymous": False}) as gw:
        before = len(gw.sim.state.requests)
        resp = await gw.client.get(path)
        assert resp.status_code in (401, 403), resp.text
        assert gw.sim.state.requests[before:] == []
        authed = await gw.client.get(f"/rest/gerrit/a{path[12:]}", headers=basic("r", READER))
        assert authed.status_code == 200
        assert authed.headers["content-type"] == UPLOAD_ADS
