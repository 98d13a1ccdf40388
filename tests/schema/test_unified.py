"""Each unified field declared once (schema/unified.py): ``of`` and the fast path's projection
follow from the strawberry class, and what they read cannot drift apart.

That whole responses agree is the differential tests' job (``test_fastpath*.py``); these check
the declaration itself: for every declared type, each projected field reads from the record
exactly what ``of`` sets (or, for a nested record, what its type's ``of`` makes of it), and a
field the record cannot answer fails when the class is declared, not at request time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
import strawberry
from strawberry.types.base import has_object_definition

from adapters import model
from adapters.abf import records as abf
from schema import node
from schema.execution.projection import PROJECTIONS, RESOLVE, shortcut
from schema.types import Check, Comment, Patch, Person, Project
from schema.types_events import Event
from schema.types_series import Bundle, Cover, Series
from schema.unified import record_field, unified

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
PROJECT = model.Project("pw", "7", "Linux", "linux", web_url="https://x/p/linux", list_id="l")
ALICE = model.Person("pw", "3", "Alice", "alice@example.org", username="alice")
BOB = model.Person("pw", "u9", None, None, username="bob")
REF = model.SeriesRef("pw", "5", "A series", 2, WHEN, web_url="https://x/s/5")
PATCH = model.Patch(
    backend="pw",
    id="11",
    project=PROJECT,
    title="[PATCH] fix",
    msgid="<m@x>",
    date=WHEN,
    state=model.ChangeState.OPEN,
    raw_state="new",
    archived=False,
    submitter=ALICE,
    delegate=BOB,
    check_state=model.CheckState.SUCCESS,
    series=(REF,),
    hash="abc",
    web_url="https://x/patch/11",
    mbox_url="https://x/patch/11/mbox",
)
RECORDS: list[Any] = [
    PATCH,
    PROJECT,
    ALICE,
    model.Check("pw", "1", "11", "ci", model.CheckState.FAILURE, "fail", WHEN, user=BOB),
    model.Comment("pw", "2", "11", "Patch", WHEN, "Re: fix", ALICE, "LGTM", msgid="<c@x>"),
    model.Cover("pw", "4", PROJECT, "[PATCH 0/2] intro", "<cv@x>", WHEN, None, content="hi"),
    model.Series("pw", "5", PROJECT, "A series", WHEN, ALICE, 2, 2, 1, False, None, ()),
    model.Event("pw", "8", "patch-created", WHEN, PROJECT, ALICE, patch_id="11"),
    model.Bundle("pw", "9", "mine", None, BOB, True, ()),
    model.Revision("fdo", "5", 2, "cover text", ("11",), mbox_url="https://x/s/5/2/mbox"),
    abf.PullRequest(
        backend="abf",
        id="7/3",
        project=PROJECT,
        number=3,
        title="Fix build",
        state=model.ChangeState.OPEN,
        raw_state="ready",
        mergeability=abf.Mergeability.MERGEABLE,
        mergeable=True,
        to_ref=abf.Ref("master", "aaa", PROJECT),
        from_ref=abf.Ref("fix", "bbb", None),
        owner=ALICE,
        assignee=None,
    ),
]


def _resolve(obj: Any, python_name: str) -> Any:
    """The field's value on the converted object: the attribute, or its record_field resolver."""
    definition = type(obj).__strawberry_definition__
    field = next(f for f in definition.fields if f.python_name == python_name)
    if field.base_resolver is not None:
        return field.base_resolver.wrapped_func(obj)
    return getattr(obj, python_name)


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_each_projected_field_reads_what_of_sets(record: Any) -> None:
    declared = [(t, p) for t, p in PROJECTIONS.items() if p.record is type(record)]
    assert declared
    for gql, projection in declared:
        converted = projection.of(record)
        assert isinstance(converted, gql)
        assert projection.fields, gql
        for name, read in projection.fields.items():
            expected = _resolve(converted, name)
            raw = read(record)
            if has_object_definition(type(expected)):  # a nested record: its type converts it
                raw = type(expected).of(raw)
            assert raw == expected, f"{gql.__name__}.{name}"


def test_of_builds_the_strawberry_fields_from_the_record() -> None:
    patch = Patch.of(PATCH)
    assert patch.id == node.encode("Patch", "pw", "11")
    assert (patch.title, patch.created_at, patch.updated_at) == ("[PATCH] fix", WHEN, WHEN)
    assert patch.author == Person.of(ALICE) and patch.delegate == Person.of(BOB)
    assert patch._r is PATCH and Person.of(None) is None
    series = Series.of_ref(REF, PROJECT)
    assert (series.id, series.name, series._project, series._r) == (
        node.encode("Series", "pw", "5"),
        "A series",
        PROJECT,
        None,
    )
    assert Check.of(RECORDS[3]).id == node.encode("Check", "pw", "11/1")
    assert Comment.of(RECORDS[4]).author == Person.of(ALICE)
    assert Cover.of(RECORDS[5]).author is None
    assert Event.of_live(RECORDS[7], "c1")._cursor == "c1" and Event.of(RECORDS[7])._cursor is None
    assert Bundle.of(RECORDS[8]).owner == Person.of(BOB)


