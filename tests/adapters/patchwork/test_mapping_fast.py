"""The fast patch mapping (positional builders, ``adapters/fastrecord.py``) equals the old one.

``_reference`` below is the mapping as it was before (keyword ``Patch(...)`` construction under
``guarded``). Both run over every recorded patch payload and over hypothesis-mutated copies —
keys removed, values replaced by arbitrary JSON (also in the nested project, submitter,
delegate and series) — and must give equal records (same fields, same ``raw`` objects, same
repr) or the same ``BadPayload`` (backend, code and message).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.errors import BadPayload
from adapters.fastrecord import builder
from adapters.model import Patch, Person, Project, SeriesRef
from adapters.patchwork import mapping
from adapters.patchwork.mapping import CHECK_MAP, change_state, guarded, parse_date

FIXTURES = Path(__file__).parents[2] / "fixtures" / "patchwork-3.2.1"
B = "pw"


# --- the mapping as it was (reference) -------------------------------------------------------


def _ref_opt_date(value: Any, backend: str) -> datetime | None:
    return None if value is None else parse_date(value, backend)


def _ref_project(backend: str, d: Mapping[str, Any]) -> Project:
    return Project(
        backend=backend,
        id=str(d["id"]),
        name=d["name"],
        link_name=d["link_name"],
        web_url=d.get("web_url") or None,
        list_email=d.get("list_email"),
        list_id=d.get("list_id"),
        scm_url=d.get("scm_url") or None,
        webscm_url=d.get("webscm_url") or None,
        list_archive_url=d.get("list_archive_url") or None,
        raw=d,
    )


def _ref_person(backend: str, d: Mapping[str, Any] | None) -> Person | None:
    if d is None:
        return None
    return Person(backend=backend, id=str(d["id"]), name=d.get("name"), email=d.get("email"), raw=d)


def _ref_user(backend: str, d: Mapping[str, Any] | None) -> Person | None:
    if d is None:
        return None
    full = " ".join(p for p in (d.get("first_name"), d.get("last_name")) if p)
    return Person(
        backend=backend,
        id=f"u{d['id']}",
        name=full or d.get("username"),
        email=d.get("email"),
        username=d.get("username"),
        raw=d,
    )


def _ref_series_ref(backend: str, d: Mapping[str, Any]) -> SeriesRef:
    return SeriesRef(
        backend=backend,
        id=str(d["id"]),
        name=d.get("name"),
        version=int(d.get("version") or 1),
        date=_ref_opt_date(d.get("date"), backend),
        web_url=d.get("web_url"),
        mbox_url=d.get("mbox"),
    )


def _reference(backend: str, d: Mapping[str, Any]) -> Patch:
    def parse() -> Patch:
        raw_state = d.get("state") or "new"
        check = d.get("check")
        return Patch(
            backend=backend,
            id=str(d["id"]),
            project=_ref_project(backend, d["project"]),
            title=d["name"],
            msgid=d["msgid"],
            date=parse_date(d["date"], backend),
            state=change_state(raw_state),
            raw_state=raw_state,
            archived=bool(d.get("archived", False)),
            submitter=_ref_person(backend, d.get("submitter")),
            delegate=_ref_user(backend, d.get("delegate")),
            check_state=CHECK_MAP.get(check) if isinstance(check, str) else None,
            series=tuple(_ref_series_ref(backend, s) for s in d.get("series") or ()),
            hash=d.get("hash"),
            commit_ref=d.get("commit_ref"),
            pull_url=d.get("pull_url"),
            web_url=d.get("web_url"),
            mbox_url=d.get("mbox"),
            list_archive_url=d.get("list_archive_url"),
            content=d.get("content"),
            diff=d.get("diff"),
            headers=d.get("headers"),
            raw=d,
        )

    return guarded(backend, "patch", parse)


# --- comparison ---------------------------------------------------------------------------


def _outcome(parse: Any, d: Any) -> tuple[str, Any]:
    try:
        record = parse(B, d)
    except BadPayload as exc:
        return "error", (type(exc), exc.backend, exc.code, exc.message)
    except Exception as exc:  # any other escape is a difference to report
        return "escaped", (type(exc), str(exc))
    return "record", record


def _same_record(a: Patch, b: Patch) -> None:
    assert type(a) is type(b) is Patch
    assert a == b and repr(a) == repr(b)
    assert a.raw is b.raw and a.project.raw is b.project.raw
    for x, y in ((a.submitter, b.submitter), (a.delegate, b.delegate)):
        assert x == y and repr(x) == repr(y)
        assert (x is None) == (y is None)
        if x is not None and y is not None:
            assert x.raw is y.raw and type(x) is type(y) is Person
    for fld in Patch.__dataclass_fields__:
        va, vb = getattr(a, fld), getattr(b, fld)
        assert type(va) is type(vb), fld  # ``1 == True``: equality alone would not catch it
        if isinstance(va, datetime):
            assert va.tzinfo == vb.tzinfo and va.isoformat() == vb.isoformat()


def _assert_same(d: Any) -> None:
    old, new = _outcome(_reference, d), _outcome(mapping.patch, d)
    assert old[0] == new[0], (old, new)
    if old[0] == "record":
        _same_record(old[1], new[1])
    else:
        assert old[1] == new[1]


def _recorded_patches() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for path in sorted(FIXTURES.glob("*/patch*.json")):
        if "check" in path.name or "comment" in path.name:
            continue
        body = json.loads(path.read_text())
        items.extend(body if isinstance(body, list) else [body])
    return [d for d in items if isinstance(d, dict) and "msgid" in d]


RECORDED = _recorded_patches()


def test_recorded_patches_map_identically() -> None:
    assert len(RECORDED) >= 10
    for d in RECORDED:
        _assert_same(d)


def test_builder_equals_the_constructor() -> None:
    made = builder(Person)("pw", "1", "A", None, "a", {"k": 1}, False)
    assert made == Person("pw", "1", "A", None, "a", {"k": 1}, False)
    assert made.raw == {"k": 1}
    # built through its twin, but a Person like any other: frozen, same hash, same repr
    assert type(made) is Person and made.__class__ is Person
    assert hash(made) == hash(Person("pw", "1", "A", None, "a", {}))
    assert repr(made) == repr(Person("pw", "1", "A", None, "a", {"k": 1}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.name = "B"  # type: ignore[misc]
    assert dataclasses.replace(made, name="B").name == "B"


def test_builder_falls_back_for_classes_it_cannot_reproduce() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        x: int

        def __post_init__(self) -> None:
            assert self.x >= 0

    assert builder(Checked) is Checked


JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.sampled_from(
        ["", "x", "new", "accepted", "Under Review", "pending", "fail", "2016-09-11T22:26:34"]
    ),
    st.sampled_from(["2016-09-11T22:26:34.123456", "2016-13-01T00:00:00", "yesterday"]),
)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["id", "name", "date", "x"]), inner, max_size=3),
    ),
    max_leaves=6,
)
NESTED = ["project", "submitter", "delegate", "series"]


@st.composite
def broken_patch(draw: st.DrawFn) -> Any:
    base = json.loads(json.dumps(draw(st.sampled_from(RECORDED))))
    if draw(st.booleans()) and base.get("delegate") is None:
        base["delegate"] = {
            "id": 1,
            "username": "u",
            "first_name": "F",
            "last_name": "",
            "email": "e",
        }
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(["top", *NESTED]))
        target: Any = base
        if where != "top":
            target = base.get(where)
            if where == "series" and isinstance(target, list) and target:
                target = target[0]
        mutate(draw, target, JSON)
    return draw(st.sampled_from([base, base, base, [base], "patch", None, 3]))


def mutate(draw: st.DrawFn, target: Any, values: st.SearchStrategy[Any]) -> None:
    """One key of the JSON object ``target`` (if it is one) removed or given a drawn value."""
    if not isinstance(target, dict) or not target:
        return
    key = draw(st.sampled_from(sorted(target)))
    if draw(st.booleans()):
        del target[key]
    else:
        target[key] = draw(values)


@settings(max_examples=600, deadline=None)
@given(broken_patch())
def test_broken_payloads_fail_or_map_identically(d: Any) -> None:
    _assert_same(d)
