"""gateway.settings: TOML + environment -> frozen Settings, every problem with its line."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest

from gateway.settings import (
    BACKEND_KINDS,
    BackendSettings,
    ConfigError,
    ConfigProblem,
    ServerSettings,
    Settings,
    check_config,
    config_path,
    load_settings,
    settings_from_dict,
)

ROOT = Path(__file__).parents[2]
SECRET = "s3cr3t-Zebra-Quokka-7781"
SECRET_PW = "pw-Narwhal-Hush-4402"

VALID = """\
# a comment line
[server]
host = "0.0.0.0"
port = 9000
graphiql = false
public_url = "https://revgate.example.org/"

[[backends]]
name = "kernel"
kind = "patchwork"
url = "HTTPS://Patchwork.Kernel.org/"
api_version = "1.2"
token_env = "KERNEL_PW_TOKEN"
timeout = 12
connect_timeout = 2.5
page_size = 50
retries = 0

[[backends]]
name = "review"
kind = "gerrit"
url = "https://review.example.org/gerrit/"
username_env = "GERRIT_USER"
password_env = "GERRIT_PASSWORD"
"""
VALID_ENV = {"KERNEL_PW_TOKEN": SECRET, "GERRIT_USER": "bot", "GERRIT_PASSWORD": SECRET_PW}

MINIMAL = """\
[[backends]]
name = "pw"
kind = "patchwork"
url = "http://127.0.0.1:8080"
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "revgate.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def problems_of(
    tmp_path: Path, text: str, env: dict[str, str] | None = None
) -> list[ConfigProblem]:
    return check_config(write(tmp_path, text), env or {})


def only_problem(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> ConfigProblem:
    problems = problems_of(tmp_path, text, env)
    assert len(problems) == 1, problems
    return problems[0]


# -- valid files ------------------------------------------------------------------------


def test_valid_file_round_trip(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    assert check_config(path, VALID_ENV) == []
    settings = load_settings(path, VALID_ENV)
    assert settings.source == path
    assert settings.server == ServerSettings(
        host="0.0.0.0", port=9000, graphiql=False, public_url="https://revgate.example.org"
    )
    kernel = settings.backend("kernel")
    assert kernel == BackendSettings(
        name="kernel",
        kind="patchwork",
        url="https://patchwork.kernel.org",
        api_version="1.2",
        token=SECRET,
        username=None,
        password=None,
        timeout=12.0,
        connect_timeout=2.5,
        page_size=50,
        retries=0,
    )
    assert isinstance(kernel.timeout, float)
    review = settings.backend("review")
    assert review.url == "https://review.example.org/gerrit"
    assert (review.username, review.password, review.token) == ("bot", SECRET_PW, None)
    assert [b.name for b in settings.backends] == ["kernel", "review"]


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, MINIMAL), {})
    assert settings.server == ServerSettings("127.0.0.1", 8000, True, None)
    assert settings.backends == (
        BackendSettings(
            name="pw",
            kind="patchwork",
            url="http://127.0.0.1:8080",
            api_version="auto",
            token=None,
            username=None,
            password=None,
            timeout=30.0,
            connect_timeout=5.0,
            page_size=100,
            retries=3,
        ),
    )


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, MINIMAL), {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.server.port = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.backends[0].url = "http://x"  # type: ignore[misc]


def test_backend_lookup_raises_key_error(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, MINIMAL), {})
    assert settings.backend("pw").name == "pw"
    with pytest.raises(KeyError):
        settings.backend("nope")


