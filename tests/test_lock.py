"""requirements*.lock: every declared dependency is pinned inside pyproject's range with hashes,
the venv runs the locked versions, and the Makefile and the image install from the locks."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def _pins(lock: str) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) for each `name==version` block of a lock."""
    pins: dict[str, tuple[str, int]] = {}
    current = ""
    for line in (ROOT / lock).read_text().splitlines():
        if match := PIN.match(line):
            current = canonicalize_name(match[1])
            pins[current] = (match[2], 0)
        elif current and "--hash=sha256:" in line:
            pinned, hashes = pins[current]
            pins[current] = (pinned, hashes + 1)
    return pins


def _declared(extra: str | None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return [Requirement(spec) for spec in specs]


@pytest.mark.parametrize(
    ("lock", "declared"),
    [("requirements.lock", [None]), ("requirements-dev.lock", [None, "dev"])],
)
def test_lock_pins_every_declared_dependency_inside_its_range(
    lock: str, declared: list[str | None]
) -> None:
    pins = _pins(lock)
    assert pins and all(hashes > 0 for _, hashes in pins.values()), "a pin without a hash"
    for extra in declared:
        for req in _declared(extra):
            name = canonicalize_name(req.name)
            assert name in pins, f"{req} is not in {lock}: run `make lock`"
            assert req.specifier.contains(pins[name][0], prereleases=True), (req, pins[name])


def test_lock_is_what_the_venv_runs() -> None:
    """The tests run the locked versions, so the lock is what was tested (else `make` re-installs
    from the lock after a change to it)."""
    differ = {}
    for name, (pinned, _) in _pins("requirements-dev.lock").items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            continue  # a marker excluded it on this interpreter (e.g. async-timeout before 3.11.3)
        if installed != pinned:
            differ[name] = (installed, pinned)
    assert not differ, differ


def test_lock_used_by_make_and_the_image() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r requirements-dev.lock" in makefile
    assert "--no-deps -e ." in makefile
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert "--require-hashes -r /tmp/requirements.lock" in dockerfile
    assert "--no-deps /wheels/" in dockerfile
    assert "pip wheel --no-cache-dir --no-deps" in dockerfile
