"""The freedesktop Patchwork simulator's in-memory data and its renderings (JSON and mbox).

Series are stored with their revisions; what the API derives from them — ``version``,
``n_patches``, ``test_state``, ``state_summary`` — is computed when rendering, as the fork
computes it from the latest revision.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from adapters.simclock import SimClock

Record = dict[str, Any]

STATE_NAMES = {
    1: "New",
    2: "Under Review",
    3: "Accepted",
    4: "Rejected",
    5: "RFC",
    6: "Not Applicable",
    7: "Changes Requested",
    8: "Awaiting Upstream",
    9: "Superseded",
    10: "Deferred",
}
FINAL_STATES = frozenset({3, 4, 6, 9})
# How a revision's results combine into its test state: the fork's
# ``SeriesRevision.refresh_test_state`` keeps the highest ``TestState`` value among them, and
# those run pending (0) < info < success < warning < failure (4): a pending result under a
# success leaves "success".
TEST_SEVERITY = ("pending", "info", "success", "warning", "failure")
TEST_STATES = frozenset(TEST_SEVERITY)
POST_STATES = ("pending", "success", "warning", "failure")


def parse_time(value: str) -> datetime:
    """A naive ISO 8601 timestamp."""
    return datetime.fromisoformat(value)


def format_time(value: datetime) -> str:
    """Naive ISO 8601 with microseconds when there are any (as Django REST framework does)."""
    return value.isoformat()


@dataclass
class FdoData:
    """Everything the simulated server knows."""

    projects: list[Record]
    people: dict[int, Record]
    users: list[Record]
    series: dict[int, Record]
    patches: dict[int, Record]
    events: list[Record]
    # What the API does not show of a patch's mail but its mbox carries: patch id →
    # {"msgid": "<…>", "message": commit message} (seed key "mails", optional).
    mails: dict[int, Record] = field(default_factory=dict)
    # The present, forward only, after every seeded time (adapters/simclock.py).
    clock: SimClock = field(default_factory=lambda: SimClock(timedelta(milliseconds=1)))
    clock_started: bool = False

    @classmethod
    def from_seed(cls) -> FdoData:
        """The data built from the API document's examples (see ``seed/README.md``)."""
        text = (
            resources.files("adapters.patchwork_fdo.simulator")
            .joinpath("seed/seed.json")
            .read_text()
        )
        seed = json.loads(text)
        return cls(
            projects=seed["projects"],
            people={p["id"]: p for p in seed["people"]},
            users=seed["users"],
            series={s["id"]: s for s in seed["series"]},
            patches={p["id"]: p for p in seed["patches"]},
            events=sorted(seed["events"], key=lambda e: e["event_time"]),
            mails={m["patch"]: m for m in seed.get("mails", [])},
        )

    @classmethod
    def generated(cls, count: int = 12) -> FdoData:
        """The seed plus ``count`` generated series on intel-gfx with 1–3 revisions each.

        Every third series gets test results on its latest revision; every series gets one
        ``series-new-revision`` event per revision, and pairs of events share an
        ``event_time`` so that polling meets equal timestamps at boundaries.
        """
        data = cls.from_seed()
        start = datetime(2017, 1, 2, 9, 0, 0)
        next_patch = 1000
        for n in range(count):
            submitted = start + timedelta(hours=n)
            revisions = []
            for version in range(1, 2 + n % 3):
                ids = data._generated_patches(n, version, submitted, next_patch)
                next_patch += len(ids)
                revisions.append(_generated_revision(n, version, submitted, ids))
                # Series 2k and 2k+1 publish their revisions at the same microsecond.
                when = start + timedelta(days=version - 1, hours=(n // 2) * 2, microseconds=123456)
                data.events.append(
                    {
                        "project": 1,
                        "name": "series-new-revision",
                        "event_time": format_time(when),
                        "series": 1000 + n,
                        "patch": None,
                        "user": None,
                        "parameters": {"revision": version},
                    }
                )
            data.series[1000 + n] = {
                "id": 1000 + n,
                "project": 1,
                "name": f"drm/i915: generated series {n}",
                "submitter": GENERATED_SUBMITTERS[n % 4],
                "submitted": format_time(submitted),
                "last_updated": format_time(submitted + timedelta(days=len(revisions))),
                "reviewer": (None, 77)[n % 2],
                "state": ("initial", "in progress", "done", "incomplete")[n % 4],
                "revisions": revisions,
            }
        data.events.sort(key=lambda e: e["event_time"])
        return data

    def _generated_patches(
        self, n: int, version: int, submitted: datetime, first: int
    ) -> list[int]:
        """Generated series ``n``'s patches of revision ``version``, ids from ``first``."""
        ids = []
        total = 2 + n % 2
        for i in range(1, 3 + n % 2):
            pid = first + i - 1
            ids.append(pid)
            self.patches[pid] = {
                "id": pid,
                "project": 1,
                "name": f"[v{version},{i}/{total}] drm/i915: generated change {n}.{i}",
                "date": format_time(submitted + timedelta(days=version - 1, seconds=i)),
                "last_updated": format_time(submitted + timedelta(days=version)),
                "submitter": GENERATED_SUBMITTERS[n % 4],
                "state": 9 if version < 1 + n % 3 else (1, 2, 3, 7)[n % 4],
                "content": f"diff --git a/gen{n}.c b/gen{n}.c\n+/* v{version} */\n",
            }
        return ids

    def copy(self) -> FdoData:
        """An independent deep copy (tests mutate their own)."""
        return copy.deepcopy(self)

    # -- lookups -------------------------------------------------------------------------

    def project(self, key: str) -> Record | None:
        """A project by id or link name."""
        for p in self.projects:
            if str(p["id"]) == key or p["linkname"] == key:
                return p
        return None

    def revision(self, series: Record, version: int) -> Record | None:
        """One revision of a series."""
        return next((r for r in series["revisions"] if r["version"] == version), None)

    def now(self) -> str:
        """The server clock: distinct, ordered times from the present on (a millisecond apart
        at least), newer than every seeded event, series and patch."""
        if not self.clock_started:
            self.clock_started = True
            for event in self.events:
                self.clock.advance_past(parse_time(event["event_time"]))
            for series in self.series.values():
                self.clock.advance_past(parse_time(series["last_updated"]))
            for patch in self.patches.values():
                if patch.get("last_updated"):
                    self.clock.advance_past(parse_time(patch["last_updated"]))
        return format_time(self.clock.now_naive())

    # -- renderings ----------------------------------------------------------------------

    def test_state(self, revision: Record) -> str | None:
        """The worst state among a revision's results (``None`` without any)."""
        states = [r["state"] for r in revision.get("test_results", [])]
        if not states:
            return None
        worst: str = max(states, key=TEST_SEVERITY.index)
        return worst

    def render_series(self, s: Record) -> Record:
        """A series as the API renders it, list item and detail alike."""
        latest = s["revisions"][-1]
        summary: dict[int, int] = {}
        for pid in latest["patches"]:
            state = self.patches[pid]["state"]
            summary[state] = summary.get(state, 0) + 1
        return {
            "id": s["id"],
            "project": s["project"],
            "name": s["name"],
            "n_patches": len(latest["patches"]),
            "submitter": s["submitter"],
            "submitted": s["submitted"],
            "last_updated": s["last_updated"],
            "version": latest["version"],
            "reviewer": s["reviewer"],
            "test_state": self.test_state(latest),
            "state": s["state"],
            "state_summary": [
                {"count": n, "name": STATE_NAMES.get(k, str(k)), "final": k in FINAL_STATES}
                for k, n in sorted(summary.items())
            ],
        }

    def render_revision(self, r: Record) -> Record:
        """A revision as the API renders it: patches as ids."""
        return {"version": r["version"], "cover_letter": r["cover_letter"], "patches": r["patches"]}

    def render_event(self, e: Record) -> Record:
        """An event without the simulator's own ``project`` key."""
        return {k: v for k, v in e.items() if k != "project"}

    def mbox(self, patch_ids: list[int], link: str | None, base_url: str) -> str:
        """Patches as an mbox for ``git am``; ``link`` adds ``<link>: <patch URL>``."""
        out = []
        for pid in patch_ids:
            p = self.patches[pid]
            person = self.people.get(p["submitter"], {"name": "Unknown", "email": "unknown@"})
            date = parse_time(p["date"]).strftime("%a, %d %b %Y %H:%M:%S +0000")
            # A seed patch may keep its mail's commit message and Message-Id (``mails``): the
            # fork's mbox is the mail for `git am` (patchwork-fdo API 1.0, "patches/<id>/mbox/"),
            # built like upstream Patchwork 1.x's patch_to_mbox, Message-Id header included.
            mail = self.mails.get(pid, {})
            body = (mail.get("message") or p["name"]).rstrip("\n") + "\n"
            if link:
                body += f"\n{link}: {base_url}/patch/{pid}/\n"
            msgid = f"Message-Id: {mail['msgid']}\n" if mail.get("msgid") else ""
            out.append(
                f"From patchwork Mon Sep 17 00:00:00 2001\n"
                f"From: {person['name']} <{person['email']}>\n"
                f"Date: {date}\n"
                f"Subject: [PATCH] {p['name']}\n"
                f"{msgid}"
                f"X-Patchwork-Id: {pid}\n\n"
                f"{body}---\n{p['content']}\n"
            )
        return "\n".join(out)


GENERATED_SUBMITTERS = (1, 10, 21, 77)


def _generated_revision(n: int, version: int, submitted: datetime, ids: list[int]) -> Record:
    """Revision ``version`` of generated series ``n``: every third series' latest revision
    carries a test result."""
    results = []
    if n % 3 == 0 and version == 1 + n % 3:
        results = [
            {
                "date": format_time(submitted + timedelta(days=version, minutes=5)),
                "state": ("success", "failure", "warning", "pending")[n % 4],
                "summary": f"generated run {n}",
                "test_name": "Fi.CI.BAT",
                "url": f"http://ci.example.com/runs/{n}/",
            }
        ]
    return {
        "version": version,
        "cover_letter": f"Generated series {n}, v{version}." if n % 2 else None,
        "patches": ids,
        "test_results": results,
    }
