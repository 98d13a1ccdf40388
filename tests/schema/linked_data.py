"""Simulated twins for the linked-changes tests: one piece of work on four forges, and decoys.

Built on each simulator's seed data (not the demo's timeline, which the ``demo`` work
builds): a two-patch series on upstream Patchwork, its first patch on fdo, each commit as a
Gerrit change, and an ABF pull request whose head is the second commit. Every kind of
evidence is present once for real and once as a decoy:

- P1 ``<M1>`` (accepted as S1, ``Change-Id: C1`` trailer, diff D1) — G1 (C1, sha S1,
  ``Link: https://lore.kernel.org/r/M1``, diff D1) — F1 on fdo (mbox ``Message-Id: <M1>``,
  C1 trailer, diff D1).
- P2 ``<M2>`` (C2 trailer, diff D2, not applied) — G2 (C2, S2,
  ``Link: https://patch.msgid.link/M2``, diff D2) — PR (head S2, head commit's C2 trailer).
- Decoys: P3 titled like P1 with another diff, C1 only in a quoted reply and a prefix of S1
  as its commit_ref; G3 naming M1 in its message's text (not a trailer), with its own
  Change-Id and a third diff.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.abf.simulator.data import AbfData, Pull
from adapters.gerrit.simulator.data import ChangeData, FileData, GerritData, RevisionData
from adapters.patchwork.simulator import PatchworkData
from adapters.patchwork_fdo.simulator import FdoData

TITLE1 = "net: fix use-after-free in skb_release"
TITLE2 = "net: add skb_release regression test"
M1 = "20261201101010.1-ada@example.org"
M2 = "20261201101010.2-ada@example.org"
C1 = "I" + "1a" * 20
C2 = "I" + "2b" * 20
C3 = "I" + "3c" * 20
S1 = "a1" * 20
S2 = "b2" * 20
S3 = "c3" * 20
FILE = "net/core/skbuff.c"
BEFORE = ["static void skb_release(struct sk_buff *skb)", "{", "\tkfree(skb->head);", "}"]
AFTER1 = ["static void skb_release(struct sk_buff *skb)", "{", "\tskb_free_head(skb);", "}"]
AFTER2 = [*AFTER1, "", "/* tested by skb_release_test */"]
AFTER3 = ["static void skb_release(struct sk_buff *skb)", "{", "\tkvfree(skb->head);", "}"]
AFTER4 = [*AFTER3, "/* kvfree: vmalloc'ed heads too */"]


def unified(a: list[str], b: list[str]) -> str:
    """The diff of ``FILE`` as the Gerrit simulator formats a patch set's (difflib)."""
    lines = difflib.unified_diff(a, b, f"a/{FILE}", f"b/{FILE}", lineterm="")
    return "\n".join([f"diff --git a/{FILE} b/{FILE}", *lines]) + "\n"


D1, D2, D3 = unified(BEFORE, AFTER1), unified(AFTER1, AFTER2), unified(BEFORE, AFTER3)


def message(title: str, *trailers: str, body: str = "Found by KASAN.") -> str:
    """A commit message: title, body, then a trailer block."""
    return "\n".join(
        [title, "", body, "", "Signed-off-by: Ada Lovelace <ada@example.org>", *trailers]
    )


@dataclass(frozen=True)
class Twins:
    """The native ids of the linked changes and the decoys."""

    p1: int
    p2: int
    p3: int
    f1: int
    g1: int
    g2: int
    g3: int
    pr: str  # "<project id>/<number>"


def _pw_patch(
    data: PatchworkData, pid: int, name: str, msgid: str, when: datetime
) -> dict[str, Any]:
    patch = {
        "id": pid,
        "project": 1,
        "msgid": f"<{msgid}>",
        "date": when.strftime("%Y-%m-%dT%H:%M:%S"),
        "name": name,
        "commit_ref": None,
        "pull_url": None,
        "state": "new",
        "archived": False,
        "hash": f"{pid:040x}",
        "submitter": 1,
        "delegate": None,
        "series": [],
        "related": [],
    }
    data.patches[pid] = data._complete_patch(patch)
    found: dict[str, Any] = data.patches[pid]
    return found


def patchwork(data: PatchworkData, now: datetime) -> tuple[int, int, int]:
    """P1, P2 and the decoy P3."""
    base = max(data.patches) + 1
    p1 = _pw_patch(data, base, f"[1/2] {TITLE1}", M1, now - timedelta(hours=3))
    p1.update(
        content=message(TITLE1, f"Change-Id: {C1}") + "\n---\n net/core/skbuff.c | 2 +-",
        diff=D1,
        commit_ref=S1,
        state="accepted",
        series=[1],  # a series of the seed: currentRevision is its version, sha the commit
    )
    p2 = _pw_patch(data, base + 1, f"[2/2] {TITLE2}", M2, now - timedelta(hours=3))
    p2.update(content=message(TITLE2, f"Change-Id: {C2}"), diff=D2)
    p3 = _pw_patch(data, base + 2, TITLE1, "decoy.3@example.org", now - timedelta(hours=2))
    p3.update(
        content=f"On Monday Ada wrote:\n> {TITLE1}\n>\n> Change-Id: {C1}\n\nA different fix.",
        diff=D3,
        commit_ref=S1[:12],
    )
    return base, base + 1, base + 2


