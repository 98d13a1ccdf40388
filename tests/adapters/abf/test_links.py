"""ABF's link keys (``adapters/abf/links.py``) on the real server's shapes
(tests/fixtures/abf/real): the head sha of a pull request and its head commit's trailers."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from adapters.abf import links, mapping

REAL = Path(__file__).parents[2] / "fixtures" / "abf" / "real"
CID = "I" + "ab" * 20


def _load(name: str) -> Any:
    return json.loads((REAL / name).read_text())


def test_recorded_pull_request_keys() -> None:
    pr = mapping.pull_request("abf", _load("show-open.json"))
    commits = [mapping.commit("abf", d) for d in _load("commits.json")["commits"]]
    keys = links._keys(pr, commits)
    assert keys.shas == {pr.from_ref.sha}
    # "Fix all the bugs": no trailers; ABF serves no diff, so no patch-id either
    assert keys.change_ids == frozenset() and keys.link_msgids == frozenset()
    assert keys.patch_id is None and keys.message_ids == frozenset()


def test_trailers_come_from_the_head_commit() -> None:
    pr = mapping.pull_request("abf", _load("show-open.json"))
    (older,) = [mapping.commit("abf", d) for d in _load("commits.json")["commits"]]
    head_sha = pr.from_ref.sha or ""
    older = replace(older, message=f"older\n\nChange-Id: I{'cd' * 20}\n")
    head = replace(older, sha=head_sha, message=f"head\n\nChange-Id: {CID}\n")
    assert links._keys(pr, [older, head]).change_ids == {CID}
    assert links._keys(pr, [head, older]).change_ids == {CID}  # found by sha, not position
    assert links._keys(pr, None).change_ids == frozenset()  # commits unreadable: sha only
    other = replace(head, sha="0" * 40)
    assert links._keys(pr, [older, other]).change_ids == {CID}  # no head: the newest
