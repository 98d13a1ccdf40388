"""Code generation for the execution fast path: one Python function per object plan.

``compiler.py`` compiles a selection set on a concrete type into an ``ObjectPlan`` (the
response keys, how to read each value and how to complete it). Walking that plan generically
costs a loop iteration, several attribute reads and branches per field; for a list of 100
patches with ten fields that is most of the plan's CPU. ``generate`` turns one ``_Object``
into straight-line Python source — one ``try`` block per field, the branches decided at
compile time — and ``exec``-compiles it once per plan.

The generated function does exactly what the generic walk (``runtime.complete_object``)
does, statement for statement: the same reads in the same order, the same leaf shortcut
(values of the exact Python class a scalar returns unchanged), the same completion calls with
the same paths, the same stop on an awaitable returned by a synchronous resolver, and the
same error handling (``_fail``: located at the field, raised when the field is non-null,
else recorded with ``null``). The differential tests run both (``tests/schema/test_fastpath*``).
"""

from __future__ import annotations

import keyword
import operator
from collections.abc import Callable, Coroutine, Generator, Mapping
from datetime import UTC, datetime
from typing import Any

from strawberry.schema.types.base_scalars import isoformat as ISOFORMAT

from schema.execution.projection import RESOLVE


def _literal(text: str) -> str:
    """A GraphQL name as a Python string literal (names are ``[_A-Za-z][_0-9A-Za-z]*``)."""
    if not text.replace("_", "a").isalnum() or not text.isascii():
        raise ValueError(f"not a GraphQL name: {text!r}")
    return repr(text)


_CAST = "__as_strawberry_type__"  # strawberry.cast's mark (strawberry/types/cast.py)


def _type_check(obj: Any, names: dict[str, Any]) -> list[str]:
    """The ``is_type_of`` check, skipped when its answer is known: strawberry's generated
    check (types implementing interfaces) is true for an uncast instance of the type's own
    class, so only other values are asked."""
    if obj.check is None:
        return []
    names["CHECK"] = obj.check
    names["NODES"] = obj.nodes
    call = ["if not CHECK(value, None):", "    raise _wrong_type(GTYPE, value, NODES)"]
    definition = obj.gtype.extensions.get("strawberry-definition")
    origin = getattr(definition, "origin", None)
    if definition is None or definition.is_type_of is not None or origin is None:
        return call
    names["ORIGIN"] = origin
    names["CAST"] = _CAST
    return [
        "if value.__class__ is not ORIGIN or hasattr(value, CAST):",
        *("    " + line for line in call),
    ]


def _enum_names(leaf_type: Any) -> tuple[type[Any], dict[Any, Any]] | None:
    """A strawberry enum's members and what its ``coerce_output_value`` returns for each."""
    wrapped = getattr(leaf_type, "wrapped_cls", None)
    if wrapped is None:
        return None
    try:  # by ``_value_``: the coercion compares values (and Enum.__hash__ is Python code)
        return wrapped, {m._value_: leaf_type.coerce_output_value(m) for m in wrapped}
    except Exception:  # an enum whose members do not all coerce: the generic completion
        return None


