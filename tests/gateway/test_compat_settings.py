"""``[[compat.tokens]]`` settings: backend_tokens by env var name, secrets never echoed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.settings import ConfigError, check_config, settings_from_dict
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


@pytest.mark.parametrize("table", ["compat.tokens", "api_keys"])
def test_auth_settings_backend_tokens_problem_points_at_its_line(
    tmp_path: Path, table: str
) -> None:
    """Both tables read backend_tokens the same way: a missing variable is reported on the
    ``backend_tokens`` line itself, not on the entry's header."""
    config = tmp_path / "revgate.toml"
    config.write_text(
        '[[backends]]\nname = "pw"\nkind = "patchwork"\nurl = "http://127.0.0.1:1/"\n\n'
        f'[[{table}]]\nname = "ci"\nsha256 = "{sha(CI)}"\n'
        'backend_tokens = { pw = "NOT_SET_ANYWHERE" }\n'
    )
    [problem] = check_config(str(config), {})
    assert problem.line == 9, problem
    assert "environment variable NOT_SET_ANYWHERE (backend_tokens.pw) is not set" in problem.message
