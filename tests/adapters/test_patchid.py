"""``adapters/patchid.py`` against the real ``git patch-id --stable`` (git is installed here).

A throw-away repository in ``tmp_path`` gets commits of every shape a forge sends: several
files, a rename with an edit, a binary file (with and without ``--binary``), a mode change,
a deletion, a file without a final newline, several hunks, CRLF lines. Each commit's
``format-patch`` and ``show`` output, the whole history as one mbox and the recorded
Patchwork diffs (tests/fixtures/patchwork-3.2.1) are hashed by both and must agree.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from adapters.patchid import patch_id, patch_ids

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

FIXTURES = Path(__file__).parents[1] / "fixtures" / "patchwork-3.2.1"


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    env = {
        "GIT_AUTHOR_NAME": "Ada",
        "GIT_AUTHOR_EMAIL": "ada@example.org",
        "GIT_COMMITTER_NAME": "Ada",
        "GIT_COMMITTER_EMAIL": "ada@example.org",
        "HOME": str(repo),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *args], input=stdin, capture_output=True, check=True, env=env
    )
    return done.stdout


def _real(repo: Path, text: bytes) -> list[str]:
    out = _git(repo, "patch-id", "--stable", stdin=text).decode()
    return [line.split()[0] for line in out.splitlines()]


def _commit(repo: Path, message: str, files: dict[str, bytes | None]) -> None:
    for name, content in files.items():
        path = repo / name
        if content is None:
            path.unlink()
        else:
            path.write_bytes(content)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("patchid")
    _git(repo, "init", "-q")
    lines = b"".join(b"line %d\n" % i for i in range(40))
    _commit(repo, "init", {"a.c": b"a\nb\nc\n", "b.txt": b"x\n", "big": lines})
    _commit(repo, "two files, no final newline", {"a.c": b"a\nB\nc\nd\n", "b.txt": b"x\ny"})
    _git(repo, "mv", "a.c", "renamed.c")
    _commit(repo, "rename with an edit", {"renamed.c": b"a\nB\nc\nd\ne\n"})
    _commit(repo, "binary", {"blob.bin": bytes(range(256)) * 3})
    _commit(repo, "binary and text", {"blob.bin": bytes(range(255, -1, -1)), "c.txt": b"q\n"})
    (repo / "b.txt").chmod(0o755)
    _commit(repo, "mode change", {})
    _commit(repo, "deletion", {"b.txt": None})
    edited = lines.replace(b"line 3\n", b"LINE 3\n").replace(b"line 30\n", b"line  thirty\n")
    _commit(repo, "two hunks, whitespace", {"big": edited})
    _commit(repo, "crlf", {"dos.txt": b"one\r\ntwo\r\n"})
    return repo


VARIANTS = (
    ("format-patch", "--stdout", "-1"),
    ("format-patch", "--stdout", "-1", "-M"),
    ("format-patch", "--stdout", "-1", "--binary"),
    ("show", "--format=medium"),
    ("diff", "HEAD~1"),
)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: " ".join(v))
def test_every_commit_matches_git(repo: Path, variant: tuple[str, ...]) -> None:
    revs = _git(repo, "rev-list", "HEAD").decode().split()[:-1]  # the root has no parent
    for depth, rev in enumerate(revs):
        if variant[0] == "diff":
            text = _git(repo, "diff", "-M", f"{rev}~1", rev)
        else:
            text = _git(repo, *variant, rev)
        assert patch_ids(text) == _real(repo, text), (depth, variant)


def test_a_whole_mbox_matches_git(repo: Path) -> None:
    text = _git(repo, "format-patch", "--stdout", "--root", "HEAD")
    want = _real(repo, text)
    assert len(want) == 9
    assert patch_ids(text) == want
    assert patch_id(text.decode("utf-8", "surrogateescape")) == want[0]


def test_stable_ignores_file_order_line_numbers_and_whitespace(repo: Path) -> None:
    one = (
        "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"
        "diff --git a/y b/y\n--- a/y\n+++ b/y\n@@ -7 +7 @@\n-u\n+v\n"
    )
    swapped = (
        "diff --git a/y b/y\n--- a/y\n+++ b/y\n@@ -70 +70 @@\n-u\n+v\n"
        "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -10,2 +10,2 @@\n a\n-b\n+  c\n"
    )
    assert patch_id(one) == patch_id(swapped) == _real(repo, one.encode())[0]
    other = one.replace("+c", "+d")
    assert patch_id(other) != patch_id(one)


def test_no_diff_has_no_patch_id() -> None:
    assert patch_id(None) is None
    assert patch_id("") is None
    assert patch_id("Subject: hello\n\njust words\n") is None


def test_recorded_patchwork_diffs_match_git(repo: Path) -> None:
    seen = 0
    for path in sorted(FIXTURES.glob("v*/patch-3.json")):
        diff = json.loads(path.read_text())["diff"]
        assert diff, path
        assert patch_id(diff) == _real(repo, diff.encode())[0], path
        seen += 1
    assert seen >= 4
