"""An execution fast path: a validated query compiled once into a plan that builds the response.

Normal execution (graphql-core under strawberry) dispatches every field of every object
through the executor, a cost per field that dominates a list's CPU before any I/O (figures:
``bench/README.md``). A plan does the same work without the per-field
dispatch: for each selection set it knows, per concrete type, the response keys, how to read
each value (an attribute, or a synchronous resolver) and how to complete it (leaf coercion,
list, object, abstract type), so a request runs the root resolvers — strawberry's own, with
its argument conversion, the request's context and loaders — and then walks the returned
objects once.

What a plan supports (anything else compiles to ``None`` and runs normally, unchanged):

- query operations, without directives (``@skip``/``@include``/``@defer`` …) anywhere;
- any root field of ``Query`` (arguments, variables, async resolvers: they are called as
  graphql-core would call them, concurrently);
- below the root: ``__typename``, plain attributes, and synchronous resolvers without
  arguments, field extensions or permission classes — i.e. fields that never do I/O, so the
  upstream requests of a plan are exactly those of normal execution;
- fields, aliases, inline fragments and named fragment spreads (merged as graphql-core's
  ``collect_fields`` merges them), lists, non-null, interfaces and unions.

A connection's items reach the plan as records (``schema/projection.py``): where the type
registers a projection for every selected field, the response is built from the records
without converting them (``Patch.of`` …); otherwise they are converted first.

Errors are produced as graphql-core produces them (located at the field, with its path;
``null`` propagated to the nearest nullable parent), so masking, partial errors, metrics and
any limit/cost extension — which all run around execution — see the same result. The
differential test (``tests/schema/test_fastpath.py``) runs generated queries both ways and
compares data, errors and upstream request counts.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLBoolean,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
    is_abstract_type,
    is_leaf_type,
    located_error,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.pyutils import Path, Undefined, inspect, is_iterable
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import _OperationContextAwareGraphQLResolveInfo
from strawberry.types.field import StrawberryField
from strawberry.types.info import Info

from schema.fastpath_codegen import generate
from schema.projection import PROJECTIONS, RecordList, RecordView

PLAN_CACHE_SIZE = 256
_DEFINITION = "strawberry-definition"


class Unsupported(Exception):
    """The operation uses something the fast path does not compile (it runs normally)."""


class _Run:
    """One execution of a plan: the request's values and the errors collected so far."""

    __slots__ = ("context", "errors", "extensions", "pending", "plan", "root", "variables")

    def __init__(
        self,
        plan: Plan,
        context: Any,
        root: Any,
        variables: dict[str, Any],
        extensions: dict[str, Any] | None,
    ) -> None:
        self.plan = plan
        self.context = context
        self.root = root
        self.variables = variables
        self.extensions = extensions
        self.errors: list[GraphQLError] = []
        self.pending: list[Any] = []  # deferred completions (see ``_defer``)

    def info(
        self, fdef: GraphQLField, nodes: list[FieldNode], parent: GraphQLObjectType, path: Path
    ) -> Any:
        """The resolve info graphql-core (as strawberry configures it) would pass."""
        plan = self.plan
        return _OperationContextAwareGraphQLResolveInfo(
            nodes[0].name.value,
            nodes,
            fdef.type,
            parent,
            path,
            plan.schema,
            plan.fragments,
            self.root,
            plan.operation,
            self.variables,
            self.context,
            _is_awaitable,
            None,
            None,
            self.extensions,  # type: ignore[arg-type]  # None, as strawberry passes it too
        )


def _is_awaitable(value: Any) -> bool:
    return asyncio.iscoroutine(value) or hasattr(value, "__await__")


Complete = Callable[[Any, Path, "_Run"], Any]


