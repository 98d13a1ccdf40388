"""A root field whose arguments are all literals: its arguments converted once per plan.

For such a field graphql-core's ``get_argument_values`` and strawberry's conversion (an
input object like ``filter: {project: "generated"}`` is ~30 ``convert_argument`` calls)
give equal values on every execution: a ``RootCall`` holds them and calls the resolver's
function as strawberry's ``from_resolver`` wrapper would, without converting again.

Only where the wrapper does nothing else per call: no field extension (permission classes
are one), no exception handler, the resolver strawberry made is the one graphql-core holds,
and no input type builds its own value (``from_input`` sees the request's info). Anything
else — a variable anywhere in the arguments, a value that does not convert (the request
then raises what normal execution raises) — gets no ``RootCall`` and is converted per
request as before.

The converted values are not shared between requests where they could be changed: each
call gets new lists and new input objects (``_maker``); immutable values (strings,
numbers, enums, datetimes, global IDs …) are shared. A value of any other class gets no
``RootCall``.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Any

from graphql import FieldNode, GraphQLField, GraphQLSchema, Node, VariableNode
from graphql.execution.values import get_argument_values
from strawberry.relay.types import GlobalID
from strawberry.types.arguments import convert_arguments
from strawberry.types.base import StrawberryContainer, has_object_definition
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

from schema.execution.plan import DEFINITION
from schema.execution.strawberry_private import (
    field_exception_handlers,
    is_field_resolver,
    strawberry_schema,
)

_IMMUTABLE = frozenset(
    {
        type(None),
        str,
        int,
        float,
        bool,
        bytes,
        decimal.Decimal,
        datetime.datetime,
        datetime.date,
        datetime.time,
        datetime.timedelta,
        uuid.UUID,
        GlobalID,  # a frozen dataclass of strings
    }
)


class _NotConstant(Exception):
    """The arguments cannot be converted once for every request."""


@dataclass(frozen=True, slots=True)
class RootCall:
    """The resolver of one root field, with its arguments converted at compilation."""

    func: Callable[..., Any]  # the resolver's own function
    field: StrawberryField
    info_class: type[Any]  # the strawberry ``Info`` class the schema's config names
    shared: MappingProxyType[str, Any]  # converted arguments nobody can change
    fresh: tuple[tuple[str, Callable[[], Any]], ...]  # … and makers of the others
    with_self: bool  # the resolver takes the parent as ``self``
    source_names: tuple[str, ...]  # parameters given the parent (``root``/``parent``)
    info_name: str | None  # the parameter given strawberry's info

    def __call__(self, source: Any, info: Any) -> Any:
        """What strawberry's wrapper returns for ``resolver(source, info, **args)``."""
        kwargs = dict(self.shared)
        for name, make in self.fresh:
            kwargs[name] = make()
        for name in self.source_names:
            kwargs[name] = source
        if self.info_name is not None:
            kwargs[self.info_name] = self.info_class(_raw_info=info, _field=self.field)
        if self.with_self:
            return self.func(source, **kwargs)
        return self.func(**kwargs)


def root_call(schema: GraphQLSchema, fdef: GraphQLField, node: FieldNode) -> RootCall | None:
    """The ``RootCall`` of the root field ``node`` (of ``fdef``), or ``None``: its arguments
    are converted per request."""
    sfield = fdef.extensions.get(DEFINITION)
    wrapper = strawberry_schema(schema)
    if (
        wrapper is None
        or not isinstance(sfield, StrawberryField)
        or sfield.base_resolver is None
        or sfield.extensions
        or sfield.permission_classes
        or not is_field_resolver(fdef.resolve)
        or field_exception_handlers(wrapper, sfield)
        or not callable(sfield.base_resolver.wrapped_func)
        or _has_variable(node)
        or not all(_plain_type(a.type, set()) for a in sfield.arguments)
    ):
        return None
    try:
        raw = get_argument_values(fdef, node, None)
        converted = convert_arguments(
            raw,
            sfield.arguments,
            scalar_registry=wrapper.schema_converter.scalar_registry,
            config=wrapper.config,
            info=None,  # only ``from_input`` reads it, and none is called (``_plain_type``)
        )
        makers = {name: _maker(value) for name, value in converted.items()}
        # what a maker makes must equal what strawberry converted (an input class with a
        # constructor of its own, say): else no root call
        if any(m is not None and m() != converted[n] for n, m in makers.items()):
            return None
    except Exception:  # it raises per request, as in normal execution
        return None
    resolver = sfield.base_resolver
    parent, root, info = resolver.parent_parameter, resolver.root_parameter, resolver.info_parameter
    return RootCall(
        func=resolver.wrapped_func,  # type: ignore[arg-type]
        field=sfield,
        info_class=wrapper.config.info_class,
        shared=MappingProxyType({n: v for n, v in converted.items() if makers[n] is None}),
        fresh=tuple((n, m) for n, m in makers.items() if m is not None),
        with_self=resolver.self_parameter is not None,
        source_names=tuple(p.name for p in (parent, root) if p is not None),
        info_name=info.name if info is not None else None,
    )


def _has_variable(node: Node) -> bool:
    """Whether a variable occurs anywhere in ``node``'s arguments."""
    stack: list[Any] = [a.value for a in getattr(node, "arguments", None) or ()]
    while stack:
        value = stack.pop()
        if isinstance(value, VariableNode):
            return True
        stack.extend(getattr(value, "values", None) or ())  # a list
        stack.extend(f.value for f in getattr(value, "fields", None) or ())  # an object
    return False


def _plain_type(type_: Any, seen: set[type[Any]]) -> bool:
    """Whether values of ``type_`` convert without the request (no ``from_input``)."""
    while isinstance(type_, StrawberryContainer | LazyType):
        type_ = type_.of_type if isinstance(type_, StrawberryContainer) else type_.resolve_type()
    if not has_object_definition(type_) or type_ in seen:
        return True
    seen.add(type_)
    definition = type_.__strawberry_definition__
    if getattr(definition, "from_input", None) is not None:
        return False
    return all(
        _plain_type(f.resolve_type(type_definition=definition), seen) for f in definition.fields
    )


def _maker(value: Any) -> Callable[[], Any] | None:
    """``None`` when ``value`` can be shared as is, else a function making an equal value
    with new mutable parts; raises ``_NotConstant`` for a value of an unknown class."""
    cls = value.__class__
    if cls in _IMMUTABLE or value is UNSET or isinstance(value, Enum):
        return None
    if cls is list:
        items = [(item, _maker(item)) for item in value]
        if all(make is None for _, make in items):
            kept = tuple(value)
            return lambda: list(kept)
        return lambda: [item if make is None else make() for item, make in items]
    if _plain_input(cls):
        state = dict(value.__dict__)
        inner = [(name, make) for name, v in state.items() if (make := _maker(v)) is not None]

        def make_input() -> Any:
            made = cls.__new__(cls)
            attrs = made.__dict__
            attrs.update(state)
            for name, make in inner:
                attrs[name] = make()
            return made

        return make_input
    raise _NotConstant(cls.__name__)


def _plain_input(cls: type[Any]) -> bool:
    """A strawberry input class whose instances hold their state in ``__dict__`` only."""
    if not has_object_definition(cls) or not cls.__strawberry_definition__.is_input:
        return False
    return all("__slots__" not in vars(k) for k in cls.__mro__ if k is not object)
