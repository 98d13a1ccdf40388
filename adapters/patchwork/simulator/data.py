"""In-memory data of the Patchwork simulator: the recorded seed, synthesized detail and mboxes.

Records are plain dicts shaped like the v1.3 API objects, with related objects referenced by id
(``patch["submitter"] == 1``); :mod:`adapters.patchwork.simulator` renders them per API version.
"""

from __future__ import annotations

import copy
import functools
import json
import random
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from adapters.simclock import SimClock

SEED_DIR = Path(__file__).resolve().parent / "seed"

Record = dict[str, Any]

# Patchwork's default states: (id, slug, ordering).
STATES: list[tuple[int, str]] = [
    (1, "new"),
    (2, "under-review"),
    (3, "accepted"),
    (4, "rejected"),
    (5, "rfc"),
    (6, "not-applicable"),
    (7, "changes-requested"),
    (8, "awaiting-upstream"),
    (9, "superseded"),
    (10, "deferred"),
]
STATE_SLUGS = [slug for _, slug in STATES]
CHECK_STATES = ["pending", "success", "warning", "fail"]
DEFAULT_SETTINGS = {"send_email": False, "items_per_page": 100, "show_ids": False}

# Recorded mbox/raw bodies (copied from the recordings, see seed/README.md).
RECORDED_MBOX = {
    ("patch", 3, "mbox", False): "patch-3.mbox",
    ("patch", 3, "mbox", True): "patch-3-series.mbox",
    ("patch", 4, "mbox", True): "patch-4-series.mbox",
    ("patch", 3, "raw", False): "patch-3.diff",
    ("cover", 2, "mbox", False): "cover-2.mbox",
    ("series", 2, "mbox", False): "series-2.mbox",
    ("bundle", 1, "mbox", False): "bundle-1.mbox",
}

_FNAME_RE = re.compile(r"[^-_A-Za-z0-9\.]+")
_PREFIX_RE = re.compile(r"^\s*\[([^\]]*)\]\s*")


@functools.cache
def _seed_text() -> str:
    return (SEED_DIR / "seed.json").read_text(encoding="utf-8")


@functools.cache
def recorded_mbox(name: str) -> bytes:
    """The bytes of a recorded mbox/raw file from ``seed/mbox``."""
    return (SEED_DIR / "mbox" / name).read_bytes()


def parse_date(value: str) -> datetime:
    """A naive UTC datetime from Patchwork's ISO 8601 strings."""
    return datetime.fromisoformat(value)


def format_date(value: datetime) -> str:
    """Patchwork's date format: naive ISO 8601, microseconds only when non-zero."""
    return value.isoformat()


# The wall clock, but never backwards nor twice the same (a step of the system clock must not
# reorder events for a poller asking ``since``): adapters/simclock.py.
_CLOCK = SimClock(timedelta(microseconds=1))


def now_str() -> str:
    return format_date(_CLOCK.now_naive())


def filename(name: str, suffix: str) -> str:
    """Patchwork's download file name for an item name."""
    return _FNAME_RE.sub("-", name).strip("-") + suffix


def split_prefixes(name: str) -> tuple[list[str], str]:
    """``"[v2,1/2] test: foo"`` -> (``["v2", "1/2"]``, ``"test: foo"``)."""
    m = _PREFIX_RE.match(name)
    if not m:
        return [], name
    return [p.strip() for p in m.group(1).split(",") if p.strip()], name[m.end() :]


def rfc2822(date: str) -> str:
    return format_datetime(parse_date(date).replace(tzinfo=UTC))


def strip_msgid(msgid: str) -> str:
    return msgid[1:-1] if msgid.startswith("<") and msgid.endswith(">") else msgid


GENERATED_TOPICS = ["net", "mm", "fs", "sched", "crypto", "docs", "test", "build"]


