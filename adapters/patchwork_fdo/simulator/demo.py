"""The demo's data for the freedesktop Patchwork fork: the generated data plus the timeline.

``demo_data()`` adds Ada Lovelace (a person with her email, and a user ``ada``), a ``netdev``
project, and the twin series (``adapters/demo``) posted there: one revision of two patches
whose content is git's diff of each commit, two CI test results on the revision, the
``series-new-revision`` and ``patch-state-change`` events, and the first patch accepted.
"""

from __future__ import annotations

from datetime import datetime

from adapters.demo import (
    ADA_EMAIL,
    ADA_NAME,
    ADA_PASSWORD,
    ADA_USERNAME,
    moment,
    naive_now,
    twin,
)
from adapters.patchwork_fdo.simulator.data import FdoData, Record, format_time

ADA = 100
NETDEV = 4
SERIES = 2000
FIRST_PATCH = 3000
DEMO_SERIES = 12  # generated series under the timeline (what `revgate demo` always served)
ADA_TOKEN = "ada0" * 10


def demo_data(now: datetime | None = None, generated: int = DEMO_SERIES) -> FdoData:
    """``FdoData.generated(generated)`` plus the demo timeline as of ``now``."""
    data = FdoData.generated(generated)
    add_timeline(data, naive_now(now))
    return data


def _at(name: str, now: datetime, seconds: int = 0) -> str:
    return format_time(moment(name, now, seconds))


def add_timeline(data: FdoData, now: datetime) -> None:
    """Ada, the netdev project and the twin series with its test results and events."""
    t = twin()
    data.people[ADA] = {"id": ADA, "name": ADA_NAME, "email": ADA_EMAIL}
    data.users.append(
        {
            "username": ADA_USERNAME,
            "password": ADA_PASSWORD,
            "token": ADA_TOKEN,
            "person": ADA,
            "maintainer": False,
        }
    )
    data.projects.append(
        {
            "id": NETDEV,
            "name": "netdev",
            "linkname": "netdev",
            "listemail": "netdev@vger.kernel.org",
            "web_url": "",
            "scm_url": "git://git.kernel.org/pub/scm/linux/kernel/git/netdev/net.git",
            "webscm_url": "",
        }
    )
    posted = _at("posted", now, 300)  # cross-posted a few minutes after netdev's copy
    ids = []
    for n, commit in enumerate(t.commits, 1):
        pid = FIRST_PATCH + n - 1
        ids.append(pid)
        data.patches[pid] = {
            "id": pid,
            "project": NETDEV,
            "name": f"[{n}/2] {commit.subject}",
            "date": _at("posted", now, 300 + n),
            "last_updated": _at("merged", now, 120) if n == 1 else _at("posted", now, 300 + n),
            "submitter": ADA,
            "state": 3 if n == 1 else 2,  # Accepted, Under Review
            "content": commit.diff,
        }
        # the same mail, cross-posted: its Message-Id and trailers reach the fork's mbox
        data.mails[pid] = {"patch": pid, "msgid": commit.msgid, "message": commit.content}
    results = [_result("Fi.CI.BAT", "checked", now, "success", "Build and boot: no regressions")]
    results.append(_result("Fi.CI.IGT", "tested", now, "success", "IGT: 0 regressions, 2 fixes"))
    data.series[SERIES] = {
        "id": SERIES,
        "project": NETDEV,
        "name": t.series,
        "submitter": ADA,
        "submitted": posted,
        "last_updated": results[-1]["date"],
        "reviewer": None,
        "state": "in progress",
        "revisions": [
            {"version": 1, "cover_letter": t.cover_content, "patches": ids, "test_results": results}
        ],
    }
    _events(data, now, posted)
    _neighbour(data, now)


VIC, INTEL_GFX = 77, 1  # the seed's Vic Vma and intel-gfx


def _neighbour(data: FdoData, now: datetime) -> None:
    """Vic Vma's intel-gfx series of a few hours ago, whose CI run fails: recent work that
    is not Ada's."""
    pid, posted = FIRST_PATCH + 2, _at("vic_posted", now)
    name = "drm/i915: release the GuC log relay on driver unload"
    data.patches[pid] = {
        "id": pid,
        "project": INTEL_GFX,
        "name": name,
        "date": posted,
        "last_updated": posted,
        "submitter": VIC,
        "state": 1,  # New
        "content": "diff --git a/drivers/gpu/drm/i915/gt/uc/intel_guc_log.c "
        "b/drivers/gpu/drm/i915/gt/uc/intel_guc_log.c\n+\tintel_guc_log_relay_close(log);\n",
    }
    result = {
        "date": _at("vic_posted", now, 3600),
        "state": "failure",
        "summary": "Possible regressions: igt@i915_module_load@reload",
        "test_name": "Fi.CI.BAT",
        "url": f"https://intel-gfx-ci.example.org/series/{SERIES + 1}/",
    }
    data.series[SERIES + 1] = {
        "id": SERIES + 1,
        "project": INTEL_GFX,
        "name": name,
        "submitter": VIC,
        "submitted": posted,
        "last_updated": result["date"],
        "reviewer": None,
        "state": "initial",
        "revisions": [
            {"version": 1, "cover_letter": None, "patches": [pid], "test_results": [result]}
        ],
    }
    data.events.append(
        {
            "project": INTEL_GFX,
            "name": "series-new-revision",
            "event_time": posted,
            "series": SERIES + 1,
            "patch": None,
            "user": None,
            "parameters": {"revision": 1},
        }
    )
    data.events.sort(key=lambda e: e["event_time"])


def _result(name: str, when: str, now: datetime, state: str, summary: str) -> Record:
    return {
        "date": _at(when, now),
        "state": state,
        "summary": summary,
        "test_name": name,
        "url": f"https://intel-gfx-ci.example.org/netdev/{SERIES}/{name}/",
    }


def _events(data: FdoData, now: datetime, posted: str) -> None:
    data.events.append(
        {
            "project": NETDEV,
            "name": "series-new-revision",
            "event_time": posted,
            "series": SERIES,
            "patch": None,
            "user": None,
            "parameters": {"revision": 1},
        }
    )
    data.events.append(
        {
            "project": NETDEV,
            "name": "patch-state-change",
            "event_time": _at("merged", now, 120),
            "series": SERIES,
            "patch": FIRST_PATCH,
            "user": None,
            "parameters": {"new_state": "Accepted", "previous_state": "Under Review"},
        }
    )
    data.events.sort(key=lambda e: e["event_time"])