@dataclass(slots=True)
class _Field:
    """One response key of a selection set on a concrete object type."""

    key: str
    name: str
    nodes: list[FieldNode]
    fdef: GraphQLField | None  # None: __typename
    attr: str = ""  # plain attribute: read it
    call: Callable[..., Any] | None = None  # sync resolver: call it with the object
    info_arg: str | None = None  # the resolver's info parameter, if it has one
    complete: Complete | None = None
    non_null: bool = False
    leaf: bool = False  # a scalar or enum, possibly wrapped in non-null
    exact: type[Any] | None = None  # values of this class are returned unchanged
    owner: str = ""  # ``Type.field``, for errors
    leaf_type: GraphQLLeafType | None = None  # the (unwrapped) leaf type
    target: _Object | None = None  # the plan of an object-typed field (not in a list)
    project: Callable[[Any], Any] | None = None  # read from the parent's record (projection)


@dataclass(slots=True)
class _Object:
    """How to build the response object of one concrete type."""

    gtype: GraphQLObjectType
    nodes: list[FieldNode]  # the fields whose sub-selections these are (for type errors)
    fields: list[_Field] = field(default_factory=list)
    check: Callable[[Any, Any], Any] | None = None  # the type's is_type_of
    # The code-generated builder (schema/fastpath_codegen.py); ``None``: the generic walk.
    build: Callable[[Any, Path, _Run], dict[str, Any]] | None = None
    # The builder from the type's record (schema/projection.py); ``None``: not registered.
    build_record: Callable[[Any, Path, _Run], dict[str, Any]] | None = None
    of: Callable[[Any], Any] | None = None  # the registered record → object conversion
    # ``build_record`` reads only projections (and record-only resolvers), down to every
    # nested object: what it builds is a function of the record (see ``ListMemo``).
    pure: bool = False


@dataclass(slots=True)
class _Root:
    key: str
    fdef: GraphQLField
    nodes: list[FieldNode]
    complete: Complete
    non_null: bool


@dataclass(slots=True)
class Plan:
    """A compiled query operation."""

    schema: GraphQLSchema
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    query_type: GraphQLObjectType
    roots: list[_Root | str]  # str: a root ``__typename`` key


