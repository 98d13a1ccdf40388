"""Compiling a validated query operation into a ``Plan`` (``plan.py``), or refusing to.

What a plan supports (anything else compiles to ``None`` and runs normally, unchanged):

- query operations, without directives (``@skip``/``@include``/``@defer`` …) anywhere;
- any root field of ``Query`` (arguments, variables, async resolvers: they are called as
  graphql-core would call them, concurrently; arguments that are all literals are converted
  once, at compilation: ``rootcall.py``);
- below the root: ``__typename``, plain attributes, and synchronous resolvers without
  arguments, field extensions or permission classes — fields that do not do I/O in this
  schema. One that returns an awaitable anyway (graphql-core awaits it) stops the walk: the
  request is answered by normal execution (``replay.py``) and the plan is dropped;
- fields, aliases, inline fragments and named fragment spreads (merged as graphql-core's
  ``collect_fields`` merges them), lists, non-null, interfaces and unions.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
    is_abstract_type,
    is_leaf_type,
)
from graphql.pyutils import Path, is_iterable
from strawberry.types.field import StrawberryField

from schema.execution.codegen import generate
from schema.execution.plan import (
    DEFINITION,
    Complete,
    FieldPlan,
    ObjectPlan,
    Plan,
    RootPlan,
    Unsupported,
)
from schema.execution.projection import PROJECTIONS, RecordList
from schema.execution.rootcall import root_call
from schema.execution.runtime import HELPERS, Run, build_list, complete_object, exact, leaf


class Compiler:
    """Compiles the selections of one operation (``tokens``: names for kept lists)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
        codegen: bool = True,
        tokens: Iterator[int] | None = None,
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = fragments
        self.codegen = codegen
        self.tokens = tokens if tokens is not None else itertools.count(1)

    # -- field collection (graphql-core's collect_fields, without directives) --------------

    def collect(
        self, gtype: GraphQLObjectType, selection_sets: Sequence[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        """The fields of ``selection_sets`` that apply to ``gtype``, by response key."""
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

            def non_null(value: Any, path: Path, run: Run) -> Any:
                done = inner(value, path, run)
                if done is None:
                    raise TypeError(f"Cannot return null for non-nullable field {owner}.")
                return done

            return non_null
        if isinstance(gtype, GraphQLList):
            return self._list(gtype, nodes, owner)
        if is_leaf_type(gtype):
            return leaf(gtype)
        if isinstance(gtype, GraphQLObjectType):
            return self._object(self.object_plan(gtype, nodes), nodes, owner, False)
        if is_abstract_type(gtype):
            return self._abstract(gtype, nodes)
        raise Unsupported(f"type {gtype}")  # pragma: no cover

    def _object(
        self,
        obj: ObjectPlan,
        nodes: list[FieldNode],
        owner: str,
        non_null: bool,
        records: bool = False,
    ) -> Complete:
        """Complete a value of the object type of ``obj`` (one call: null check, then build);
        ``records``: the value is its record (``obj.build_record``)."""
        build = obj.build_record if records else obj.build
        if build is None:

            def build(value: Any, path: Path, run: Run) -> dict[str, Any]:
                return complete_object(obj, nodes, value, path, run)

        if non_null:
            message = f"Cannot return null for non-nullable field {owner}."

            def non_null_object(value: Any, path: Path, run: Run) -> Any:
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
        token = next(self.tokens)  # names this list's selection in the ListMemo

        def complete_list(value: Any, path: Path, run: Run) -> Any:
            if value is None:
                return None
            complete = item
            if value.__class__ is RecordList and records is not None and value.convert is of:
                # The page's records, projected (projection.py): no objects built.
                if pure and value.memoised:
                    keep = value.records
                    return build_list(keep, records, path, run, nodes, item_nullable, token)
                complete, value = records, value.records
            elif not is_iterable(value):
                raise GraphQLError(f"Expected Iterable, but did not find one for field '{owner}'.")
            return build_list(value, complete, path, run, nodes, item_nullable)

        return complete_list

    def _abstract(self, gtype: GraphQLAbstractType, nodes: list[FieldNode]) -> Complete:
        by_name = {
            possible.name: self.object_plan(possible, nodes)
            for possible in self.schema.get_possible_types(gtype)
        }
        by_class: dict[type[Any], ObjectPlan] = {}
        for obj in by_name.values():
            definition = obj.gtype.extensions.get(DEFINITION)
            origin = getattr(definition, "origin", None)
            if origin is not None and not getattr(definition, "is_graphql_generic", False):
                by_class[origin] = obj

        def complete_abstract(value: Any, path: Path, run: Run) -> Any:
            if value is None:
                return None
            obj = by_class.get(type(value))
            if obj is None:  # not a plain strawberry object: ask the type, as graphql-core does
                obj = _resolve_type(gtype, by_name, nodes, value, path, run)
            if obj.build is not None:
                return obj.build(value, path, run)
            return complete_object(obj, nodes, value, path, run)

        return complete_abstract

    def object_plan(self, gtype: GraphQLObjectType, nodes: list[FieldNode]) -> ObjectPlan:
        """The plan of the sub-selections of ``nodes`` on the concrete type ``gtype``."""
        sets = [n.selection_set for n in nodes if n.selection_set is not None]
        obj = ObjectPlan(gtype=gtype, nodes=nodes, check=gtype.is_type_of)
        for key, field_nodes in self.collect(gtype, sets).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                obj.fields.append(FieldPlan(key=key, name=name, nodes=field_nodes, fdef=None))
                continue
            if name.startswith("__"):
                raise Unsupported("introspection")
            obj.fields.append(self._field_plan(gtype, key, field_nodes))
        if self.codegen:
            obj.build = generate(obj, HELPERS)
            self._records(obj)
        return obj

    def _field_plan(self, gtype: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> FieldPlan:
        name = nodes[0].name.value
        fdef = gtype.fields[name]
        owner = f"{gtype.name}.{name}"
        non_null = isinstance(fdef.type, GraphQLNonNull)
        named = fdef.type.of_type if non_null else fdef.type
        entry = FieldPlan(
            key=key, name=name, nodes=nodes, fdef=fdef, non_null=non_null, owner=owner
        )
        if isinstance(named, GraphQLObjectType):
            entry.target = self.object_plan(named, nodes)
            entry.complete = self._object(entry.target, nodes, owner, non_null)
        else:
            entry.complete = self.completer(fdef.type, nodes, owner)
        entry.leaf = is_leaf_type(named)
        if entry.leaf:
            entry.exact = exact(named)
            entry.leaf_type = named
        _bind_reader(entry, fdef, owner)
        return entry

    def _records(self, obj: ObjectPlan) -> None:
        """Give ``obj`` a record builder when its type has a registered projection: from the
        record where every selected field is projected, else through the type's ``of``."""
        definition = obj.gtype.extensions.get(DEFINITION)
        projection = PROJECTIONS.get(getattr(definition, "origin", None))  # type: ignore[arg-type]
        if projection is None or obj.build is None:
            return
        obj.of = projection.of
        direct, contextual = True, False
        for f in obj.fields:
            if f.fdef is None:
                continue
            sfield = f.fdef.extensions.get(DEFINITION)
            name = getattr(sfield, "python_name", "")
            if name in projection.fields:
                if f.target is not None and f.target.build_record is None:
                    direct = False  # a nested object whose type has no projection
                elif f.target is None and not f.leaf:
                    direct = False  # lists and abstract types: converted objects only
                f.project = projection.fields[name]
            elif f.call is not None and (
                name in projection.resolvers or name in projection.contextual
            ):
                f.shortcut = projection.shortcuts.get(name)  # else called with a RecordView
                contextual = contextual or name in projection.contextual  # answers per request
            else:
                direct = False
        if direct:
            obj.build_record = generate(obj, HELPERS, projection)
            obj.pure = not contextual and all(f.target is None or f.target.pure for f in obj.fields)
        else:
            build, of = obj.build, projection.of
            obj.build_record = lambda value, path, run: build(of(value), path, run)


def _bind_reader(entry: FieldPlan, fdef: GraphQLField, owner: str) -> None:
    """Read a field as strawberry would: attribute, or synchronous resolver — or refuse."""
    sfield = fdef.extensions.get(DEFINITION)
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
    params = list(resolver.signature.parameters.values())
    if root is not None and not _positional(params, 0, root.name):
        name = root.name  # ``def f(*, root: T, ...)``: the object goes in by name
        entry.call = lambda value, **kw: func(**{name: value}, **kw)
    elif root is not None or resolver.self_parameter is not None:
        entry.call = func  # the object first, by position
    else:
        raise Unsupported(f"{owner}: resolver without self or root")
    entry.info_arg = info.name if info is not None else None
    entry.info_second = (
        info is not None and entry.call is func and _positional(params, 1, info.name)
    )


def _positional(params: list[inspect.Parameter], index: int, name: str) -> bool:
    """Whether parameter ``name`` may be passed at position ``index``."""
    return (
        len(params) > index
        and params[index].name == name
        and params[index].kind
        in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    )


def _resolve_type(
    gtype: GraphQLAbstractType,
    by_name: dict[str, ObjectPlan],
    nodes: list[FieldNode],
    value: Any,
    path: Path,
    run: Run,
) -> ObjectPlan:
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


def compile_operation(
    schema: GraphQLSchema,
    document: Any,
    operation_name: str | None,
    codegen: bool = True,
    tokens: Iterator[int] | None = None,
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
    compiler = Compiler(schema, operation, fragments, codegen, tokens)
    try:
        roots = _roots(compiler, query_type, operation)
    except Unsupported:
        return None
    if roots is None:
        return None
    fields = [r for r in roots if not isinstance(r, str)]
    if len(fields) > 1 and any(r.non_null for r in fields):
        # When a non-null root field fails graphql-core cancels its siblings mid-flight; how
        # many upstream requests they made by then is timing. Keep such operations normal.
        return None
    return Plan(schema, operation, fragments, query_type, tuple(roots))


def _roots(
    compiler: Compiler, query_type: GraphQLObjectType, operation: OperationDefinitionNode
) -> list[RootPlan | str] | None:
    roots: list[RootPlan | str] = []
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
            RootPlan(
                key=key,
                fdef=fdef,
                nodes=nodes,
                complete=compiler.completer(fdef.type, nodes, owner),
                non_null=isinstance(fdef.type, GraphQLNonNull),
                call=root_call(compiler.schema, fdef, nodes[0]),
            )
        )
    return roots
