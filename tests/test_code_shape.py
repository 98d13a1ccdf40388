"""The code stays readable in one sitting: modules ≤ 600 lines, functions ≤ 60 — the
production packages, their simulators, the tests and the benches.

Lines are counted from a function's first decorator to its last line, docstring included.
``KNOWN`` lists what may stay over (nothing today).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[1]
MAX_MODULE, MAX_FUNCTION = 600, 60
CHECKED = ["gateway", "schema", "adapters", "tests", "bench", "revgate.py"]
# (module, function or "" for the module's own length) allowed over the limits.
KNOWN: set[tuple[str, str]] = set()


def _files() -> list[Path]:
    return sorted(
        path
        for name in CHECKED
        for path in ([ROOT / name] if name.endswith(".py") else (ROOT / name).rglob("*.py"))
    )


def too_long(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    where = path.relative_to(ROOT).as_posix()
    found = []
    if len(text.splitlines()) > MAX_MODULE and (where, "") not in KNOWN:
        found.append(f"{where}: {len(text.splitlines())} lines")
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = (node.end_lineno or node.lineno) - first + 1
            if length > MAX_FUNCTION and (where, node.name) not in KNOWN:
                found.append(f"{where}:{node.lineno} {node.name}: {length} lines")
    return found


def test_code_shape_modules_and_functions_are_short() -> None:
    found = [entry for path in _files() for entry in too_long(path)]
    assert not found, "\n".join(found)


def test_code_shape_a_long_function_is_found(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION))
    probe = ROOT / "gateway" / "_probe_code_shape.py"
    assert not probe.exists()
    try:
        probe.write_text(f"def long() -> None:\n{body}")
        assert too_long(probe) == [f"gateway/_probe_code_shape.py:1 long: {MAX_FUNCTION + 1} lines"]
    finally:
        probe.unlink()
