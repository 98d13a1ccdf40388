"""The Gerrit simulator's in-memory data: accounts, groups, projects and changes, and how they
render as Gerrit's JSON entities (ChangeInfo with its ``o`` options, RevisionInfo, …).

Seeded from ``seed/seed.json`` (the documents' examples) plus ``generated(n)`` changes with
one to four patch sets each. Files keep their old (``a``) and new (``b``) lines per patch set,
so file content, diffs and formatted patches are computed, not canned.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from adapters.simclock import SimClock

SEED = Path(__file__).with_name("seed") / "seed.json"
COMMIT_MSG = "/COMMIT_MSG"
QUERY_LIMIT = 500
CONFIRM_ABOVE = 10  # groups bigger than this need ``confirmed`` (Gerrit's default is 10)

Json = dict[str, Any]


def ts(value: datetime) -> str:
    """A Gerrit timestamp."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond:06d}000"


def parse_ts(value: str) -> datetime:
    """Read a Gerrit timestamp (the seed's)."""
    return datetime.strptime(value[:26], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)


def fake_sha(*parts: object) -> str:
    """A stable made-up commit sha."""
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


@dataclass
class FileData:
    """One file of a patch set: old lines (``None``: added) and new lines (``None``: deleted)."""

    a: list[str] | None
    b: list[str] | None

    @property
    def status(self) -> str:
        return "A" if self.a is None else ("D" if self.b is None else "M")


@dataclass
class RevisionData:
    """A patch set."""

    sha: str
    number: int
    created: datetime
    uploader: int
    files: dict[str, FileData]
    parent: tuple[str, str]
    message: str
    author: Json | None = None
    draft: bool = False
    comments: list[Json] = field(default_factory=list)
    drafts: dict[int, list[Json]] = field(default_factory=dict)
    reviewed: dict[int, set[str]] = field(default_factory=dict)


@dataclass
class ChangeData:
    """A change and everything hanging off it."""

    number: int
    project: str
    branch: str
    change_id: str
    subject: str
    status: str
    created: datetime
    updated: datetime
    owner: int
    revisions: list[RevisionData]
    topic: str = ""
    mergeable: bool = True
    conflict: bool = False
    reviewers: list[int] = field(default_factory=list)
    votes: dict[str, dict[int, int]] = field(default_factory=dict)
    vote_dates: dict[tuple[str, int], datetime] = field(default_factory=dict)
    messages: list[Json] = field(default_factory=list)
    starred_by: set[int] = field(default_factory=set)

    @property
    def current(self) -> RevisionData:
        return max(self.revisions, key=lambda r: r.number)

    @property
    def triplet(self) -> str:
        return f"{quote(self.project, safe='')}~{quote(self.branch, safe='')}~{self.change_id}"

    def sortkey(self) -> str:
        return f"{int(self.updated.timestamp()):08x}{self.number:08x}"


