"""Client matrix, Gerrit (issue 22): git-review 2.5.0 (PyPI, pinned in pyproject's dev
extra), run unchanged as a subprocess in a scratch git repository whose ``gerrit`` remote is
an http URL — the simulator's, or the gateway's compat mount — on 127.0.0.1 only.

``git review --list`` (``-l``, and ``-ll`` with topics) asks ``changes/?q=project:… status:
open`` anonymously and prints the same both ways. ``git review -d`` first asks for the
change's current revision (same answer both ways), then runs ``git fetch <remote> <ref>``
over git's smart HTTP (the simulator's ``git http-backend``, passed through by the gateway)
and checks the patch set out on ``review/<number>``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.gateway.client_matrix import GerritPair, gerrit_pair, git_env, run

GIT_REVIEW = Path(sys.executable).parent / "git-review"
pytestmark = pytest.mark.asyncio(loop_scope="module")


def _repo(root: Path, server: str) -> Path:
    """A repository set up as git-review expects after ``git review -s``."""
    env = {**git_env(root), "GIT_DIR": str(root / ".git")}
    for args in (
        ["init", "-q", "-b", "master", str(root)],
        ["-C", str(root), "config", "user.name", "Matrix"],
        ["-C", str(root), "config", "user.email", "matrix@example.com"],
        ["-C", str(root), "config", "gitreview.scheme", "http"],
        ["-C", str(root), "config", "gitreview.project", "myProject"],
        ["-C", str(root), "remote", "add", "gerrit", f"{server}/myProject"],
        ["-C", str(root), "commit", "-q", "--allow-empty", "-m", "base"],
        # The remote-tracking branch git-review looks for before it would ``git fetch``.
        ["-C", str(root), "update-ref", "refs/remotes/gerrit/master", "HEAD"],
    ):
        subprocess.run(["git", *args], check=True, env=env, capture_output=True)
    return root


async def _git_review(repo: Path, *args: str) -> tuple[int, str, str]:
    return await run([str(GIT_REVIEW), *args], repo, git_env(repo))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def repos(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[GerritPair, Path, Path]]:
    assert GIT_REVIEW.exists(), "git-review is a dev dependency: pip install -e '.[dev]'"
    async with gerrit_pair() as pair:
        direct = _repo(tmp_path_factory.mktemp("direct"), pair.direct_url)
        via = _repo(tmp_path_factory.mktemp("via"), pair.gateway_url)
        yield pair, direct, via


async def _both(
    repos: tuple[GerritPair, Path, Path], *args: str
) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    pair, direct, via = repos
    straight = await _git_review(direct, *args)
    status, out, err = await _git_review(via, *args)
    # The remote URL, if printed, is the only thing allowed to differ.
    return straight, (
        status,
        out.replace(pair.gateway_url, pair.direct_url),
        err.replace(pair.gateway_url, pair.direct_url),
    )


@pytest.mark.parametrize(
    ("args", "holds"),
    [
        (("--list",), "Implementing Feature X"),
        (("-ll",), "Documentation"),  # with topics
        (("--list", "master"), "Found"),
    ],
    ids=["list", "list-topics", "list-branch"],
)
async def test_git_review_list_prints_the_same(
    repos: tuple[GerritPair, Path, Path], args: tuple[str, ...], holds: str
) -> None:
    straight, through = await _both(repos, *args)
    assert straight[0] == 0, straight
    assert holds in straight[1]
    assert through == straight


async def test_git_review_download(repos: tuple[GerritPair, Path, Path]) -> None:
    straight, through = await _both(repos, "-d", "3965")
    assert straight[0] == 0, straight
    assert "Downloading refs/changes/65/3965/2" in straight[1]
    assert through == straight
    pair, direct, via = repos
    ref = "refs/changes/65/3965/2"  # the current patch set
    heads = []
    for repo, url in ((direct, pair.direct_url), (via, pair.gateway_url)):
        branch = await run(["git", "branch", "--show-current"], repo, git_env(repo))
        assert branch[1].strip() == "review/3965"  # git-review 2.5's name for the change
        head = (await run(["git", "rev-parse", "HEAD"], repo, git_env(repo)))[1].split()
        served = await run(["git", "ls-remote", f"{url}/myProject", ref], repo, git_env(repo))
        assert head == served[1].split()[:1], served
        heads.append(head)
    assert heads[0] == heads[1]  # the same commit, straight and through the gateway