class _Compiler:
    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
        codegen: bool = True,
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = fragments
        self.codegen = codegen

    # -- field collection (graphql-core's collect_fields, without directives) --------------

    def collect(
        self, gtype: GraphQLObjectType, selection_sets: Sequence[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        fields: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        for selection_set in selection_sets:
            self._collect(gtype, selection_set, fields, visited)
        return fields

    def _collect(
        self,
        gtype: GraphQLObjectType,
        selection_set: SelectionSetNode,
        fields: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for sel in selection_set.selections:
            if sel.directives:
                raise Unsupported("directives")
            if isinstance(sel, FieldNode):
                key = sel.alias.value if sel.alias else sel.name.value
                fields.setdefault(key, []).append(sel)
            elif isinstance(sel, InlineFragmentNode):
                cond = sel.type_condition
                if cond is None or self._applies(cond.name.value, gtype):
                    self._collect(gtype, sel.selection_set, fields, visited)
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                if name in visited:
                    continue
                visited.add(name)
                fragment = self.fragments.get(name)
                if fragment is None:
                    raise Unsupported(f"unknown fragment {name}")
                if fragment.directives or fragment.variable_definitions:
                    raise Unsupported("fragment directives or variables")
                if self._applies(fragment.type_condition.name.value, gtype):
                    self._collect(gtype, fragment.selection_set, fields, visited)
            else:  # pragma: no cover - no other selection kinds exist
                raise Unsupported(type(sel).__name__)

    def _applies(self, condition: str, gtype: GraphQLObjectType) -> bool:
        cond = self.schema.get_type(condition)
        if cond is None:
            raise Unsupported(f"unknown type {condition}")
        if cond is gtype:
            return True
        if is_abstract_type(cond):
            return self.schema.is_sub_type(cond, gtype)
        return False

    # -- completion --------------------------------------------------------------------

    def completer(self, gtype: GraphQLOutputType, nodes: list[FieldNode], owner: str) -> Complete:
        """How to complete a resolved value of ``gtype`` (``owner``: ``Type.field`` for errors)."""
        if isinstance(gtype, GraphQLNonNull) and isinstance(gtype.of_type, GraphQLObjectType):
            return self._object(self.object_plan(gtype.of_type, nodes), nodes, owner, True)
        if isinstance(gtype, GraphQLNonNull):
            inner = self.completer(gtype.of_type, nodes, owner)

            def non_null(value: Any, path: Path, run: _Run) -> Any:
                done = inner(value, path, run)
                if done is None:
                    raise TypeError(f"Cannot return null for non-nullable field {owner}.")
                return done

            return non_null
        if isinstance(gtype, GraphQLList):
            return self._list(gtype, nodes, owner)
        if is_leaf_type(gtype):
            return _leaf(gtype)
        if isinstance(gtype, GraphQLObjectType):
            return self._object(self.object_plan(gtype, nodes), nodes, owner, False)
        if is_abstract_type(gtype):
            return self._abstract(gtype, nodes)
        raise Unsupported(f"type {gtype}")  # pragma: no cover

    def _object(
        self,
        obj: _Object,
        nodes: list[FieldNode],
        owner: str,
        non_null: bool,
        records: bool = False,
    ) -> Complete:
        """Complete a value of the object type of ``obj`` (one call: null check, then build);
        ``records``: the value is its record (``obj.build_record``)."""
        build = obj.build_record if records else obj.build
        if build is None:

            def build(value: Any, path: Path, run: _Run) -> dict[str, Any]:
                return _complete_object(obj, nodes, value, path, run)

        if non_null:
            message = f"Cannot return null for non-nullable field {owner}."

            def non_null_object(value: Any, path: Path, run: _Run) -> Any:
                if value is None:
                    raise TypeError(message)
                return build(value, path, run)

            return non_null_object
        return lambda value, path, run: None if value is None else build(value, path, run)

    def _list(self, gtype: GraphQLList[Any], nodes: list[FieldNode], owner: str) -> Complete:
        item_nullable = not isinstance(gtype.of_type, GraphQLNonNull)
        named = gtype.of_type if item_nullable else gtype.of_type.of_type
        records: Complete | None = None
        of: Any = None
        pure = False
        if isinstance(named, GraphQLObjectType):
            obj = self.object_plan(named, nodes)
            item = self._object(obj, nodes, owner, not item_nullable)
            if obj.build_record is not None:
                records = self._object(obj, nodes, owner, not item_nullable, records=True)
                of = obj.of
                pure = obj.pure
        else:
            item = self.completer(gtype.of_type, nodes, owner)
        token = next(_LIST_TOKENS)  # names this list's selection in LIST_MEMO, never reused

        def complete_list(value: Any, path: Path, run: _Run) -> Any:
            if value is None:
                return None
            complete = item
            if value.__class__ is RecordList and records is not None and value.convert is of:
                # The page's records, projected (schema/projection.py): no objects built.
                if pure and value.kept:
                    keep = value.records
                    return _build_list(keep, records, path, run, nodes, item_nullable, token)
                complete, value = records, value.records
            elif not is_iterable(value):
                raise GraphQLError(f"Expected Iterable, but did not find one for field '{owner}'.")
            return _build_list(value, complete, path, run, nodes, item_nullable)

        return complete_list

    def _abstract(self, gtype: GraphQLAbstractType, nodes: list[FieldNode]) -> Complete:
        by_name = {
            possible.name: self.object_plan(possible, nodes)
            for possible in self.schema.get_possible_types(gtype)
        }
        by_class: dict[type[Any], _Object] = {}
        for obj in by_name.values():
            definition = obj.gtype.extensions.get(_DEFINITION)
            origin = getattr(definition, "origin", None)
            if origin is not None and not getattr(definition, "is_graphql_generic", False):
                by_class[origin] = obj

        def complete_abstract(value: Any, path: Path, run: _Run) -> Any:
            if value is None:
                return None
            obj = by_class.get(type(value))
            if obj is None:  # not a plain strawberry object: ask the type, as graphql-core does
                obj = _resolve_type(gtype, by_name, nodes, value, path, run)
            if obj.build is not None:
                return obj.build(value, path, run)
            return _complete_object(obj, nodes, value, path, run)

        return complete_abstract

    def object_plan(self, gtype: GraphQLObjectType, nodes: list[FieldNode]) -> _Object:
        """The plan of the sub-selections of ``nodes`` on the concrete type ``gtype``."""
        sets = [n.selection_set for n in nodes if n.selection_set is not None]
        obj = _Object(gtype=gtype, nodes=nodes, check=gtype.is_type_of)
        for key, field_nodes in self.collect(gtype, sets).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                obj.fields.append(_Field(key=key, name=name, nodes=field_nodes, fdef=None))
                continue
            if name.startswith("__"):
                raise Unsupported("introspection")
            fdef = gtype.fields[name]
            owner = f"{gtype.name}.{name}"
            non_null = isinstance(fdef.type, GraphQLNonNull)
            named = fdef.type.of_type if non_null else fdef.type
            entry = _Field(
                key=key, name=name, nodes=field_nodes, fdef=fdef, non_null=non_null, owner=owner
            )
            if isinstance(named, GraphQLObjectType):
                entry.target = self.object_plan(named, field_nodes)
                entry.complete = self._object(entry.target, field_nodes, owner, non_null)
            else:
                entry.complete = self.completer(fdef.type, field_nodes, owner)
            entry.leaf = is_leaf_type(named)
            if entry.leaf:
                entry.exact = _exact(named)
                entry.leaf_type = named
            _bind_reader(entry, fdef, owner)
            obj.fields.append(entry)
        if self.codegen:
            obj.build = generate(obj, _HELPERS)
            self._records(obj)
        return obj

    def _records(self, obj: _Object) -> None:
        """Give ``obj`` a record builder when its type has a registered projection: from the
        record where every selected field is projected, else through the type's ``of``."""
        definition = obj.gtype.extensions.get(_DEFINITION)
        projection = PROJECTIONS.get(getattr(definition, "origin", None))  # type: ignore[arg-type]
        if projection is None or obj.build is None:
            return
        obj.of = projection.of
        direct = True
        for f in obj.fields:
            if f.fdef is None:
                continue
            sfield = f.fdef.extensions.get(_DEFINITION)
            name = getattr(sfield, "python_name", None)
            if name in projection.fields:
                if f.target is not None and f.target.build_record is None:
                    direct = False  # a nested object whose type has no projection
                elif f.target is None and not f.leaf:
                    direct = False  # lists and abstract types: converted objects only
                f.project = projection.fields[name]
            elif f.call is not None and name in projection.resolvers:
                continue  # called with a RecordView
            else:
                direct = False
        if direct:
            obj.build_record = generate(obj, _HELPERS, projection)
            obj.pure = all(f.target is None or f.target.pure for f in obj.fields)
        else:
            build, of = obj.build, projection.of
            obj.build_record = lambda value, path, run: build(of(value), path, run)


def _bind_reader(entry: _Field, fdef: GraphQLField, owner: str) -> None:
    """Read a field as strawberry would: attribute, or synchronous resolver — or refuse."""
    sfield = fdef.extensions.get(_DEFINITION)
    if not isinstance(sfield, StrawberryField) or fdef.args:
        raise Unsupported(f"{owner}: arguments or not a strawberry field")
    if sfield.extensions or sfield.permission_classes:
        raise Unsupported(f"{owner}: field extensions")
    resolver = sfield.base_resolver
    if resolver is None:
        if sfield.default_resolver is not getattr:
            raise Unsupported(f"{owner}: custom default resolver")
        entry.attr = sfield.python_name
        return
    if resolver.is_async:
        raise Unsupported(f"{owner}: asynchronous resolver")
    reserved = resolver.reserved_parameters
    names = {p.name for p in resolver.signature.parameters.values()}
    known = {p.name for p in reserved.values() if p is not None}
    if names - known:
        raise Unsupported(f"{owner}: resolver parameters")
    info = resolver.info_parameter
    root = resolver.root_parameter
    func: Callable[..., Any] = resolver.wrapped_func  # type: ignore[assignment]
    if root is not None:  # ``def f(root: T, ...)``: the object goes in by name
        name = root.name
        entry.call = lambda value, **kw: func(**{name: value}, **kw)
    elif resolver.self_parameter is not None:
        entry.call = func
    else:
        raise Unsupported(f"{owner}: resolver without self or root")
    entry.info_arg = info.name if info is not None else None


def _exact(gtype: Any) -> type[Any] | None:
    """The Python class whose values graphql-core's coercion of ``gtype`` returns unchanged."""
    if gtype is GraphQLString or gtype is GraphQLID:
        return str
    if gtype is GraphQLBoolean:
        return bool
    return None


def _leaf(gtype: GraphQLLeafType) -> Complete:
    coerce = gtype.coerce_output_value
    exact = _exact(gtype)

    def complete_leaf(value: Any, path: Path, run: _Run) -> Any:
        if value is None or value is Undefined:
            return None
        if type(value) is exact:
            return value
        coerced = coerce(value)
        if coerced is Undefined or coerced is None:
            raise _leaf_error(gtype, value, coerced)
        return coerced

    return complete_leaf


def _leaf_error(gtype: GraphQLLeafType, value: Any, coerced: Any) -> TypeError:
    return TypeError(
        f"Expected `{inspect(gtype)}.coerce_output_value({inspect(value)})` to return"
        f" non-nullable value, returned: {inspect(coerced)}"
    )


def _resolve_type(
    gtype: GraphQLAbstractType,
    by_name: dict[str, _Object],
    nodes: list[FieldNode],
    value: Any,
    path: Path,
    run: _Run,
) -> _Object:
    if gtype.resolve_type is None:
        raise Unsupported(f"{gtype.name} has no type resolver")
    fdef = GraphQLField(gtype)
    info = run.info(fdef, nodes, run.plan.query_type, path)
    name = gtype.resolve_type(value, info, gtype)
    if not isinstance(name, str) or name not in by_name:
        raise GraphQLError(
            f"Abstract type '{gtype.name}' must resolve to an Object type at runtime"
            f" for field '{path.key}'. Either the '{gtype.name}' type should provide"
            " a 'resolve_type' function or each possible type should provide an"
            " 'is_type_of' function.",
            nodes,
        )
    return by_name[name]


def _complete_object(
    obj: _Object, nodes: list[FieldNode], value: Any, path: Path, run: _Run
) -> dict[str, Any]:
    if obj.check is not None and not obj.check(value, None):
        raise _wrong_type(obj.gtype, value, nodes)
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
                raw = f.call(value, **{f.info_arg: _info(run, f, obj.gtype, path)})
            if f.call is not None and _is_awaitable(raw):  # a sync resolver that does I/O
                _defer(run, f, obj.gtype, out, raw, path)
                continue
            if raw.__class__ is f.exact:  # the common leaf case: graphql-core returns it as is
                out[f.key] = raw
            elif f.leaf:  # leaves need no path (errors are located below)
                out[f.key] = f.complete(raw, path, run)  # type: ignore[misc]
            else:
                out[f.key] = f.complete(raw, Path(path, f.key, typename), run)  # type: ignore[misc]
        except Exception as exc:
            _fail(run, f, exc, path, typename, out)
    return out


def _wrong_type(gtype: GraphQLObjectType, value: Any, nodes: list[FieldNode]) -> GraphQLError:
    return GraphQLError(f"Expected value of type '{gtype.name}' but got: {inspect(value)}.", nodes)


def _fail(
    run: _Run, f: _Field, exc: Exception, path: Path, typename: str, out: dict[str, Any]
) -> None:
    """A field failed: located at the field; raised (null propagates) when it is non-null."""
    error = located_error(exc, f.nodes, Path(path, f.key, typename).as_list())
    if f.non_null:
        raise error from None
    run.errors.append(error)
    out[f.key] = None


def _defer(
    run: _Run, f: _Field, parent: GraphQLObjectType, out: dict[str, Any], pending: Any, path: Path
) -> None:
    """Complete ``out[f.key]`` once ``pending`` is done; all of them are awaited together,
    after the synchronous walk, as graphql-core awaits a list's values concurrently."""
    field_path = Path(path, f.key, parent.name)
    out[f.key] = None
    if f.non_null:  # null would propagate into parents already built: refuse, loudly
        run.errors.append(
            located_error(
                TypeError("fast path: I/O in a non-null synchronous field"),
                f.nodes,
                field_path.as_list(),
            )
        )
        if hasattr(pending, "close"):
            pending.close()
        return

    async def settle() -> None:
        try:
            assert f.complete is not None
            out[f.key] = f.complete(await pending, field_path, run)
        except Exception as exc:
            run.errors.append(located_error(exc, f.nodes, field_path.as_list()))

    run.pending.append(settle())


class _LazyInfo(Info):
    """strawberry's ``Info`` whose graphql-core resolve info (and path) is built on first use:
    most synchronous resolvers taking ``info`` (``Patch.checkState``) rarely read it."""

    def __init__(
        self, run: _Run, f: _Field, parent: GraphQLObjectType, path: Path
    ) -> None:  # no super().__init__: ``_raw_info`` is the cached property below
        assert f.fdef is not None
        self._field = f.fdef.extensions[_DEFINITION]
        self._lazy = (run, f, parent, path)

    @cached_property
    def _raw_info(self) -> Any:  # type: ignore[override]
        run, f, parent, path = self._lazy
        assert f.fdef is not None
        return run.info(f.fdef, f.nodes, parent, Path(path, f.key, parent.name))


_info = _LazyInfo


# What generated builders call (schema/fastpath_codegen.py).
_HELPERS: dict[str, Any] = {
    "Path": Path,
    "_defer": _defer,
    "_fail": _fail,
    "_info": _info,
    "_is_awaitable": _is_awaitable,
    "_leaf_error": _leaf_error,
    "Undefined": Undefined,
    "_wrong_type": _wrong_type,
    "RecordView": RecordView,
}


class ListMemo:
    """Lists built from a page of records, by (list selection, the page's records object).

    A kept page of records (``Page.kept``) is a function of one upstream answer
    (``adapters.stamps``): re-reading an unchanged list gives back the very same records
    tuple, and a list selection whose
    builder is *pure* (``_Object.pure``: projections and record-only resolvers only) builds
    the very same response items from it. So the built list is kept under the identity of
    the records (held, so the identity stays theirs) and re-served; a build that reported an
    error or deferred I/O is not kept. The items are shared between responses: nothing
    modifies a built response. Bounded: ``entries`` lists, least recently used first out.
    """

    def __init__(self, entries: int = 64) -> None:
        self.entries = entries
        self.hits = 0
        self._items: OrderedDict[tuple[int, int], tuple[Any, list[Any]]] = OrderedDict()

    def get(self, token: int, records: Any) -> list[Any] | None:
        """The list built for selection ``token`` from exactly ``records``, if kept."""
        key = (token, id(records))
        entry = self._items.get(key)
        if entry is None or entry[0] is not records:
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return entry[1]

    def put(self, token: int, records: Any, built: list[Any]) -> None:
        """Keep ``built`` for selection ``token`` and ``records``."""
        self._items[(token, id(records))] = (records, built)
        self._items.move_to_end((token, id(records)))
        while len(self._items) > self.entries:
            self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (tests; a schema reload)."""
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


LIST_MEMO = ListMemo()
_LIST_TOKENS = itertools.count(1)


def _build_list(
    value: Any,
    complete: Complete,
    path: Path,
    run: _Run,
    nodes: list[FieldNode],
    item_nullable: bool,
    memo_token: int | None = None,
) -> list[Any]:
    """Each item completed; a failed nullable item is ``null`` plus an error at its path.

    ``memo_token``: ``value`` is a page of records and the items' builder is pure — the list
    is kept in (and re-served from) ``LIST_MEMO`` unless building it failed or deferred I/O."""
    if memo_token is not None:
        known = LIST_MEMO.get(memo_token, value)
        if known is not None:
            return known
        errors, pending = len(run.errors), len(run.pending)
        out = _build_list(value, complete, path, run, nodes, item_nullable)
        if len(run.errors) == errors and len(run.pending) == pending:
            LIST_MEMO.put(memo_token, value, out)
        return out
    out = []
    for index, element in enumerate(value):
        item_path = Path(path, index, None)
        try:
            out.append(complete(element, item_path, run))
        except Exception as exc:
            error = located_error(exc, nodes, item_path.as_list())
            if not item_nullable:
                raise error from None
            run.errors.append(error)
            out.append(None)
    return out


# -- compiling and running -------------------------------------------------------------------


def compile_operation(
    schema: GraphQLSchema, document: Any, operation_name: str | None, codegen: bool = True
) -> Plan | None:
    """The plan of ``operation_name`` in a validated ``document``, or ``None`` (run normally).

    ``codegen``: objects are built by generated functions (else by the generic walk)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return None
    if operation.directives or any(v.directives for v in operation.variable_definitions or ()):
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    query_type = schema.query_type
    assert query_type is not None
    compiler = _Compiler(schema, operation, fragments, codegen)
    try:
        roots: list[_Root | str] = []
        for key, nodes in compiler.collect(query_type, [operation.selection_set]).items():
            name = nodes[0].name.value
            if name == "__typename":
                roots.append(key)
                continue
            if name.startswith("__"):
                return None
            fdef = query_type.fields[name]
            owner = f"{query_type.name}.{name}"
            roots.append(
                _Root(
                    key=key,
                    fdef=fdef,
                    nodes=nodes,
                    complete=compiler.completer(fdef.type, nodes, owner),
                    non_null=isinstance(fdef.type, GraphQLNonNull),
                )
            )
    except Unsupported:
        return None
    fields = [r for r in roots if not isinstance(r, str)]
    if len(fields) > 1 and any(r.non_null for r in fields):
        # When a non-null root field fails graphql-core cancels its siblings mid-flight; how
        # many upstream requests they made by then is timing. Keep such operations normal.
        return None
    return Plan(schema, operation, fragments, query_type, roots)


async def run_plan(
    plan: Plan,
    context: Any,
    root_value: Any,
    raw_variables: dict[str, Any] | None,
    operation_extensions: dict[str, Any] | None = None,
) -> ExecutionResult | None:
    """Execute ``plan``; ``None`` when variables do not coerce (normal execution reports it)."""
    coerced = get_variable_values(
        plan.schema, plan.operation.variable_definitions or (), raw_variables or {}, max_errors=50
    )
    if isinstance(coerced, list):
        return None
    run = _Run(plan, context, root_value, coerced.coerced, operation_extensions)
    query_type = plan.query_type

    async def resolve(root: _Root) -> Any:
        path = Path(None, root.key, query_type.name)
        try:
            args = get_argument_values(root.fdef, root.nodes[0], coerced)
            resolver = root.fdef.resolve
            assert resolver is not None
            value = resolver(root_value, run.info(root.fdef, root.nodes, query_type, path), **args)
            if _is_awaitable(value):
                value = await value
            done = root.complete(value, path, run)
            while run.pending:  # I/O of synchronous fields below this root, together
                batch, run.pending = run.pending, []
                await asyncio.gather(*batch)
            return done
        except Exception as exc:
            error = located_error(exc, root.nodes, path.as_list())
            if root.non_null:
                raise error from None
            run.errors.append(error)
            return None

    fields = [r for r in plan.roots if not isinstance(r, str)]
    results: list[Any]
    if len(fields) == 1:  # the common case: no task to schedule for one root field
        try:
            results = [await resolve(fields[0])]
        except Exception as exc:  # a non-null root's located error, as gather returns it
            results = [exc]
    else:
        results = await asyncio.gather(*(resolve(r) for r in fields), return_exceptions=True)
    by_key = {r.key: v for r, v in zip(fields, results, strict=True)}
    data: dict[str, Any] | None = {}
    for entry in plan.roots:
        if isinstance(entry, str):
            data[entry] = query_type.name  # type: ignore[index]
            continue
        value = by_key[entry.key]
        if isinstance(value, GraphQLError):  # a non-null root field failed: no data at all
            run.errors.append(value)
            data = None
            continue
        if isinstance(value, BaseException):
            raise value
        if data is not None:
            data[entry.key] = value
    return ExecutionResult(data=data, errors=run.errors or None)


class FastPath:
    """Compiled plans by (query text, operation name), bounded; ``None`` for unsupported ones."""

    def __init__(self, size: int = PLAN_CACHE_SIZE, codegen: bool = True) -> None:
        self.size = size
        self.enabled = True
        self.codegen = codegen  # generated builders (fastpath_codegen); off: the generic walk
        self._plans: OrderedDict[tuple[str, str | None], Plan | None] = OrderedDict()
        self._usable: bool | None = None
        self.hits = 0  # executions that took the fast path (for tests and the bench)

    def usable(self, schema: Any) -> bool:
        """Enabled, and no extension of ``schema`` hooks into field resolution (``resolve``):
        plans do not call such hooks, so with one the schema always runs normally."""
        if not self.enabled:
            return False
        if self._usable is None:
            self._usable = all(
                type(ext).resolve is SchemaExtension.resolve for ext in schema.get_extensions()
            )
        return self._usable

    def plan(
        self, schema: GraphQLSchema, query: str, document: Any, name: str | None
    ) -> Plan | None:
        """The cached plan of this operation, compiling it on first use."""
        key = (query, name)
        try:
            self._plans.move_to_end(key)
            return self._plans[key]
        except KeyError:
            pass
        plan = compile_operation(schema, document, name, self.codegen)
        self._plans[key] = plan
        if len(self._plans) > self.size:
            self._plans.popitem(last=False)
        return plan

    def extension(self) -> Callable[[], SchemaExtension]:
        """The schema extension that runs plans; it must be the LAST extension of the schema,
        so that every validation, limit and cost check before it has already run."""
        fast = self

        class FastExecution(SchemaExtension):
            async def on_execute(self) -> AsyncIterator[None]:
                ctx = self.execution_context
                # ``ctx.result`` set: an earlier extension answered already (e.g. a refused cost)
                if fast.usable(ctx.schema) and not ctx.result and ctx.graphql_document:
                    plan = fast.plan(
                        ctx.schema._schema,
                        ctx.query or "",
                        ctx.graphql_document,
                        ctx.operation_name,
                    )
                    if plan is not None:
                        result = await run_plan(
                            plan,
                            ctx.context,
                            ctx.root_value,
                            ctx.variables,
                            ctx.operation_extensions,
                        )
                        if result is not None:
                            fast.hits += 1
                            ctx.result = result
                yield

        return FastExecution
