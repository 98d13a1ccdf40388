"""Regenerate ``twin.json``: the demo's twin change, built with git.

Run from the repository root: ``python -m adapters.demo.build_twin`` (needs ``git``). It makes
a throw-away repository with a base commit and the two commits of the series "net: fix
use-after-free in skb_release" (fixed author and committer dates, so the shas never change),
and records what each forge's demo data needs: shas, trees, messages with their ``Change-Id:``
and ``Link:`` trailers, the mails as ``git format-patch`` writes them (without the ``Link:``
trailer, which is added when the series is applied), the diffs, the file before and after,
``git patch-id --stable`` and Patchwork's own diff hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PATH = "net/core/skbuff.c"
AUTHOR = ("Ada Lovelace", "ada@example.org")
DATE = "2026-12-01T09:30:12+00:00"  # the commits' author date (the demo's timeline is relative)
MSGID = "<20261201093012.4242-{n}-ada@example.org>"
SERIES = "net: fix use-after-free in skb_release"
COVER = (
    "skb_release_data() reads the shared info's frag_list after it has freed the head\n"
    "that holds the shared info. The first patch clears skb->head once it is freed, so a\n"
    "second free shows up at once; the second reads the list before freeing the head.\n"
)

BASE = """\
// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Releasing a socket buffer (a short excerpt written for revgate's demo data).
 */
#include <linux/skbuff.h>
#include <linux/slab.h>

static void skb_free_head(struct sk_buff *skb)
{
	unsigned char *head = skb->head;

	if (skb->head_frag)
		skb_free_frag(head);
	else
		kfree(head);
}

static void skb_release_data(struct sk_buff *skb)
{
	struct skb_shared_info *shinfo = skb_shinfo(skb);

	skb_free_head(skb);
	if (shinfo->frag_list)
		kfree_skb_list(shinfo->frag_list);
}

void skb_release_all(struct sk_buff *skb)
{
	skb_release_head_state(skb);
	if (likely(skb->head))
		skb_release_data(skb);
}
"""

# (subject, body, the file after the commit)
COMMITS = [
    (
        "net: skbuff: clear skb->head after freeing it",
        "A second release of the same buffer then finds a NULL head instead of freeing\n"
        "memory that may already belong to someone else.",
        BASE.replace("\t\tkfree(head);\n}", "\t\tkfree(head);\n\tskb->head = NULL;\n}"),
    ),
    (
        SERIES,
        "The shared info lives at the end of the head buffer: skb_release_data() read\n"
        "shinfo->frag_list after skb_free_head() had freed it. Read the list first.",
        BASE.replace("\t\tkfree(head);\n}", "\t\tkfree(head);\n\tskb->head = NULL;\n}").replace(
            "\tstruct skb_shared_info *shinfo = skb_shinfo(skb);\n\n\tskb_free_head(skb);\n"
            "\tif (shinfo->frag_list)\n\t\tkfree_skb_list(shinfo->frag_list);\n",
            "\tstruct skb_shared_info *shinfo = skb_shinfo(skb);\n"
            "\tstruct sk_buff *list = shinfo->frag_list;\n\n\tskb_free_head(skb);\n"
            "\tif (list)\n\t\tkfree_skb_list(list);\n",
        ),
    ),
]

HUNK_RE = re.compile(r"^\@\@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? \@\@")
FILENAME_RE = re.compile(r"^(---|\+\+\+) (\S+)")


def patchwork_hash(diff: str) -> str:
    """Patchwork's ``hash_diff`` (patchwork/hasher.py): the patch's ``hash`` field."""
    hashed = hashlib.sha1()
    for line in (diff.replace("\r", "").strip() + "\n").split("\n"):
        if not line:
            continue
        if m := FILENAME_RE.match(line):
            side = "a/" if m.group(1) == "---" else "b/"
            line = f"{m.group(1)} {side}" + "/".join(m.group(2).split("/")[1:])
        elif m := HUNK_RE.match(line):
            old, new = (int(x) if x else 1 for x in m.groups())
            line = f"@@ -{old} +{new} @@"
        elif line[0] not in "-+ ":
            continue
        hashed.update((line + "\n").encode())
    return hashed.hexdigest()


def change_id(n: int) -> str:
    return "I" + hashlib.sha1(f"revgate demo twin {n}".encode()).hexdigest()


def _git(repo: Path, *args: str, stdin: str | None = None) -> str:
    name, email = AUTHOR
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(repo),
        "LANG": "C",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_AUTHOR_DATE": DATE,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
        "GIT_COMMITTER_DATE": DATE,
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *args], input=stdin, env=env, capture_output=True, text=True
    )
    done.check_returncode()
    return done.stdout


def _commit(repo: Path, content: str, message: str) -> str:
    (repo / PATH).write_text(content)
    _git(repo, "add", PATH)
    _git(repo, "commit", "-q", "-F", "-", stdin=message)
    return _git(repo, "rev-parse", "HEAD").strip()


def _mail(repo: Path, sha: str, link: str) -> tuple[str, str]:
    """The mail's content (message body, ``---``, diffstat) and diff, as format-patch writes
    them, without the ``Link:`` trailer (the mail came first)."""
    text = _git(repo, "format-patch", "-1", "--stdout", "--no-signature", sha)
    body = text.split("\n\n", 1)[1].replace(f"Link: {link}\n", "")
    content, diff = body.split("\ndiff --git ", 1)
    return content.rstrip("\n"), "diff --git " + diff


def _record(repo: Path, n: int, sha: str, before: str, after: str, link: str) -> dict[str, Any]:
    content, diff = _mail(repo, sha, link)
    numstat = _git(repo, "show", "--numstat", "--format=", sha).split()
    return {
        "sha": sha,
        "parent": _git(repo, "rev-parse", f"{sha}^").strip(),
        "tree": _git(repo, "rev-parse", f"{sha}^{{tree}}").strip(),
        "blob": _git(repo, "rev-parse", f"{sha}:{PATH}").strip(),
        "message": _git(repo, "log", "-1", "--format=%B", sha).rstrip("\n") + "\n",
        "change_id": change_id(n),
        "msgid": MSGID.format(n=n),
        "content": content,
        "diff": diff,
        "patch_id": _git(repo, "patch-id", "--stable", stdin=_git(repo, "show", sha)).split()[0],
        "hash": patchwork_hash(diff),
        "before": before,
        "after": after,
        "additions": int(numstat[0]),
        "deletions": int(numstat[1]),
    }


def build() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        _git(repo, "init", "-q", "-b", "master")
        (repo / PATH).parent.mkdir(parents=True)
        base = _commit(repo, BASE, "net: skbuff: import the release path\n")
        commits, before = [], BASE
        for n, (subject, body, after) in enumerate(COMMITS, 1):
            link = "https://lore.kernel.org/r/" + MSGID.format(n=n).strip("<>")
            message = (
                f"{subject}\n\n{body}\n\nSigned-off-by: {AUTHOR[0]} <{AUTHOR[1]}>\n"
                f"Change-Id: {change_id(n)}\nLink: {link}\n"
            )
            sha = _commit(repo, after, message)
            commits.append(_record(repo, n, sha, before, after, link))
            before = after
    return {
        "_comment": "Generated by adapters/demo/build_twin.py: do not edit by hand.",
        "path": PATH,
        "author": {"name": AUTHOR[0], "email": AUTHOR[1], "date": DATE},
        "base": base,
        "series": SERIES,
        "cover": {"msgid": MSGID.format(n=0), "content": COVER},
        "commits": commits,
    }


if __name__ == "__main__":
    (HERE / "twin.json").write_text(json.dumps(build(), indent=1) + "\n")