@pytest.mark.parametrize(
    "text", ["", "\n\n", "   \t\n", "# nothing yet\n", "[server]\nport = 8080\n", "backends = []\n"]
)
def test_config_file_without_backends_is_refused(tmp_path: Path, text: str) -> None:
    """Issue 15 item 10: an empty config used to start (and reload) serving nothing."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, {})
    assert "no backends configured" in str(info.value)
    assert [p.message for p in check_config(path, {})] == [
        "no backends configured: add at least one [[backends]] table "
        "(an empty config file is refused)"
    ]
    assert settings_from_dict({}).backends == ()  # configs built in code may have none


def test_example_config_is_valid() -> None:
    env = {
        "KERNEL_PW_TOKEN": SECRET,
        "OPENDEV_USER": "bot",
        "OPENDEV_HTTP_PASSWORD": SECRET_PW,
    }
    path = str(ROOT / "examples" / "revgate.toml")
    assert check_config(path, env) == []
    settings = load_settings(path, env)
    assert {b.kind for b in settings.backends} == set(BACKEND_KINDS)


def test_settings_from_dict() -> None:
    settings = settings_from_dict(
        {
            "server": {"port": 8123},
            "backends": [{"name": "pw", "kind": "patchwork", "url": "http://h/", "token_env": "T"}],
        },
        env={"T": SECRET},
        source="<demo>",
    )
    assert settings.source == "<demo>"
    assert settings.server.port == 8123
    assert settings.backend("pw").token == SECRET
    assert settings.backend("pw").url == "http://h"


def test_settings_from_dict_problems_have_no_lines() -> None:
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"backends": [{"name": "pw", "kind": "svn"}]}, env={})
    assert [p.line for p in info.value.problems] == [None, None]
    assert info.value.source is None


# -- one problem of each kind, with its line ---------------------------------------------


def test_syntax_error_line(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, "[server]\nport = 8000\nhost = \n[[backends]]\n")
    assert problem.line == 3
    assert problem.message.startswith("TOML syntax error: Invalid value")
    assert "(column" in problem.message


def test_syntax_error_at_end_of_file(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, '[server]\nhost = "unterminated\n')
    assert problem.message.startswith("TOML syntax error")
    assert problem.line is not None and problem.line >= 2


def test_unknown_kind(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, MINIMAL.replace('"patchwork"', '"gerit"'))
    assert problem.line == 3
    assert "unknown kind 'gerit'" in problem.message
    for kind in BACKEND_KINDS:
        assert kind in problem.message
    assert "did you mean 'gerrit'?" in problem.message


def test_duplicate_backend_name_points_at_second(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, MINIMAL + "\n" + MINIMAL)
    assert problem.line == 7
    assert "duplicate backend name 'pw' (first defined at line 2)" in problem.message


def test_names_that_clash_in_env_overrides(tmp_path: Path) -> None:
    text = MINIMAL.replace('"pw"', '"a-b"') + MINIMAL.replace('"pw"', '"a_b"')
    problem = only_problem(tmp_path, text)
    assert problem.line == 6
    assert "REVGATE_BACKEND_A_B_*" in problem.message


@pytest.mark.parametrize("name", ["Kernel", "-pw", "pw.kernel", "", "pw kernel"])
def test_invalid_name(tmp_path: Path, name: str) -> None:
    problem = only_problem(tmp_path, MINIMAL.replace('"pw"', f'"{name}"'))
    assert problem.line == 2
    assert "name must start with" in problem.message


def test_name_of_wrong_type(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, MINIMAL.replace('"pw"', "7"))
    assert (problem.line, problem.message) == (2, "backend #1: name must be a string, got 7")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://patchwork.example.org", "must start with http:// or https://"),
        ("patchwork.example.org", "must start with http:// or https://"),
        ("https://", "has no host"),
        ("https://user:hunter2@example.org", "must not contain credentials"),
        ("https://example.org/api?token=abc", "must not have a query"),
        ("https://example.org/#top", "must not have a query"),
        ("https://example.org:99999", "is not a valid URL"),
        ("https://exa mple.org", "without whitespace"),
    ],
)
def test_bad_url(tmp_path: Path, url: str, reason: str) -> None:
    problem = only_problem(tmp_path, MINIMAL.replace("http://127.0.0.1:8080", url))
    assert problem.line == 4
    assert reason in problem.message
    assert url not in problem.message  # URLs are never echoed (credentials, tokens)


def test_missing_required_keys_point_at_header(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, "[server]\nport = 1\n\n[[backends]]  # first\ntimeout = 3\n")
    assert [(p.line, p.message) for p in problems] == [
        (4, "backend #1: missing required key 'name'"),
        (4, "backend #1: missing required key 'kind'"),
        (4, "backend #1: missing required key 'url'"),
    ]


def test_unknown_backend_key_suggests(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, MINIMAL + "pagesize = 10\n")
    assert problem.line == 5
    assert problem.message == "backend 'pw': unknown key 'pagesize'; did you mean 'page_size'?"


def test_unknown_server_and_top_level_keys(tmp_path: Path) -> None:
    text = 'title = "x"\n[server]\nhots = "h"\n\n[sever]\nport = 1\n' + MINIMAL
    problems = problems_of(tmp_path, text)
    assert [(p.line, p.message) for p in problems] == [
        (1, "top level: unknown key 'title'"),
        (3, "[server]: unknown key 'hots'; did you mean 'host'?"),
        (5, "top level: unknown key 'sever'; did you mean 'server'?"),
    ]


def test_secret_in_file_is_refused_without_echo(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, MINIMAL + f'token = "{SECRET}"\n')
    assert problem.line == 5
    assert "token_env" in problem.message
    assert SECRET not in problem.message


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("timeout = 0", "timeout must be a number of seconds > 0, got 0"),
        ("timeout = -1.5", "timeout must be a number of seconds > 0, got -1.5"),
        ('timeout = "30"', "timeout must be a number of seconds > 0, got a string"),
        ("timeout = inf", "timeout must be a number of seconds > 0, got inf"),
        ("connect_timeout = true", "connect_timeout must be a number of seconds > 0, got true"),
        ("page_size = 0", "page_size must be an integer 1..250, got 0"),
        ("page_size = 251", "page_size must be an integer 1..250, got 251"),
        ("page_size = 10.0", "page_size must be an integer 1..250, got 10.0"),
        ("retries = 11", "retries must be an integer 0..10, got 11"),
        ("retries = -1", "retries must be an integer 0..10, got -1"),
        ('api_version = "2.0"', "api_version must be one of auto, 1.0, 1.1, 1.2, 1.3"),
        (
            "api_version = 1.1",
            'api_version must be one of auto, 1.0, 1.1, 1.2, 1.3 (quote it: "1.1")',
        ),
        ("url = 5", "url must be a string, got 5"),
    ],
)
def test_wrong_type_or_range(tmp_path: Path, line: str, message: str) -> None:
    text = (
        MINIMAL.replace('url = "http://127.0.0.1:8080"\n', "")
        if line.startswith("url")
        else MINIMAL
    )
    problem = only_problem(tmp_path, text + line + "\n")
    assert problem.line == (4 if line.startswith("url") else 5)
    assert problem.message == f"backend 'pw': {message}"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("port = 0", "[server] port must be an integer 1..65535, got 0"),
        ('port = "80"', "[server] port must be an integer 1..65535, got a string"),
        ('graphiql = "yes"', "[server] graphiql must be true or false, got a string"),
        ('host = ""', "[server] host must be a non-empty string"),
        ('public_url = "revgate.example.org"', "[server] public_url must start with http"),
    ],
)
def test_server_problems(tmp_path: Path, line: str, message: str) -> None:
    problem = only_problem(tmp_path, f"[server]\n\n{line}\n\n{MINIMAL}")
    assert problem.line == 3
    assert problem.message.startswith(message)


def test_server_must_be_a_table(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, "server = 5\n" + MINIMAL)
    assert (problem.line, problem.message) == (1, "[server] must be a table, not an integer")


def test_api_version_only_for_patchwork(tmp_path: Path) -> None:
    text = MINIMAL.replace('"patchwork"', '"gerrit"') + 'api_version = "1.1"\n'
    problem = only_problem(tmp_path, text)
    assert problem.line == 5
    assert "api_version only applies to kind 'patchwork'" in problem.message


def test_missing_env_var_is_named(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, MINIMAL + 'token_env = "PW_TOKEN"\n')
    assert problem.line == 5
    assert problem.message == "backend 'pw': environment variable PW_TOKEN (token_env) is not set"


def test_empty_env_var(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, MINIMAL + 'token_env = "PW_TOKEN"\n', {"PW_TOKEN": ""})
    assert "environment variable PW_TOKEN (token_env) is empty" in problem.message


def test_token_pasted_into_token_env_is_not_echoed(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, MINIMAL + f'token_env = "{SECRET}"\n')
    assert problem.line == 5
    assert "NAME of an environment variable" in problem.message
    assert SECRET not in problem.message


def test_username_without_password(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, MINIMAL + 'username_env = "PW_USER"\n', {"PW_USER": "u"})
    assert problem.line == 5
    assert "username_env is set but password_env is not" in problem.message


def test_password_without_username(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, MINIMAL + 'password_env = "PW_PASS"\n', {"PW_PASS": SECRET})
    assert problem.line == 5
    assert "password_env is set but username_env is not" in problem.message


def test_unreadable_file(tmp_path: Path) -> None:
    problems = check_config(str(tmp_path / "missing.toml"), {})
    assert len(problems) == 1
    assert problems[0].line is None
    assert problems[0].message.startswith("cannot read config file")


def test_no_path_is_an_error() -> None:
    with pytest.raises(ConfigError, match="no config file given"):
        load_settings(None, {})


# -- many problems at once ---------------------------------------------------------------


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    text = """\
    [server]
    port = 70000

    [[backends]]
    name = "kernel"
    kind = "patchwerk"
    url = "https://patchwork.kernel.org"
    token_env = "KERNEL_TOKEN"

    [[backends]]
    # a comment with key = "value"
    name = "kernel"
    kind = "gerrit"
    url = "ftp://x"
    timout = 3

    [[backends]]
    kind = "abf"
    """
    path = write(tmp_path, text)
    env = {"REVGATE_PORT": "eighty"}
    problems = check_config(path, env)
    assert [p.line for p in problems] == [2, 6, 8, 12, 14, 15, 17, 17, None]
    with pytest.raises(ConfigError) as info:
        load_settings(path, env)
    assert info.value.problems == problems
    assert info.value.source == path
    lines = str(info.value).splitlines()
    assert len(lines) == 1 + len(problems)
    assert "9 problems" in lines[0]
    assert lines[1] == f"{path}:2: [server] port must be an integer 1..65535, got 70000"
    assert lines[-1] == f"{path}: REVGATE_PORT must be an integer 1..65535, got 'eighty'"


def test_locator_handles_dotted_keys_subtables_and_multiline_strings(tmp_path: Path) -> None:
    text = '''\
    server.prot = 1
    note = """
    [[backends]]
    name = "fake"
    """
    [[backends]]
    name = "pw"
    kind = "patchwork"
    url = "https://pw.example.org"
    [backends.extra]
    x = 1
    '''
    problems = problems_of(tmp_path, text)
    assert [(p.line, p.message) for p in problems] == [
        (1, "[server]: unknown key 'prot'; did you mean 'port'?"),
        (2, "top level: unknown key 'note'"),
        (10, "backend 'pw': unknown key 'extra'"),
    ]


# -- environment overrides ---------------------------------------------------------------


def test_env_overrides(tmp_path: Path) -> None:
    text = MINIMAL + MINIMAL.replace('"pw"', '"mesa-fdo"').replace('"patchwork"', '"patchwork-fdo"')
    env = {
        "REVGATE_HOST": "0.0.0.0",
        "REVGATE_PORT": "9001",
        "REVGATE_GRAPHIQL": "0",
        "REVGATE_PUBLIC_URL": "https://gw.example.org/",
        "REVGATE_BACKEND_MESA_FDO_URL": "https://patchwork.freedesktop.org/",
        "REVGATE_BACKEND_MESA_FDO_TIMEOUT": "7.5",
        "REVGATE_BACKEND_MESA_FDO_PAGE_SIZE": "25",
    }
    settings = load_settings(write(tmp_path, text), env)
    assert settings.server == ServerSettings("0.0.0.0", 9001, False, "https://gw.example.org")
    assert settings.backend("pw").url == "http://127.0.0.1:8080"
    fdo = settings.backend("mesa-fdo")
    assert (fdo.url, fdo.timeout, fdo.page_size) == ("https://patchwork.freedesktop.org", 7.5, 25)


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("1", True), ("FALSE", False)])
def test_graphiql_override_values(tmp_path: Path, value: str, expected: bool) -> None:
    server = "[server]\ngraphiql = " + ("false" if expected else "true") + "\n"
    path = write(tmp_path, server + MINIMAL)
    assert load_settings(path, {"REVGATE_GRAPHIQL": value}).server.graphiql is expected


def test_env_url_override_supplies_missing_url(tmp_path: Path) -> None:
    text = MINIMAL.replace('url = "http://127.0.0.1:8080"\n', "")
    settings = load_settings(write(tmp_path, text), {"REVGATE_BACKEND_PW_URL": "http://h:1"})
    assert settings.backend("pw").url == "http://h:1"


def test_bad_env_overrides_are_problems(tmp_path: Path) -> None:
    env = {
        "REVGATE_HOST": " ",
        "REVGATE_PORT": "0",
        "REVGATE_GRAPHIQL": "maybe",
        "REVGATE_PUBLIC_URL": "gw.example.org",
        "REVGATE_BACKEND_PW_URL": "https://user:hunter2@pw.example.org",
        "REVGATE_BACKEND_PW_TIMEOUT": "nan",
        "REVGATE_BACKEND_PW_PAGE_SIZE": "1e2",
        "REVGATE_BACKEND_PWW_URL": "https://x",
    }
    problems = problems_of(tmp_path, MINIMAL, env)
    assert all(p.line is None for p in problems)
    messages = [p.message for p in problems]
    assert len(messages) == len(env)
    for var in env:
        assert sum(m.startswith(var + " ") for m in messages) == 1, (var, messages)
    assert "hunter2" not in "\n".join(messages)
    assert any("did you mean 'REVGATE_BACKEND_PW_URL'?" in m for m in messages)


def test_unrelated_revgate_variables_are_ignored(tmp_path: Path) -> None:
    env = {"REVGATE_CONFIG": "x.toml", "REVGATE_BACKEND_PW_TOKEN": SECRET}
    assert problems_of(tmp_path, MINIMAL, env) == []


# -- secrets -----------------------------------------------------------------------------


def test_secrets_absent_from_repr(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, VALID), VALID_ENV)
    assert settings.backend("kernel").token == SECRET
    assert settings.backend("review").password == SECRET_PW
    for text in (repr(settings), str(settings), repr(settings.backends)):
        assert SECRET not in text
        assert SECRET_PW not in text
    assert "kernel" in repr(settings)


def test_secrets_absent_from_config_error(tmp_path: Path) -> None:
    text = VALID.replace("port = 9000", "port = 0") + f'password = "{SECRET}"\n'
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, {**VALID_ENV, "REVGATE_PORT": "x"})
    rendered = "\n".join([str(info.value), repr(info.value), *map(repr, info.value.problems)])
    assert SECRET not in rendered
    assert SECRET_PW not in rendered
    assert len(info.value.problems) == 3


# -- ConfigProblem / ConfigError / config_path -------------------------------------------


def test_problem_formatting() -> None:
    assert ConfigProblem(3, "bad").format("a.toml") == "a.toml:3: bad"
    assert ConfigProblem(None, "bad").format("a.toml") == "a.toml: bad"
    assert str(ConfigProblem(3, "bad")) == "line 3: bad"
    assert str(ConfigProblem(None, "bad")) == "bad"
    error = ConfigError([ConfigProblem(1, "x"), ConfigProblem(None, "y")], "c.toml")
    assert str(error).splitlines() == [
        "invalid configuration c.toml: 2 problems",
        "c.toml:1: x",
        "c.toml: y",
    ]


def test_config_path_precedence() -> None:
    env = {"REVGATE_CONFIG": "/etc/revgate.toml"}
    assert config_path("cli.toml", env) == "cli.toml"
    assert config_path(None, env) == "/etc/revgate.toml"
    assert config_path(None, {}) is None
    assert config_path(None, {"REVGATE_CONFIG": ""}) is None


def test_default_env_is_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVGATE_PORT", "8765")
    assert load_settings(write(tmp_path, MINIMAL)).server.port == 8765
    assert isinstance(settings_from_dict({}), Settings)
