"""The execution package's house rules, checked on the source (``schema/execution/README.md``).

- small pieces: every module ≤ 600 lines, every function ≤ 60;
- no process-wide cache: a module-level mutable container in ``schema/`` is a declaration
  table filled at import (named below), never something requests fill — caches belong to an
  owner (``FastPath``, a schema, an app) and are bounded;
- strawberry's private API is used in ``strawberry_private.py`` only (pinned, re-checked on
  upgrade): no ``_``-prefixed name imported from strawberry and no ``._schema`` elsewhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "schema" / "execution"
# Declaration tables: filled once at import from the code's own declarations, bounded by it.
DECLARATIONS = frozenset(
    {"PROJECTIONS", "CHANGE_TYPES", "GERRIT_TYPES", "SCALAR_OVERRIDES", "_HTTP_CODES", "__all__"}
)
MUTABLE_CALLS = {"dict", "list", "set", "OrderedDict", "defaultdict", "deque", "ListMemo"}


def _modules(*folders: Path) -> list[Path]:
    return sorted(
        p for folder in folders for p in folder.rglob("*.py") if "simulator" not in p.parts
    )


@pytest.mark.parametrize("path", _modules(PACKAGE), ids=lambda p: p.name)
def test_modules_and_functions_are_small(path: Path) -> None:
    text = path.read_text()
    assert text.count("\n") <= 600, path
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= 60, f"{path.name}:{node.name} has {length} lines"


def _mutable(value: ast.expr | None) -> bool:
    if isinstance(value, ast.Dict | ast.List | ast.Set | ast.DictComp | ast.ListComp):
        return True
    if isinstance(value, ast.Call):
        func = value.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        return name in MUTABLE_CALLS
    return False


@pytest.mark.parametrize("path", _modules(ROOT / "schema"), ids=lambda p: p.name)
def test_no_process_wide_mutable_state_in_schema(path: Path) -> None:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and _mutable(node.value):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            assert names <= DECLARATIONS, f"{path.name}: module-level {names} (give it an owner)"


def _private_uses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("strawberry"):
            private = [a.name for a in node.names if a.name.startswith("_")]
            if private or "._" in (node.module or ""):
                found.append(f"{node.module}: {private}")
        elif isinstance(node, ast.Attribute) and node.attr == "_schema":
            found.append(f"line {node.lineno}: ._schema")
    return found


def test_strawberry_private_api_is_used_in_one_module_only() -> None:
    allowed = PACKAGE / "strawberry_private.py"
    assert _private_uses(allowed)  # the check sees them where they are
    offenders = {
        str(p.relative_to(ROOT)): uses
        for p in _modules(ROOT / "gateway", ROOT / "schema", ROOT / "adapters")
        if p != allowed and (uses := _private_uses(p))
    }
    assert offenders == {}
