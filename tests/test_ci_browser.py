"""On CI the browser tests must run, never skip: ``make test`` installs ``chromium`` there."""

from __future__ import annotations

import os

import pytest

from tests.browser.conftest import NOT_INSTALLED, chromium_path


@pytest.mark.skipif(os.environ.get("CI") != "true", reason="only enforced with CI=true")
def test_ci_has_chromium() -> None:
    assert chromium_path(), f"CI=true but {NOT_INSTALLED}"