class GerritData:
    """Everything the simulator serves, mutable by the writes."""

    def __init__(self) -> None:
        self.accounts: dict[int, Json] = {}
        self.groups: list[Json] = []
        self.projects: dict[str, Json] = {}
        self.branches: dict[str, set[str]] = {}
        self.labels: dict[str, dict[int, str]] = {}
        self.changes: dict[int, ChangeData] = {}
        self.query_limit = QUERY_LIMIT
        self.clock = SimClock(timedelta(seconds=1))  # the present, forward only
        self._clock_started = False

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def from_seed(cls) -> GerritData:
        """The documents' examples."""
        data = cls()
        seed = json.loads(SEED.read_text())
        for acct in seed["accounts"]:
            data.accounts[acct["_account_id"]] = acct
        for n in range(1, 16):
            aid = 1000300 + n
            data.accounts[aid] = {
                "_account_id": aid,
                "name": f"Verifier {n:02d}",
                "email": f"verifier{n:02d}@example.com",
                "username": f"verifier{n:02d}",
            }
        for group in seed["groups"]:
            members = group["members"]
            if not isinstance(members, list):
                members = [1000300 + n for n in range(1, 16)]
            data.groups.append({"id": group["id"], "name": group["name"], "members": members})
        for name, info in seed["projects"].items():
            data.projects[name] = info
            data.branches[name] = {"master", "release-branch", "stable"}
        data.labels = {
            name: {int(k.strip()): v for k, v in values.items()}
            for name, values in seed["labels"].items()
        }
        for c in seed["changes"]:
            data._seed_change(c)
        return data

    @classmethod
    def generated(cls, count: int) -> GerritData:
        """The seed plus ``count`` generated changes with several patch sets each."""
        data = cls.from_seed()
        owners = [1000096, 1000097, 1000000, 1000001]
        projects = ["demo", "gerrit", "myProject", "platform/tools"]
        statuses = ["NEW", "NEW", "NEW", "MERGED", "ABANDONED"]
        start = datetime(2014, 6, 1, tzinfo=UTC)
        for i in range(count):
            number = 20000 + i
            created = start + timedelta(hours=i)
            project = projects[i % len(projects)]
            revisions = []
            for ps in range(1, 2 + i % 4):
                lines = [f"line {k} of change {number}" for k in range(8)]
                new = [*lines[:3], f"patch set {ps} of change {number}", *lines[4:]]
                revisions.append(
                    RevisionData(
                        sha=fake_sha(number, ps),
                        number=ps,
                        created=created + timedelta(minutes=10 * ps),
                        uploader=owners[i % len(owners)],
                        files={f"src/gen{i % 7}.txt": FileData(lines, new)},
                        parent=(fake_sha(project, "base"), "Base commit"),
                        message=f"Generated change {number}\n\nPatch set {ps}.\n\n"
                        f"Change-Id: I{fake_sha('cid', number)}",
                    )
                )
            change = ChangeData(
                number=number,
                project=project,
                branch="master" if i % 5 else "stable",
                change_id=f"I{fake_sha('cid', number)}",
                subject=f"Generated change {number}",
                status=statuses[i % len(statuses)],
                created=created,
                updated=created + timedelta(minutes=10 * len(revisions) + 1),
                owner=owners[i % len(owners)],
                revisions=revisions,
                topic=f"topic-{i % 3}" if i % 2 else "",
                reviewers=[owners[(i + 1) % len(owners)], 1000200],
            )
            if i % 3 == 0:
                change.votes = {"Verified": {1000200: 1}, "Code-Review": {owners[(i + 1) % 4]: 2}}
            elif i % 3 == 1:
                change.votes = {"Verified": {1000200: -1}}
            data.changes[number] = change
        return data

    def _seed_change(self, c: Json) -> None:
        created = parse_ts(c["created"])
        revisions = []
        for n, r in enumerate(c["revisions"], 1):
            parent = r.get("parent") or [fake_sha(c["project"], "base"), "Base commit"]
            message = r.get("message") or f"{c['subject']}\n\nChange-Id: {c['change_id']}"
            rev = RevisionData(
                sha=r["sha"],
                number=n,
                created=created + timedelta(minutes=n - 1),
                uploader=c["owner"],
                files={p: FileData(f["a"], f["b"]) for p, f in r["files"].items()},
                parent=(parent[0], parent[1]),
                message=message,
                author=r.get("author"),
                draft=bool(r.get("draft", False)),
                comments=[dict(x) for x in r.get("comments", [])],
                drafts={int(k): [dict(x) for x in v] for k, v in r.get("drafts", {}).items()},
                reviewed={int(k): set(v) for k, v in r.get("reviewed", {}).items()},
            )
            revisions.append(rev)
        self.changes[c["_number"]] = ChangeData(
            number=c["_number"],
            project=c["project"],
            branch=c["branch"],
            change_id=c["change_id"],
            subject=c["subject"],
            status=c["status"],
            created=created,
            updated=parse_ts(c["updated"]),
            owner=c["owner"],
            revisions=revisions,
            topic=c.get("topic", ""),
            mergeable=c.get("mergeable", True),
            conflict=c.get("conflict", False),
            reviewers=list(c.get("reviewers", [])),
            votes={
                label: {int(a): v for a, v in votes.items()}
                for label, votes in c.get("votes", {}).items()
            },
            messages=[dict(m) for m in c.get("messages", [])],
        )

    # -- helpers used by the API ----------------------------------------------------------

    def now(self) -> datetime:
        """The server clock: the present, strictly increasing, after every seeded time."""
        if not self._clock_started:
            # Generated and seeded data may carry any dates; a write must be newer than all.
            self._clock_started = True
            for change in self.changes.values():
                self.clock.advance_past(change.updated)
        return self.clock.now()

    def next_number(self) -> int:
        return max(self.changes, default=0) + 1

    def find_account(self, key: str, caller: int | None = None) -> Json | None:
        """An account by ``self``, id, username, email or full name."""
        if key == "self":
            return self.accounts.get(caller) if caller else None
        wanted = key.casefold()  # like Gerrit's account resolver: case does not matter
        for acct in self.accounts.values():
            names = (str(acct["_account_id"]), acct.get("username"), acct.get("email"))
            if any(n is not None and n.casefold() == wanted for n in names):
                return acct
            if (acct.get("name") or "").casefold() == wanted:
                return acct
        return None

    def find_group(self, key: str) -> Json | None:
        return next((g for g in self.groups if key in (g["id"], g["name"])), None)

    def find_changes(self, key: str) -> list[ChangeData]:
        """Changes a change id names: number, Change-Id, or project~branch~Change-Id."""
        from urllib.parse import unquote

        if key.isdigit():
            found = self.changes.get(int(key))
            return [found] if found else []
        if "~" in key:
            parts = key.split("~")
            if len(parts) != 3:
                return []
            project, branch, cid = (unquote(p) for p in parts)
            branch = branch.removeprefix("refs/heads/")
            return [
                c
                for c in self.changes.values()
                if (c.project, c.branch, c.change_id) == (project, branch, cid)
            ]
        return [c for c in self.changes.values() if c.change_id == key]

    # -- rendering ------------------------------------------------------------------------

    def account_info(self, account_id: int, detailed: bool = True) -> Json:
        """AccountInfo (``name`` only unless DETAILED_ACCOUNTS)."""
        acct = self.accounts[account_id]
        if not detailed:
            return {"name": acct["name"]}
        return {k: acct[k] for k in ("_account_id", "name", "email", "username") if k in acct}

    def permitted_range(self, label: str, account_id: int | None) -> list[int]:
        """The votes ``account_id`` may give on ``label``: the whole range when signed in."""
        return sorted(self.labels[label]) if account_id is not None else []
