"""Settings for who may call the gateway and how much: ``[limits]``, ``[[api_keys]]`` and the
access keys of ``[server]`` and ``[[backends]]``. Part of ``gateway.settings`` (which mixes
``AccessChecks`` into its checker); split out to keep each module to one concern.

```toml
[server]
anonymous = true            # callers without a key are served (only by backends allowing it)
introspection = true        # false: __schema/__type queries are rejected
max_body_bytes = 1048576    # larger request bodies get 413
header_timeout = 10         # seconds to send a request's head (else the connection is closed)
body_timeout = 10           # seconds to send its body (else 408 REQUEST_TIMEOUT)
socket_init_timeout = 5     # seconds for a websocket's connection_init (else closed 4408)

[limits]                    # 0 turns a limit off
max_depth = 15
max_aliases = 30
max_tokens = 2000               # parsing costs CPU per token (docs/security.md)
max_cost = 1000             # per query (see schema/limits.py for the cost model)
requests_per_minute = 600   # per caller: an API key, or one client address when anonymous
cost_per_minute = 10000
store = "memory://"         # where the per-caller buckets live: memory:// (this process) or
                            # redis://host:port/db shared by every replica; a password only
                            # through the REVGATE_RATE_STORE_URL environment variable

[[api_keys]]
name = "ci-bot"
sha256 = "…"                # `revgate hash-key` prints it; the key itself is never stored
requests_per_minute = 1200  # optional, overrides [limits]
cost_per_minute = 50000
backend_tokens = { kernel = "CI_BOT_KERNEL_TOKEN" }   # env var NAMES: this caller's own tokens
write = true                # false: read-only (mutations FORBIDDEN, compat writes refused)

[[backends]]
anonymous = false           # only callers with a key may use this backend
anonymous_writes = false    # true: callers without a key may also write (mutations) with the
                            # backend's own credential; never the default
max_body_bytes = 52428800   # upstream response cap
```

As everywhere in the settings, no secret value (a key, a token) is ever put in a message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from gateway import settings as base  # circular on purpose: helpers are used at call time

TIMEOUT_KEYS: tuple[str, ...] = ("header_timeout", "body_timeout", "socket_init_timeout")
SERVER_KEYS: tuple[str, ...] = ("anonymous", "introspection", "max_body_bytes", *TIMEOUT_KEYS)
BACKEND_KEYS: tuple[str, ...] = ("anonymous", "anonymous_writes", "max_body_bytes")
_MAX_TIMEOUT = 3600.0
LIMIT_KEYS: tuple[str, ...] = (
    "max_depth",
    "max_aliases",
    "max_tokens",
    "max_cost",
    "requests_per_minute",
    "cost_per_minute",
    "store",
)
STORE_ENV = "REVGATE_RATE_STORE_URL"
API_KEY_KEYS: tuple[str, ...] = (
    "name",
    "sha256",
    "requests_per_minute",
    "cost_per_minute",
    "backend_tokens",
    "write",
)
_KEY_SECRETS = ("key", "api_key", "token", "secret", "value")
_SHA256_RE = re.compile(r"[0-9a-fA-F]{64}")
_MAX_LIMIT = 10**9
_MAX_BODY = 1 << 40


@dataclass(frozen=True, slots=True)
class LimitSettings:
    """``[limits]``: per-query limits and the default per-caller rates (0 = off)."""

    max_depth: int = 15
    max_aliases: int = 30
    max_tokens: int = 2_000
    max_cost: int = 1_000
    requests_per_minute: int = 600
    cost_per_minute: int = 10_000
    store: str = field(default="memory://", repr=False)  # a Redis URL may hold a password


@dataclass(frozen=True, slots=True)
class ApiKeySettings:
    """One ``[[api_keys]]`` entry. The hash and the caller's backend tokens stay out of repr."""

    name: str
    sha256: str = field(repr=False)
    requests_per_minute: int | None = None
    cost_per_minute: int | None = None
    backend_tokens: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    write: bool = True  # false: a read-only key (no mutation, no compat write)