def _complete(
    f: Any, i: int, key: str, typename: str, names: dict[str, Any], records: bool = False
) -> list[str]:
    """Statements that store the completion of ``raw`` in ``out[key]`` (``records``: an
    object-typed ``raw`` is the nested record, built by the target's record builder)."""
    if f.leaf and f.leaf_type is not None:
        # complete_leaf inlined: exact values as they are, enum members by their name,
        # null (and the non-null error) the generic way, anything else coerced.
        lines: list[str] = []
        if f.exact is not None:
            names[f"E{i}"] = f.exact
            lines += [f"if raw.__class__ is E{i}:", f"    out[{key}] = raw"]
        if f.leaf_type.coerce_output_value is ISOFORMAT:  # strawberry's DateTime, Date, Time
            texts = DateTexts()  # this builder's: owned by its plan
            names["DATETIME"], names["UTC"] = datetime, UTC
            names[f"D{i}"], names[f"DN{i}"] = texts.get, texts.new
            lines += [
                f"{'el' if lines else ''}if raw.__class__ is DATETIME and raw.tzinfo is UTC:",
                f"    out[{key}] = D{i}(raw) or DN{i}(raw)",
            ]
        enum = _enum_names(f.leaf_type)
        if enum is not None:
            names[f"M{i}"], names[f"N{i}"] = enum
            lines += [
                f"{'el' if lines else ''}if raw.__class__ is M{i}:",
                f"    out[{key}] = N{i}[raw._value_]",
            ]
        names[f"T{i}"] = f.leaf_type
        names[f"V{i}"] = f.leaf_type.coerce_output_value
        lines += [
            f"{'el' if lines else ''}if raw is None or raw is Undefined:",
            f"    out[{key}] = C{i}(raw, path, run)",
            "else:",
            f"    v = V{i}(raw)",
            "    if v is Undefined or v is None:",
            f"        raise _leaf_error(T{i}, raw, v)",
            f"    out[{key}] = v",
        ]
        return lines
    sub = f"_new(Path, (path, {key}, {typename}))"  # Path(path, key, typename): runtime._new
    target = None
    if f.target is not None:
        target = f.target.build_record if records else f.target.build
    if target is not None:
        names[f"B{i}"] = target
        if f.non_null:
            names[f"X{i}"] = f"Cannot return null for non-nullable field {f.owner}."
            null = f"raise TypeError(X{i})"
        else:
            null = f"out[{key}] = None"
        return [
            "if raw is None:",
            f"    {null}",
            "else:",
            f"    out[{key}] = B{i}(raw, {sub}, run)",
        ]
    if f.exact is not None:  # pragma: no cover - exact classes are only found for leaves
        raise AssertionError(f.owner)
    return [f"out[{key}] = C{i}(raw, {sub}, run)"]


class DateTexts:
    """UTC datetimes as ``isoformat`` writes them, kept for one generated builder: a list
    answers the same dates on every request (its items' mail dates), each formatted once.
    Equal UTC datetimes have equal fields, so an equal key has the same text. Bounded:
    ``entries`` texts, all dropped when full."""

    __slots__ = ("_texts", "entries", "get")

    def __init__(self, entries: int = 512) -> None:
        self.entries = entries
        self._texts: dict[datetime, str] = {}
        self.get = self._texts.get  # the builders' lookup: one C call on a hit

    def new(self, value: datetime) -> str:
        """Format ``value`` and keep its text."""
        if len(self._texts) >= self.entries:
            self._texts.clear()
        text = self._texts[value] = value.isoformat()
        return text


def _plain_classes(f: Any, names: dict[str, Any]) -> frozenset[type[Any]]:
    """Classes a resolver of ``f`` returns that are certainly not awaitable (``None``, the
    leaf's exact class, its enum, the object type's class): no ``_is_awaitable`` for them."""
    classes: set[type[Any]] = {type(None)}
    if f.exact is not None:
        classes.add(f.exact)
    if f.leaf_type is not None and (enum := getattr(f.leaf_type, "wrapped_cls", None)):
        classes.add(enum)
    if f.target is not None:
        definition = f.target.gtype.extensions.get("strawberry-definition")
        if (origin := getattr(definition, "origin", None)) is not None:
            classes.add(origin)
    return frozenset(
        c
        for c in classes
        if isinstance(c, type)
        and not hasattr(c, "__await__")
        and not issubclass(c, Coroutine | Generator)
    )


