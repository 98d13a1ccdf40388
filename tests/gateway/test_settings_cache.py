"""gateway.settings: the ``[cache]`` table, per-backend ``cache_ttl`` and ``REVGATE_CACHE_URL``."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from adapters.cache import MemoryCache, RedisCache
from gateway.lifespan import build_cache, build_sources
from gateway.settings import (
    CacheSettings,
    ConfigProblem,
    check_config,
    load_settings,
    settings_from_dict,
)

REDIS_PASSWORD = "rds-Walrus-Quiet-5512"

BACKEND = """\
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


def test_cache_defaults_memory_and_ttl_off(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, BACKEND), {})
    assert settings.cache == CacheSettings("memory://", 10_000, 64 * 1024 * 1024)
    assert settings.backend("pw").cache_ttl == 0.0
    assert isinstance(build_cache(settings), MemoryCache)  # built, unused until a ttl > 0


def test_cache_table_and_ttl(tmp_path: Path) -> None:
    text = BACKEND + 'cache_ttl = 30\n\n[cache]\nurl = "redis://127.0.0.1:6379/2"\n'
    text += "max_entries = 500\nmax_bytes = 1048576\n"
    settings = load_settings(write(tmp_path, text), {})
    assert settings.cache == CacheSettings("redis://127.0.0.1:6379/2", 500, 1_048_576)
    ttl = settings.backend("pw").cache_ttl
    assert ttl == 30.0 and isinstance(ttl, float)


async def test_build_cache_memory_and_redis() -> None:
    entry = {"name": "pw", "kind": "patchwork", "url": "http://h", "cache_ttl": 5}
    memory = settings_from_dict({"backends": [entry], "cache": {"max_entries": 7}}, env={})
    store = build_cache(memory)
    assert isinstance(store, MemoryCache) and store.max_entries == 7
    [source] = build_sources(memory, cache=store).values()
    await source.close()
    redis = settings_from_dict(
        {"backends": [entry], "cache": {"url": "redis://127.0.0.1:1/0"}}, env={}
    )
    store = build_cache(redis)
    assert isinstance(store, RedisCache)  # no connection is made before first use
    await store.close()


@pytest.mark.parametrize("value", ["-1", "86401", "true", '"30"', "nan"])
def test_bad_cache_ttl_with_line(tmp_path: Path, value: str) -> None:
    problem = only_problem(tmp_path, BACKEND + f"cache_ttl = {value}\n")
    assert problem.line == 5
    assert problem.message.startswith("backend 'pw': cache_ttl must be a number of seconds 0..")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ('"memcached://h:11211"', "must start with memory://, redis://, rediss:// or unix://"),
        ('"memory://x"', "must be exactly memory:// for memory"),
        ('"redis://"', "has no host"),
        ('"redis://h:99999/0"', "is not a valid URL"),
        ('"redis://h:6379/zero"', "database must be a number"),
        ("6379", "must be a string, got 6379"),
    ],
)
def test_bad_cache_url_with_line(tmp_path: Path, url: str, reason: str) -> None:
    problem = only_problem(tmp_path, BACKEND + f"\n[cache]\n# shared\nurl = {url}\n")
    assert problem.line == 8
    assert problem.message.startswith("[cache] url ") and reason in problem.message


def test_cache_url_with_password_is_refused_and_never_echoed(tmp_path: Path) -> None:
    text = BACKEND + f'\n[cache]\nurl = "redis://:{REDIS_PASSWORD}@h:6379/0"\n'
    problem = only_problem(tmp_path, text)
    assert problem.line == 7
    assert "REVGATE_CACHE_URL" in problem.message
    assert REDIS_PASSWORD not in problem.message


def test_cache_url_from_environment_may_carry_a_password(tmp_path: Path) -> None:
    url = f"redis://:{REDIS_PASSWORD}@h:6379/0"
    settings = load_settings(write(tmp_path, BACKEND), {"REVGATE_CACHE_URL": url})
    assert settings.cache.url == url
    assert REDIS_PASSWORD not in repr(settings)


def test_bad_cache_url_in_environment_is_not_echoed(tmp_path: Path) -> None:
    env = {"REVGATE_CACHE_URL": f"mongodb://{REDIS_PASSWORD}@h"}
    problem = only_problem(tmp_path, BACKEND, env)
    assert problem.line is None
    assert problem.message.startswith("REVGATE_CACHE_URL must start with memory://")
    assert REDIS_PASSWORD not in problem.message


def test_bad_cache_bounds_and_unknown_key(tmp_path: Path) -> None:
    text = BACKEND + "\n[cache]\nmax_entries = 0\nmax_bytes = 1.5\nmax_entrys = 3\n"
    problems = problems_of(tmp_path, text)
    assert [(p.line, p.message) for p in problems] == [
        (7, "[cache] max_entries must be an integer >= 1, got 0"),
        (8, "[cache] max_bytes must be an integer >= 1, got 1.5"),
        (9, "[cache]: unknown key 'max_entrys'; did you mean 'max_entries'?"),
    ]


def test_cache_must_be_a_table(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, 'cache = "redis://h"\n' + BACKEND)
    assert (problem.line, problem.message) == (1, "[cache] must be a table, not a string")


@pytest.mark.parametrize("value", ["1", '"false"', "0.0"])
def test_bad_content_memo_with_line(tmp_path: Path, value: str) -> None:
    problem = only_problem(tmp_path, BACKEND + f"content_memo = {value}\n")
    assert problem.line == 5
    assert problem.message.startswith("backend 'pw': content_memo must be true or false")


async def test_content_memo_reaches_the_client() -> None:
    entry = {"name": "pw", "kind": "patchwork", "url": "http://h"}
    for value, stamped in ((None, True), (True, True), (False, False)):
        extra = {} if value is None else {"content_memo": value}
        settings = settings_from_dict({"backends": [{**entry, **extra}]}, env={})
        [source] = build_sources(settings).values()
        assert (source.http.stamps is not None) is stamped  # type: ignore[attr-defined]
        await source.close()
