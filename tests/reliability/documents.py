"""Adversarial GraphQL documents of about 10 KB (issue 15, item 1), one builder per shape.

Each is what an anonymous client can send in one request: fragment fan-out (each fragment
spreading the next two or three times, or one fragment spreading many), deep nesting of
every kind (fields, inline fragments, list and object values, introspection ``ofType``),
many aliases, tokens, directives, variables, operations and same-named fields (the shape
``OverlappingFieldsCanBeMergedRule`` is quadratic on), long strings and fragment cycles.
"""

from __future__ import annotations

from collections.abc import Callable

SIZE = 10_000  # bytes: the acceptance bound is for documents of at most 10 KB


def _fill(unit: Callable[[int], str], head: str, tail: str, size: int = SIZE) -> str:
    """``head`` + as many ``unit(i)`` as fit in ``size`` bytes + ``tail``."""
    parts: list[str] = []
    used = len(head) + len(tail)
    i = 0
    while True:
        piece = unit(i)
        if used + len(piece) > size:
            break
        parts.append(piece)
        used += len(piece)
        i += 1
    return head + "".join(parts) + tail


def fan_out(copies: int, levels: int) -> str:
    """``F0`` spreads ``F1`` ``copies`` times, … : copies**levels fields once expanded."""
    spreads = " ".join
    frags = [
        f"fragment F{i} on Query{{{spreads([f'...F{i + 1}'] * copies)}}}" for i in range(levels)
    ]
    return "query{...F0}" + "".join(frags) + f"fragment F{levels} on Query{{__typename}}"


def _levels(copies: int) -> int:
    """The most fan-out levels that fit in SIZE."""
    levels = 1
    while len(fan_out(copies, levels + 1)) <= SIZE:
        levels += 1
    return levels


def wide_fan_out() -> str:
    """One fragment spreading W fragments that each spread W more: W² fields at 2 levels."""
    width = 40
    inner = "".join(f"fragment G{i} on Query{{{'...H ' * width}}}" for i in range(width))
    top = "fragment T on Query{" + "".join(f"...G{i} " for i in range(width)) + "}"
    doc = "query{...T}" + top + inner + "fragment H on Query{__typename}"
    return doc[:SIZE] if len(doc) <= SIZE else doc


def nested(open_: str, close: str, head: str, tail: str, inner: str) -> str:
    depth = (SIZE - len(head) - len(tail) - len(inner)) // (len(open_) + len(close))
    return head + open_ * depth + inner + close * depth + tail


SHAPES: dict[str, Callable[[], str]] = {
    "fan-out x2": lambda: fan_out(2, _levels(2)),
    "fan-out x3": lambda: fan_out(3, _levels(3)),
    "fan-out x2, 5 levels (served)": lambda: fan_out(2, 5),
    "wide fan-out 40x40": wide_fan_out,
    "fragment cycle": lambda: "query{...A}fragment A on Query{...B}fragment B on Query{...A}",
    "deep fields": lambda: nested("backends{", "}", "{", "}", "name"),
    "deep inline fragments": lambda: nested("...on Query{", "}", "{", "}", "__typename"),
    "deep list value": lambda: nested(
        "[", "]", "{changes(filter:{backends:", "}){totalCount}}", "1"
    ),
    "deep object value": lambda: nested("{a:", "}", "{changes(filter:", "){totalCount}}", "1"),
    "deep ofType": lambda: nested("ofType{", "}", '{__type(name:"Query"){', "}}", "name"),
    "introspection lists": lambda: (
        "{__schema{types{fields{type{fields{type{fields{type{fields{name}}}}}}}}}}"
    ),
    "introspection lists via fragments": lambda: (
        "{__schema{types{...A}}}fragment A on __Type{fields{type{...B}}}"
        "fragment B on __Type{fields{type{fields{type{fields{name}}}}}}"
    ),
    "aliased __schema copies": lambda: (
        "{" + " ".join(f"a{i}:__schema{{types{{fields{{args{{name}}}}}}}}" for i in range(30)) + "}"
    ),
    "aliases in a fragment": lambda: _fill(
        lambda i: f"a{i}:__typename ", "query{...A ...A ...A}fragment A on Query{", "}"
    ),
    "same-named fields": lambda: _fill(lambda i: "backends{name} ", "{", "}"),
    "same-named conflicting fields": lambda: _fill(
        lambda i: f"x:backends{{{'name' if i % 2 else 'kind'}}} ", "{", "}"
    ),
    "same-named fields with arguments": lambda: _fill(
        lambda i: f"patches(first:{i % 100 + 1}){{totalCount}} ", "{", "}"
    ),
    "many tokens": lambda: _fill(lambda i: "1 ", "{changes(filter:{backends:[", "]}){totalCount}}"),
    "many directives": lambda: _fill(lambda i: "@skip(if:false)", "{__typename", "}"),
    "many variables": lambda: _fill(lambda i: f"$v{i}:Int ", "query(", "){__typename}"),
    "many arguments": lambda: _fill(lambda i: f"a{i}:1 ", "{backends(", "){name}}"),
    "many operations": lambda: _fill(lambda i: f"query Q{i}{{__typename}}", "", ""),
    "long string": lambda: _fill(lambda i: "x", '{changes(filter:{search:"', '"}){totalCount}}'),
    "long block string": lambda: _fill(
        lambda i: "{[(", '{changes(filter:{search:"""', '"""}){totalCount}}'
    ),
    "many comments": lambda: _fill(lambda i: "#{{{{[[[[\n", "{", "__typename}"),
}
