"""What a backend kind is, on the schema side: one ``SchemaPart`` per kind, composed per schema.

A kind's adapter descriptor (``adapters/plugin.py`` ``AdapterKind``) names its part as
``"module:attribute"`` (the adapters may not import the schema); ``compose`` loads the parts of
the kinds a schema is built with (``importlib.metadata.EntryPoint``, the packaging way of
resolving such a name) and merges them with the kind-independent ``CORE`` part
(``schema/kinds/core.py``). ``schema/build.py`` builds the root types from the result and
keeps it on the schema (``KindSchema``), where resolvers find the tables that used to be
written per kind: node loaders (``node(id:)``) and change conversions (``changes``).
Guide: ``docs/adding-a-kind.md``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint
from typing import TYPE_CHECKING, Any, TypeVar

from adapters.plugin import AdapterKind, by_name
from schema.errors import LoggingSchema
from schema.node import GlobalId

if TYPE_CHECKING:
    from schema.context import Info
    from schema.lean import LeanQueries
    from schema.types import Change, Node

NodeLoader = Callable[["Info", GlobalId], Awaitable["Node | None"]]
"""Loads the object of one global ID (``None``: the backend has no such object)."""

ChangeOf = Callable[[Any], "Change"]
"""A change record (what the kind's ``ChangeLister`` lists) → its GraphQL ``Change`` type."""

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class SchemaPart:
    """A kind's contribution to the GraphQL schema.

    ``query`` / ``mutation``: strawberry types whose fields join the root types (merged in
    kind order). ``types``: types no field reaches but the schema must show (implementations
    of an interface). ``nodes``: type name → loader for ``node(id:)``. ``changes``: change
    record class → GraphQL type, for the federated ``changes`` list.
    """

    query: tuple[type, ...] = ()
    mutation: tuple[type, ...] = ()
    types: tuple[type, ...] = ()
    nodes: Mapping[str, NodeLoader] = field(default_factory=dict)
    changes: Mapping[type, ChangeOf] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Composition:
    """The parts of one schema's kinds merged: what ``build_schema`` and the resolvers use."""

    kinds: tuple[AdapterKind, ...]
    query: tuple[type, ...]
    mutation: tuple[type, ...]
    types: tuple[type, ...]
    nodes: Mapping[str, NodeLoader]
    changes: Mapping[type, ChangeOf]


def load_part(kind: AdapterKind) -> SchemaPart:
    """The ``SchemaPart`` that ``kind.schema`` names."""
    try:
        part = EntryPoint(name=kind.name, value=kind.schema, group="revgate.kinds").load()
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"kind {kind.name!r}: cannot load its schema part: {exc}") from exc
    if not isinstance(part, SchemaPart):
        raise TypeError(f"kind {kind.name!r}: {kind.schema} is not a SchemaPart")
    return part


def _unique(items: Iterable[type]) -> tuple[type, ...]:
    """``items`` without repeats, first occurrence first (two kinds may share a type)."""
    return tuple(dict.fromkeys(items))


def _merged(tables: Iterable[Mapping[K, V]], what: str) -> dict[K, V]:
    """One table from several; a key two parts map differently is a mistake."""
    merged: dict[K, V] = {}
    for table in tables:
        for key, value in table.items():
            if merged.setdefault(key, value) is not value:
                raise ValueError(f"two kinds register {what} {key!r} differently")
    return merged


def compose(core: SchemaPart, kinds: Sequence[AdapterKind]) -> Composition:
    """``core`` and the parts of ``kinds``, merged in that order."""
    by_name(kinds)  # refuses a kind registered twice
    parts = [core, *(load_part(kind) for kind in kinds)]
    return Composition(
        kinds=tuple(kinds),
        query=_unique(t for p in parts for t in p.query),
        mutation=_unique(t for p in parts for t in p.mutation),
        types=_unique(t for p in parts for t in p.types),
        nodes=_merged((p.nodes for p in parts), "node type"),
        changes=_merged((p.changes for p in parts), "change record"),
    )


class KindSchema(LoggingSchema):
    """The schema with the composition it was built from, which resolvers reach through
    ``info.schema`` (the kinds are per schema: a test may build one with an extra kind)."""

    def __init__(self, *args: Any, composition: Composition, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.composition = composition
        # planned queries without strawberry's pipeline (``schema/lean.py``), when built so
        self.lean: LeanQueries | None = None


def composition_of(info: Info) -> Composition:
    """The composition of the schema ``info`` belongs to."""
    schema = info.schema
    if not isinstance(schema, KindSchema):
        raise TypeError("the schema was not built by schema.build.build_schema")
    return schema.composition
