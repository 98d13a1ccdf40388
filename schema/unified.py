"""One declaration per unified type: the strawberry class's own fields say how it is built
from its record (``of``) and what the execution fast path reads instead
(``schema/execution/projection.py``).

A unified type is a strawberry class decorated with ``@unified(Record, …)`` and given an
``of: ClassVar[…]`` annotation. Every plain field (no resolver) is read from the record
attribute of the same python name, unless ``rename`` names another attribute or a function of
the record; a field typed as another unified type (or a list of them) is converted with that
type's ``of``; a list of scalars is copied into a list. ``node_kind="Kind"`` makes ``id`` the
global ID ``node.encode(Kind, r.backend, native(r))``. A field whose value is a nested record
converted only when selected is declared with ``record_field``. Everything is checked when the
class is decorated: a field the record cannot answer is an import-time ``TypeError``, not a
hand-synced table that drifts.

``of`` is compiled per type (one constructor call over checked identifiers, the values bound in
its scope), so it costs what a hand-written one does. The projection registered for the fast
path follows from the same walk: every plain field that is a scalar, an enum or a unified
object, plus the ``record_field``s and the record-only resolvers named in ``resolvers``. Lists
are left to ``of`` (the fast path converts then).
"""

from __future__ import annotations

import dataclasses
import keyword
from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import Any, TypeVar

import strawberry
from strawberry.types.base import StrawberryList, StrawberryOptional, has_object_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.private import is_private

from schema import node
from schema.execution.projection import register

C = TypeVar("C", bound=type[Any])
Reader = Callable[[Any], Any]

# Markers instead of registries: a declared class carries its on-demand conversions under
# _ON_DEMAND (so "is it unified" is a look at the class), a record_field resolver its
# attribute under _ATTR.
_ON_DEMAND = "__unified_record_fields__"
_ATTR = "__unified_attr__"
_NULLABLE = "__unified_nullable__"  # its of() answers None for None


def record_field(attr: str, description: str) -> Any:
    """A field whose value is the record's ``attr`` converted by its unified type, on demand.

    A resolver rather than a plain field so that a list item converts it only when selected;
    the fast path reads ``attr`` from the record instead."""

    def resolve(self: Any) -> Any:
        return type(self).__unified_record_fields__[attr](getattr(self._r, attr))

    setattr(resolve, _ATTR, attr)
    # No return annotation: strawberry then types the field by the class annotation.
    del resolve.__annotations__["return"]
    return strawberry.field(resolver=resolve, description=description)


@dataclasses.dataclass
class _Walk:
    """What the walk over a class's fields found."""

    attrs: dict[str, str] = dataclasses.field(default_factory=dict)  # field → record attribute
    computed: dict[str, Reader] = dataclasses.field(default_factory=dict)  # field → function
    converters: dict[str, Reader] = dataclasses.field(default_factory=dict)
    projected: dict[str, Reader] = dataclasses.field(default_factory=dict)
    on_demand: dict[str, Reader] = dataclasses.field(default_factory=dict)  # record_field attr
    node_id: tuple[str, Reader] | None = None  # the global ID's type name and native id


def unified(
    record: type[Any],
    *,
    node_kind: str | None = None,
    native: Reader = attrgetter("id"),
    rename: Mapping[str, str | Reader] | None = None,
    keep: str | None = "_r",
    private: Mapping[str, Reader] | None = None,
    resolvers: tuple[str, ...] = (),
    contextual: tuple[str, ...] = (),
    nullable: bool = False,
    name: str = "of",
) -> Callable[[C], C]:
    """Give the strawberry class ``of(record)`` and register its fast-path projection.

    ``rename``: python field → record attribute, or a function of the record, where they
    differ. ``keep``: the private field holding the record. ``private``: other private fields,
    each a function of the record. ``resolvers``: synchronous resolvers that read nothing but
    ``self._r`` (the fast path calls them with the record). ``contextual``: synchronous
    resolvers reading ``self._r`` and the request's context (called so too, but what they
    answer is not the record's alone: never kept by the fast path's list memo).
    ``nullable``: ``of(None)`` is ``None``. ``name``: another name than ``of`` declares a
    second conversion, from another record (a series from its inline reference), that is
    neither nested nor projected."""

    def declare(cls: C) -> C:
        walk = _walk(cls, record, node_kind, native, rename or {})
        of = _make_of(cls, walk, keep, private, nullable)
        setattr(cls, name, of)
        if name == "of":
            setattr(cls, _ON_DEMAND, walk.on_demand)
            setattr(cls, _NULLABLE, nullable)
            register(cls, record, of, walk.projected, resolvers, contextual)
        return cls

    return declare


def _identity(value: Any) -> Any:
    return value


