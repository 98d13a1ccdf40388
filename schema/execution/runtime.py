"""What a plan runs: one request's state (``Run``), completion of values and errors.

graphql-core's rules, kept exactly: a failed field is ``null`` plus an error located at the
field with its path; a non-null field's failure propagates ``null`` to the nearest nullable
parent. A synchronous resolver that returns an awaitable (graphql-core awaits it; nothing in
the resolver's signature says it will) stops the walk: ``Awaited`` is raised past every
error handler and the request is answered by normal execution instead (``replay.py``), so
what a plan answers is always what normal execution answers.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any

from graphql import (
    FieldNode,
    GraphQLBoolean,
    GraphQLError,
    GraphQLID,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLString,
    located_error,
)
from graphql.pyutils import Path, Undefined, inspect
from strawberry.types.info import Info

from schema.execution.plan import DEFINITION, Complete, FieldPlan, ObjectPlan, Plan
from schema.execution.projection import RecordView
from schema.execution.strawberry_private import resolve_info

# ``_new(Path, (prev, key, typename))`` is ``Path(prev, key, typename)`` without the named
# tuple's generated ``__new__`` (a Python call): the same object, for paths made per item.
_new = tuple.__new__


def is_awaitable(value: Any) -> bool:
    """Whether graphql-core would await ``value`` (its default ``is_awaitable`` test)."""
    return asyncio.iscoroutine(value) or hasattr(value, "__await__")


class Run:
    """One execution of a plan: the request's values and the errors collected so far."""

    __slots__ = ("context", "errors", "extensions", "memo", "plan", "root", "roots", "variables")

    def __init__(
        self,
        plan: Plan,
        context: Any,
        root: Any,
        variables: dict[str, Any],
        extensions: dict[str, Any] | None,
        memo: ListMemo | None = None,
    ) -> None:
        self.plan = plan
        self.context = context
        self.root = root
        self.variables = variables
        self.extensions = extensions
        self.memo = memo  # built lists kept by records (``ListMemo``); None: none kept
        self.errors: list[GraphQLError] = []
        # What each root resolver gave, by response key (``RootOutcome``), for ``replay.py``.
        self.roots: dict[str, RootOutcome] = {}

    def info(self, fdef: Any, nodes: list[FieldNode], parent: GraphQLObjectType, path: Path) -> Any:
        """The resolve info graphql-core (as strawberry configures it) would pass."""
        return resolve_info(
            self.plan,
            fdef,
            nodes,
            parent,
            path,
            self.root,
            self.variables,
            self.context,
            self.extensions,
            is_awaitable,
        )


@dataclass(frozen=True, slots=True)
class RootOutcome:
    """What a root resolver gave: its value (awaited when ``awaited``) or the exception it
    raised (``raised``)."""

    value: Any
    awaited: bool = False
    raised: bool = False


class Awaited(BaseException):
    """A synchronous resolver returned an awaitable: the plan stops and the request runs
    normally (a ``BaseException``, so that no field's error handler takes it for a failure)."""

    def __init__(self, pending: Any) -> None:
        super().__init__("a synchronous resolver returned an awaitable")
        if hasattr(pending, "close"):  # a coroutine never started: no I/O, no warning
            pending.close()


def awaited(pending: Any) -> None:
    """Stop the walk: ``pending`` came from a synchronous resolver (generated builders)."""
    raise Awaited(pending)


def leaf(gtype: GraphQLLeafType) -> Complete:
    """Completion of a scalar or enum value (graphql-core's ``complete_leaf_value``)."""
    coerce = gtype.coerce_output_value
    exact_class = exact(gtype)

    def complete_leaf(value: Any, path: Path, run: Run) -> Any:
        if value is None or value is Undefined:
            return None
        if type(value) is exact_class:
            return value
        coerced = coerce(value)
        if coerced is Undefined or coerced is None:
            raise leaf_error(gtype, value, coerced)
        return coerced

    return complete_leaf


def exact(gtype: Any) -> type[Any] | None:
    """The Python class whose values graphql-core's coercion of ``gtype`` returns unchanged."""
    if gtype is GraphQLString or gtype is GraphQLID:
        return str
    if gtype is GraphQLBoolean:
        return bool
    return None


def leaf_error(gtype: GraphQLLeafType, value: Any, coerced: Any) -> TypeError:
    """graphql-core's error for a leaf value that does not coerce."""
    return TypeError(
        f"Expected `{inspect(gtype)}.coerce_output_value({inspect(value)})` to return"
        f" non-nullable value, returned: {inspect(coerced)}"
    )


def wrong_type(gtype: GraphQLObjectType, value: Any, nodes: list[FieldNode]) -> GraphQLError:
    """graphql-core's error for a value its type's ``is_type_of`` refuses."""
    return GraphQLError(f"Expected value of type '{gtype.name}' but got: {inspect(value)}.", nodes)