class PatchworkData:
    """The simulator's in-memory store, keyed by id, plus tokens and passwords for auth."""

    def __init__(self, seed: Record) -> None:
        def by_id(items: list[Record]) -> dict[int, Record]:
            return {int(item["id"]): item for item in items}

        self.projects = by_id(seed["projects"])
        self.people = by_id(seed["people"])
        self.users = by_id(seed["users"])
        self.patches = by_id(seed["patches"])
        self.covers = by_id(seed["covers"])
        self.series = by_id(seed["series"])
        self.patch_comments = by_id([c for c in seed["comments"] if c["kind"] == "patch"])
        self.cover_comments = by_id([c for c in seed["comments"] if c["kind"] == "cover"])
        self.checks = by_id(seed["checks"])
        self._check_index: dict[int, list[Record]] = {}
        self._check_index_size = -1
        self.events = by_id(seed["events"])
        self.bundles = by_id(seed["bundles"])
        self.tokens: dict[str, int] = dict(seed["tokens"])
        self.passwords: dict[str, str] = dict(seed["passwords"])
        self.options: dict[str, Record] = dict(seed.get("options", {}))
        for user in self.users.values():
            user.setdefault("settings", dict(DEFAULT_SETTINGS))
        for patch in self.patches.values():
            self._complete_patch(patch)
        for cover in self.covers.values():
            self._complete_cover(cover)
        for comments in (self.patch_comments, self.cover_comments):
            for comment in comments.values():
                self._complete_comment(comment)

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_seed(cls) -> PatchworkData:
        """The recorded data of the Patchwork 3.2.1 server (a fresh copy each call)."""
        return cls(json.loads(_seed_text()))

    @classmethod
    def generated(cls, patches: int, seed: int = 0) -> PatchworkData:
        """The recorded data plus ``patches`` generated patches in one new project ``generated``.

        Deterministic for a given ``seed``: submitters, series of 1-5 patches (some with a
        cover letter), checks and the matching events.
        """
        data = cls.from_seed()
        rng = random.Random(seed)
        pid = data._generated_project()
        submitters = data._generated_people(max(1, min(20, patches // 5)))
        start = datetime(2024, 1, 1, 9, 0, 0)
        made = 0
        while made < patches:
            size = min(rng.randint(1, 5), patches - made)
            data._generated_series(
                rng, pid, rng.choice(submitters), size, start + timedelta(hours=made)
            )
            made += size
        return data

    def _generated_project(self) -> int:
        pid = max(self.projects) + 1
        self.projects[pid] = {
            "id": pid,
            "name": "Generated",
            "link_name": "generated",
            "list_id": "generated.example.org",
            "list_email": "generated@example.org",
            "web_url": "https://example.org/generated",
            "scm_url": "git://example.org/generated.git",
            "webscm_url": "https://example.org/cgit/generated",
            "maintainers": [1],
            "subject_match": "",
            "list_archive_url": "https://lore.example.org/generated/",
            "list_archive_url_format": "https://lore.example.org/generated/{}/",
            "commit_url_format": "https://example.org/generated/commit/{}",
        }
        return pid

    def _generated_people(self, count: int) -> list[int]:
        submitters = []
        for i in range(count):
            person_id = max(self.people) + 1
            self.people[person_id] = {
                "id": person_id,
                "name": f"Generated Author {i + 1}",
                "email": f"author{i + 1}@generated.example.org",
                "user": None,
            }
            submitters.append(person_id)
        return submitters

    def _generated_series(
        self, rng: random.Random, pid: int, submitter: int, size: int, sdate: datetime
    ) -> None:
        """One series of ``size`` patches (the random draws in the order they always were)."""
        topic = rng.choice(GENERATED_TOPICS)
        version = rng.randint(1, 3)
        series_id = max(self.series) + 1
        title = f"{topic}: generated change set {series_id}"
        cover_id: int | None = None
        vprefix = f"v{version}," if version > 1 else ""
        if size > 1 and rng.random() < 0.5:
            cover_id = max(self.covers) + 1
            self.covers[cover_id] = self._complete_cover(
                {
                    "id": cover_id,
                    "project": pid,
                    "msgid": f"<gen-{series_id}-0@generated.example.org>",
                    "date": format_date(sdate),
                    "name": f"[{vprefix}0/{size}] {title}",
                    "submitter": submitter,
                    "series": [series_id],
                }
            )
        self.series[series_id] = {
            "id": series_id,
            "project": pid,
            "name": title,
            "date": format_date(sdate),
            "submitter": submitter,
            "version": version,
            "total": size,
            "received_total": size,
            "received_all": True,
            "cover_letter": cover_id,
            "patches": [],
        }
        self.add_event("series-created", pid, sdate, series=series_id)
        for n in range(1, size + 1):
            prefix = f"[{vprefix}{n}/{size}] " if size > 1 or version > 1 else ""
            if size == 1 and version > 1:
                prefix = f"[v{version}] "
            self._generated_patch(
                rng, series_id, n, f"{prefix}{topic}", sdate + timedelta(minutes=n)
            )
        self.add_event("series-completed", pid, sdate + timedelta(minutes=size), series=series_id)

    def _generated_patch(
        self, rng: random.Random, series_id: int, n: int, subject: str, pdate: datetime
    ) -> None:
        series = self.series[series_id]
        pid, submitter = series["project"], series["submitter"]
        patch_id = max(self.patches) + 1
        patch = {
            "id": patch_id,
            "project": pid,
            "msgid": f"<gen-{series_id}-{n}@generated.example.org>",
            "date": format_date(pdate),
            "name": f"{subject}: generated change {patch_id}",
            "commit_ref": None,
            "pull_url": None,
            "state": rng.choice(["new", "new", "new", "under-review", "accepted"]),
            "archived": False,
            "hash": f"{rng.getrandbits(160):040x}",
            "submitter": submitter,
            "delegate": 1 if rng.random() < 0.2 else None,
            "series": [series_id],
            "related": [],
        }
        self.patches[patch_id] = self._complete_patch(patch)
        series["patches"].append(patch_id)
        self.add_event("patch-created", pid, pdate, patch=patch_id)
        self.add_event("patch-completed", pid, pdate, patch=patch_id, series=series_id)
        for context in rng.sample(["build", "test", "checkpatch"], rng.randint(0, 3)):
            check_id = max(self.checks, default=0) + 1
            cdate = pdate + timedelta(seconds=30 + check_id % 30)
            self.checks[check_id] = {
                "id": check_id,
                "patch": patch_id,
                "user": 2,
                "date": format_date(cdate),
                "state": rng.choice(CHECK_STATES),
                "target_url": f"https://ci.example.org/{context}/{check_id}",
                "context": context,
                "description": f"{context} run {check_id}",
            }
            self.add_event("check-created", pid, cdate, patch=patch_id, check=check_id)

    def add_event(self, category: str, project: int, date: datetime | str, **refs: Any) -> Record:
        """Append an event; ``refs``: patch/series/cover/comment/check ids, state changes."""
        event_id = max(self.events, default=0) + 1
        event: Record = {
            "id": event_id,
            "category": category,
            "project": project,
            "date": date if isinstance(date, str) else format_date(date),
            "actor": refs.pop("actor", None),
        }
        event.update(refs)
        self.events[event_id] = event
        return event

    # -- synthesized detail -----------------------------------------------------------------

    def _from_header(self, person_id: int) -> str:
        person = self.people[person_id]
        return f"{person['name']} <{person['email']}>" if person["name"] else person["email"]

    def _complete_patch(self, patch: Record) -> Record:
        """Fill headers/content/diff/prefixes of a patch that has none (deterministic)."""
        if "headers" in patch:
            return patch
        project = self.projects[patch["project"]]
        prefixes, title = split_prefixes(patch["name"])
        subject = f"[{' '.join(['PATCH', *prefixes])}] {title}"
        patch["prefixes"] = prefixes
        patch["headers"] = {
            "Return-Path": f"<{self.people[patch['submitter']]['email']}>",
            "From": self._from_header(patch["submitter"]),
            "To": project["list_email"],
            "Subject": subject,
            "Date": rfc2822(patch["date"]),
            "Message-ID": patch["msgid"],
            "List-Id": f"<{project['list_id']}>",
            "MIME-Version": "1.0",
            "Content-Type": "text/plain; charset=UTF-8",
        }
        author = self._from_header(patch["submitter"])
        path = f"src/{title.split(':')[0].strip().replace(' ', '_') or 'file'}.c"
        if patch["pull_url"]:
            patch["content"] = (
                f"Please pull {title}.\n\nThe following changes are available in the Git "
                f"repository at:\n\n  {patch['pull_url']}\n\nSigned-off-by: {author}"
            )
            patch["diff"] = None
            return patch
        patch["content"] = (
            f"{title}\n\nThis change was synthesized by the Patchwork simulator for patch "
            f"{patch['id']}.\n\nSigned-off-by: {author}\n---\n {path} | 2 +-\n"
            " 1 file changed, 1 insertion(+), 1 deletion(-)"
        )
        patch["diff"] = (
            f"diff --git a/{path} b/{path}\n"
            f"index {patch['hash'][:7]}..{patch['hash'][-7:]} 100644\n"
            f"--- a/{path}\n+++ b/{path}\n@@ -1,3 +1,3 @@\n"
            f" /* patch {patch['id']} */\n-int value = 0;\n+int value = {patch['id']};\n"
            " int other;\n"
        )
        return patch

    def _complete_cover(self, cover: Record) -> Record:
        if "headers" in cover:
            return cover
        project = self.projects[cover["project"]]
        prefixes, title = split_prefixes(cover["name"])
        cover["headers"] = {
            "Return-Path": f"<{self.people[cover['submitter']]['email']}>",
            "From": self._from_header(cover["submitter"]),
            "To": project["list_email"],
            "Subject": f"[{' '.join(['PATCH', *prefixes])}] {title}",
            "Date": rfc2822(cover["date"]),
            "Message-ID": cover["msgid"],
            "List-Id": f"<{project['list_id']}>",
            "MIME-Version": "1.0",
            "Content-Type": "text/plain; charset=UTF-8",
        }
        cover["content"] = (
            f"This cover letter for '{title}' was synthesized by the Patchwork simulator.\n"
        )
        return cover

    def _complete_comment(self, comment: Record) -> Record:
        if "headers" in comment:
            return comment
        parent = (self.patches if comment["kind"] == "patch" else self.covers)[comment["parent"]]
        project = self.projects[parent["project"]]
        submitter = comment.get("submitter") or parent["submitter"]
        subject = "Re: " + parent["headers"]["Subject"]
        comment.pop("synthetic", None)
        comment.update(
            {
                "subject": subject,
                "submitter": submitter,
                "content": f"> {parent['name']}\n\nThanks, this comment was synthesized.",
                "headers": {
                    "From": self._from_header(submitter),
                    "To": project["list_email"],
                    "Subject": subject,
                    "Date": rfc2822(comment["date"]),
                    "Message-ID": comment["msgid"],
                    "In-Reply-To": parent["msgid"],
                    "References": parent["msgid"],
                    "MIME-Version": "1.0",
                    "Content-Type": "text/plain; charset=UTF-8",
                },
                "addressed": None,
            }
        )
        return comment

    # -- derived values ----------------------------------------------------------------------

    def combined_check(self, patch_id: int) -> str:
        """Patchwork's combined check state: worst of the newest check per (user, context)."""
        latest: dict[tuple[int, str], Record] = {}
        for check in self._checks_of(patch_id):
            key = (check["user"], check["context"])
            if key not in latest or check["date"] > latest[key]["date"]:
                latest[key] = check
        if not latest:
            return "pending"
        return CHECK_STATES[max(CHECK_STATES.index(c["state"]) for c in latest.values())]

    def _checks_of(self, patch_id: int) -> list[Record]:
        # Checks are only ever added (Patchwork has no check update or delete), so an index
        # rebuilt when the table's size changes stays exact; it keeps list renders O(page)
        # instead of O(page x checks) — the benchmarks' upstream must not be the bottleneck.
        if self._check_index_size != len(self.checks):
            index: dict[int, list[Record]] = {}
            for check in self.checks.values():
                index.setdefault(check["patch"], []).append(check)
            self._check_index, self._check_index_size = index, len(self.checks)
        return self._check_index.get(patch_id, [])

    def copy(self) -> PatchworkData:
        return copy.deepcopy(self)

    # -- mbox -------------------------------------------------------------------------------

    def _message(self, item: Record, kind: str) -> str:
        submitter = self._from_header(item["submitter"])
        date = parse_date(item["date"])
        lines = [
            f"From patchwork {date.strftime('%a %b %d %H:%M:%S %Y')}",
            'Content-Type: text/plain; charset="utf-8"',
            "MIME-Version: 1.0",
            "Content-Transfer-Encoding: 7bit",
            f"X-Patchwork-Submitter: {submitter}",
            f"X-Patchwork-Id: {item['id']}",
        ]
        if kind == "patch" and item["delegate"] is not None:
            lines.append(f"X-Patchwork-Delegate: {self.users[item['delegate']]['email']}")
        lines += [f"{k}: {v}" for k, v in item["headers"].items()]
        body = item["content"] or ""
        if kind == "patch" and item.get("diff"):
            body = f"{body}\n\n{item['diff']}"
        return "\n".join(lines) + "\n\n" + body.rstrip("\n") + "\n\n"

    def patch_mbox(self, patch_id: int, with_series: bool = False) -> bytes:
        key = ("patch", patch_id, "mbox", with_series)
        if key in RECORDED_MBOX:
            return recorded_mbox(RECORDED_MBOX[key])
        patch = self.patches[patch_id]
        text = ""
        if with_series and patch["series"]:
            for other in self.series[patch["series"][0]]["patches"]:
                if other == patch_id:
                    break
                text += self._message(self.patches[other], "patch")
        return (text + self._message(patch, "patch")).encode()

    def patch_raw(self, patch_id: int) -> bytes:
        key = ("patch", patch_id, "raw", False)
        if key in RECORDED_MBOX:
            return recorded_mbox(RECORDED_MBOX[key])
        return (self.patches[patch_id].get("diff") or "").encode()

    def cover_mbox(self, cover_id: int) -> bytes:
        key = ("cover", cover_id, "mbox", False)
        if key in RECORDED_MBOX:
            return recorded_mbox(RECORDED_MBOX[key])
        return self._message(self.covers[cover_id], "cover").encode()

    def series_mbox(self, series_id: int) -> bytes:
        key = ("series", series_id, "mbox", False)
        if key in RECORDED_MBOX:
            return recorded_mbox(RECORDED_MBOX[key])
        series = self.series[series_id]
        return "".join(self._message(self.patches[p], "patch") for p in series["patches"]).encode()

    def bundle_mbox(self, bundle_id: int) -> bytes:
        key = ("bundle", bundle_id, "mbox", False)
        if key in RECORDED_MBOX:
            return recorded_mbox(RECORDED_MBOX[key])
        bundle = self.bundles[bundle_id]
        return "".join(self._message(self.patches[p], "patch") for p in bundle["patches"]).encode()