def test_the_projection_table_follows_the_declared_fields() -> None:
    assert set(PROJECTIONS[Project].fields) == {
        "id",
        "name",
        "link_name",
        "web_url",
        "list_email",
        "list_id",
        "scm_url",
        "webscm_url",
        "list_archive_url",
    }
    assert {"created_at", "author", "delegate", "project", "msgid"} <= set(
        PROJECTIONS[Patch].fields
    )
    # check_state reads the request's check presence (schema/types.py): not record-only
    assert "check_state" not in PROJECTIONS[Patch].fields
    assert PROJECTIONS[Patch].resolvers == {"backend"}


@dataclass(frozen=True, slots=True)
class _Gadget:
    backend: str
    id: str
    label: str
    tags: tuple[str, ...]
    maker: model.Person | None
    home: model.Project


def test_a_new_field_needs_only_the_record_and_the_type() -> None:
    @unified(_Gadget, node_kind="Gadget", rename={"title": "label"})
    @strawberry.type
    class Gadget:
        id: strawberry.ID
        title: str
        tags: list[str]
        maker: Person | None
        home: Project = record_field("home", "Where it lives.")
        _r: strawberry.Private[_Gadget]
        of: ClassVar[Callable[[_Gadget], Gadget]]

    record = _Gadget("pw", "1", "a gadget", ("x", "y"), ALICE, PROJECT)
    gadget = Gadget.of(record)
    assert (gadget.title, gadget.tags, gadget.maker) == ("a gadget", ["x", "y"], Person.of(ALICE))
    assert _resolve(gadget, "home") == Project.of(PROJECT)
    # Lists are left to ``of`` (the fast path converts the item when one is selected).
    assert set(PROJECTIONS[Gadget].fields) == {"id", "title", "maker", "home"}


def test_a_field_the_record_cannot_answer_fails_at_declaration() -> None:
    with pytest.raises(TypeError, match=r"Broken\.colour: _Gadget has no attribute 'colour'"):

        @unified(_Gadget)
        @strawberry.type
        class Broken:
            colour: str


@strawberry.type
class Loose:
    label: str


def test_an_object_field_of_an_undeclared_type_fails_at_declaration() -> None:
    with pytest.raises(TypeError, match=r"Broken\.label: Loose is not a unified type"):

        @unified(_Gadget, keep=None)
        @strawberry.type
        class Broken:
            label: Loose


def _resolver_answer(cls: type[Any], name: str, record: Any) -> Any:
    """What the resolver of ``cls.name`` answers for ``of(record)`` with no info at all (a
    resolver that needed the request fails)."""
    found = next(f for f in cls.__strawberry_definition__.fields if f.python_name == name)
    resolver = found.base_resolver
    assert resolver is not None
    subject = resolver.root_parameter or resolver.self_parameter
    assert subject is not None
    args = {subject.name: getattr(cls, "of")(record)}  # noqa: B009
    if resolver.info_parameter is not None:
        args[resolver.info_parameter.name] = None
    return resolver.wrapped_func(**args)


_PARTIAL = model.Person("fdo", "12", None, None, partial=True)


@pytest.mark.parametrize(
    "record",
    [
        ALICE,
        BOB,
        _PARTIAL,
        *(replace(PATCH, check_state=s) for s in [None, *model.CheckState]),
    ],
    ids=repr,
)
def test_each_shortcut_answers_what_its_resolver_does(record: Any) -> None:
    """A shortcut (``projection.shortcut``) answers from the record only what the resolver
    answers without the request; elsewhere it says ``RESOLVE``."""
    for cls, projection in PROJECTIONS.items():
        if projection.record is not type(record):
            continue
        for name, read in projection.shortcuts.items():
            answer = read(record)
            if answer is not RESOLVE:
                assert answer == _resolver_answer(cls, name, record), (cls, name)
    shortcuts = {n for p in PROJECTIONS.values() for n in p.shortcuts}
    assert {"name", "email", "display_name", "check_state"} <= shortcuts
    resolved = [read(_PARTIAL) for read in PROJECTIONS[Person].shortcuts.values()]
    assert resolved == [RESOLVE] * 3  # a partial person is named by the request's loader


def test_a_shortcut_names_a_record_resolver() -> None:
    with pytest.raises(TypeError, match=r"Person: no record resolver \['username'\]"):
        shortcut(Person, username=lambda r: r.username)
