"""gateway.settings_access: [limits], [[api_keys]] and the access keys of [server]/[[backends]]."""

from __future__ import annotations

import textwrap
from pathlib import Path

from gateway.auth import hash_key
from gateway.settings import check_config, load_settings
from gateway.settings_access import ApiKeySettings, LimitSettings

KEY = "rgk-settings-Ocelot-6620-Drift"
TOKEN = "tok-Capybara-Whisper-1188"
HASH = hash_key(KEY)

VALID = f"""\
[server]
anonymous = false
introspection = false
max_body_bytes = 4096

[limits]
max_depth = 8
max_aliases = 5
max_tokens = 2000
max_cost = 200
requests_per_minute = 60
cost_per_minute = 600

[[api_keys]]
name = "alice"
sha256 = "{HASH.upper()}"
requests_per_minute = 0
backend_tokens = {{ kernel = "ALICE_KERNEL_TOKEN" }}

[[api_keys]]
name = "ci-bot"
sha256 = "{"0" * 64}"
cost_per_minute = 1000

[[backends]]
name = "kernel"
kind = "patchwork"
url = "http://127.0.0.1:8080"
anonymous = false
max_body_bytes = 1000000
"""


BACKEND = '\n[[backends]]\nname = "pw"\nkind = "patchwork"\nurl = "http://127.0.0.1:8080"\n'


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "revgate.toml"
    text = textwrap.dedent(text)
    # a config file must name a backend (issue 15 item 10); these tests are about the rest
    path.write_text(text if "[[backends]]" in text else text + BACKEND)
    return str(path)


def test_access_settings_valid(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, VALID), {"ALICE_KERNEL_TOKEN": TOKEN})
    assert settings.server.anonymous is False and settings.server.introspection is False
    assert settings.server.max_body_bytes == 4096
    assert settings.limits == LimitSettings(8, 5, 2000, 200, 60, 600)
    alice, bot = settings.api_keys
    assert alice == ApiKeySettings("alice", HASH, 0, None, (("kernel", TOKEN),))
    assert bot.name == "ci-bot" and bot.cost_per_minute == 1000 and bot.backend_tokens == ()
    kernel = settings.backend("kernel")
    assert kernel.anonymous is False and kernel.max_body_bytes == 1_000_000
    assert TOKEN not in repr(settings) and HASH not in repr(settings)


def test_access_settings_defaults(tmp_path: Path) -> None:
    settings = load_settings(
        _write(tmp_path, '[[backends]]\nname = "pw"\nkind = "patchwork"\nurl = "http://h"\n'), {}
    )
    assert settings.server.anonymous and settings.server.introspection
    assert settings.server.max_body_bytes == 1024 * 1024
    assert settings.limits == LimitSettings()
    assert settings.api_keys == ()
    assert settings.backend("pw").anonymous and settings.backend("pw").max_body_bytes > 0


# Every kind of problem an access configuration can have, each on its own line.
EVERY_PROBLEM_TOML = f"""\
[server]
anonymous = "no"
introspection = 1
max_body_bytes = 0

[limits]
max_depth = -1
max_cost = 500
cost_per_minute = 100
max_deepness = 3

[[api_keys]]
name = "alice"
sha256 = "{KEY}"
key = "{KEY}"
requests_per_minute = true
backend_tokens = {{ kernel = "{TOKEN}", elsewhere = "X_TOKEN", kernel2 = "UNSET_VAR" }}

[[api_keys]]
name = "alice"
sha256 = "{"a" * 64}"
cost_per_minute = 5
colour = "blue"

[[api_keys]]
sha256 = "{"A" * 64}"

[[backends]]
name = "kernel"
kind = "patchwork"
url = "http://127.0.0.1:8080"
anonymous = "false"
max_body_bytes = 1.5

[[backends]]
name = "kernel2"
kind = "patchwork"
url = "http://127.0.0.1:8081"
"""


