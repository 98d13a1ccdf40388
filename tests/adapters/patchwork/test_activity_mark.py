"""``mapping.activity_mark`` (what an activity read keeps of an event) agrees with ``event``.

Over every recorded event and hypothesis-mutated copies (keys removed, values replaced by
arbitrary JSON, at the top and in the payload's patch): where ``event`` maps the event, the
mark is its category, patch id and date (``None`` outside the categories asked); where the
mark fails, ``event`` fails too; and on the part of an event the mark reads (its category,
and of an activity event its date and payload patch) both give the same outcome, the same
``BadPayload`` message included. What it does not read (the embedded project, actor,
delegates; all but the category of the other events) is no longer validated by an activity
read: nothing of it reaches the page.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.errors import BadPayload
from adapters.patchwork import mapping
from adapters.patchwork.activity import ACTIVITY
from tests.adapters.patchwork.test_mapping_fast import mutate

FIXTURES = Path(__file__).parents[2] / "fixtures" / "patchwork-3.2.1"
B = "pw"


def _recorded_events() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for path in sorted(FIXTURES.glob("*/events*.json")):
        body = json.loads(path.read_text())
        items.extend(d for d in (body if isinstance(body, list) else []) if isinstance(d, dict))
    return items


RECORDED = _recorded_events()


def _full(d: Any) -> tuple[str, Any]:
    """What ``event`` says of ``d``, reduced to the mark's terms."""
    try:
        e = mapping.event(B, d)
    except BadPayload as exc:
        return "error", exc.message
    if e.category not in ACTIVITY:
        return "mark", None
    return "mark", (e.category, e.patch_id, e.date)


def _mark(d: Any) -> tuple[str, Any]:
    try:
        return "mark", mapping.activity_mark(B, d, ACTIVITY)
    except BadPayload as exc:
        return "error", exc.message


def _read_part(d: dict[str, Any]) -> dict[str, Any]:
    """``d`` with only what the mark reads (and a valid id: ``event`` reads it first)."""
    part: dict[str, Any] = {"id": 1}
    for key in ("category", "date"):
        if key in d:
            part[key] = d[key]
    payload = d.get("payload")
    if isinstance(payload, dict):
        part["payload"] = {"patch": payload["patch"]} if "patch" in payload else {}
    elif "payload" in d:
        part["payload"] = payload
    return part


def _assert_agrees(d: Any) -> None:
    mark = _mark(d)
    if isinstance(d, dict) and isinstance(d.get("category"), list | dict):
        # unhashable: ``event`` maps it, and the read then failed outside any guard
        assert mark[0] == "error"
        return
    full = _full(d)
    if full[0] == "mark":
        assert mark == full
    if mark[0] == "error":
        assert full[0] == "error"
    if isinstance(d, dict) and mark != ("mark", None):  # outside ACTIVITY: only its category
        assert mark == _full(_read_part(d))


def test_recorded_events_agree() -> None:
    assert len(RECORDED) >= 100
    kept = [e for e in RECORDED if _mark(e)[1] is not None]
    assert kept and len(kept) < len(RECORDED)  # both kinds of category are exercised
    for d in RECORDED:
        _assert_agrees(d)


def test_a_bad_date_of_an_activity_event_is_the_same_coded_error() -> None:
    d = {"id": 1, "category": "check-created", "date": "yesterday", "payload": {"patch": {"id": 3}}}
    mark = _mark(d)
    assert mark[0] == "error" and mark == _full(d)


JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 3),
        st.sampled_from(["", "x", "check-created", "patch-created", "2016-09-11T22:26:34"]),
        st.sampled_from(["2016-09-11T22:26:34.123456", "2016-13-01T00:00:00", "yesterday"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["id", "name", "date", "patch", "x"]), inner, max_size=3),
    ),
    max_leaves=6,
)


@st.composite
def broken_event(draw: st.DrawFn) -> Any:
    base = json.loads(json.dumps(draw(st.sampled_from(RECORDED))))
    for _ in range(draw(st.integers(1, 4))):
        payload = base.get("payload")
        target: Any = base
        if draw(st.booleans()) and isinstance(payload, dict):
            target = payload.get("patch") if draw(st.booleans()) else payload
        mutate(draw, target, JSON)
    return draw(st.sampled_from([base, base, base, [base], "event", None, 3]))


@settings(max_examples=600, deadline=None)
@given(broken_event())
def test_broken_events_agree(d: Any) -> None:
    _assert_agrees(d)
