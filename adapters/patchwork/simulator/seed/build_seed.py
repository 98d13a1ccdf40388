"""Regenerate ``seed.json`` and the mbox files from the recorded Patchwork 3.2.1 responses.

Run from the repository root: ``python -m adapters.patchwork.simulator.seed.build_seed``.  Needs the
recordings under ``tests/fixtures/patchwork-3.2.1`` (not shipped with the package).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parents[3] / "tests" / "fixtures" / "patchwork-3.2.1"
MBOX_FILES = {
    "patch-3-mbox.mbox": "patch-3.mbox",
    "patch-3-mbox-series-star.mbox": "patch-3-series.mbox",
    "patch-4-mbox-series-star.mbox": "patch-4-series.mbox",
    "patch-3-raw.txt": "patch-3.diff",
    "cover-mbox.mbox": "cover-2.mbox",
    "series-2-mbox.mbox": "series-2.mbox",
    "bundle-1-mbox.mbox": "bundle-1.mbox",
}
# Not recorded anywhere: plausible values (see README.md).
CHECK_DESCRIPTIONS = {
    3: "Build failed",
    4: "Tests running",
    5: "2 warnings",
    6: "No issues",
    7: "Reported via form",
}
SYNTHETIC_PEOPLE = {17: ("Synthetic Person", "person17@example.org")}


def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def _id(obj: dict[str, Any] | None) -> int | None:
    return None if obj is None else int(obj["id"])


class _Seed:
    """The seed as it is built: people are collected from every record that names one."""

    def __init__(self) -> None:
        self.people: dict[int, dict[str, Any]] = {}
        for name in (
            "v1.3/people-token.json",
            "v1.3-queries/people-basic-auth.json",
            "v1.3-queries/people-q-token.json",
        ):
            for p in _load(name):
                self.people[p["id"]] = {k: v for k, v in p.items() if k != "url"}
        for pid, (name, email) in SYNTHETIC_PEOPLE.items():
            self.people[pid] = {"id": pid, "name": name, "email": email, "user": None}

    def person(self, obj: dict[str, Any]) -> int:
        pid = int(obj["id"])
        self.people.setdefault(
            pid, {"id": pid, "name": obj["name"], "email": obj["email"], "user": None}
        )
        return pid

    def patches(self) -> list[dict[str, Any]]:
        detail3 = _load("v1.3/patch-3.json")
        patches = []
        for p in _load("v1.3/patches.json"):
            rec = {
                "id": p["id"],
                "project": p["project"]["id"],
                "msgid": p["msgid"],
                "date": p["date"],
                "name": p["name"],
                "commit_ref": p["commit_ref"],
                "pull_url": p["pull_url"],
                "state": p["state"],
                "archived": p["archived"],
                "hash": p["hash"],
                "submitter": self.person(p["submitter"]),
                "delegate": _id(p["delegate"]),
                "series": [s["id"] for s in p["series"]],
                "related": [r["id"] for r in p["related"]],
            }
            if p["id"] == detail3["id"]:
                for key in ("headers", "content", "diff", "prefixes"):
                    rec[key] = detail3[key]
            patches.append(rec)
        return patches

    def covers(self) -> list[dict[str, Any]]:
        cover2 = _load("v1.3/cover-2.json")
        covers = []
        for c in _load("v1.3/covers.json"):
            rec = {
                "id": c["id"],
                "project": c["project"]["id"],
                "msgid": c["msgid"],
                "date": c["date"],
                "name": c["name"],
                "submitter": self.person(c["submitter"]),
                "series": [s["id"] for s in c["series"]],
            }
            if c["id"] == cover2["id"]:
                rec["headers"] = cover2["headers"]
                rec["content"] = cover2["content"]
            covers.append(rec)
        return covers

    def series(self) -> list[dict[str, Any]]:
        return [
            {
                "id": s["id"],
                "project": s["project"]["id"],
                "name": s["name"],
                "date": s["date"],
                "submitter": self.person(s["submitter"]),
                "version": s["version"],
                "total": s["total"],
                "received_total": s["received_total"],
                "received_all": s["received_all"],
                "cover_letter": _id(s["cover_letter"]),
                "patches": [p["id"] for p in s["patches"]],
            }
            for s in _load("v1.3/series.json")
        ]

    def comments(self) -> list[dict[str, Any]]:
        comments: list[dict[str, Any]] = []
        for kind, parent, name in (
            ("cover", 2, "v1.3/cover-2-comments.json"),
            ("patch", 3, "v1.3/patch-3-comments.json"),
        ):
            for c in _load(name):
                comments.append(
                    {
                        "kind": kind,
                        "parent": parent,
                        "id": c["id"],
                        "msgid": c["msgid"],
                        "date": c["date"],
                        "subject": c["subject"],
                        "submitter": self.person(c["submitter"]),
                        "content": c["content"],
                        "headers": c["headers"],
                        "addressed": c["addressed"],
                    }
                )
        return comments


def _event(e: dict[str, Any]) -> dict[str, Any]:
    pl = e["payload"]
    event: dict[str, Any] = {
        "id": e["id"],
        "category": e["category"],
        "project": e["project"]["id"],
        "date": e["date"],
        "actor": _id(e["actor"]),
    }
    for key in ("patch", "series", "cover", "comment", "check"):
        if key in pl:
            event[key] = _id(pl[key])
    for key in ("previous_state", "current_state"):
        if key in pl:
            event[key] = pl[key]
    for key in ("previous_delegate", "current_delegate"):
        if key in pl:
            event[key] = _id(pl[key])
    return event


def _events(
    comments: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The events, and the checks they created; a comment only an event names is added to
    ``comments`` (synthetic: the recordings have no body for it)."""
    known = {(c["kind"], c["id"]) for c in comments}
    checks = {c["id"]: c for c in _load("v1.3/patch-3-checks.json")}
    events, out_checks = [], []
    for e in sorted(_load("v1.3/events.json"), key=lambda e: e["id"]):
        pl = e["payload"]
        events.append(_event(e))
        if "comment" in pl:
            kind = "patch" if "patch" in pl else "cover"
            if (kind, pl["comment"]["id"]) not in known:
                parent = pl["patch"] if kind == "patch" else pl["cover"]
                comments.append(
                    {
                        "kind": kind,
                        "parent": parent["id"],
                        "id": pl["comment"]["id"],
                        "msgid": pl["comment"]["msgid"],
                        "date": pl["comment"]["date"],
                        "synthetic": True,
                    }
                )
        if e["category"] == "check-created":
            chk = pl["check"]
            full = checks.get(chk["id"])
            out_checks.append(
                {
                    "id": chk["id"],
                    "patch": pl["patch"]["id"],
                    "user": full["user"]["id"] if full else _id(e["actor"]),
                    "date": chk["date"],
                    "state": chk["state"],
                    "target_url": chk["target_url"],
                    "context": chk["context"],
                    "description": full["description"] if full else CHECK_DESCRIPTIONS[chk["id"]],
                }
            )
    return events, out_checks


