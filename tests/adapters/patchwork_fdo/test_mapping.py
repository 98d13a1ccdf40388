"""Mapping of every JSON example of the fdo API document (tests/fixtures/patchwork-fdo/)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.errors import BadPayload
from adapters.model import ChangeState, CheckState, NewTestResult, Project, StateCount
from adapters.patchwork_fdo import mapping

FIXTURES = Path(__file__).parents[2] / "fixtures" / "patchwork-fdo"
B = "fdo"
INTEL = Project(backend=B, id="1", name="intel-gfx", link_name="intel-gfx")


def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def test_mapping_api_root() -> None:
    assert mapping.api_revision(B, _load("api-root.json")) == 0
    with pytest.raises(BadPayload):
        mapping.api_revision(B, {"revision": "3"})


def test_mapping_projects_list_and_detail() -> None:
    results, count, nxt = mapping.envelope(B, _load("projects-list.json"))
    assert count == 2 and nxt is None
    beignet, cairo = (mapping.project(B, d) for d in results)
    assert (beignet.id, beignet.name, beignet.link_name) == ("2", "beignet", "beignet")
    assert beignet.list_email == "beignet@lists.freedesktop.org"
    assert cairo.scm_url == "git://anongit.freedesktop.org/git/cairo"
    intel = mapping.project(B, _load("project-detail.json"))
    assert (intel.id, intel.link_name, intel.web_url, intel.scm_url) == (
        "1",
        "intel-gfx",
        None,
        None,
    )


@pytest.mark.parametrize("name", ["series-list-project.json", "series-list.json"])
def test_mapping_series_lists(name: str) -> None:
    results, count, nxt = mapping.envelope(B, _load(name))
    assert count in (59, 344) and nxt and nxt.startswith("https://")
    series = [mapping.series(B, d, INTEL) for d in results]
    first = series[0]
    assert first.project == INTEL and first.version == 1 and first.total == 1
    assert first.submitter is None and first.submitter_id in ("77", "10")
    assert first.reviewer_id is None and first.test_state is None and first.raw_test_state is None
    assert first.state == "initial" and first.received_all
    assert first.state_summary == (StateCount(name="New", count=1, final=False),)
    assert first.updated is not None and first.updated.microsecond > 0
    assert series[1].name in (
        "RFC drm/i915: Stop the machine whilst capturing the GPU crash dump",
        "PMIC based Panel and Backlight Control",
    )


def test_mapping_series_detail_without_project_or_test_state() -> None:
    s = mapping.series(B, _load("series-detail.json"))
    assert (s.id, s.name, s.total, s.submitter_id) == ("47", "Series without cover letter", 2, "21")
    assert s.project is None and s.test_state is None
    assert s.date == datetime(2015, 1, 13, 9, 32, 24, tzinfo=UTC)
    assert s.state_summary[0].count == 2


def test_mapping_series_test_states_and_incomplete() -> None:
    d = dict(_load("series-detail.json"), test_state="info", state="incomplete")
    s = mapping.series(B, d)
    assert s.test_state is CheckState.SUCCESS and s.raw_test_state == "info"
    assert s.received_all is False
    for raw, state in [("failure", CheckState.FAILURE), ("pending", CheckState.PENDING)]:
        assert mapping.series(B, dict(d, test_state=raw)).test_state is state


def test_mapping_revisions_list_and_detail() -> None:
    results, count, _ = mapping.envelope(B, _load("revisions-list.json"))
    assert count == 1
    listed = mapping.revision(B, "47", results[0], "http://x/mbox/")
    detail = mapping.revision(B, "47", _load("revision-detail.json"))
    assert listed.key == detail.key == "47/1"
    assert listed.patch_ids == detail.patch_ids == ("120", "121")
    assert listed.cover_letter is None and listed.mbox_url == "http://x/mbox/"
    nested = mapping.revision(B, "3", {"version": 2, "cover_letter": "hi", "patches": [{"id": 9}]})
    assert nested.patch_ids == ("9",) and nested.cover_letter == "hi"


def test_mapping_test_results_list() -> None:
    checks = mapping.test_results(B, "47/1", _load("test-results-list.json"))
    assert [(c.context, c.state, c.raw_state) for c in checks] == [
        ("checkpatch.pl", CheckState.PENDING, "pending"),
        ("BAT", CheckState.WARNING, "warning"),
    ]
    first = checks[0]
    assert first.id == "checkpatch.pl" and first.change_id == "47/1"
    assert first.description == "total: 0 errors, 0 warnings, 10 lines checked"
    assert first.target_url == "http://example.com/test-results/1234/"
    assert first.date == datetime(2017, 8, 9, 23, 0, 3, 529000, tzinfo=UTC)
    enveloped = {
        "count": 2,
        "next": None,
        "previous": None,
        "results": _load("test-results-list.json"),
    }
    assert mapping.test_results(B, "47/1", enveloped) == checks


def test_mapping_test_result_body_is_the_documented_post() -> None:
    body = _load("test-result-post.json")
    new = NewTestResult(
        test_name=body["test_name"],
        state=CheckState.SUCCESS,
        url=body["url"],
        summary=body["summary"],
    )
    assert mapping.test_result_body(new) == body
    assert mapping.test_result_body(NewTestResult("BAT", CheckState.FAILURE)) == {
        "test_name": "BAT",
        "state": "failure",
    }


@pytest.mark.parametrize("name", ["patches-list-project.json", "patches-list.json"])
def test_mapping_patch_lists(name: str) -> None:
    results, count, _ = mapping.envelope(B, _load(name))
    assert count == 1392
    p1, p4 = (mapping.patch(B, d, INTEL) for d in results)
    assert p1.title == "[RFC,1/4] drm/i915: Define a common data structure for Panel Info"
    assert p1.state is ChangeState.OPEN and p1.raw_state == "new"
    assert p1.submitter is not None and p1.submitter.id == "1" and p1.submitter.name is None
    assert p1.content == "<diff content>" and p4.id == "4"


def test_mapping_patch_detail_and_states() -> None:
    d = _load("patch-detail.json")
    p = mapping.patch(B, d, INTEL, "http://x/patches/120/mbox/")
    assert (p.id, p.project, p.mbox_url) == ("120", INTEL, "http://x/patches/120/mbox/")
    assert mapping.patch(B, dict(d, state=3), INTEL).state is ChangeState.MERGED
    unknown = mapping.patch(B, dict(d, state=42), INTEL)
    assert unknown.raw_state == "state-42" and unknown.state is ChangeState.OPEN
    assert mapping.patch(B, dict(d, state="Changes Requested"), INTEL).raw_state == (
        "changes-requested"
    )


def test_mapping_events_example() -> None:
    results, count, _ = mapping.envelope(B, _load("events-list.json"))
    assert count == 23
    new_rev, state_change, pull = (mapping.event(B, d, INTEL) for d in results)
    assert new_rev.category == "series-new-revision" and new_rev.series_id == "23"
    assert new_rev.patch_id is None and new_rev.actor is None
    assert new_rev.raw["parameters"] == {"revision": 2}
    assert state_change.actor is not None and state_change.actor.id == "1"
    assert (state_change.previous_state, state_change.current_state) == ("new", "under-review")
    assert pull.series_id is None and pull.patch_id == "682"
    assert len({new_rev.id, state_change.id, pull.id}) == 3


def test_mapping_event_id_is_stable_and_content_derived() -> None:
    d = _load("events-list.json")["results"][0]
    assert mapping.event_id(d) == mapping.event_id(dict(reversed(list(d.items()))))
    assert mapping.event_id(d) != mapping.event_id(dict(d, series=24))
    assert mapping.event_id(d) != mapping.event_id(dict(d, parameters={"revision": 3}))


@pytest.mark.parametrize(
    "parse",
    [
        lambda: mapping.series(B, {"id": 1}),
        lambda: mapping.series(B, {"id": 1, "submitted": "yesterday"}),
        lambda: mapping.revision(B, "1", {"patches": []}),
        lambda: mapping.test_result(B, "1/1", {"test_name": "x", "state": 3, "date": "2017-01-01"}),
        lambda: mapping.patch(
            B, {"id": 1, "name": "x", "date": "2017-01-01", "state": None}, INTEL
        ),
        lambda: mapping.event(
            B, {"name": "x", "event_time": "2017-01-01", "parameters": [1]}, None
        ),
        lambda: mapping.project(B, {"id": 1, "name": "x"}),
        lambda: mapping.envelope(B, [1, 2]),
        lambda: mapping.test_results(B, "1/1", "nope"),
        lambda: mapping.series(B, {"id": 1, "submitted": "2017-01-01", "submitter": [1]}),
    ],
)
def test_mapping_bad_payloads_raise_bad_payload(parse: Any) -> None:
    with pytest.raises(BadPayload) as info:
        parse()
    assert info.value.backend == B


def test_mapping_mbox_sender() -> None:
    mbox = "From patchwork Mon Sep 17 00:00:00 2001\nFrom: Rex Reset <rex@example.com>\n\nbody\n"
    assert mapping.mbox_sender(mbox) == ("Rex Reset", "rex@example.com")
    assert mapping.mbox_sender("Subject: x\n\nbody") == (None, None)