def _walk(
    cls: type[Any],
    record: type[Any],
    node_kind: str | None,
    native: Reader,
    rename: Mapping[str, str | Reader],
) -> _Walk:
    """Per field: how ``of`` reads and converts it, and what the projection reads."""
    walk = _Walk()
    for f in cls.__strawberry_definition__.fields:
        name = f.python_name
        if f.type_annotation is not None and is_private(f.type_annotation.annotation):
            continue
        owner = f"{cls.__name__}.{name}"
        if f.base_resolver is not None:
            attr = getattr(f.base_resolver.wrapped_func, _ATTR, None)
            if attr is not None:
                _check(record, owner, attr)
                walk.on_demand[attr] = _converter(f.type, owner) or _identity
                walk.projected[name] = attrgetter(attr)
            continue
        source = rename.get(name, name)
        if name == "id" and node_kind is not None and name not in rename:
            walk.node_id = (node_kind, native)  # compiled inline into of()
            walk.projected[name] = _global_id(node_kind, native)
            continue
        if callable(source):  # computed: its value as the function gives it
            walk.computed[name] = source
            if _is_leaf(f.type):
                walk.projected[name] = source
            continue
        _check(record, owner, source)
        walk.attrs[name] = source
        convert = _converter(f.type, owner)
        if convert is not None:
            walk.converters[name] = convert
        if convert is None or _unified_target(f.type):
            walk.projected[name] = attrgetter(source)  # a nested record: projected by its type
    return walk


def _global_id(kind: str, native: Reader) -> Reader:
    return lambda r: node.encode(kind, r.backend, native(r))


def _check(record: type[Any], owner: str, attr: str) -> None:
    if not hasattr(record, attr):
        raise TypeError(
            f"{owner}: {record.__name__} has no attribute {attr!r} "
            "(name the record's attribute or a function in rename=)"
        )


def _converter(gql: Any, owner: str) -> Reader | None:
    """How a record value becomes the field's value: ``None`` means as it is."""
    if isinstance(gql, StrawberryOptional):
        inner = _converter(gql.of_type, owner)
        if inner is None or getattr(gql.of_type, _NULLABLE, False):
            return inner
        return lambda v: None if v is None else inner(v)
    if isinstance(gql, StrawberryList):
        item = _converter(gql.of_type, owner)
        if item is None:
            return list
        return lambda v: [item(x) for x in v]
    if isinstance(gql, LazyType):
        raise TypeError(f"{owner}: a lazy type (name a function in rename=)")
    if isinstance(gql, type) and has_object_definition(gql):
        if not _is_unified(gql):
            raise TypeError(f"{owner}: {gql.__name__} is not a unified type (name a function)")
        found: Reader = getattr(gql, "of")  # noqa: B009  # set by unified(), unknown to mypy
        return found
    return None


def _is_leaf(gql: Any) -> bool:
    """Whether the field holds a scalar or an enum (possibly null)."""
    while isinstance(gql, StrawberryOptional):
        gql = gql.of_type
    return not isinstance(gql, StrawberryList | LazyType) and not has_object_definition(gql)


def _unified_target(gql: Any) -> bool:
    """Whether the field holds one object of a unified type (not a list)."""
    while isinstance(gql, StrawberryOptional):
        gql = gql.of_type
    return isinstance(gql, type) and _is_unified(gql)


def _is_unified(cls: type[Any]) -> bool:
    return _ON_DEMAND in cls.__dict__  # declared itself, not inherited from a declared base


def _make_of(
    cls: type[Any],
    walk: _Walk,
    keep: str | None,
    private: Mapping[str, Reader] | None,
    nullable: bool,
) -> Reader:
    """Compile ``of``: one call of the class with each field read as a hand-written
    conversion would (a generic loop over the fields cost twice the instructions)."""
    init = {f.name for f in dataclasses.fields(cls) if f.init}
    scope: dict[str, Any] = {"CLS": cls}
    args: list[str] = []
    for name, attr in walk.attrs.items():
        value = f"r.{_identifier(cls, attr)}"
        if name in walk.converters:
            scope[f"V_{name}"] = walk.converters[name]
            value = f"V_{name}({value})"
        args.append(f"{name}={value}")
    for name, read in [*walk.computed.items(), *(private or {}).items()]:
        scope[f"C_{name}"] = read
        args.append(f"{name}=C_{name}(r)")
    if walk.node_id is not None:
        scope["ENCODE"], scope["KIND"], scope["NATIVE"] = node.encode, *walk.node_id
        args.append("id=ENCODE(KIND, r.backend, NATIVE(r))")
    if keep is not None:
        args.append(f"{keep}=r")
    for arg in args:
        if _identifier(cls, arg.partition("=")[0]) not in init:
            raise TypeError(f"{cls.__name__}: no field {arg.partition('=')[0]!r} to set")
    guard = "    if r is None:\n        return None\n" if nullable else ""
    source = f"def of(r):\n{guard}    return CLS({', '.join(args)})\n"
    # The source holds only identifiers checked above; the values are bound in scope.
    exec(compile(source, f"<unified {cls.__name__}.of>", "exec"), scope)
    of: Reader = scope["of"]
    return of


def _identifier(cls: type[Any], name: str) -> str:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise TypeError(f"{cls.__name__}: {name!r} is not an attribute name")
    return name
