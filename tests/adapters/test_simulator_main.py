"""Every kind's simulator runs as ``python -m adapters.<kind>.simulator`` (the benches and the
compose files start them so)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("kind", ["patchwork", "patchwork_fdo", "gerrit", "abf"])
def test_simulator_runs_as_a_module(kind: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", f"adapters.{kind}.simulator", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "--port" in done.stdout
