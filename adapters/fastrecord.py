"""Constructors for frozen, slotted record dataclasses, without ``__init__``.

A frozen dataclass's ``__init__`` sets each field with ``object.__setattr__(self, "name", v)``
(frozen forbids plain assignment), which looks the attribute up through the type on every
field. A list page builds ~50 fields per patch (patch, project, submitter, series summary),
so mappings on the hot path use :func:`builder` instead: a generated function taking every
field as the constructor does (positionally in declaration order or by name, with the same
defaults), that allocates the instance as a *building twin*
and then sets its ``__class__`` to ``cls``. The twin is a subclass adding nothing to the
layout (so CPython allows the class change) whose ``__setattr__`` and ``__delattr__`` are
``object``'s: its type then sets attributes generically, which the interpreter specialises
into a direct slot store (no descriptor call, no argument tuple; with either of the two
left to the frozen dataclass, every store would go through a Python-level lookup).
The result is the same object ``cls(...)`` would build —
``tests/adapters/patchwork/test_mapping_fast.py`` compares both over recorded and generated
payloads. Classes the shortcut cannot reproduce exactly (``__post_init__``, fields excluded
from ``__init__`` or keyword-only, no slots) get ``cls`` itself back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

P = ParamSpec("P")
T = TypeVar("T")


def builder(record: Callable[P, T]) -> Callable[P, T]:
    """A function taking the arguments of ``record``'s constructor (checked as such by the
    type checker), giving an instance equal to ``record(...)``."""
    cls = cast(type, record)
    fields = dataclasses.fields(cls)
    names = [f.name for f in fields]
    # every field a slot of ``cls`` or of a slotted dataclass it extends
    slotted = "__slots__" in cls.__dict__ and all(
        type(getattr(cls, n, None)).__name__ == "member_descriptor" for n in names
    )
    if (
        not slotted
        or hasattr(cls, "__post_init__")
        or any(not f.init or f.kw_only for f in fields)
        or any(not n.isidentifier() or n.startswith("_") for n in names)
    ):
        return record  # the shortcut would not be exact: construct normally
    plain = {"__setattr__": object.__setattr__, "__delattr__": object.__delattr__}
    twin = type(f"_Building{cls.__name__}", (cls,), {"__slots__": (), **plain})
    namespace: dict[str, Any] = {"_new": object.__new__, "_twin": twin, "_cls": cls}
    params, made = [], []
    for f in fields:
        if f.default is not dataclasses.MISSING:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            # as the dataclass does: a fresh value from the factory when none is given
            namespace["_missing"] = dataclasses.MISSING
            namespace[f"_factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_missing")
            made.append(f"    if {f.name} is _missing:\n        {f.name} = _factory_{f.name}()\n")
        else:
            params.append(f.name)
    body = "".join(made) + "".join(f"    o.{n} = {n}\n" for n in names)
    source = (
        f"def build({', '.join(params)}):\n    o = _new(_twin)\n{body}"
        "    o.__class__ = _cls\n    return o\n"
    )
    exec(compile(source, f"<builder {cls.__qualname__}>", "exec"), namespace)
    built: Callable[P, T] = namespace["build"]
    built.__qualname__ = built.__name__ = f"build_{cls.__name__}"
    return built