EVERY_PROBLEM = [
    (2, "[server] anonymous must be true or false, got a string"),
    (3, "[server] introspection must be true or false, got 1"),
    (4, "[server] max_body_bytes must be a number of bytes > 0, got 0"),
    (7, "[limits] max_depth must be an integer >= 0 (0 = no limit), got -1"),
    (9, "[limits] cost_per_minute (100) is below max_cost (500)"),
    (10, "[limits]: unknown key 'max_deepness'; did you mean 'max_depth'?"),
    (14, "api key 'alice': sha256 must be the 64 hex digits"),
    (15, "api key 'alice': 'key' is not allowed"),
    (16, "api key 'alice': requests_per_minute must be an integer >= 0"),
    (17, "backend_tokens.kernel must be the NAME of an environment variable"),
    (17, "backend_tokens names no configured backend 'elsewhere'"),
    (17, "environment variable UNSET_VAR (backend_tokens.kernel2) is not set"),
    (20, "api key 'alice': duplicate api key name 'alice'"),
    (22, "api key 'alice': cost_per_minute (5) is below [limits] max_cost (500)"),
    (23, "api key 'alice': unknown key 'colour'"),
    (25, "api key #3: missing required key 'name'"),
    (26, "the same key hash is configured twice"),
    (32, "backend 'kernel': anonymous must be true or false, got a string"),
    (33, "backend 'kernel': max_body_bytes must be a number of bytes > 0, got 1.5"),
]


def test_access_settings_every_problem_with_its_line(tmp_path: Path) -> None:
    problems = check_config(_write(tmp_path, EVERY_PROBLEM_TOML), {})
    lines = [(p.line, p.message) for p in problems]
    for line, message in EVERY_PROBLEM:
        assert any(ln == line and message in m for ln, m in lines), (line, message, lines)
    assert len(problems) == len(EVERY_PROBLEM), lines
    everything = "\n".join(m for _, m in lines)
    assert KEY not in everything and TOKEN not in everything


def test_access_settings_environment_overrides(tmp_path: Path) -> None:
    path = _write(tmp_path, "[server]\nanonymous = true\n")
    env = {"REVGATE_ANONYMOUS": "0", "REVGATE_INTROSPECTION": "false"}
    settings = load_settings(path, env)
    assert settings.server.anonymous is False and settings.server.introspection is False
    problems = check_config(path, {"REVGATE_ANONYMOUS": "nope"})
    assert [p.message for p in problems] == [
        "REVGATE_ANONYMOUS must be true, false, 1 or 0, got 'nope'"
    ]


def test_access_settings_rate_store(tmp_path: Path) -> None:
    assert LimitSettings().store == "memory://"
    ok = _write(tmp_path, '[limits]\nstore = "redis://cache.internal:6379/2"\n')
    assert load_settings(ok, {}).limits.store == "redis://cache.internal:6379/2"
    secret = "Marmot-Velvet-7731"
    with_password = f"redis://:{secret}@cache.internal:6379/0"
    # A password only through the environment; the file's one is refused and not echoed.
    assert load_settings(ok, {"REVGATE_RATE_STORE_URL": with_password}).limits.store == (
        with_password
    )
    assert secret not in repr(load_settings(ok, {"REVGATE_RATE_STORE_URL": with_password}))
    bad = _write(tmp_path, f'[limits]\nstore = "{with_password}"\n')
    problems = [p.message for p in check_config(bad, {})]
    assert problems == [
        "[limits] store must not contain a password in the config file; "
        "set REVGATE_RATE_STORE_URL instead"
    ]
    for value, reason in [
        ("memcached://h", "must start with memory://, redis://, rediss:// or unix://"),
        ("redis://", "has no host"),
        ("memory://x", "must be exactly memory:// for memory"),
    ]:
        path = _write(tmp_path, f'[limits]\nstore = "{value}"\n')
        assert [p.message for p in check_config(path, {})] == [f"[limits] store {reason}"]
    env_problems = check_config(_write(tmp_path, ""), {"REVGATE_RATE_STORE_URL": "ftp://x"})
    assert [p.message for p in env_problems] == [
        "REVGATE_RATE_STORE_URL must start with memory://, redis://, rediss:// or unix://"
    ]
