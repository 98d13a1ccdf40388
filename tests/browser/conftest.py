"""Debian's Chromium driven by playwright-python (``executable_path``: no browser download).

``make test`` installs the ``chromium`` package when it is missing; elsewhere the browser
tests skip, saying why. With ``CI=true`` they fail instead (tests/test_ci_browser.py).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import pytest

from adapters.patchwork.simulator import start_simulator
from gateway.settings import Settings, settings_from_dict
from tests.reliability.harness import ADMIN_TOKEN, Setup

NOT_INSTALLED = "chromium is not installed (`make test` installs it: apt-get install chromium)"


def chromium_path() -> str | None:
    """The system browser, if any."""
    return os.environ.get("REVGATE_CHROMIUM") or shutil.which("chromium")


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(NOT_INSTALLED)
        pytest.skip(NOT_INSTALLED)
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        # --no-sandbox: CI and the developers' machines run as root, where Chromium's sandbox
        # cannot start; the pages loaded are the tests' own, on loopback.
        chromium = await pw.chromium.launch(executable_path=path, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            await chromium.close()


def gateway_setup(server: Mapping[str, Any], cache: Mapping[str, Any] | None = None) -> Setup:
    """A ``ServedGateway`` setup: one Patchwork simulator ``pw`` and these ``[server]`` (and
    ``[cache]``) keys."""

    async def setup() -> tuple[Settings, Callable[[], Awaitable[None]]]:
        sim = await start_simulator()
        backend = {"name": "pw", "kind": "patchwork", "url": sim.url, "token_env": "PW_TOKEN"}
        settings = settings_from_dict(
            {"server": dict(server), "cache": dict(cache or {}), "backends": [backend]},
            env={"PW_TOKEN": ADMIN_TOKEN},
        )
        return settings, sim.close

    return setup
