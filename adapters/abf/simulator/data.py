"""The ABF simulator's in-memory world: users, groups, projects, branches, pull requests.

Built from the document's examples (``seed/``) plus deterministic generated data; the
queries here follow rosa-build's ``Api::V1::PullRequestsController`` (which projects each
list covers, the ``filter``/``status``/``assignee``/``sort``/``direction``/``since`` rules).
Shapes are rendered by ``render.py``.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.simclock import SimClock

SEED = Path(__file__).with_name("seed")
TOKEN = "abf" * 8  # user 1's API token, sent as the basic-auth login
BASE_TIME = 1348168705
CLOSED_STATES = frozenset({"merged", "closed"})


def _int(value: Any) -> int | None:
    text = str(value if value is not None else "")
    return int(text) if text.isdigit() else None


def sha(*parts: object) -> str:
    """A deterministic fake git sha."""
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


@dataclass
class User:
    id: int
    uname: str
    name: str
    email: str
    password: str
    created_at: int = BASE_TIME - 86400 * 400


@dataclass
class Group:
    id: int
    uname: str
    description: str
    owner: int
    members: set[int] = field(default_factory=set)
    created_at: int = BASE_TIME - 86400 * 300


@dataclass
class Project:
    id: int
    name: str
    owner_type: str  # "User" or "Group"
    owner_id: int
    maintainer: int
    members: set[int] = field(default_factory=set)
    visibility: str = "open"
    description: str = ""
    refs: dict[str, str] = field(default_factory=dict)
    created_at: int = BASE_TIME - 86400 * 200


@dataclass
class Pull:
    db_id: int  # rosa-build's pull_requests.id, what the real server answers writes with
    project: int
    number: int
    title: str
    body: str
    status: str
    owner: int
    to_ref: str
    from_ref: str
    from_project: int
    created_at: int
    updated_at: int
    assignee: int | None = None
    closed_at: int | None = None
    closer: int | None = None
    commits: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class BuildList:
    """A build task (rosa-build's ``build_lists`` row); the simulator builds nothing."""

    id: int
    project: int
    user: int
    arch_id: int
    platform_id: int  # build_for_platform
    repository_id: int  # save_to_repository
    status: int
    commit_hash: str
    created_at: int
    updated_at: int
    duration: int | None = None
    update_type: str = "bugfix"
    priority: int = 0
    include_repos: list[int] = field(default_factory=list)


# rosa-build's BuildList status codes (app/models/build_list.rb) and the words
# abf-console-client prints for them.
BUILD_STATUSES = {
    0: "build complete",
    666: "build error",
    2000: "build pending",
    3000: "build started",
    5000: "build canceled",
    6000: "build has been published",
    8000: "publishing error",
}


@dataclass
class AbfData:
    """Everything a simulator serves; mutated by writes."""

    users: dict[int, User] = field(default_factory=dict)
    groups: dict[int, Group] = field(default_factory=dict)
    projects: dict[int, Project] = field(default_factory=dict)
    pulls: dict[tuple[int, int], Pull] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    build_lists: dict[int, BuildList] = field(default_factory=dict)
    # The present, forward only, after every seeded time (adapters/simclock.py).
    clock: SimClock = field(default_factory=lambda: SimClock(timedelta(seconds=1)))
    clock_started: bool = False
    next_db_id: int = 4000

    # -- building -----------------------------------------------------------------------

    @classmethod
    def from_seed(cls, generated: int = 40) -> AbfData:
        """The document's examples plus ``generated`` generated pull requests."""
        data = cls()
        show = json.loads((SEED / "doc_show.json").read_text())["pull_request"]
        maint = show["to_ref"]["project"]["maintainer"]
        data.users[1] = User(1, maint["uname"], maint["name"], maint["email"].strip(), "secret")
        data.users[2] = User(2, "petr", "Petr Petrov", "petr@example.org", "petr")
        data.users[3] = User(3, "olga", "Olga Ivanova", "olga@example.org", "olga")
        data.tokens[TOKEN] = 1
        data.groups[3] = Group(3, "abf", "ABF maintainers", owner=1, members={1, 2})
        data.groups[4] = Group(4, "rosa", "ROSA packagers", owner=3, members={3})
        to_ref, from_ref = show["to_ref"], show["from_ref"]
        project = Project(
            id=int(to_ref["project"]["id"]),
            name=to_ref["project"]["name"],
            owner_type="Group",
            owner_id=3,
            maintainer=1,
            members={1},
            description="Evil tools",
            refs={"master": sha(666, "master"), to_ref["ref"]: to_ref["sha"]},
        )
        project.refs[from_ref["ref"]] = sha(666, from_ref["ref"])  # the example's shas are equal
        data.projects[project.id] = project
        pull = Pull(
            db_id=data._db_id(),
            project=project.id,
            number=int(show["number"]),
            title=show["title"],
            body=show["body"],
            status=show["status"],
            owner=int(show["owner"]["id"]),
            to_ref=to_ref["ref"],
            from_ref=from_ref["ref"],
            from_project=project.id,
            created_at=int(show["created_at"]),
            updated_at=int(show["updated_at"]),
            assignee=int(show["assignee"]["id"]),
            commits=json.loads((SEED / "doc_commits.json").read_text())["commits"],
            files=json.loads((SEED / "doc_files.json").read_text())["files"],
        )
        data.pulls[(project.id, pull.number)] = pull
        data._generate(generated)
        return data

    def _db_id(self) -> int:
        self.next_db_id += 1
        return self.next_db_id

    def tick(self) -> int:
        """The simulator's clock: strictly increasing Unix seconds from the present on, newer
        than every seeded or generated pull request (``updated_at`` never goes backwards)."""
        if not self.clock_started:
            self.clock_started = True
            for pull in self.pulls.values():
                self.clock.advance_past(datetime.fromtimestamp(pull.updated_at, UTC))
        return self.clock.now_seconds()

    def _generate(self, count: int) -> None:
        rng = random.Random(20120920)
        self.projects[667] = Project(667, "hwinfo", "User", 2, 2, members={2, 1}, refs={})
        self.projects[668] = Project(668, "kernel", "Group", 4, 3, members={3, 1}, refs={})
        self.projects[700] = Project(
            700, "secret", "User", 3, 3, members={3}, visibility="hidden", refs={}
        )
        for p in self.projects.values():
            for branch in ("master", "devel", "feature", "conflict", "stale"):
                p.refs.setdefault(branch, sha(p.id, branch))
        statuses = ["open", "ready", "ready", "blocked", "already", "merged", "closed"]
        numbers: dict[int, int] = {666: 11, 667: 0, 668: 0, 700: 0}
        targets = [666, 666, 667, 668, 700]
        for i in range(count):
            project = targets[i % len(targets)]
            numbers[project] += 1
            number = numbers[project]
            # Cycle lengths 7, 4 and 5 (targets) are coprime: every project gets every
            # status with and without an assignee.
            status = statuses[i % len(statuses)]
            created = BASE_TIME + 3600 * (i + 1)
            updated = created + rng.randrange(1, 86400)
            pull = Pull(
                db_id=self._db_id(),
                project=project,
                number=number,
                title=f"Generated change {i + 1}",
                body=f"Body of generated change {i + 1}." if i % 3 else "",
                status=status,
                owner=rng.choice([1, 2, 3]),
                to_ref="master",
                from_ref=rng.choice(["devel", "feature"]),
                from_project=project,
                created_at=created,
                updated_at=updated,
                assignee=[None, 1, 2, 3][i % 4],
            )
            if status in CLOSED_STATES:
                pull.closed_at, pull.closer = updated, 1
            pull.commits = [self._commit(pull, k) for k in range(1 + i % 3)]
            pull.files = [self._file(pull, k, rng) for k in range(1 + i % 2)]
            self.pulls[(project, number)] = pull
        self._generate_build_lists(rng)

    def _generate_build_lists(self, rng: random.Random) -> None:
        """Build lists of every project over every status, arch and build platform (ids from
        rosa-build's sequence range so they never look like pull request numbers)."""
        codes = list(BUILD_STATUSES)
        for i in range(24):
            project = sorted(self.projects)[i % len(self.projects)]
            platform = 1 + i % 2  # cooker, rock: the main platforms one builds for
            created = BASE_TIME + 1800 * (i + 1)
            status = codes[i % len(codes)]
            self.build_lists[100 + i] = BuildList(
                id=100 + i,
                project=project,
                user=self.projects[project].maintainer,
                arch_id=1 + i % 3,
                platform_id=platform,
                repository_id=platform * 10,
                status=status,
                commit_hash=sha(project, "build", i),
                created_at=created,
                updated_at=created + rng.randrange(60, 7200),
                duration=None if status in (2000, 3000) else 60 + 37 * i,
                include_repos=[platform * 10],
            )

    def _commit(self, pull: Pull, k: int) -> dict[str, Any]:
        digest = sha(pull.project, pull.number, "commit", k)
        parent = sha(pull.project, pull.number, "commit", k - 1) if k else sha(pull.project, "m")
        author = self.users[pull.owner]
        when = str(pull.created_at - 600 + 60 * k)
        person = {"name": author.name, "email": author.email, "date": when}
        return {
            "sha": digest,
            "https_url": f"commit/{digest}",
            "author": person,
            "committer": dict(person),
            "message": f"{pull.title}: part {k + 1}",
            "tree": {"sha": digest, "https_url": f"tree/{digest}"},
            "parents": [{"sha": parent, "https_url": f"commit/{parent}"}],
        }

    def _file(self, pull: Pull, k: int, rng: random.Random) -> dict[str, Any]:
        additions, deletions = rng.randrange(0, 80), rng.randrange(0, 40)
        return {
            "sha": sha(pull.project, pull.number, "file", k),
            "filename": f"src/module{k}.c",
            "status": "added" if k else "modified",
            "additions": str(additions),
            "deletions": str(deletions),
            "changes": str(additions + deletions),
            "blob_https_url": f"blob/master/src/module{k}.c",
            "raw_https_url": f"raw/master/src/module{k}.c",
        }

    # -- access -------------------------------------------------------------------------

    def authenticate(self, login: str, password: str) -> User | None:
        """A user by token (as the login, any password) or by uname/email and password."""
        if login in self.tokens:
            return self.users[self.tokens[login]]
        for u in self.users.values():
            if login in (u.uname, u.email) and password == u.password:
                return u
        return None

    def fullname(self, p: Project) -> str:
        owner = self.users[p.owner_id].uname if p.owner_type == "User" else None
        return f"{owner or self.groups[p.owner_id].uname}/{p.name}"

    def is_member(self, user: User, p: Project) -> bool:
        """Write access: direct member, owner, or member of the owning group."""
        if user.id in p.members or (p.owner_type == "User" and p.owner_id == user.id):
            return True
        return p.owner_type == "Group" and user.id in self.groups[p.owner_id].members

    def can_read(self, user: User, p: Project) -> bool:
        return p.visibility == "open" or self.is_member(user, p)

    def find_project(self, name: str, owner: str) -> Project | None:
        for p in self.projects.values():
            if p.name == name and self.fullname(p).split("/")[0] == owner:
                return p
        return None

    # -- lists --------------------------------------------------------------------------

    def scoped_projects(self, user: User, scope: str, group: int | None = None) -> set[int]:
        """The project ids a user-wide list covers (rosa-build's *_index actions)."""
        if scope == "user":
            return {
                p.id
                for p in self.projects.values()
                if user.id in p.members or (p.owner_type == "User" and p.owner_id == user.id)
            }
        membered = {p.id for p in self.projects.values() if self.is_member(user, p)}
        if scope == "group":
            return {
                p.id
                for p in self.projects.values()
                if p.owner_type == "Group" and p.owner_id == group and p.id in membered
            }
        return membered

    def pull_list(
        self,
        user: User,
        projects: set[int],
        query: dict[str, str],
        *,
        user_wide: bool,
        real: bool,
        authored: bool = False,
    ) -> list[Pull]:
        """Pull requests of ``projects`` filtered and ordered as rosa-build does.

        ``authored``: the all-projects list also covers readable projects the user opened
        pull requests on (``filter`` created/all).
        """
        pulls = [p for p in self.pulls.values() if p.project in projects]
        if authored and query.get("filter") in ("created", "all"):
            opened_on = {
                p.project
                for p in self.pulls.values()
                if p.owner == user.id and self.can_read(user, self.projects[p.project])
            }
            pulls = [p for p in self.pulls.values() if p.project in projects | opened_on]
        closed = query.get("status") == "closed"
        pulls = [p for p in pulls if (p.status in CLOSED_STATES) == closed]
        if user_wide:
            flt = query.get("filter")
            if flt == "created":
                pulls = [p for p in pulls if p.owner == user.id]
            elif flt != "all":
                pulls = [p for p in pulls if p.assignee == user.id]
        else:
            assignee = query.get("assignee")
            if assignee == "none":
                pulls = [p for p in pulls if p.assignee is None]
            elif assignee == "*":
                pulls = [p for p in pulls if p.assignee is not None]
            elif assignee:
                pulls = [
                    p for p in pulls if p.assignee and self.users[p.assignee].uname == assignee
                ]
            creator = query.get("creator")
            # rosa-build builds the creator condition but never assigns it: the real server
            # ignores ``creator``. The documented mode applies it.
            if creator and not real:
                pulls = [p for p in pulls if self.users[p.owner].uname == creator]
        since = query.get("since", "")
        if since.isdigit():
            pulls = [p for p in pulls if p.created_at >= int(since)]
        key = "updated_at" if query.get("sort") == "updated" else "created_at"
        reverse = query.get("direction") != "asc"
        pulls.sort(key=lambda p: (getattr(p, key), p.db_id), reverse=reverse)
        return pulls

    # -- writes -------------------------------------------------------------------------

    def create_pull(
        self, user: User, project: Project, d: dict[str, Any]
    ) -> tuple[Pull | None, str]:
        """Open a pull request; ``(None, message)`` when ABF would refuse it."""
        title, body = str(d.get("title") or "").strip(), str(d.get("body") or "")
        to_ref, from_ref = str(d.get("to_ref") or ""), str(d.get("from_ref") or "")
        from_id = _int(d.get("from_project_id"))
        source = self.projects.get(from_id) if from_id is not None else project
        problems = []
        if not title:
            problems.append("Title can't be blank")
        if to_ref not in project.refs:
            problems.append("To ref is invalid")
        if source is None or from_ref not in source.refs:
            problems.append("From ref is invalid")
        if problems:
            return None, "PullRequest has not been created. " + ". ".join(problems)
        assert source is not None
        same_ref = source.id == project.id and from_ref == to_ref
        if same_ref or source.refs[from_ref] == project.refs[to_ref]:
            return None, f"The {to_ref} branch is already up-to-date with {from_ref}"
        number = 1 + max((n for (pid, n) in self.pulls if pid == project.id), default=0)
        now = self.tick()
        assignee = _int(d.get("assignee_id"))
        pull = Pull(
            db_id=self._db_id(),
            project=project.id,
            number=number,
            title=title,
            body=body,
            status="blocked" if "conflict" in from_ref else "ready",
            owner=user.id,
            to_ref=to_ref,
            from_ref=from_ref,
            from_project=source.id,
            created_at=now,
            updated_at=now,
            # Only users with push access can assign; otherwise the assignee is dropped.
            assignee=assignee if assignee in self.users and self.is_member(user, project) else None,
        )
        pull.commits = [self._commit(pull, 0)]
        pull.files = [self._file(pull, 0, random.Random(pull.db_id))]
        self.pulls[(project.id, number)] = pull
        return pull, "PullRequest has been created successfully"

    def update_pull(self, user: User, pull: Pull, d: dict[str, Any], *, real: bool) -> str | None:
        """Apply an update; an error message when ABF would refuse it."""
        if "title" in d and not str(d["title"] or "").strip():
            return "PullRequest has not been updated. Title can't be blank"
        if "title" in d:
            pull.title = str(d["title"]).strip()
        if "body" in d:
            pull.body = str(d["body"] or "")
        project = self.projects[pull.project]
        if "assignee_id" in d and self.is_member(user, project):
            pull.assignee = _int(d["assignee_id"])
        action = {"close": "close", "reopen": "reopen"}
        if not real:
            action["closed"] = "close"  # the documents' spelling
        wanted = action.get(str(d.get("status") or ""))
        now = self.tick()
        if wanted == "close" and pull.status not in CLOSED_STATES:
            pull.status, pull.closed_at, pull.closer = "closed", now, user.id
        elif wanted == "reopen" and pull.status == "closed":
            pull.status, pull.closed_at, pull.closer = "ready", None, None
        pull.updated_at = now
        return None

    def merge_pull(self, user: User, pull: Pull) -> bool:
        """Merge a ready pull request."""
        if pull.status != "ready":
            return False
        now = self.tick()
        pull.status, pull.closed_at, pull.closer, pull.updated_at = "merged", now, user.id, now
        project = self.projects[pull.project]
        project.refs[pull.to_ref] = self.projects[pull.from_project].refs[pull.from_ref]
        return True
