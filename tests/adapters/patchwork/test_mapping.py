"""Every recorded JSON response of the real Patchwork 3.2.1 server parses into records."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.errors import BadPayload
from adapters.model import ChangeState, CheckState, NewCheck, PatchUpdate
from adapters.patchwork import mapping

FIXTURES = Path(__file__).parents[2] / "fixtures" / "patchwork-3.2.1"
META: dict[str, dict[str, Any]] = json.loads((FIXTURES / "_meta.json").read_text())
B = "pw"


def _parser(name: str) -> Callable[[dict[str, Any]], Any] | None:
    """Which parser a recorded file's objects need, from its name."""
    stem = name.rsplit("/", 1)[-1]
    if stem.startswith("events"):
        return lambda d: mapping.event(B, d)
    if "check" in stem and "checks-post" not in stem and "patches" not in stem:
        return lambda d: mapping.check(B, d, "3")
    if "comment" in stem and not stem.startswith("events"):
        return lambda d: mapping.comment(B, d, "Patch", "3")
    table: list[tuple[str, Callable[[dict[str, Any]], Any]]] = [
        ("events", lambda d: mapping.event(B, d)),
        ("patch", lambda d: mapping.patch(B, d)),
        ("cover", lambda d: mapping.cover(B, d)),
        ("series", lambda d: mapping.series(B, d)),
        ("project", lambda d: mapping.project(B, d)),
        ("people", lambda d: mapping.person(B, d)),
        ("person", lambda d: mapping.person(B, d)),
        ("user", lambda d: mapping.user(B, d)),
        ("bundle", lambda d: mapping.bundle(B, d)),
    ]
    for prefix, parse in table:
        if stem.startswith(prefix):
            return parse
    return None


RESOURCE_FILES = sorted(
    name
    for name, meta in META.items()
    if name.endswith(".json")
    and meta["status"] == 200
    and meta["method"] in ("GET", "PATCH")
    and not name.endswith("index.json")
    and "options" not in name
)


def test_recordings_cover_every_resource_kind() -> None:
    kinds = {name.rsplit("/", 1)[-1].split("-")[0].split(".")[0] for name in RESOURCE_FILES}
    assert {"patch", "patches", "cover", "covers", "series", "events", "bundles"} <= kinds
    assert len(RESOURCE_FILES) > 100


@pytest.mark.parametrize("name", RESOURCE_FILES)
def test_mapping_parses_recording(name: str) -> None:
    body = json.loads((FIXTURES / name).read_text())
    parse = _parser(name)
    assert parse is not None, f"no parser for {name}"
    items = body if isinstance(body, list) else [body]
    records = [parse(d) for d in items]
    assert len(records) == len(items)
    for record, d in zip(records, items, strict=True):
        native = record.id
        assert native in (str(d["id"]), f"u{d['id']}")
        assert record.backend == B


def test_mapping_patch_detail_fields() -> None:
    d = json.loads((FIXTURES / "v1.3/patch-3.json").read_text())
    p = mapping.patch(B, d)
    assert p.id == "3" and p.title == "[v2,1/2] test: Add some lorem ipsum"
    assert p.state is ChangeState.OPEN and p.raw_state == "under-review"
    assert p.date == datetime(2016, 9, 11, 22, 26, 34, tzinfo=UTC)
    assert p.submitter is not None and p.submitter.email == "stephenfinucane@gmail.com"
    assert p.delegate is not None and p.delegate.id == "u1" and p.delegate.username == "admin"
    assert p.project.link_name == "patchwork"
    assert p.check_state is CheckState.SUCCESS
    assert [s.id for s in p.series] == ["2"] and p.series[0].version == 2
    assert p.is_detail and p.diff and p.content is not None
    assert p.mbox_url and p.mbox_url.endswith("/mbox/")


def test_mapping_patch_v10_lacks_newer_fields() -> None:
    d = json.loads((FIXTURES / "v1.0/patch-3.json").read_text())
    p = mapping.patch(B, d)
    assert "web_url" not in d and p.web_url is None and p.list_archive_url is None
    assert p.title == "[v2,1/2] test: Add some lorem ipsum"


def test_mapping_list_items_are_not_details() -> None:
    items = json.loads((FIXTURES / "v1.3/patches.json").read_text())
    patches = [mapping.patch(B, d) for d in items]
    assert len(patches) == 43
    assert not any(p.is_detail for p in patches)
    assert {p.raw_state for p in patches} >= {"new", "superseded"}


def test_mapping_check_and_event_dates_keep_microseconds() -> None:
    d = json.loads((FIXTURES / "v1.3/patch-3-check-1.json").read_text())
    c = mapping.check(B, d, "3")
    assert c.state is CheckState.SUCCESS and c.context == "build"
    assert c.date.microsecond == 325246 and c.date.tzinfo is UTC
    events = [mapping.event(B, e) for e in json.loads((FIXTURES / "v1.3/events.json").read_text())]
    changed = next(e for e in events if e.category == "patch-state-changed")
    assert changed.patch_id and changed.previous_state and changed.current_state


def test_mapping_series_detail() -> None:
    s = mapping.series(B, json.loads((FIXTURES / "v1.3/series-2.json").read_text()))
    assert s.version == 2 and s.total == 2 and s.received_all
    assert s.cover is not None and s.cover.id == "2"
    assert [p.id for p in s.patches] == ["3", "4"]


@pytest.mark.parametrize(
    "raw, state",
    [
        ("new", ChangeState.OPEN),
        ("accepted", ChangeState.MERGED),
        ("rejected", ChangeState.CLOSED),
        ("superseded", ChangeState.SUPERSEDED),
        ("rfc", ChangeState.DRAFT),
        ("changes-requested", ChangeState.CHANGES_REQUESTED),
        ("Some Custom State", ChangeState.OPEN),
    ],
)
def test_mapping_change_state(raw: str, state: ChangeState) -> None:
    assert mapping.change_state(raw) is state


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"id": 1},
        {"id": 1, "name": "x", "msgid": "<a>", "date": "yesterday", "project": {}},
        {"id": 1, "name": "x", "msgid": "<a>", "date": 12, "project": None},
    ],
)
def test_mapping_bad_patch_payload_is_bad_payload(payload: dict[str, Any]) -> None:
    with pytest.raises(BadPayload) as err:
        mapping.patch(B, payload)
    assert err.value.backend == B


def test_mapping_write_bodies() -> None:
    body = mapping.patch_update_body(PatchUpdate(state="accepted", delegate="u1", archived=True))
    assert body == {"state": "accepted", "delegate": 1, "archived": True}
    assert mapping.patch_update_body(PatchUpdate(delegate="")) == {"delegate": None}
    assert mapping.patch_update_body(PatchUpdate(delegate="admin")) == {"delegate": "admin"}
    check = NewCheck(state=CheckState.FAILURE, context="ci", description="boom")
    assert mapping.new_check_body(check) == {
        "state": "fail",
        "context": "ci",
        "description": "boom",
    }