def complete_object(
    obj: ObjectPlan, nodes: list[FieldNode], value: Any, path: Path, run: Run
) -> dict[str, Any]:
    """The generic walk of an object plan (what ``codegen.py`` generates, statement for
    statement)."""
    if obj.check is not None and not obj.check(value, None):
        raise wrong_type(obj.gtype, value, nodes)
    out: dict[str, Any] = {}
    typename = obj.gtype.name
    for f in obj.fields:
        if f.fdef is None:
            out[f.key] = typename
            continue
        try:
            if f.call is None:
                raw = getattr(value, f.attr)
            elif f.info_arg is None:
                raw = f.call(value)
            else:
                raw = f.call(value, **{f.info_arg: LazyInfo(run, f, obj.gtype, path)})
            if f.call is not None and is_awaitable(raw):  # a sync resolver that does I/O
                raise Awaited(raw)
            if raw.__class__ is f.exact:  # the common leaf case: graphql-core returns it as is
                out[f.key] = raw
            elif f.leaf:  # leaves need no path (errors are located below)
                out[f.key] = f.complete(raw, path, run)  # type: ignore[misc]
            else:
                out[f.key] = f.complete(raw, Path(path, f.key, typename), run)  # type: ignore[misc]
        except Exception as exc:
            fail(run, f, exc, path, typename, out)
    return out


def fail(
    run: Run, f: FieldPlan, exc: Exception, path: Path, typename: str, out: dict[str, Any]
) -> None:
    """A field failed: located at the field; raised (null propagates) when it is non-null."""
    position = Path(path, f.key, typename)
    error = located_error(exc, f.nodes, position.as_list())
    if f.non_null:
        raise error from None
    run.errors.append(error)
    out[f.key] = None


class LazyInfo(Info):
    """strawberry's ``Info`` whose graphql-core resolve info (and path) is built on first use:
    most synchronous resolvers taking ``info`` (``Patch.checkState``) rarely read it."""

    def __init__(
        self, run: Run, f: FieldPlan, parent: GraphQLObjectType, path: Path
    ) -> None:  # no super().__init__: ``_raw_info`` is the cached property below
        assert f.fdef is not None
        self._field = f.fdef.extensions[DEFINITION]
        self._lazy = (run, f, parent, path)

    @property
    def context(self) -> Any:
        # what the resolve info would hold (``Run.info``): read without building it
        return self._lazy[0].context

    @cached_property
    def _raw_info(self) -> Any:  # type: ignore[override]
        run, f, parent, path = self._lazy
        assert f.fdef is not None
        return run.info(f.fdef, f.nodes, parent, Path(path, f.key, parent.name))


@dataclass(frozen=True, slots=True)
class KeptList:
    """A list built from one page of records: the records (held, so that their identity stays
    theirs) and the response items, a tuple shared by every response that re-serves it."""

    records: Any
    items: tuple[Any, ...]


class ListMemo:
    """Lists built from a page of records, by (list selection, the page's records object).

    A memoised page of records (``Page.kept``) is a function of one upstream answer
    (``adapters.stamps``): re-reading an unchanged list gives back the very same records
    tuple, and a list selection whose builder is *pure* (``ObjectPlan.pure``: projections and
    record-only resolvers only) builds the very same response items from it. So the built
    list is kept under the identity of the records and re-served; a build that reported an
    error is not kept. Nothing modifies a built response. Owned by one
    ``FastPath``; bounded: ``entries`` lists, least recently used first out.
    """

    def __init__(self, entries: int = 64) -> None:
        self.entries = entries
        self.hits = 0
        self._lists: OrderedDict[tuple[int, int], KeptList] = OrderedDict()

    def get(self, token: int, records: Any) -> tuple[Any, ...] | None:
        """The list built for selection ``token`` from exactly ``records``, if kept."""
        key = (token, id(records))
        entry = self._lists.get(key)
        if entry is None or entry.records is not records:
            return None
        self._lists.move_to_end(key)
        self.hits += 1
        return entry.items

    def put(self, token: int, records: Any, built: Sequence[Any]) -> tuple[Any, ...]:
        """Keep ``built`` for selection ``token`` and ``records``; what is kept (a tuple)."""
        key = (token, id(records))
        entry = self._lists[key] = KeptList(records, tuple(built))
        self._lists.move_to_end(key)
        while len(self._lists) > self.entries:
            self._lists.popitem(last=False)
        return entry.items

    def clear(self) -> None:
        """Forget everything (tests; a schema reload)."""
        self._lists.clear()

    def __len__(self) -> int:
        return len(self._lists)


def build_list(
    value: Any,
    complete: Complete,
    path: Path,
    run: Run,
    nodes: list[FieldNode],
    item_nullable: bool,
    memo_token: int | None = None,
) -> Sequence[Any]:
    """Each item completed; a failed nullable item is ``null`` plus an error at its path.

    ``memo_token``: ``value`` is a page of records and the items' builder is pure — the list
    is kept in (and re-served from) the run's ``ListMemo`` unless building it failed."""
    memo = run.memo
    if memo_token is not None and memo is not None:
        known = memo.get(memo_token, value)
        if known is not None:
            return known
        errors = len(run.errors)
        out = build_list(value, complete, path, run, nodes, item_nullable)
        if len(run.errors) == errors:
            return memo.put(memo_token, value, out)
        return out
    out = []
    for index, element in enumerate(value):
        item_path = _new(Path, (path, index, None))
        try:
            out.append(complete(element, item_path, run))
        except Exception as exc:
            error = located_error(exc, nodes, item_path.as_list())
            if not item_nullable:
                raise error from None
            run.errors.append(error)
            out.append(None)
    return out


# What generated builders call (codegen.py).
HELPERS: Mapping[str, Any] = MappingProxyType(
    {
        "Path": Path,
        "_new": _new,
        "_awaited": awaited,
        "_fail": fail,
        "_info": LazyInfo,
        "_is_awaitable": is_awaitable,
        "_leaf_error": leaf_error,
        "Undefined": Undefined,
        "_wrong_type": wrong_type,
        "RecordView": RecordView,
    }
)
