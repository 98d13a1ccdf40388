"""``max_response_bytes``: the per-backend cap on an upstream answer, from config to client."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.patchwork.source import PatchworkSource
from gateway.lifespan import build_sources
from gateway.settings import ConfigError, settings_from_dict

ENTRY: dict[str, Any] = {"name": "pw", "kind": "patchwork", "url": "http://127.0.0.1:8080"}


def test_max_response_bytes_default_is_50_mib() -> None:
    settings = settings_from_dict({"backends": [ENTRY]}, env={})
    assert settings.backend("pw").max_response_bytes == 50 * 1024 * 1024


def test_max_response_bytes_reaches_the_http_client() -> None:
    settings = settings_from_dict({"backends": [{**ENTRY, "max_response_bytes": 4096}]}, env={})
    source = build_sources(settings)["pw"]
    assert isinstance(source, PatchworkSource)
    assert source.http.config.max_body_bytes == 4096


@pytest.mark.parametrize(
    ("value", "got"), [(0, "got 0"), (1023, "got 1023"), ("1MB", "got a string"), (1.5, "got 1.5")]
)
def test_max_response_bytes_rejects_bad_values(value: object, got: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"backends": [{**ENTRY, "max_response_bytes": value}]}, env={})
    assert [p.message for p in info.value.problems] == [
        f"backend 'pw': max_response_bytes must be an integer >= 1024, {got}"
    ]
