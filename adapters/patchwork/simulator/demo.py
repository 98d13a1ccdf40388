"""The demo's data for upstream Patchwork: the recorded seed plus the demo timeline.

The recorded 3.2.1 data stays as it is (``PatchworkData.from_seed()`` for the replay and
fidelity tests); ``demo_data()`` adds Ada Lovelace and the twin series (``adapters/demo``)
to the Linux Netdev project: a cover letter and two patches whose content carries the
``Change-Id:`` trailers and whose diffs are git's, CI checks, a reviewer's reply, and the first
patch accepted with its ``commit_ref`` = the sha Gerrit merged. Every time is relative to the
moment the data is built, so ``changes`` lists the series among the newest.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from adapters.demo import ADA_EMAIL, ADA_NAME, GRACE_EMAIL, GRACE_NAME, moment, naive_now, twin
from adapters.patchwork.simulator.data import PatchworkData, Record, format_date

NETDEV = 2  # the seed's "Linux Netdev" project
ADMIN, BOT = 1, 2  # the seed's users: the maintainer and the CI bot
REVIEWER = 23  # the seed's "Reviewer One"
# The CI bot's checks: (patch number, context, state, description).
CHECKS = [
    (1, "build", "success", "Build OK (x86_64 allmodconfig)"),
    (1, "checkpatch", "success", "total: 0 errors, 0 warnings"),
    (2, "build", "success", "Build OK (x86_64 allmodconfig)"),
    (2, "checkpatch", "warning", "total: 0 errors, 1 warnings, 0 checks"),
]


def demo_data(now: datetime | None = None) -> PatchworkData:
    """The recorded data plus the demo timeline, as of ``now`` (default: the present)."""
    data = PatchworkData.from_seed()
    add_timeline(data, naive_now(now))
    return data


def _at(name: str, now: datetime, seconds: int = 0) -> str:
    return format_date(moment(name, now, seconds))


def add_timeline(data: PatchworkData, now: datetime) -> None:
    """Ada, the twin series on netdev, its checks, a review and the accepted first patch."""
    ada = max(data.people) + 1
    data.people[ada] = {"id": ada, "name": ADA_NAME, "email": ADA_EMAIL, "user": None}
    series_id = _series(data, ada, now)
    first = data.series[series_id]["patches"][0]
    for n, commit in enumerate(twin().commits, 1):
        date = _at("posted", now, seconds=n)
        patch = data._complete_patch(
            {
                "id": first + n - 1,
                "project": NETDEV,
                "msgid": commit.msgid,
                "date": date,
                "name": f"[{n}/2] {commit.subject}",
                "commit_ref": None,
                "pull_url": None,
                "state": "under-review",
                "archived": False,
                "hash": commit.hash,
                "submitter": ada,
                "delegate": ADMIN,
                "series": [series_id],
                "related": [],
            }
        )
        patch["content"], patch["diff"] = commit.content, commit.diff
        data.patches[patch["id"]] = patch
        data.add_event("patch-created", NETDEV, date, patch=patch["id"])
        data.add_event("patch-completed", NETDEV, date, patch=patch["id"], series=series_id)
    data.add_event("series-completed", NETDEV, _at("posted", now, 2), series=series_id)
    _checks(data, first, now)
    _review(data, first + 1, now)
    _neighbour(data, now)
    accepted = data.patches[first]
    accepted["state"], accepted["commit_ref"] = "accepted", twin().commits[0].sha
    data.add_event(
        "patch-state-changed",
        NETDEV,
        _at("merged", now, 60),
        actor=ADMIN,
        patch=first,
        previous_state="under-review",
        current_state="accepted",
    )


def _series(data: PatchworkData, ada: int, now: datetime) -> int:
    """The series and its cover letter (the patches' ids follow the seed's)."""
    t = twin()
    series_id, cover_id = max(data.series) + 1, max(data.covers) + 1
    first = max(data.patches) + 1
    posted = _at("posted", now)
    cover = data._complete_cover(
        {
            "id": cover_id,
            "project": NETDEV,
            "msgid": t.cover_msgid,
            "date": posted,
            "name": f"[0/2] {t.series}",
            "submitter": ada,
            "series": [series_id],
        }
    )
    cover["content"] = t.cover_content
    data.covers[cover_id] = cover
    data.series[series_id] = {
        "id": series_id,
        "project": NETDEV,
        "name": t.series,
        "date": posted,
        "submitter": ada,
        "version": 1,
        "total": 2,
        "received_total": 2,
        "received_all": True,
        "cover_letter": cover_id,
        "patches": [first, first + 1],
    }
    data.add_event("series-created", NETDEV, posted, series=series_id)
    data.add_event("cover-created", NETDEV, posted, cover=cover_id)
    return series_id


def _neighbour(data: PatchworkData, now: datetime) -> None:
    """Grace Hopper's netdev patch of a few hours ago (synthesized content), its build
    failing: recent work that is not Ada's."""
    grace = max(data.people) + 1
    data.people[grace] = {"id": grace, "name": GRACE_NAME, "email": GRACE_EMAIL, "user": None}
    series_id, patch_id = max(data.series) + 1, max(data.patches) + 1
    posted = _at("grace_posted", now)
    title = "net: sched: reset the qdisc backlog with its queue"
    data.series[series_id] = {
        "id": series_id,
        "project": NETDEV,
        "name": title,
        "date": posted,
        "submitter": grace,
        "version": 1,
        "total": 1,
        "received_total": 1,
        "received_all": True,
        "cover_letter": None,
        "patches": [patch_id],
    }
    data.patches[patch_id] = data._complete_patch(
        {
            "id": patch_id,
            "project": NETDEV,
            "msgid": "<20261206-qdisc-backlog-v1-1-grace@example.org>",
            "date": posted,
            "name": f"[net-next] {title}",
            "commit_ref": None,
            "pull_url": None,
            "state": "new",
            "archived": False,
            "hash": hashlib.sha1(title.encode()).hexdigest(),
            "submitter": grace,
            "delegate": None,
            "series": [series_id],
            "related": [],
        }
    )
    data.add_event("series-created", NETDEV, posted, series=series_id)
    data.add_event("patch-created", NETDEV, posted, patch=patch_id)
    data.add_event("patch-completed", NETDEV, posted, patch=patch_id, series=series_id)
    data.add_event("series-completed", NETDEV, posted, series=series_id)
    check_id, checked = max(data.checks) + 1, _at("grace_posted", now, 900)
    data.checks[check_id] = {
        "id": check_id,
        "patch": patch_id,
        "user": BOT,
        "date": checked,
        "state": "fail",
        "target_url": f"https://ci.example.org/netdev/build/{check_id}",
        "context": "build",
        "description": "net/sched/sch_generic.c: error: 'backlog' undeclared",
    }
    data.add_event("check-created", NETDEV, checked, patch=patch_id, check=check_id)