def source_of(obj: Any, projection: Any = None) -> tuple[str, dict[str, Any]]:
    """The source of the builder of ``obj`` (an ``ObjectPlan``) and the names it refers to.

    With ``projection`` (``projection.Projection``), the builder reads a record of
    ``projection.record`` instead: projected fields through their function, record-only
    resolvers with a ``RecordView``, nested records with the target's record builder; any
    other value is converted with ``projection.of`` and built from the object."""
    names: dict[str, Any] = {"GTYPE": obj.gtype}
    typename = _literal(obj.gtype.name)
    lines = ["def build(value, path, run):"]
    if projection is None:
        lines += ["    " + line for line in _type_check(obj, names)]
    else:
        names["RECORD"], names["OF"], names["BUILD"] = projection.record, projection.of, obj.build
        lines += [
            "    if value.__class__ is not RECORD:",
            "        return BUILD(OF(value), path, run)",
        ]
        if any(f.fdef is not None and f.project is None and f.shortcut is None for f in obj.fields):
            lines.append("    view = RecordView(value)")
    lines.append("    out = {}")
    for i, f in enumerate(obj.fields):
        key = _literal(f.key)
        if f.fdef is None:
            lines.append(f"    out[{key}] = {typename}")
            continue
        names[f"F{i}"] = f
        names[f"C{i}"] = f.complete
        if projection is not None and f.project is not None:
            attr = _plain_attribute(f.project)
            if attr is None:
                names[f"P{i}"] = f.project
            read = f"raw = value.{attr}" if attr is not None else f"raw = P{i}(value)"
            body = [read, *_complete(f, i, key, typename, names, records=True)]
        elif projection is not None and f.shortcut is not None:
            names[f"S{i}"], names["RESOLVE"] = f.shortcut, RESOLVE
            body = _read(f, i, key, typename, names, "RecordView(value)")
            body = [f"raw = S{i}(value)", "if raw is RESOLVE:", "    " + body[0], *body[1:]]
        else:
            body = _read(f, i, key, typename, names, "value" if projection is None else "view")
        lines.append("    try:")
        lines.extend("        " + line for line in body)
        lines.append("    except Exception as exc:")
        lines.append(f"        _fail(run, F{i}, exc, path, {typename}, out)")
    lines.append("    return out")
    return "\n".join(lines) + "\n", names


def _plain_attribute(read: Any) -> str | None:
    """The attribute an ``operator.attrgetter`` of one plain name reads (read inline: the
    same lookup without a call), else ``None``."""
    if type(read) is not operator.attrgetter:
        return None
    reduced: Any = read.__reduce__()  # (attrgetter, the names it reads)
    names = reduced[1]
    if len(names) != 1:
        return None
    attr = names[0]
    plain = type(attr) is str and attr.isidentifier() and not attr.startswith("__")
    return attr if plain and not keyword.iskeyword(attr) else None


def _read(
    f: Any, i: int, key: str, typename: str, names: dict[str, Any], subject: str
) -> list[str]:
    """Statements that read field ``f`` of ``value`` (a resolver gets ``subject``) and store
    its completion; an awaitable from a synchronous resolver stops the walk (``Awaited``)."""
    body: list[str] = []
    if f.call is None:
        attr = f.attr
        if attr.isidentifier() and not keyword.iskeyword(attr) and not attr.startswith("__"):
            body.append(f"raw = value.{attr}")
        else:
            names[f"A{i}"] = attr
            body.append(f"raw = getattr(value, A{i})")
        return body + _complete(f, i, key, typename, names)
    names[f"R{i}"] = f.call
    if f.info_arg is None:
        body.append(f"raw = R{i}({subject})")
    elif f.info_second:
        body.append(f"raw = R{i}({subject}, _info(run, F{i}, GTYPE, path))")
    else:
        names[f"I{i}"] = f.info_arg
        body.append(f"raw = R{i}({subject}, **{{I{i}: _info(run, F{i}, GTYPE, path)}})")
    names[f"K{i}"] = _plain_classes(f, names)
    return [
        *body,
        f"if raw.__class__ not in K{i} and _is_awaitable(raw):",
        "    _awaited(raw)",
        "else:",
        *("    " + line for line in _complete(f, i, key, typename, names)),
    ]


def generate(
    obj: Any, helpers: Mapping[str, Any], projection: Any = None
) -> Callable[..., dict[str, Any]]:
    """``exec``-compile the builder of ``obj`` (of its records with ``projection``);
    ``helpers`` are the fast path's functions."""
    source, names = source_of(obj, projection)
    scope = {**helpers, **names}
    code = compile(source, f"<fastpath {obj.gtype.name}>", "exec")
    exec(code, scope)  # the source is built above from the schema's own names only
    build: Callable[..., dict[str, Any]] = scope["build"]
    return build
