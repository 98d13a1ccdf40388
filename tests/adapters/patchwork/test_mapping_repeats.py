"""One answer's repeated nested objects are mapped once (``mapping.Repeats``/``patch_parser``).

A list answer repeats its project on every patch, a submitter on each of their patches, a
series summary on each patch of the series. The parser of one answer maps each once and
shares the record with the items whose object is equal; the records must equal what each
item mapped alone gives, an object changed under the same id must be mapped afresh, and
nothing may be shared from one answer to the next.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import PatchFilter
from adapters.errors import BadPayload
from adapters.http import HttpClient, HttpConfig
from adapters.model import PageRequest, Patch
from adapters.patchwork import mapping
from adapters.patchwork.simulator import PatchworkData, RunningSimulator, start_simulator
from adapters.patchwork.source import PatchworkSource, create_source
from tests.adapters.patchwork.test_mapping_fast import _reference, broken_patch

FIXTURES = Path(__file__).parents[2] / "fixtures" / "patchwork-3.2.1"
B = "pw"


def _recorded_lists() -> list[list[dict[str, Any]]]:
    lists = []
    for path in sorted(FIXTURES.glob("*/patches*.json")):
        body = json.loads(path.read_text())
        if isinstance(body, list) and len(body) > 1 and "msgid" in body[0]:
            lists.append(body)
    return lists


RECORDED_LISTS = _recorded_lists()


def _same_as_alone(shared: Patch, d: dict[str, Any]) -> None:
    """``shared`` (mapped within its answer) is the record ``d`` gives mapped alone."""
    alone = mapping.patch(B, d)
    assert shared == alone and repr(shared) == repr(alone)
    assert shared.raw is d  # the patch itself is the item's own
    for field in Patch.__dataclass_fields__:
        assert type(getattr(shared, field)) is type(getattr(alone, field)), field
    assert shared.project.raw == d["project"]
    if shared.submitter is not None:
        assert shared.submitter.raw == d["submitter"]
    if shared.delegate is not None:
        assert shared.delegate.raw == d["delegate"]


def test_recorded_lists_map_as_their_items_alone() -> None:
    assert len(RECORDED_LISTS) >= 20
    shared_projects = 0
    for items in RECORDED_LISTS:
        parse = mapping.patch_parser(B)
        records = [parse(d) for d in items]
        for record, d in zip(records, items, strict=True):
            _same_as_alone(record, d)
        first = records[0]
        for record, d in zip(records[1:], items[1:], strict=True):
            if d["project"] == items[0]["project"]:
                assert record.project is first.project  # mapped once per answer
                shared_projects += 1
    assert shared_projects > 100  # the recordings do repeat their projects


def _item(ident: int, project: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "project": copy.deepcopy(project),
        "name": f"patch {ident}",
        "msgid": f"<{ident}@example.org>",
        "date": "2024-01-01T09:00:00",
        **copy.deepcopy(extra),
    }


PROJECT = {"id": 6, "name": "Generated", "link_name": "generated", "list_id": "g.example.org"}


def test_a_changed_object_under_the_same_id_is_mapped_afresh() -> None:
    renamed = {**PROJECT, "name": "Renamed"}
    items = [_item(1, PROJECT), _item(2, renamed), _item(3, PROJECT), _item(4, PROJECT)]
    parse = mapping.patch_parser(B)
    records = [parse(d) for d in items]
    assert [r.project.name for r in records] == ["Generated", "Renamed", "Generated", "Generated"]
    assert records[1].project.raw is items[1]["project"]
    assert records[3].project is records[2].project  # the latest mapping is the one kept
    for record, d in zip(records, items, strict=True):
        _same_as_alone(record, d)


def test_people_users_and_series_are_shared_by_id_and_content() -> None:
    person = {"id": 1, "name": "Ada", "email": "ada@example.org"}
    user = {"id": 1, "username": "ada", "first_name": "Ada", "last_name": "L", "email": "a@x"}
    series = {"id": 9, "name": "s", "version": 2, "date": "2024-01-01T08:00:00"}
    items = [
        _item(1, PROJECT, submitter=person, delegate=user, series=[series]),
        _item(2, PROJECT, submitter=person, delegate=user, series=[series]),
        _item(3, PROJECT, submitter={**person, "name": "Ada L"}, series=[series, {"id": 10}]),
        _item(4, PROJECT, submitter=None, delegate=None, series=[]),
    ]
    parse = mapping.patch_parser(B)
    a, b, c, d = (parse(item) for item in items)
    assert a.submitter is b.submitter and a.delegate is b.delegate and a.series is b.series
    # a person and a user of the same number are two id spaces, never one record
    assert a.submitter is not None and a.submitter.id == "1"
    assert a.delegate is not None and a.delegate.id == "u1"
    assert c.submitter is not None and c.submitter.name == "Ada L"
    assert [s.id for s in c.series] == ["9", "10"] and c.series[0] == a.series[0]
    assert d.submitter is None and d.delegate is None and d.series == ()
    for record, item in zip((a, b, c, d), items, strict=True):
        _same_as_alone(record, item)


def test_unusual_ids_are_mapped_unshared() -> None:
    items = [_item(1, {**PROJECT, "id": "6"}), _item(2, {**PROJECT, "id": "6"})]
    parse = mapping.patch_parser(B)
    first, second = (parse(d) for d in items)
    assert first.project == second.project and first.project is not second.project


def _outcome(parse: Any, d: Any) -> tuple[str, Any]:
    try:
        record = parse(d)
    except BadPayload as exc:
        return "error", (exc.backend, exc.code, exc.message)
    return "record", record


@settings(max_examples=300, deadline=None)
@given(st.lists(broken_patch(), min_size=2, max_size=5))
def test_broken_answers_fail_or_map_as_their_items_alone(items: list[Any]) -> None:
    parse = mapping.patch_parser(B)
    for d in items:
        got, want = _outcome(parse, d), _outcome(lambda x: _reference(B, x), d)
        assert got[0] == want[0], (got, want)
        # ``==``, not repr: ``1 == True`` lets an equal object of another spelling share
        # (``Repeats``); one server does not spell the same object two ways in one answer
        assert got[1] == want[1]
        if got[0] == "record":
            assert got[1].raw is d and got[1].project.raw == d["project"]


# --- one answer's parser never serves the next ------------------------------------------------


@pytest.fixture
async def generated() -> AsyncIterator[tuple[PatchworkSource, RunningSimulator]]:
    sim = await start_simulator(PatchworkData.generated(10))
    http = HttpClient(HttpConfig(backend=B, base_url=sim.url, retries=0))
    source = create_source(B, sim.url, http, page_size=100)
    await source.open()
    try:
        yield source, sim
    finally:
        await source.close()
        await sim.close()


async def test_the_next_answer_gets_its_own_project(
    generated: tuple[PatchworkSource, RunningSimulator],
) -> None:
    source, sim = generated
    flt, page = PatchFilter(project="generated"), PageRequest(0, 10)
    before = await source.list_patches(flt, page)
    assert len(before.items) == 10
    assert len({id(p.project) for p in before.items}) == 1  # one record for the whole page
    project = next(p for p in sim.state.data.projects.values() if p["link_name"] == "generated")
    project["name"] = "Renamed upstream"
    after = await source.list_patches(flt, page)
    assert {p.project.name for p in after.items} == {"Renamed upstream"}
    assert {p.project.name for p in before.items} == {"Generated"}
