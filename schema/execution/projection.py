"""Record → response projections: what the execution fast path reads instead of GraphQL objects.

A connection's items are converted from records to strawberry objects (``Patch.of``, which
also builds ``Person.of`` and friends) only to have the fast path read a few attributes back
(``bench/README.md``: ~10 % of a list request's CPU). So ``connection()`` keeps the records in a
``RecordList`` that converts on first use (normal execution iterates it as any list), and a type
registers, next to its definition, how each of its fields reads from its record
(``register``): a plan (``compiler.py``) whose selection on the type uses only
registered fields builds the response straight from the records, and converts (``of``)
otherwise. The differential tests (``tests/schema/test_fastpath*.py``) compare both with
normal execution.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Projection:
    """How a GraphQL object type reads from its record.

    ``fields``: python field name → a function of the record returning exactly what the
    attribute of ``of(record)`` holds; for an object-typed field, the nested *record* (its
    type must be registered too; it is projected the same way). ``resolvers``: synchronous
    resolvers that read nothing of ``self`` but ``self._r`` — they are called with a
    ``RecordView`` instead of the converted object. ``contextual``: resolvers called the same
    way whose answer also depends on the request (its context), so an object built with one
    is not a function of its record alone (``ObjectPlan.pure``)."""

    record: type[Any]
    of: Callable[[Any], Any]
    fields: Mapping[str, Callable[[Any], Any]]
    resolvers: frozenset[str] = field(default_factory=frozenset)
    contextual: frozenset[str] = field(default_factory=frozenset)
    # resolver field → a function of the record giving the resolver's answer, or ``RESOLVE``
    # where only the resolver can tell (``shortcut``)
    shortcuts: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)


# A declaration table, not a cache: each registered type adds one entry when its module is
# imported (bounded by the schema's types), and a type registered again replaces its entry.
PROJECTIONS: dict[type[Any], Projection] = {}


def register(
    gql_type: type[Any],
    record: type[Any],
    of: Callable[[Any], Any],
    fields: dict[str, Callable[[Any], Any]],
    resolvers: tuple[str, ...] = (),
    contextual: tuple[str, ...] = (),
) -> None:
    """Declare how ``gql_type`` (a strawberry class) is read from a ``record`` instance."""
    frozen = MappingProxyType(dict(fields))  # plans read it; nobody may change it after
    PROJECTIONS[gql_type] = Projection(
        record, of, frozen, frozenset(resolvers), frozenset(contextual)
    )


RESOLVE = object()  # a shortcut's "call the resolver"


def shortcut(gql_type: type[Any], **readers: Callable[[Any], Any]) -> None:
    """Give resolvers of registered ``gql_type`` a reader of the record for the common case:
    where it does not answer ``RESOLVE``, it answers exactly what the resolver would, for
    any request (no ``RecordView``, no info, no call of the resolver)."""
    found = PROJECTIONS[gql_type]
    unknown = set(readers) - found.resolvers - found.contextual
    if unknown:
        raise TypeError(f"{gql_type.__name__}: no record resolver {sorted(unknown)}")
    merged = MappingProxyType({**found.shortcuts, **readers})
    PROJECTIONS[gql_type] = dataclasses.replace(found, shortcuts=merged)


class RecordView:
    """What a record-only resolver gets as ``self``/``root``: just ``_r``."""

    __slots__ = ("_r",)

    def __init__(self, r: Any) -> None:
        self._r = r


class _OnFirstUse(Sequence[T]):
    """A list whose items are made on first use (``items``), then read as a list's."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: list[T] | None = None

    def make(self) -> list[T]:
        """The items (called once)."""
        raise NotImplementedError

    def items(self) -> list[T]:
        """The items, made on the first call."""
        if self._items is None:
            self._items = self.make()
        return self._items

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        return self.items()[index]

    def __len__(self) -> int:
        return len(self.items())

    def __iter__(self) -> Iterator[T]:
        return iter(self.items())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _OnFirstUse | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-list semantics, as the list it replaces

    def __repr__(self) -> str:
        return repr(self.items())


class RecordList(_OnFirstUse[T], Generic[R, T]):
    """The items of a page as records, converted with ``convert`` on first use."""

    __slots__ = ("convert", "memoised", "records")

    def __init__(
        self, records: Sequence[R], convert: Callable[[R], T], memoised: bool = False
    ) -> None:
        super().__init__()
        self.records = records
        self.convert = convert
        # the records object comes back while upstream is unchanged (``Page.kept``)
        self.memoised = memoised

    def make(self) -> list[T]:
        convert = self.convert
        return [convert(r) for r in self.records]

    def __len__(self) -> int:
        return len(self.records)  # no conversion needed to count them


class LazyList(_OnFirstUse[T]):
    """A list computed on first use (a connection's edges, which share its nodes)."""

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[], list[T]]) -> None:
        super().__init__()
        self._make = make

    def make(self) -> list[T]:
        return self._make()