def _projects_and_users() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    projects = [
        {k: v for k, v in p.items() if k != "url"}
        | {"maintainers": [m["id"] for m in p["maintainers"]]}
        for p in _load("v1.3/projects.json")
    ]
    users = _load("v1.3/users-token.json")
    own = _load("v1.3/user-1-token.json")
    for u in users:
        u.pop("url")
        u["settings"] = own["settings"] if u["id"] == own["id"] else dict(own["settings"])
    return projects, users


def _bundles() -> list[dict[str, Any]]:
    return [
        {
            "id": b["id"],
            "project": b["project"]["id"],
            "name": b["name"],
            "owner": b["owner"]["id"],
            "patches": [p["id"] for p in b["patches"]],
            "public": b["public"],
        }
        for b in _load("v1.3/bundles.json")
    ]


def build() -> dict[str, Any]:
    projects, users = _projects_and_users()
    seed = _Seed()
    patches, covers, series = seed.patches(), seed.covers(), seed.series()
    comments = seed.comments()
    events, checks = _events(comments)
    comments.sort(key=lambda c: (c["kind"], c["id"]))
    return {
        "origin": "Patchwork 3.2.1 recordings (tests/fixtures/patchwork-3.2.1), see README.md",
        "projects": projects,
        "people": [seed.people[k] for k in sorted(seed.people)],
        "users": users,
        "tokens": {"a0" * 20: 1, "b0" * 20: 2},
        "passwords": {"admin": "admin", "bot": "bot"},
        "patches": patches,
        "covers": covers,
        "series": series,
        "comments": comments,
        "checks": sorted(checks, key=lambda c: c["id"]),
        "events": events,
        "bundles": _bundles(),
        "options": {"patch-detail": _load("v1.3-queries/patch-3-options-token.json")},
    }


def main() -> None:
    seed = build()
    (HERE / "seed.json").write_text(json.dumps(seed, indent=1, ensure_ascii=False) + "\n")
    mbox_dir = HERE / "mbox"
    mbox_dir.mkdir(exist_ok=True)
    for src, dst in MBOX_FILES.items():
        shutil.copyfile(FIXTURES / "mbox" / src, mbox_dir / dst)


if __name__ == "__main__":
    main()
