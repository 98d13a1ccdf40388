"""Decoding Gerrit's JSON bodies: the ``)]}'`` XSSI prefix, and a lenient fallback.

Gerrit prefixes every JSON body with the line ``)]}'`` so that a browser cannot run it as a
script; ``strip_prefix`` removes it and tolerates its absence (old servers and proxies that
drop it). Bodies are decoded strictly first. Only when that fails does ``loads`` repair the
mistakes seen in hand-written examples and in the lenient Gson parsers old clients used
(unquoted keys, trailing or missing commas, ``...`` elisions, unclosed brackets at the
end, several top-level values); a
body that is still not JSON after that is a ``ValueError``.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

__all__ = ["loads", "strip_prefix"]

_PREFIX = re.compile(rb"^\s*\)\]\}?'?[ \t]*\r?\n?")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]|[^\s{}\[\],:"]+', re.S)
_LITERALS = frozenset({"true", "false", "null"})
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$")


def strip_prefix(body: bytes) -> bytes:
    """``body`` without Gerrit's ``)]}'`` first line (unchanged when it has none)."""
    return _PREFIX.sub(b"", body, count=1)


def loads(body: bytes) -> Any:
    """Decode a Gerrit JSON body (prefix stripped here); ``ValueError`` if it is not JSON."""
    data = strip_prefix(body)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("body is not UTF-8") from None
    try:
        return orjson.loads(_repair(text))
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"body is not JSON: {exc}") from None


def _ends_value(tok: str) -> bool:
    return tok in ("}", "]") or tok.startswith('"') or tok in _LITERALS or bool(_NUMBER.match(tok))


def _starts_value(tok: str) -> bool:
    return tok not in ("}", "]", ",", ":")


def _repair(text: str) -> str:
    tokens = [t for t in _TOKEN.findall(text) if t != "..." and t != "…"]
    out: list[str] = []
    stack: list[str] = []
    top_values = 0
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if tok == ",":
            # A comma before a closer, after an opener or doubled is dropped (trailing commas,
            # elided items).
            if nxt in ("}", "]", ",", "") or (out and out[-1] in ("{", "[", ",")):
                continue
        elif out and _starts_value(tok) and _ends_value(out[-1]):
            out.append(",")  # a missing comma between two values
        if not stack and _starts_value(tok):
            top_values += 1
        if tok in ("{", "["):
            stack.append("}" if tok == "{" else "]")
        elif tok in ("}", "]") and stack:
            stack.pop()
        if nxt == ":" and not tok.startswith('"') and tok not in ("{", "[", ",", "}", "]"):
            tok = orjson.dumps(tok).decode()  # an unquoted key
        out.append(tok)
    out.extend(reversed(stack))  # an example cut short: close what is still open
    joined = " ".join(out)
    if top_values > 1:
        joined = f"[{joined}]"  # several top-level values: the document's list without brackets
    return joined
