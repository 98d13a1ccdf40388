"""``[[compat.tokens]]`` settings: backend_tokens by env var name, secrets never echoed."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.settings import ConfigError, settings_from_dict
from tests.gateway.compat_support import BOT, sha

CI = "c1" * 20


def _settings(token: dict[str, Any], env: dict[str, str]) -> Any:
    data = {
        "backends": [{"name": "pw", "kind": "patchwork", "url": "http://127.0.0.1:1"}],
        "compat": {"tokens": [{"name": "ci", "sha256": sha(CI), **token}]},
    }
    return settings_from_dict(data, env=env)


def test_auth_settings_backend_tokens_resolved_and_hidden() -> None:
    settings = _settings({"backend_tokens": {"pw": "PW_CI_TOKEN"}}, {"PW_CI_TOKEN": BOT})
    (token,) = settings.compat.tokens
    assert token.backend_token("pw") == BOT
    assert token.backend_token("other") is None
    assert BOT not in repr(settings) and sha(CI) not in repr(settings)


@pytest.mark.parametrize(
    ("backend_tokens", "env", "message"),
    [
        ({"pq": "PW_CI_TOKEN"}, {"PW_CI_TOKEN": BOT}, "backend_tokens names no configured backend"),
        ({"pw": "PW_CI_TOKEN"}, {}, "environment variable PW_CI_TOKEN"),
        ({"pw": BOT}, {}, "must be the NAME of an environment variable"),
        ("PW_CI_TOKEN", {}, "backend_tokens must be a table"),
    ],
)
def test_auth_settings_backend_tokens_problems(
    backend_tokens: object, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        _settings({"backend_tokens": backend_tokens}, env)
    assert message in str(info.value)
    assert BOT not in str(info.value)


def test_auth_settings_token_itself_refused() -> None:
    with pytest.raises(ConfigError) as info:
        _settings({"token": CI}, {})
    assert "'token' is not allowed" in str(info.value)
    assert CI not in str(info.value)
