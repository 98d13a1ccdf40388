"""The demo's timeline (``adapters/demo`` and each kind's ``simulator/demo.py``) holds the
evidence issue 16's links need, as each simulator serves it over its own API:

- the Patchwork patches' content carries ``Change-Id:`` trailers equal to the Gerrit changes'
  ``change_id``; each Gerrit commit message has a ``Link:`` trailer ending in the patch's
  Message-Id;
- Patchwork's accepted patch has ``commit_ref`` = the merged Gerrit revision sha; the ABF pull
  request's head is the second commit's sha (= the open Gerrit change's revision);
- the diffs Patchwork, fdo and Gerrit serve have git's patch-id (``git patch-id --stable``)
  of the commit, and the two commits' patch-ids differ (and differ from unrelated patches);
- the shas are git's (40 hex), and every time is recent (the clocks start at the present).
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from adapters.abf.simulator import TOKEN as ABF_TOKEN
from adapters.abf.simulator import start_simulator as start_abf
from adapters.abf.simulator.demo import KERNEL
from adapters.abf.simulator.demo import demo_data as abf_demo
from adapters.demo import MOMENTS, twin
from adapters.gerrit.simulator import start_simulator as start_gerrit
from adapters.gerrit.simulator.demo import demo_data as gerrit_demo
from adapters.patchwork.simulator import start_simulator as start_pw
from adapters.patchwork.simulator.data import PatchworkData
from adapters.patchwork.simulator.demo import demo_data as pw_demo
from adapters.patchwork_fdo.simulator import start_simulator as start_fdo
from adapters.patchwork_fdo.simulator.demo import FIRST_PATCH
from adapters.patchwork_fdo.simulator.demo import demo_data as fdo_demo

SHA = re.compile(r"[0-9a-f]{40}")


def patch_id(diff: str) -> str:
    """``git patch-id --stable`` of a diff (empty: git found no patch in it)."""
    done = subprocess.run(
        ["git", "patch-id", "--stable"], input=diff, capture_output=True, text=True, check=True
    )
    return done.stdout.split()[0] if done.stdout else ""


@pytest.fixture
async def sims() -> AsyncIterator[dict[str, Any]]:
    running: dict[str, Any] = {
        "patchwork": await start_pw(pw_demo()),
        "fdo": await start_fdo(fdo_demo()),
        "gerrit": await start_gerrit(gerrit_demo(generated=0)),
        "abf": await start_abf(abf_demo()),
    }
    try:
        yield running
    finally:
        for sim in running.values():
            await sim.close()


async def _get(url: str, auth: str | None = None) -> Any:
    headers = {"Authorization": auth} if auth else {}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as resp:
        assert resp.status == 200, (url, resp.status)
        text = await resp.text()
    return text


async def _json(url: str, auth: str | None = None) -> Any:
    return json.loads((await _get(url, auth)).removeprefix(")]}'\n"))


def _twin_patches(sims: dict[str, Any]) -> list[dict[str, Any]]:
    data = sims["patchwork"].state.data
    found = [p for p in data.patches.values() if p["msgid"] in {c.msgid for c in twin().commits}]
    return sorted(found, key=lambda p: p["id"])


def _gerrit_changes(sims: dict[str, Any]) -> list[Any]:
    ids = {c.change_id for c in twin().commits}
    found = [c for c in sims["gerrit"].state.data.changes.values() if c.change_id in ids]
    return sorted(found, key=lambda c: c.number)


async def test_patchwork_trailers_message_ids_and_commit_ref_match_gerrit(
    sims: dict[str, Any],
) -> None:
    pw, gerrit = sims["patchwork"].url, sims["gerrit"].url
    patches = [await _json(f"{pw}/api/1.3/patches/{p['id']}/") for p in _twin_patches(sims)]
    changes = [
        await _json(f"{gerrit}/changes/{c.number}/?o=CURRENT_REVISION&o=CURRENT_COMMIT")
        for c in _gerrit_changes(sims)
    ]
    assert len(patches) == len(changes) == 2
    for patch, change in zip(patches, changes, strict=True):
        assert f"Change-Id: {change['change_id']}\n" in patch["content"]
        revision = change["revisions"][change["current_revision"]]
        link = re.search(r"^Link: (\S+)$", revision["commit"]["message"], re.M)
        assert link and link.group(1).endswith("/" + patch["msgid"].strip("<>"))
        assert SHA.fullmatch(change["current_revision"])
    accepted, open_patch = patches
    assert accepted["state"] == "accepted" and changes[0]["status"] == "MERGED"
    assert accepted["commit_ref"] == changes[0]["current_revision"]
    assert open_patch["commit_ref"] is None and changes[1]["status"] == "NEW"
    assert open_patch["series"][0]["name"] == twin().series


async def test_abf_pull_request_head_is_the_second_commit(sims: dict[str, Any]) -> None:
    data = sims["abf"].state.data
    (number,) = [n for (pid, n), p in data.pulls.items() if pid == KERNEL and p.owner == 4]
    auth = "Basic " + base64.b64encode(f"{ABF_TOKEN}:".encode()).decode()
    base = f"{sims['abf'].url}/api/v1/projects/{KERNEL}/pull_requests/{number}"
    pull = (await _json(f"{base}.json", auth))["pull_request"]
    commits = (await _json(f"{base}/commits.json", auth))["commits"]
    gerrit_open = _gerrit_changes(sims)[1]
    assert pull["from_ref"]["sha"] == gerrit_open.current.sha == twin().commits[1].sha
    assert pull["to_ref"]["sha"] == twin().base
    assert [c["sha"] for c in commits] == [c.sha for c in twin().commits]
    assert pull["title"] == twin().series and pull["status"] == "ready"


async def test_every_served_diff_has_the_commits_git_patch_id(sims: dict[str, Any]) -> None:
    pw, fdo, gerrit = sims["patchwork"].url, sims["fdo"].url, sims["gerrit"].url
    for n, (commit, patch, change) in enumerate(
        zip(twin().commits, _twin_patches(sims), _gerrit_changes(sims), strict=True)
    ):
        served = {
            "patchwork": (await _json(f"{pw}/api/1.3/patches/{patch['id']}/"))["diff"],
            "fdo": (await _json(f"{fdo}/api/1.0/patches/{FIRST_PATCH + n}/"))["content"],
            "gerrit": base64.b64decode(
                await _get(f"{gerrit}/changes/{change.number}/revisions/current/patch")
            ).decode(),
        }
        assert {kind: patch_id(diff) for kind, diff in served.items()} == dict.fromkeys(
            served, commit.patch_id
        )
    first, second = twin().commits
    assert first.patch_id != second.patch_id  # negative: two commits, two patch-ids


def test_unrelated_patches_have_other_patch_ids() -> None:
    data = PatchworkData.generated(5)
    ids = {patch_id(p["diff"]) for p in data.patches.values() if p.get("diff")}
    assert ids and not ids & {c.patch_id for c in twin().commits}
    assert patch_id("no diff here\n") == ""


def test_the_timeline_is_recent_and_ordered() -> None:
    now = datetime.now(UTC)
    data = pw_demo(now)
    dates = [datetime.fromisoformat(p["date"]).replace(tzinfo=UTC) for p in _twin(data)]
    assert all(now - timedelta(hours=max(MOMENTS.values()) + 1) < d <= now for d in dates)
    gerrit = gerrit_demo(now, generated=0)
    newest = max(c.updated for c in gerrit.changes.values())
    assert now - timedelta(hours=min(MOMENTS.values()) + 4) < newest <= now
    assert gerrit.now() > newest  # a write after the timeline is newer than all of it


def _twin(data: PatchworkData) -> list[dict[str, Any]]:
    return [p for p in data.patches.values() if p["msgid"] in {c.msgid for c in twin().commits}]


def test_recorded_seed_is_unchanged_by_the_demo() -> None:
    recorded = PatchworkData.from_seed()
    demo = pw_demo()
    assert set(recorded.patches) < set(demo.patches)
    for pid, patch in recorded.patches.items():
        assert demo.patches[pid] == patch
