"""Config-file line numbers: maps a key path such as ``("backends", 1, "url")`` to its line.

Part of ``gateway.settings`` (whose problems carry these lines); ``tomllib`` keeps no
positions, so ``_Locator`` scans the raw text. Depends on nothing else in the settings.
"""

from __future__ import annotations

import re

Path_ = tuple[str | int, ...]

_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"\\\n]*"|'[^'\n]*')"""
_KEY_LINE_RE = re.compile(rf"\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=")
_ARRAY_HEADER_RE = re.compile(
    rf"\s*\[\[\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*\]\]\s*(?:#.*)?$"
)
_TABLE_HEADER_RE = re.compile(rf"\s*\[\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*\]\s*(?:#.*)?$")
_KEY_PART_RE = re.compile(_KEY_PART)


def _key_parts(dotted: str) -> list[str]:
    return [p[1:-1] if p[0] in "\"'" else p for p in _KEY_PART_RE.findall(dotted)]


class _Locator:
    """Maps a path such as ``("backends", 1, "url")`` to the line that defines it.

    Array-of-tables entries are numbered in file order, so ``("backends", 1)`` is the second
    ``[[backends]]`` header. ``line()`` falls back to the closest enclosing path it knows
    (a missing key -> its table header). Keys inside multi-line strings are skipped; entries
    written as inline tables (``backends = [{...}]``) map to the ``backends =`` line.
    """

    def __init__(self, text: str) -> None:
        self._lines: dict[Path_, int] = {}
        counts: dict[Path_, int] = {}
        table: Path_ = ()
        in_string: str | None = None
        for number, line in enumerate(text.split("\n"), start=1):
            if in_string is not None:
                if line.count(in_string) % 2 == 1:
                    in_string = None
                continue
            if match := _ARRAY_HEADER_RE.match(line):
                *parents, last = _key_parts(match.group(1))
                name = (*self._resolve(parents, counts), last)
                index = counts.get(name, 0)
                counts[name] = index + 1
                self._lines.setdefault(name, number)
                table = (*name, index)
                self._lines[table] = number
            elif match := _TABLE_HEADER_RE.match(line):
                table = self._resolve(_key_parts(match.group(1)), counts)
                self._lines.setdefault(table, number)
            elif match := _KEY_LINE_RE.match(line):
                self._lines.setdefault((*table, *_key_parts(match.group(1))), number)
                rest = line[match.end() :]
                for quote in ('"""', "'''"):
                    if rest.count(quote) % 2 == 1:
                        in_string = quote
                        break

    @staticmethod
    def _resolve(parts: list[str], counts: dict[Path_, int]) -> Path_:
        """A header's dotted name as a path: ``backends.x`` is inside the latest backend."""
        path: Path_ = ()
        for part in parts:
            path = (*path, part)
            if path in counts:
                path = (*path, counts[path] - 1)
        return path

    def line(self, path: Path_) -> int | None:
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return None
