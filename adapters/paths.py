"""Upstream paths built from caller input: every segment encoded, no way out of its route.

Caller values (project link names, ids decoded from global ids, Gerrit change ids, account
ids, compat paths re-served upstream) become upstream path segments only through ``seg`` or
``digits``; ``check_wire_path`` is the last line in ``HttpClient`` for anything else.

Percent-encoding alone is not enough: ``.`` and ``..`` are unreserved characters that
``quote`` leaves alone, and yarl (hence aiohttp) removes dot segments — even ``%2e%2e`` — when
it parses a URL, so ``projects/../../users/`` would go out as a credentialed ``/users/``. A
dot segment is therefore refused, also inside a value that the server may split at ``/``
after decoding ``%2F`` (Django and Gerrit both do).
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

MAX_SEGMENT = 4096  # longer than any real id or file path; keeps request lines bounded
MAX_DIGITS = 18  # every upstream id fits a signed 64-bit integer

_DIGITS = re.compile(f"[0-9]{{1,{MAX_DIGITS}}}")
# Characters no upstream path may carry raw: yarl drops CR/LF/TAB silently (joining what
# was around them), NUL and other controls confuse servers, '#' would end the path. yarl
# encodes the rest (space, backslash, non-ASCII) itself.
_CONTROL = re.compile(r"[\x00-\x1f\x7f#]")
_DOT_ENCODED = re.compile(r"%2e", re.IGNORECASE)


class BadSegment(ValueError):
    """A caller value that cannot be an upstream path segment (the message says why)."""


def _show(value: str) -> str:
    return repr(value[:40])


def _has_dot_segment(text: str) -> bool:
    return any(part in (".", "..") for part in text.split("/"))


def seg(value: object) -> str:
    """``value`` as one percent-encoded path segment (``/``, ``?``, ``#``, ``%`` … encoded).

    Refuses the empty value, ``.``/``..`` (also as a ``/``-separated part, see the module
    doc), control characters and values longer than ``MAX_SEGMENT``.
    """
    text = str(value)
    if not text:
        raise BadSegment("empty value")
    if len(text) > MAX_SEGMENT:
        raise BadSegment(f"value longer than {MAX_SEGMENT} characters")
    if _has_dot_segment(text) or _has_dot_segment(unquote(text)):
        raise BadSegment(f"invalid value {_show(text)}: '.' and '..' are not names")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise BadSegment(f"invalid value {_show(text)}: control character")
    return quote(text, safe="")


def digits(value: str) -> str | None:
    """``value`` if it is a plain ASCII number (``str.isdigit`` also takes ``²`` and ``٣``)."""
    return value if _DIGITS.fullmatch(value) else None


def check_wire_path(target: str) -> str | None:
    """Why the path of ``target`` (a path or URL, query ignored) may not go out, or None."""
    path = target.split("?", 1)[0]
    if "://" in path:
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    if _CONTROL.search(path):
        return "control character or '#' in an upstream path"
    decoded = _DOT_ENCODED.sub(".", path)
    if _has_dot_segment(decoded) or _has_dot_segment(unquote(path)):
        return "'.' or '..' segment in an upstream path"
    return None
