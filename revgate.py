"""The ``revgate`` console script, and the check that revgate's import names are its own.

revgate installs three top-level packages, ``gateway``, ``schema`` and ``adapters``, whose names
PyPI packages also use. Installed beside one of those, revgate would import the other's code
(first on ``sys.path``), or run with the other's ``__init__.py`` written over its own (both
wheels unpack into the same folder), and fail far from the cause. This module has the
distribution's own name, so it is always revgate's: it checks the three names *before* importing
them, and says which package shadows which name and what to do.

Standard library only, and nothing here imports the three packages: a foreign ``gateway`` must not
run just to be diagnosed.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

OWN_PACKAGES = ("gateway", "schema", "adapters")
# Each package's ``__init__.py`` carries this line: a file of the same path from another
# distribution does not.
MARKER = "__revgate__ = True"
# sysexits' EX_CONFIG: the environment, not the command line, is wrong.
EXIT_IMPORT_NAMES = 78

ADVICE = (
    "revgate needs its own environment: install it with `pipx install revgate`, or in a "
    "virtual environment of its own (python -m venv), or run the Docker image "
    "(docker/Dockerfile); or uninstall the other package from this environment."
)


class ImportNameConflict(ImportError):
    """One of revgate's import names resolves to files that are not revgate's."""


def _owner(name: str) -> str:
    """Who provides the foreign ``name``: the installed distribution(s), else a plain folder."""
    others = sorted(set(packages_distributions().get(name, [])) - {"revgate"})
    if others:
        return "installed by the PyPI package " + ", ".join(repr(other) for other in others)
    return "not from any installed package (a folder first on sys.path: the current directory?)"


def _same(folder: Path, root: Path) -> bool:
    try:
        return folder.samefile(root)
    except OSError:
        return False


def _foreign(name: str, root: Path) -> str | None:
    """Why ``name`` is not revgate's package under ``root``, or None when it is."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError) as exc:
        return f"'{name}' cannot be located ({exc})"
    if spec is None:
        return f"'{name}' is missing: revgate's installation is incomplete"
    origin = Path(os.path.abspath(spec.origin)) if spec.origin else None
    # The folder holding the package, compared as a file (not a string): venvs reach
    # site-packages through symlinks (lib64 -> lib).
    if origin is None or origin.name != "__init__.py" or not _same(origin.parent.parent, root):
        where = origin or (list(spec.submodule_search_locations or []) or ["?"])[0]
        return f"'{name}' resolves to {where}, {_owner(name)}"
    try:
        own = MARKER in origin.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        own = False
    if not own:
        return f"'{name}' at {origin} was overwritten, {_owner(name)}"
    return None


def import_name_conflicts(root: Path | None = None) -> list[str]:
    """One line per import name of revgate's that resolves to someone else's files."""
    base = root or Path(os.path.abspath(__file__)).parent
    return [why for name in OWN_PACKAGES if (why := _foreign(name, base)) is not None]


def conflict_message(conflicts: list[str]) -> str:
    lines = ["revgate cannot start: its import names are taken by other code."]
    lines += [f"  - {conflict}" for conflict in conflicts]
    return "\n".join([*lines, ADVICE])


def require_own_import_names() -> None:
    """Raise ImportNameConflict (with what to do) unless the three names are revgate's."""
    if conflicts := import_name_conflicts():
        raise ImportNameConflict(conflict_message(conflicts))


def main() -> int:
    """Entry point of the ``revgate`` console script: the check, then ``gateway.cli``."""
    if conflicts := import_name_conflicts():
        print(conflict_message(conflicts), file=sys.stderr)
        return EXIT_IMPORT_NAMES
    from gateway.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    raise SystemExit(main())