def _checks(data: PatchworkData, first: int, now: datetime) -> None:
    for k, (n, context, state, description) in enumerate(CHECKS):
        check_id = max(data.checks, default=0) + 1
        date = _at("checked", now, seconds=k)
        data.checks[check_id] = {
            "id": check_id,
            "patch": first + n - 1,
            "user": BOT,
            "date": date,
            "state": state,
            "target_url": f"https://ci.example.org/netdev/{context}/{check_id}",
            "context": context,
            "description": description,
        }
        data.add_event("check-created", NETDEV, date, patch=first + n - 1, check=check_id)


def _review(data: PatchworkData, patch_id: int, now: datetime) -> Record:
    comment_id = max([*data.patch_comments, *data.cover_comments], default=0) + 1
    date = _at("reviewed", now)
    comment = data._complete_comment(
        {
            "kind": "patch",
            "parent": patch_id,
            "id": comment_id,
            "msgid": "<a1b2c3d4-review@example.org>",
            "date": date,
            "submitter": REVIEWER,
        }
    )
    reviewer = data.people[REVIEWER]
    comment["content"] = (
        f"> {data.patches[patch_id]['name']}\n\nReading the list before the head is freed is "
        f"the right order.\n\nReviewed-by: {reviewer['name']} <{reviewer['email']}>"
    )
    data.patch_comments[comment_id] = comment
    data.add_event("patch-comment-created", NETDEV, date, patch=patch_id, comment=comment_id)
    return comment
