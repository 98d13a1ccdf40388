"""``[events]`` and ``[[webhooks]]``: every mistake reported at once, no secret echoed."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.settings import ConfigError, settings_from_dict

BACKENDS = [{"name": "kernel", "kind": "patchwork", "url": "http://127.0.0.1:1"}]
SECRET = "hook-secret-value-123"


def load(extra: dict[str, Any], env: dict[str, str] | None = None) -> Any:
    return settings_from_dict({"backends": BACKENDS, **extra}, env=env or {})


def problems(extra: dict[str, Any], env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load(extra, env)
    text = str(info.value)
    assert SECRET not in text and "hunter2" not in text
    return text


def test_defaults_are_in_process() -> None:
    events = load({}).events
    assert events.store == "memory://" and events.webhooks == ()
    assert events.retention_events == 10_000 and events.lease_seconds == 15.0


def test_a_full_block() -> None:
    events = load(
        {
            "events": {
                "store": "redis://redis:6379/2",
                "retention_events": 500,
                "retention_seconds": 60,
                "lease_seconds": 5,
            },
            "webhooks": [
                {
                    "name": "bot",
                    "url": "https://bot.example.com/hook",
                    "secret_env": "HOOK",
                    "backends": ["kernel"],
                    "categories": ["patch-created"],
                    "max_attempts": 3,
                }
            ],
        },
        env={"HOOK": SECRET},
    ).events
    assert (events.store, events.retention_events, events.lease_seconds) == (
        "redis://redis:6379/2",
        500,
        5.0,
    )
    [hook] = events.webhooks
    assert hook.secret == SECRET and SECRET not in repr(hook)
    assert "redis" not in repr(events)  # the store URL may hold a password


def test_password_only_from_the_environment() -> None:
    text = problems({"events": {"store": "redis://:hunter2@redis:6379/0"}})
    assert "REVGATE_EVENTS_URL" in text
    url = "redis://:hunter2@redis:6379/0"
    assert load({}, env={"REVGATE_EVENTS_URL": url}).events.store == url


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"events": {"store": 5}}, "[events] store must be a string"),
        ({"events": {"store": "http://x"}}, "[events] store must start with"),
        ({"events": {"retention_events": 0}}, "retention_events must be an integer >= 1"),
        ({"events": {"lease_seconds": -1}}, "lease_seconds must be a number > 0"),
        ({"events": {"lease_second": 1}}, "unknown key 'lease_second'"),
        ({"events": []}, "[events] must be a table"),
        ({"webhooks": {"url": "x"}}, "webhooks must be an array of tables"),
        ({"webhooks": [{"name": "b", "secret_env": "HOOK"}]}, "url is required"),
        ({"webhooks": [{"name": "b", "url": "ftp://x/", "secret_env": "HOOK"}]}, "http(s)"),
        (
            {"webhooks": [{"name": "b", "url": "https://u:p@x/", "secret_env": "HOOK"}]},
            "must not contain credentials",
        ),
        ({"webhooks": [{"name": "b", "url": "https://x/", "secret_env": SECRET}]}, "NAME"),
        ({"webhooks": [{"name": "b", "url": "https://x/", "secret_env": "NOPE"}]}, "not set"),
        (
            {
                "webhooks": [
                    {"name": "b", "url": "https://x/", "secret_env": "HOOK", "backends": ["x"]}
                ]
            },
            "unknown backend",
        ),
        (
            {
                "webhooks": [
                    {"name": "b", "url": "https://x/", "secret_env": "HOOK", "max_attempts": 0}
                ]
            },
            "max_attempts must be an integer 1..100",
        ),
        (
            {
                "webhooks": [
                    {"name": "b", "url": "https://x/", "secret_env": "HOOK"},
                    {"name": "b", "url": "https://y/", "secret_env": "HOOK"},
                ]
            },
            "duplicate webhook name",
        ),
    ],
)
def test_mistakes(extra: dict[str, Any], needle: str) -> None:
    assert needle in problems(extra, env={"HOOK": SECRET})
