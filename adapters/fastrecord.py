"""Positional constructors for frozen, slotted record dataclasses, without ``__init__``.

A frozen dataclass's ``__init__`` sets each field with ``object.__setattr__(self, "name", v)``
(frozen forbids plain assignment), which looks the attribute up through the type on every
field. A list page builds ~50 fields per patch (patch, project, submitter, series summary),
so mappings on the hot path use :func:`builder` instead: a generated function taking every
field positionally, in declaration order, that allocates the instance as a *building twin*
and then sets its ``__class__`` to ``cls``. The twin is a subclass adding nothing to the
layout (so CPython allows the class change) whose ``__setattr__`` and ``__delattr__`` are
``object``'s: its type then sets attributes generically, which the interpreter specialises
into a direct slot store (no descriptor call, no argument tuple; with either of the two
left to the frozen dataclass, every store would go through a Python-level lookup).
The result is the same object ``cls(...)`` would build —
``tests/adapters/patchwork/test_mapping_fast.py`` compares both over recorded and generated
payloads. Classes the shortcut cannot reproduce exactly (``__post_init__``, fields excluded
from ``__init__``, no slots) get ``cls`` itself back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def builder(cls: type[T]) -> Callable[..., T]:
    """A function ``(*every field in declaration order) -> cls instance``, equal to ``cls(...)``."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]  # any dataclass
    names = [f.name for f in fields]
    slotted = "__slots__" in cls.__dict__ and all(
        type(cls.__dict__.get(n)).__name__ == "member_descriptor" for n in names
    )
    if (
        not slotted
        or hasattr(cls, "__post_init__")
        or any(not f.init for f in fields)
        or any(not n.isidentifier() or n.startswith("_") for n in names)
    ):
        return cls  # the shortcut would not be exact: construct normally
    plain = {"__setattr__": object.__setattr__, "__delattr__": object.__delattr__}
    twin = type(f"_Building{cls.__name__}", (cls,), {"__slots__": (), **plain})
    namespace: dict[str, Any] = {"_new": object.__new__, "_twin": twin, "_cls": cls}
    body = "".join(f"    o.{n} = {n}\n" for n in names)
    source = (
        f"def build({', '.join(names)}):\n    o = _new(_twin)\n{body}"
        "    o.__class__ = _cls\n    return o\n"
    )
    exec(compile(source, f"<builder {cls.__qualname__}>", "exec"), namespace)
    built: Callable[..., T] = namespace["build"]
    built.__qualname__ = built.__name__ = f"build_{cls.__name__}"
    return built