class AccessChecks:
    """The access-related checks of ``gateway.settings._Checker`` (mixed into it)."""

    _env: Mapping[str, str]

    def _at(self, path: base.Path_, message: str) -> None:
        raise NotImplementedError

    def _env_problem(self, message: str) -> None:
        raise NotImplementedError

    def _credential(self, value: object, key: str, at: Callable[[str, str], None]) -> str | None:
        raise NotImplementedError

    # -- [server] and [[backends]] keys

    def _access_key(self, key: str, value: object, values: dict[str, Any], at: _At) -> None:
        """``anonymous``, ``anonymous_writes``, ``introspection`` (booleans), ``max_body_bytes``
        (bytes > 0) or one of the slow-client ``*_timeout`` (seconds > 0)."""
        if key in TIMEOUT_KEYS:
            if (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and 0 < value <= _MAX_TIMEOUT
            ):
                values[key] = float(value)
            else:
                at(key, f"{key} must be seconds > 0 and <= {_MAX_TIMEOUT:.0f}{base._got(value)}")
        elif key == "max_body_bytes":
            if (size := _int_in(value, 1, _MAX_BODY)) is not None:
                values[key] = size
            else:
                at(key, f"max_body_bytes must be a number of bytes > 0{base._got(value)}")
        elif isinstance(value, bool):
            values[key] = value
        else:
            at(key, f"{key} must be true or false{base._got(value)}")

    def _access_server_overrides(self, values: dict[str, Any]) -> None:
        for key in ("anonymous", "introspection"):
            var = f"REVGATE_{key.upper()}"
            if (raw := self._env.get(var)) is None:
                continue
            flag = {"true": True, "1": True, "false": False, "0": False}.get(raw.strip().lower())
            if flag is None:
                self._env_problem(f"{var} must be true, false, 1 or 0, got {raw!r:.40}")
            else:
                values[key] = flag

    # -- [limits]

    def _limits(self, raw: object) -> LimitSettings:
        if raw is None:
            raw = {}  # REVGATE_RATE_STORE_URL may still apply
        if not isinstance(raw, Mapping):
            self._at(("limits",), f"[limits] must be a table, not {base._type_name(raw)}")
            return LimitSettings()
        values: dict[str, Any] = {}
        for key, value in raw.items():
            if key == "store":
                if not isinstance(value, str):
                    self._at(("limits", key), f"[limits] store must be a string{base._got(value)}")
                elif reason := store_url_problem(value, from_env=False):
                    self._at(("limits", key), f"[limits] store {reason}")
                else:
                    values[key] = value
            elif key not in LIMIT_KEYS:
                self._at(
                    ("limits", key),
                    f"[limits]: unknown key {key!r}{base._suggest(key, LIMIT_KEYS)}",
                )
            elif (number := _int_in(value, 0, _MAX_LIMIT)) is not None:
                values[key] = number
            else:
                self._at(
                    ("limits", key),
                    f"[limits] {key} must be an integer >= 0 (0 = no limit){base._got(value)}",
                )
        if (env_url := self._env.get(STORE_ENV)) is not None:
            if reason := store_url_problem(env_url, from_env=True):
                self._env_problem(f"{STORE_ENV} {reason}")
            else:
                values["store"] = env_url
        limits = LimitSettings(**values)
        if 0 < limits.cost_per_minute < limits.max_cost:
            self._at(
                ("limits", "cost_per_minute"),
                f"[limits] cost_per_minute ({limits.cost_per_minute}) is below max_cost "
                f"({limits.max_cost}): the costliest queries could never run",
            )
        return limits

    # -- [[api_keys]]

    def _api_keys(
        self, raw: object, backend_names: list[str], limits: LimitSettings
    ) -> list[ApiKeySettings]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self._at(
                ("api_keys",),
                f"api_keys must be an array of tables ([[api_keys]]), not {base._type_name(raw)}",
            )
            return []
        keys: list[ApiKeySettings] = []
        names: set[str] = set()
        hashes: set[str] = set()
        for index, entry in enumerate(raw):
            if not isinstance(entry, Mapping):
                self._at(
                    ("api_keys", index),
                    f"api_keys entry {index + 1} must be a table, not {base._type_name(entry)}",
                )
                continue
            key = self._api_key(index, entry, backend_names, limits, names, hashes)
            if key is not None:
                keys.append(key)
        return keys

    def _api_key(
        self,
        index: int,
        raw: Mapping[str, Any],
        backend_names: list[str],
        limits: LimitSettings,
        names: set[str],
        hashes: set[str],
    ) -> ApiKeySettings | None:
        header: base.Path_ = ("api_keys", index)
        name = raw.get("name")
        label = f"api key {name!r}" if isinstance(name, str) else f"api key #{index + 1}"
        values: dict[str, Any] = {}
        problems = 0

        def at(key: str, message: str) -> None:
            nonlocal problems
            problems += 1
            self._at((*header, key), f"{label}: {message}")

        for key, value in raw.items():
            self._api_key_field(key, value, values, at, backend_names, names, hashes)
        for key in ("name", "sha256"):
            if key not in raw:
                at(key, f"missing required key {key!r}")
        cost = values.get("cost_per_minute")
        if cost and limits.max_cost and cost < limits.max_cost:
            at(
                "cost_per_minute",
                f"cost_per_minute ({cost}) is below [limits] max_cost ({limits.max_cost})",
            )
        if problems:
            return None
        return ApiKeySettings(**values)

    def _api_key_field(
        self,
        key: str,
        value: object,
        values: dict[str, Any],
        at: _At,
        backend_names: list[str],
        names: set[str],
        hashes: set[str],
    ) -> None:
        """Checks one key of an ``[[api_keys]]`` entry: a valid value goes into ``values``, a
        problem to ``at``; ``names`` and ``hashes`` gather what earlier entries used."""
        if key == "name":
            if not isinstance(value, str) or not base._NAME_RE.fullmatch(value):
                at(key, "name must be a string of a-z, 0-9, '_' and '-'")
            elif value in names:
                at(key, f"duplicate api key name {value!r}")
            else:
                names.add(value)
                values["name"] = value
        elif key == "sha256":
            # Never echo the value: it may be the key itself, pasted by mistake.
            if not isinstance(value, str) or not _SHA256_RE.fullmatch(value):
                at(
                    key,
                    "sha256 must be the 64 hex digits printed by `revgate hash-key` "
                    "(the key itself never goes in the config)",
                )
            elif value.lower() in hashes:
                at(key, "the same key hash is configured twice")
            else:
                hashes.add(value.lower())
                values["sha256"] = value.lower()
        elif key in ("requests_per_minute", "cost_per_minute"):
            if (number := _int_in(value, 0, _MAX_LIMIT)) is not None:
                values[key] = number
            else:
                at(key, f"{key} must be an integer >= 0 (0 = no limit){base._got(value)}")
        elif key == "backend_tokens":
            values[key] = self._backend_tokens(value, backend_names, at)
        elif key == "write":
            if isinstance(value, bool):
                values[key] = value
            else:
                at(key, f"write must be true or false{base._got(value)}")
        elif key in _KEY_SECRETS:
            at(
                key,
                f"{key!r} is not allowed: the key itself is never stored; put its hash in "
                f"'sha256' (`revgate hash-key` prints it)",
            )
        else:
            at(key, f"unknown key {key!r}{base._suggest(key, API_KEY_KEYS)}")

    def _backend_tokens(
        self, raw: object, backend_names: list[str], at: _At
    ) -> tuple[tuple[str, str], ...]:
        if not isinstance(raw, Mapping):
            at(
                "backend_tokens",
                "backend_tokens must be a table of backend name = environment variable NAME",
            )
            return ()
        tokens: list[tuple[str, str]] = []
        for backend, env_name in raw.items():
            if backend not in backend_names:
                at(
                    "backend_tokens",
                    f"backend_tokens names no configured backend {backend!r:.40}"
                    f"{base._suggest(backend, backend_names)}",
                )
                continue
            secret = self._credential(
                env_name, f"backend_tokens.{backend}", lambda _, m: at("backend_tokens", m)
            )
            if secret is not None:
                tokens.append((backend, secret))
        return tuple(tokens)


_At = Callable[[str, str], None]


def store_url_problem(value: str, from_env: bool, env: str = STORE_ENV) -> str:
    """Why ``value`` is not a usable store URL (memory, Redis), or ``""``; never repeats it.
    ``env``: the variable a URL with a password belongs in (the rate-limit store's default)."""
    try:
        parts = urlsplit(value)
        _ = parts.port
    except ValueError:
        return "is not a valid URL"
    scheme = parts.scheme.lower()
    if not value or value.strip() != value:
        return "must be a non-empty URL without surrounding whitespace"
    if scheme == "memory":
        return "" if value.lower() == "memory://" else "must be exactly memory:// for memory"
    if scheme not in ("redis", "rediss", "unix"):
        return "must start with memory://, redis://, rediss:// or unix://"
    if scheme != "unix" and not parts.hostname:
        return "has no host"
    if "@" in parts.netloc and not from_env:
        return f"must not contain a password in the config file; set {env} instead"
    return ""


def _int_in(value: object, low: int, high: int) -> int | None:
    """``value`` when it is an integer (not a boolean) within ``[low, high]``."""
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    return None
