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
