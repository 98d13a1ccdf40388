"""revgate's top-level packages are its own: no other installed distribution claims them."""

from __future__ import annotations

from importlib.metadata import packages_distributions
from pathlib import Path

import adapters
import gateway
import schema

ROOT = Path(__file__).parents[1]


def test_packaging_import_names_belong_to_revgate() -> None:
    claimed = packages_distributions()
    for name in ("gateway", "schema", "adapters"):
        assert set(claimed.get(name, ["revgate"])) == {"revgate"}, (name, claimed.get(name))


def test_packaging_modules_come_from_this_checkout() -> None:
    for module in (adapters, gateway, schema):
        assert module.__file__ is not None
        assert Path(module.__file__).resolve().is_relative_to(ROOT)


def test_packaging_ships_every_static_file() -> None:
    """Every file the pages load (GraphiQL, the dashboard) is package data of the wheel:
    matched by a ``[tool.setuptools.package-data]`` glob (setuptools globs do not descend)."""
    import tomllib

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["gateway"]
    package = ROOT / "gateway"
    shipped = {p for pattern in patterns for p in package.glob(pattern) if p.is_file()}
    static = {p for p in (package / "static").rglob("*") if p.is_file()}
    assert static - shipped == set()
    assert (
        package / "static" / "dashboard" / "vendor" / "htm-preact-standalone.module.js" in shipped
    )
