"""revgate refuses to start when `gateway`, `schema` or `adapters` are someone else's files.

Each case runs in a subprocess whose ``sys.path`` starts with a folder holding the impostor, as
installing a PyPI package of that name would; the check must name it, say what to do, exit with
EX_CONFIG and never show a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import revgate

ROOT = Path(__file__).parents[1]


def _run(path_first: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.pathsep.join([str(path_first), str(ROOT)])
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=path_first
    )


def _impostor(folder: Path, name: str, *, distribution: str | None) -> None:
    """A package `name` in `folder`, installed by `distribution` when given (its dist-info)."""
    (folder / name).mkdir()
    (folder / name / "__init__.py").write_text("SHADOW = True\n")
    if distribution is not None:
        info = folder / f"{distribution}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\n")
        (info / "top_level.txt").write_text(f"{name}\n")


@pytest.mark.parametrize("name", revgate.OWN_PACKAGES)
def test_import_names_console_script_refuses_a_shadowing_package(tmp_path: Path, name: str) -> None:
    _impostor(tmp_path, name, distribution=f"pypi-{name}")
    result = _run(tmp_path, "import revgate; raise SystemExit(revgate.main())")
    assert result.returncode == revgate.EXIT_IMPORT_NAMES, result.stderr
    assert "Traceback" not in result.stderr
    assert f"'{name}' resolves to {tmp_path.resolve() / name / '__init__.py'}" in result.stderr
    assert f"installed by the PyPI package 'pypi-{name}'" in result.stderr
    assert "pipx install revgate" in result.stderr and "Docker image" in result.stderr
    assert result.stdout == ""


def test_import_names_a_plain_folder_is_named_as_such(tmp_path: Path) -> None:
    _impostor(tmp_path, "adapters", distribution=None)
    result = _run(tmp_path, "import revgate; raise SystemExit(revgate.main())")
    assert result.returncode == revgate.EXIT_IMPORT_NAMES
    assert "not from any installed package" in result.stderr


@pytest.mark.parametrize("name", ["schema", "adapters"])
def test_import_names_create_app_refuses_a_shadowing_package(tmp_path: Path, name: str) -> None:
    """The app factory (uvicorn --factory gateway.app:create_app) cannot be reached without
    importing `gateway`, whose __init__ checks the other two names first."""
    _impostor(tmp_path, name, distribution="pypi-thing")
    code = (
        "import revgate\n"
        "try:\n"
        "    from gateway.app import create_app\n"
        "except revgate.ImportNameConflict as exc:\n"
        "    print(exc)\n"
        "    raise SystemExit(7)\n"
    )
    result = _run(tmp_path, code)
    assert result.returncode == 7, result.stderr
    assert f"'{name}' resolves to" in result.stdout and "'pypi-thing'" in result.stdout


def test_import_names_an_overwritten_init_is_found(tmp_path: Path) -> None:
    """Two wheels with a package of the same name unpack into one folder: the location is
    revgate's but the `__init__.py` is the other's (no marker)."""
    (tmp_path / "revgate.py").write_text((ROOT / "revgate.py").read_text())
    for own in ("gateway", "schema"):
        (tmp_path / own).symlink_to(ROOT / own, target_is_directory=True)
    _impostor(tmp_path, "adapters", distribution="adapters")
    result = _run(tmp_path, "import revgate; raise SystemExit(revgate.main())")
    assert result.returncode == revgate.EXIT_IMPORT_NAMES, result.stderr
    assert "'adapters' at" in result.stderr and "was overwritten" in result.stderr
    assert "'gateway'" not in result.stderr and "'schema'" not in result.stderr
    assert "'adapters'" in result.stderr.split("PyPI package", 1)[1]


def test_import_names_are_revgates_own_here() -> None:
    assert revgate.import_name_conflicts() == []
    revgate.require_own_import_names()
    result = _run(
        ROOT, "import revgate; import sys; sys.argv = ['revgate', '--help']; revgate.main()"
    )
    assert result.returncode == 0 and "usage: revgate" in result.stdout, result.stderr