def fdo(data: FdoData, now: datetime) -> int:
    """F1: P1's mail on the fdo instance (the API shows no Message-Id: the mbox does)."""
    fid = max(data.patches) + 1
    when = (now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S")
    data.patches[fid] = {
        "id": fid,
        "project": 1,
        "name": TITLE1,
        "date": when,
        "last_updated": when,
        "submitter": 1,
        "state": 1,
        "content": D1,
    }
    data.mails[fid] = {
        "patch": fid,
        "msgid": f"<{M1}>",
        "message": message(TITLE1, f"Change-Id: {C1}"),
    }
    return fid


def _change(
    number: int,
    change_id: str,
    subject: str,
    msg: str,
    sha: str,
    after: list[str],
    before: list[str],
    now: datetime,
) -> ChangeData:
    rev = RevisionData(
        sha=sha,
        number=1,
        created=now - timedelta(hours=2),
        uploader=1000096,
        files={FILE: FileData(before, after)},
        parent=("0" * 40, "Base commit"),
        message=msg + "\n",
    )
    return ChangeData(
        number=number,
        project="demo",
        branch="master",
        change_id=change_id,
        subject=subject,
        status="NEW",
        created=now - timedelta(hours=2),
        updated=now - timedelta(hours=1),
        owner=1000096,
        revisions=[rev],
    )


def gerrit(data: GerritData, now: datetime) -> tuple[int, int, int]:
    """G1, G2 and the decoy G3."""
    base = max(data.changes) + 1
    g1 = message(TITLE1, f"Link: https://lore.kernel.org/r/{M1}", f"Change-Id: {C1}")
    g2 = message(TITLE2, f"Link: https://patch.msgid.link/{M2}", f"Change-Id: {C2}")
    g3 = message(
        "net: another take on skb_release",
        f"Change-Id: {C3}",
        body=f"Unlike https://lore.kernel.org/r/{M1} this frees with kvfree.",
    )
    data.changes[base] = _change(base, C1, TITLE1, g1, S1, AFTER1, BEFORE, now)
    data.changes[base + 1] = _change(base + 1, C2, TITLE2, g2, S2, AFTER2, AFTER1, now)
    data.changes[base + 2] = _change(base + 2, C3, g3.splitlines()[0], g3, S3, AFTER4, BEFORE, now)
    return base, base + 1, base + 2


def abf(data: AbfData, now: datetime) -> str:
    """The pull request whose head is S2 (its commits: S1 then S2)."""
    template = next(iter(data.pulls.values()))
    project = data.projects[template.project]
    project.refs["skb-fix"] = S2
    number = max(n for (_, n) in data.pulls) + 1
    stamp = int(now.timestamp())

    def commit(sha: str, msg: str) -> dict[str, Any]:
        who = {"name": "Ada Lovelace", "email": "ada@example.org", "date": stamp - 7200}
        return {
            "sha": sha,
            "https_url": f"/abf/{project.name}/commit/{sha}",
            "author": who,
            "committer": who,
            "message": msg,
            "tree": {"sha": sha, "https_url": f"/abf/{project.name}/commit/{sha}"},
            "parents": [],
        }

    data.pulls[(project.id, number)] = Pull(
        db_id=data._db_id(),
        project=project.id,
        number=number,
        title=TITLE1,
        body="The skb_release fix and its test.",
        status="open",
        owner=template.owner,
        to_ref="master",
        from_ref="skb-fix",
        from_project=project.id,
        created_at=stamp - 3600,
        updated_at=stamp - 1800,
        commits=[
            commit(S1, message(TITLE1, f"Change-Id: {C1}")),
            commit(S2, message(TITLE2, f"Change-Id: {C2}")),
        ],
    )
    return f"{project.id}/{number}"


def build(
    pw: PatchworkData, fd: FdoData, gd: GerritData, ad: AbfData, now: datetime | None = None
) -> Twins:
    """Add the twins and decoys to the four simulators' data."""
    now = now or datetime.now(UTC)
    p1, p2, p3 = patchwork(pw, now)
    g1, g2, g3 = gerrit(gd, now)
    return Twins(p1, p2, p3, fdo(fd, now), g1, g2, g3, abf(ad, now))
