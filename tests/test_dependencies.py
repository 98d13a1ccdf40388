"""Every third-party package the code imports is declared in pyproject.toml.

A package that arrives only as another's dependency (``cross_web`` through strawberry,
``yarl`` through aiohttp) can disappear or change under an upgrade of that other package;
declared, its range is ours to keep. The imports of ``gateway``, ``schema`` and ``adapters``
are walked with ``ast`` (including those under ``TYPE_CHECKING`` and inside functions), each
top-level module is mapped to the distributions that provide it, and one of them must be in
``[project] dependencies`` — or in the ``tracing`` extra, for the optional tracing module.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = {"gateway", "schema", "adapters", "revgate"}  # revgate.py: the console script


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = [*project["dependencies"], *project["optional-dependencies"]["tracing"]]
    return {_normal(re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0]) for spec in specs}


def imported_modules(*folders: str) -> dict[str, str]:
    """Top-level third-party modules imported under ``folders``: module → a file using it."""
    found: dict[str, str] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in FIRST_PARTY:
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_imported_package_is_declared() -> None:
    providers = packages_distributions()
    declared = _declared()
    undeclared = {
        module: (where, providers.get(module))
        for module, where in imported_modules("gateway", "schema", "adapters").items()
        if not declared & {_normal(d) for d in providers.get(module, [module])}
    }
    assert undeclared == {}, "declare these in pyproject.toml [project] dependencies"


def test_the_check_sees_an_undeclared_import() -> None:
    # cross_web came in only through strawberry until it was declared
    assert "cross_web" in imported_modules("gateway")
    assert "cross-web" in _declared()
    assert "some-package-nobody-declared" not in _declared()
