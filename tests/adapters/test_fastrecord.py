"""``fastrecord.builder`` builds what the record's constructor builds, for every record type.

The kinds' mappings construct their records through builders (keywords and defaults as the
constructor takes them); a builder that set a field wrongly, shared a default factory's value
or accepted what the constructor refuses would change every mapped record.
"""

from __future__ import annotations

import dataclasses
import inspect
from types import ModuleType
from typing import Any

import pytest

from adapters import model
from adapters.abf import records as abf_records
from adapters.fastrecord import builder
from adapters.gerrit import records as gerrit_records

MODULES: tuple[ModuleType, ...] = (model, gerrit_records, abf_records)
RECORDS = sorted(
    {
        cls
        for module in MODULES
        for cls in vars(module).values()
        if inspect.isclass(cls)
        and dataclasses.is_dataclass(cls)
        and cls.__module__ == module.__name__
        and "__slots__" in cls.__dict__
    },
    key=lambda cls: cls.__qualname__,
)


def _required(cls: type) -> list[dataclasses.Field[Any]]:
    return [
        f
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]


def _same(made: Any, want: Any, cls: type) -> None:
    assert type(made) is cls and made == want and repr(made) == repr(want)
    for f in dataclasses.fields(cls):
        assert getattr(made, f.name) == getattr(want, f.name), f.name


def test_the_kinds_records_are_covered() -> None:
    names = {cls.__name__ for cls in RECORDS}
    assert {"Patch", "TrackedPatch", "Person", "Event", "GerritChange", "PullRequest"} <= names
    assert sum(builder(cls) is not cls for cls in RECORDS) >= 20  # the shortcut applies


@pytest.mark.parametrize("cls", RECORDS, ids=lambda cls: cls.__qualname__)
def test_builder_equals_the_constructor(cls: type) -> None:
    build = builder(cls)
    fields = dataclasses.fields(cls)
    values = [object() for _ in fields]  # every field its own value, set exactly there
    positional = build(*values)
    assert type(positional) is cls
    for f, value in zip(fields, values, strict=True):
        assert getattr(positional, f.name) is value, f.name
    by_name = {f.name: v for f, v in zip(fields, values, strict=True)}
    _same(build(**by_name), cls(**by_name), cls)
    required = {f.name: object() for f in _required(cls)}
    first, second = build(**required), build(**required)
    _same(first, cls(**required), cls)
    for f in fields:
        if f.default_factory is not dataclasses.MISSING:  # a fresh value on every call
            assert getattr(first, f.name) is not getattr(second, f.name), f.name


@pytest.mark.parametrize("cls", RECORDS, ids=lambda cls: cls.__qualname__)
def test_builder_refuses_what_the_constructor_refuses(cls: type) -> None:
    build = builder(cls)
    required = {f.name: None for f in _required(cls)}
    with pytest.raises(TypeError):
        cls(**required, not_a_field=1)
    with pytest.raises(TypeError):
        build(**required, not_a_field=1)
    if required:
        missing = dict(list(required.items())[1:])
        with pytest.raises(TypeError):
            cls(**missing)
        with pytest.raises(TypeError):
            build(**missing)
