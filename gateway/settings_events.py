"""``[events]`` and ``[[webhooks]]``: the live-event log and outgoing webhooks (issue 23).

Part of ``gateway.settings`` (whose checker mixes ``EventsChecks`` in).

```toml
[events]
store = "memory://"         # or redis://host:6379/0 shared by every replica
                            # (a URL with a password: REVGATE_EVENTS_URL)
retention_events = 10000    # entries kept per backend stream
retention_seconds = 3600    # and for at most this long
lease_seconds = 15          # a dead poller's backend is taken over within this

[[webhooks]]
name = "ci-bot"
url = "https://bot.example.com/revgate"
secret_env = "CI_BOT_WEBHOOK_SECRET"   # env var NAME of the HMAC-SHA256 key
backends = ["kernel"]                  # optional filters, as the subscription's
categories = ["patch-state-changed"]
projects = ["linux-kernel"]
```
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from gateway.settings_values import _name_problem

EVENTS_URL_ENV = "REVGATE_EVENTS_URL"
EVENTS_KEYS: tuple[str, ...] = (
    "store",
    "retention_events",
    "retention_seconds",
    "lease_seconds",
)
WEBHOOK_KEYS: tuple[str, ...] = (
    "name",
    "url",
    "secret_env",
    "backends",
    "categories",
    "projects",
    "max_attempts",
)


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """One outgoing webhook; ``secret`` (the HMAC key) never appears in ``repr``."""

    name: str
    url: str
    secret: str = field(repr=False)
    backends: tuple[str, ...] = ()  # empty: every backend with events
    categories: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    max_attempts: int = 8  # then the delivery goes to the dead-letter list


@dataclass(frozen=True, slots=True)
class EventsSettings:
    """``[events]``; ``store`` stays out of ``repr`` (a Redis URL may hold a password)."""

    store: str = field(default="memory://", repr=False)
    retention_events: int = 10_000
    retention_seconds: float = 3600.0
    lease_seconds: float = 15.0
    webhooks: tuple[WebhookSettings, ...] = ()


class EventsChecks:
    """The ``[events]``/``[[webhooks]]`` part of the settings checker."""

    problems: list[Any]
    _env: Mapping[str, str]
    _at: Callable[..., None]
    _env_problem: Callable[[str], None]
    _unknown_key: Callable[..., None]
    _credential: Callable[[object, str, Callable[[str, str], None]], str | None]

    def _events(self, raw: object, raw_hooks: object, backend_names: list[str]) -> EventsSettings:
        values: dict[str, Any] = {}
        if raw is not None and not isinstance(raw, Mapping):
            self._at(("events",), f"[events] must be a table, not {base._type_name(raw)}")
            raw = None
        for key, value in (raw or {}).items():
            path: base.Path_ = ("events", key)
            if key == "store":
                if not isinstance(value, str):
                    self._at(path, f"[events] store must be a string{base._got(value)}")
                elif reason := base._cache_url_problem(value, from_env=False):
                    self._at(path, f"[events] store {reason.replace('CACHE', 'EVENTS')}")
                else:
                    values["store"] = value
            elif key == "retention_events":
                if base._is_int(value) and value >= 1:
                    values[key] = value
                else:
                    self._at(path, f"[events] {key} must be an integer >= 1{base._got(value)}")
            elif key in ("retention_seconds", "lease_seconds"):
                if base._is_number(value) and math.isfinite(value) and value > 0:
                    values[key] = float(value)
                else:
                    self._at(path, f"[events] {key} must be a number > 0{base._got(value)}")
            else:
                self._unknown_key(path, key, EVENTS_KEYS, "[events]")
        if (env_url := self._env.get(EVENTS_URL_ENV)) is not None:
            if reason := base._cache_url_problem(env_url, from_env=True):
                self._env_problem(f"{EVENTS_URL_ENV} {reason.replace('CACHE', 'EVENTS')}")
            else:
                values["store"] = env_url
        hooks: list[WebhookSettings] = []
        if raw_hooks is not None:
            if not isinstance(raw_hooks, list):
                self._at(("webhooks",), "webhooks must be an array of tables ([[webhooks]])")
            else:
                for index, entry in enumerate(raw_hooks):
                    hook = self._webhook(index, entry, backend_names, hooks)
                    if hook is not None:
                        hooks.append(hook)
        return EventsSettings(**values, webhooks=tuple(hooks))

    def _webhook(
        self, index: int, raw: object, backend_names: list[str], seen: list[WebhookSettings]
    ) -> WebhookSettings | None:
        header: base.Path_ = ("webhooks", index)
        if not isinstance(raw, Mapping):
            self._at(header, f"webhook {index + 1} must be a table, not {base._type_name(raw)}")
            return None
        start = len(self.problems)
        name = raw.get("name")
        label = f"webhook {name!r}" if isinstance(name, str) else f"webhook #{index + 1}"

        def at(key: str, message: str) -> None:
            self._at((*header, key), f"{label}: {message}")

        values: dict[str, Any] = {}
        for key, value in raw.items():
            if key == "name":
                if problem := _name_problem(value, (h.name for h in seen), "webhook"):
                    at(key, problem)
                else:
                    values["name"] = value
            elif key == "url":
                scheme = urlsplit(value).scheme.lower() if isinstance(value, str) else ""
                url, reason = base._normalise_url(value) if isinstance(value, str) else (None, "")
                if url is None or scheme not in ("http", "https"):
                    at(key, f"url must be an http(s) URL {reason}".rstrip())
                elif "@" in urlsplit(url).netloc:
                    at(key, "url must not contain credentials (the body is HMAC-signed)")
                else:
                    values["url"] = url
            elif key == "secret_env":
                secret = self._credential(value, key, at)
                if secret is not None:
                    values["secret"] = secret
            elif key in ("backends", "categories", "projects"):
                if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                    at(key, f"{key} must be an array of non-empty strings")
                elif key == "backends" and (unknown := set(value) - set(backend_names)):
                    at(key, f"backends names unknown backend(s) {sorted(unknown)}")
                else:
                    values[key] = tuple(value)
            elif key == "max_attempts":
                if base._is_int(value) and 1 <= value <= 100:
                    values[key] = value
                else:
                    at(key, f"max_attempts must be an integer 1..100{base._got(value)}")
            else:
                self._unknown_key((*header, key), key, WEBHOOK_KEYS, label)
        for required in ("name", "url", "secret"):
            if required not in values and len(self.problems) == start:
                at(
                    required if required != "secret" else "secret_env",
                    f"{'secret_env' if required == 'secret' else required} is required",
                )
        if len(self.problems) != start:
            return None
        return WebhookSettings(**values)


from gateway import settings as base  # noqa: E402
