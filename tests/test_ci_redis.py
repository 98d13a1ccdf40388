"""On CI the Redis tests must run, never skip: ``make test`` installs ``redis-server`` there."""

from __future__ import annotations

import os
import shutil

import pytest


@pytest.mark.skipif(os.environ.get("CI") != "true", reason="only enforced with CI=true")
def test_ci_has_redis_server() -> None:
    assert shutil.which("redis-server"), "CI=true but redis-server is missing: run `make test`"
