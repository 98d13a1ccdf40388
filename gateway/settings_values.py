"""Value checks and message helpers shared by the settings checkers.

Part of ``gateway.settings``: type tests, ``", got ..."`` message tails, "did you mean"
suggestions, URL normalisation. Pure functions; depends on nothing else in the settings.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from urllib.parse import urlsplit


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _type_name(value: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _env_key(name: str) -> str:
    """A backend name as it appears in override variables: upper-case, ``-`` -> ``_``."""
    return name.upper().replace("-", "_")


def _normalise_url(value: str) -> tuple[str | None, str]:
    """``(normalised, "")`` or ``(None, reason)``; the reason never repeats the URL."""
    if not value or any(c.isspace() for c in value):
        return None, "must be a non-empty URL without whitespace"
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError on a malformed or out-of-range port
    except ValueError:
        return None, "is not a valid URL"
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return None, "must start with http:// or https://"
    if "@" in parts.netloc:
        return None, (
            "must not contain credentials (user:password@); "
            "use token_env or username_env/password_env"
        )
    if not parts.hostname:
        return None, "has no host"
    if "?" in value or "#" in value:
        return None, "must not have a query (?...) or fragment (#...)"
    return f"{scheme}://{parts.netloc.lower()}{parts.path.rstrip('/')}", ""


def _got(value: object) -> str:
    """``", got 5"`` for numbers and booleans; only the type for anything else."""
    if isinstance(value, bool):
        return f", got {'true' if value else 'false'}"
    if _is_number(value):
        return f", got {value!r}"
    return f", got {_type_name(value)}"


def _name_problem(value: object, taken: Iterable[str], what: str) -> str:
    """Why ``value`` cannot name one more ``what`` beside ``taken`` (``""``: it can)."""
    if not isinstance(value, str) or not value.strip():
        return f"name must be a non-empty string{_got(value)}"
    if value in taken:
        return f"duplicate {what} name {value!r}"
    return ""


def _parse_int(text: str) -> int | None:
    text = text.strip()
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        return None
    return int(text)
