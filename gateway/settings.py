"""revgate settings: a TOML config file plus environment overrides -> frozen ``Settings``.

Every mistake is reported at once, each with the line of the config file it came from
(``ConfigProblem``). ``tomllib`` keeps no positions, so ``_Locator`` scans the raw text for
table headers and ``key =`` lines; it understands comments, ``[server]``, ``[[backends]]``,
dotted keys and multi-line strings, and falls back to the enclosing table's line otherwise.

Secrets never live in the file: a backend names the *environment variables* that hold its
token or basic-auth credentials (``token_env`` ...). No secret value is ever put in a
problem message, an exception or a ``repr``; URLs are never echoed either (a URL can carry
credentials or a token in its query).

Split by role: the line locator (``_Locator``, ``Path_``) lives in
``gateway/settings_locator.py``; the value checks and message helpers (``_got``,
``_normalise_url``, ``_suggest`` ...) in ``gateway/settings_values.py``. Both are re-exported
here, so ``gateway.settings`` still offers every name it did. ``[[backends]]`` is checked by
``gateway/settings_backends.py`` against the backend kinds the checker is given
(``adapters/kinds.py`` unless ``kinds=`` says otherwise; each kind's own keys come from its
descriptor); the result carries them (``Settings.kinds``).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from adapters.kinds import KINDS
from adapters.people import IdentityEntry
from adapters.plugin import AdapterKind, by_name
from gateway import settings_access as access
from gateway import settings_browser as browser
from gateway.settings_access import ApiKeySettings, LimitSettings
from gateway.settings_backends import MAX_CACHE_TTL as MAX_CACHE_TTL
from gateway.settings_backends import BackendChecks
from gateway.settings_compat import CompatChecks
from gateway.settings_compat import CompatSettings as CompatSettings
from gateway.settings_compat import CompatToken as CompatToken
from gateway.settings_events import EventsChecks
from gateway.settings_events import EventsSettings as EventsSettings
from gateway.settings_events import WebhookSettings as WebhookSettings
from gateway.settings_locator import Path_ as Path_
from gateway.settings_locator import _Locator as _Locator
from gateway.settings_people import PeopleChecks
from gateway.settings_values import _env_key as _env_key
from gateway.settings_values import _got as _got
from gateway.settings_values import _is_int as _is_int
from gateway.settings_values import _is_number as _is_number
from gateway.settings_values import _normalise_url as _normalise_url
from gateway.settings_values import _parse_int as _parse_int
from gateway.settings_values import _suggest as _suggest
from gateway.settings_values import _type_name as _type_name

BACKEND_KINDS: tuple[str, ...] = tuple(k.name for k in KINDS)  # the registered kinds' names
CONFIG_ENV = "REVGATE_CONFIG"

_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")
# Upper-case only: a lower-case "name" is far more likely to be a pasted token, which we
# must not echo back in "is not set" messages.
_ENV_NAME_RE = re.compile(r"[A-Z_][A-Z0-9_]*")
_TOP_KEYS: tuple[str, ...] = (
    "server",
    "backends",
    "cache",
    "limits",
    "api_keys",
    "compat",
    "events",
    "webhooks",
    "people",
)
_SERVER_KEYS: tuple[str, ...] = (
    "host",
    "port",
    "graphiql",
    "public_url",
    "backend_budget",
    "poll_interval",
    *access.SERVER_KEYS,
    *browser.SERVER_KEYS,
)
_SECRET_KEYS = {"token": "token_env", "username": "username_env", "password": "password_env"}


@dataclass(frozen=True, slots=True)
class BackendSettings:
    """One configured backend instance. ``token`` and ``password`` stay out of ``repr``."""

    name: str
    kind: str
    url: str
    api_version: str = "auto"
    token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    connect_timeout: float = 5.0
    page_size: int = 100
    retries: int = 3
    cache_ttl: float = 0.0
    content_memo: bool = True  # reuse what was derived from an unchanged answer (adapters.stamps)
    coalesce_reads: bool = True  # identical uncached GETs in flight share one exchange
    # Patchwork kinds: the server's TIME_ZONE, in which its own clock's naive timestamps
    # (checks, events) are written (USE_TZ = False); UTC unless the operator says otherwise
    time_zone: str = "UTC"
    anonymous: bool = True  # callers without an API key may use this backend
    anonymous_writes: bool = False  # ... and write with the backend's credential (mutations)
    max_body_bytes: int = 50 * 1024 * 1024  # upstream response cap
    # Compat pass-through allow-list (path prefixes, adapters/passthrough.py); None: the
    # kind's documented API root, () off.
    passthrough: tuple[str, ...] | None = None
    # The kind's own config keys (AdapterKind.config) that have no field above.
    options: tuple[tuple[str, Any], ...] = ()


_BACKEND_FIELDS = frozenset(f.name for f in fields(BackendSettings))


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    graphiql: bool = True
    public_url: str | None = None
    backend_budget: float = 10.0  # seconds a backend may take in a federated list
    poll_interval: float = 30.0  # seconds between event polls for live subscriptions
    anonymous: bool = True  # see gateway/settings_access.py
    introspection: bool = True
    max_body_bytes: int = 1024 * 1024  # request body cap
    cors_origins: tuple[str, ...] = ()  # see gateway/cors.py: empty = same-origin only
    cors_allow_credentials: bool = False
    cors_max_age: int = 600
    persisted_queries: bool = True  # see gateway/persisted.py
    trusted_documents: str | None = None
    persisted_only: bool = False
    cache_max_age: tuple[tuple[str, int], ...] = ()  # root field → seconds (gateway/over_http.py)
    batch_max_operations: int = 0  # opt-in batching (docs/browsers.md); 0: off
    # Slow clients (gateway/settings_access.py): seconds to send the request head, the body,
    # and a websocket's connection_init.
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    socket_init_timeout: float = 5.0
    dashboard: bool = True  # the review dashboard at / and /dashboard (gateway/dashboard.py)


@dataclass(frozen=True, slots=True)
class Settings:
    # The backend kinds the config was checked against; the app derives everything per kind
    # from them (sources, compat routers, the schema). Default: adapters/kinds.py.
    kinds: tuple[AdapterKind, ...] = KINDS
    server: ServerSettings = field(default_factory=ServerSettings)
    backends: tuple[BackendSettings, ...] = ()
    source: str | None = None
    # (a lambda: CacheSettings is defined with the rest of [cache] at the end of the module)
    cache: CacheSettings = field(default_factory=lambda: CacheSettings())
    limits: LimitSettings = field(default_factory=LimitSettings)
    api_keys: tuple[ApiKeySettings, ...] = ()
    compat: CompatSettings = field(default_factory=CompatSettings)
    events: EventsSettings = field(default_factory=EventsSettings)  # and [[webhooks]]
    people: tuple[IdentityEntry, ...] = ()  # [[people]]: gateway/settings_people.py

    def backend(self, name: str) -> BackendSettings:
        """The backend called ``name``; ``KeyError`` if there is none."""
        for backend in self.backends:
            if backend.name == name:
                return backend
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One mistake: the config-file line it came from (``None`` for environment or I/O)."""

    line: int | None
    message: str

    def format(self, path: str) -> str:
        """``path:line: message`` (``path: message`` without a line)."""
        if self.line is None:
            return f"{path}: {self.message}"
        return f"{path}:{self.line}: {self.message}"

    def __str__(self) -> str:
        return self.message if self.line is None else f"line {self.line}: {self.message}"


class ConfigError(Exception):
    """The configuration is unusable; ``problems`` holds every mistake found."""

    def __init__(self, problems: list[ConfigProblem], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.source if self.source is not None else "<config>"
        count = len(self.problems)
        head = f"invalid configuration {where}: {count} problem{'s' if count != 1 else ''}"
        return "\n".join([head, *(p.format(where) for p in self.problems)])


def config_path(explicit: str | None, env: Mapping[str, str]) -> str | None:
    """The config file to use: ``explicit`` (``--config``), else ``$REVGATE_CONFIG``, else None."""
    if explicit:
        return explicit
    return env.get(CONFIG_ENV) or None


def load_settings(
    path: str | None, env: Mapping[str, str] | None = None, kinds: Sequence[AdapterKind] = KINDS
) -> Settings:
    """Settings from the TOML file at ``path`` plus ``env`` overrides (default ``os.environ``),
    for the backend ``kinds`` (default: ``adapters/kinds.py``).

    Raises ``ConfigError`` carrying every problem; ``path=None`` is itself a problem.
    """
    if path is None:
        raise ConfigError(
            [ConfigProblem(None, f"no config file given (--config or {CONFIG_ENV})")], None
        )
    settings, problems = _load(path, os.environ if env is None else env, kinds)
    if settings is None:
        raise ConfigError(problems, path)
    return settings


def check_config(
    path: str, env: Mapping[str, str] | None = None, kinds: Sequence[AdapterKind] = KINDS
) -> list[ConfigProblem]:
    """Every problem in the config at ``path`` (with ``env`` overrides); ``[]`` when fine."""
    return _load(path, os.environ if env is None else env, kinds)[1]


def settings_from_dict(
    data: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    source: str | None = None,
    kinds: Sequence[AdapterKind] = KINDS,
) -> Settings:
    """Settings from an already-parsed config (same shape as the TOML file); no line numbers."""
    checker = _Checker(_Locator(""), os.environ if env is None else env, kinds=kinds)
    settings = checker.settings(data, source)
    if settings is None:
        raise ConfigError(checker.sorted_problems(), source)
    return settings


# -- loading -----------------------------------------------------------------------------

_TOML_POS_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END_RE = re.compile(r"\s*\(at end of document\)\s*$")


def _load(
    path: str, env: Mapping[str, str], kinds: Sequence[AdapterKind]
) -> tuple[Settings | None, list[ConfigProblem]]:
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return None, [ConfigProblem(None, f"cannot read config file: {reason}")]
    except UnicodeDecodeError as exc:
        line = _line_of_offset(exc.object, exc.start)
        return None, [ConfigProblem(line, "config file is not valid UTF-8")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [_syntax_problem(str(exc), text)]
    checker = _Checker(_Locator(text), env, require_backends=True, kinds=kinds)
    settings = checker.settings(data, path)
    return settings, checker.sorted_problems()


def _line_of_offset(data: bytes, offset: int) -> int:
    """1-based line number of byte ``offset`` in ``data``."""
    return data.count(b"\n", 0, offset) + 1


def _syntax_problem(message: str, text: str) -> ConfigProblem:
    """A ``TOMLDecodeError`` message turned into a located problem."""
    if match := _TOML_POS_RE.search(message):
        detail = message[: match.start()]
        return ConfigProblem(
            int(match.group(1)), f"TOML syntax error: {detail} (column {match.group(2)})"
        )
    if match := _TOML_END_RE.search(message):
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        detail = message[: match.start()]
        return ConfigProblem(max(len(lines), 1), f"TOML syntax error: {detail} (at end of file)")
    return ConfigProblem(None, f"TOML syntax error: {message}")


# -- validation (value helpers: gateway/settings_values.py) ----------------------------


# BackendChecks last: its stand-ins for the others' methods must not shadow them.
class _Checker(
    access.AccessChecks,
    browser.BrowserChecks,
    CompatChecks,
    EventsChecks,
    PeopleChecks,
    BackendChecks,
):
    """Validates one parsed config, collecting every problem instead of stopping."""

    def __init__(
        self,
        locator: _Locator,
        env: Mapping[str, str],
        require_backends: bool = False,
        kinds: Sequence[AdapterKind] = KINDS,
    ) -> None:
        self._loc = locator
        self._env = env
        self.kinds = by_name(kinds)
        # Each kind-specific key (AdapterKind.config) → the kinds that take it, in order.
        self._kind_keys: dict[str, list[str]] = {}
        for kind in kinds:
            for key in kind.config:
                self._kind_keys.setdefault(key, []).append(kind.name)
        self.problems: list[ConfigProblem] = []
        # Config files (serve, check-config, reload) must name a backend; dicts built in
        # code (tests, the demo) may leave them out.
        self.require_backends = require_backends

    def sorted_problems(self) -> list[ConfigProblem]:
        return sorted(self.problems, key=lambda p: (p.line is None, p.line or 0))

    def _at(self, path: Path_, message: str) -> None:
        self.problems.append(ConfigProblem(self._loc.line(path), message))

    def _env_problem(self, message: str) -> None:
        self.problems.append(ConfigProblem(None, message))

    def _unknown_key(
        self, path: Path_, key: str, allowed: tuple[str, ...], where: str, backend: bool = False
    ) -> None:
        if backend and key in _SECRET_KEYS:
            self._at(
                path,
                f"{where}: {key!r} is not allowed: secrets are not read from the config file; "
                f"put it in an environment variable and name that variable with "
                f"{_SECRET_KEYS[key]!r}",
            )
            return
        self._at(path, f"{where}: unknown key {key!r}{_suggest(key, allowed)}")

    # -- whole file

    def settings(self, data: Mapping[str, Any], source: str | None) -> Settings | None:
        for key in data:
            if key not in _TOP_KEYS:
                self._unknown_key((key,), key, _TOP_KEYS, "top level")
        server = self._server(data.get("server"))
        backends = self._backends(data.get("backends"))
        if self.require_backends and not backends and not data.get("backends"):
            # An empty file (or one of comments only) parses to {}: starting, passing
            # check-config or reloading with it would serve nothing (a reload dropped every
            # backend), so it is refused like any other mistake.
            self._at(
                ("backends",),
                "no backends configured: add at least one [[backends]] table "
                "(an empty config file is refused)",
            )
        cache = self._cache(data.get("cache"))
        limits = self._limits(data.get("limits"))
        raw_backends = data.get("backends")
        names = [
            e["name"]
            for e in (raw_backends if isinstance(raw_backends, list) else [])
            if isinstance(e, Mapping) and isinstance(e.get("name"), str)
        ]
        api_keys = self._api_keys(data.get("api_keys"), names, limits)
        compat = self._compat(data.get("compat"), names)
        events = self._events(data.get("events"), data.get("webhooks"), names)
        people = self._people(data.get("people"), names)
        if self.problems:
            return None
        return Settings(
            kinds=tuple(self.kinds.values()),
            server=server,
            backends=tuple(backends),
            source=source,
            cache=cache,
            limits=limits,
            api_keys=tuple(api_keys),
            compat=compat,
            events=events,
            people=people,
        )

    # -- [server]

    def _server(self, raw: object) -> ServerSettings:
        values: dict[str, Any] = {}
        if raw is not None and not isinstance(raw, Mapping):
            self._at(("server",), f"[server] must be a table, not {_type_name(raw)}")
            raw = None
        for key, value in (raw or {}).items():
            path: Path_ = ("server", key)
            if key == "host":
                if isinstance(value, str) and value.strip():
                    values["host"] = value.strip()
                else:
                    self._at(path, "[server] host must be a non-empty string")
            elif key == "port":
                if _is_int(value) and 1 <= value <= 65535:
                    values["port"] = value
                else:
                    self._at(path, f"[server] port must be an integer 1..65535{_got(value)}")
            elif key == "graphiql":
                if isinstance(value, bool):
                    values["graphiql"] = value
                else:
                    self._at(path, f"[server] graphiql must be true or false{_got(value)}")
            elif key == "public_url":
                if not isinstance(value, str):
                    self._at(path, f"[server] public_url must be a string{_got(value)}")
                elif value == "":
                    values["public_url"] = None
                else:
                    url, reason = _normalise_url(value)
                    if url is None:
                        self._at(path, f"[server] public_url {reason}")
                    else:
                        values["public_url"] = url
            elif key == "backend_budget":
                if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                    values["backend_budget"] = float(value)
                else:
                    self._at(path, f"[server] backend_budget must be seconds > 0{_got(value)}")
            elif key == "poll_interval":
                if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                    values["poll_interval"] = float(value)
                else:
                    self._at(path, f"[server] poll_interval must be seconds > 0{_got(value)}")
            elif key in access.SERVER_KEYS:
                self._access_key(
                    key, value, values, lambda k, m: self._at(("server", k), f"[server] {m}")
                )
            elif key in browser.SERVER_KEYS:
                self._browser_key(
                    key, value, values, lambda k, m: self._at(("server", k), f"[server] {m}")
                )
            else:
                self._unknown_key(path, key, _SERVER_KEYS, "[server]")
        self._browser_consistency(values, lambda k, m: self._at(("server", k), f"[server] {m}"))
        self._server_overrides(values)
        return ServerSettings(**values)

    def _server_overrides(self, values: dict[str, Any]) -> None:
        self._access_server_overrides(values)
        env = self._env
        if (host := env.get("REVGATE_HOST")) is not None:
            if host.strip():
                values["host"] = host.strip()
            else:
                self._env_problem("REVGATE_HOST must not be empty")
        if (port := env.get("REVGATE_PORT")) is not None:
            number = _parse_int(port)
            if number is not None and 1 <= number <= 65535:
                values["port"] = number
            else:
                self._env_problem(f"REVGATE_PORT must be an integer 1..65535, got {port!r:.40}")
        if (graphiql := env.get("REVGATE_GRAPHIQL")) is not None:
            flag = {"true": True, "1": True, "false": False, "0": False}.get(
                graphiql.strip().lower()
            )
            if flag is None:
                self._env_problem(
                    f"REVGATE_GRAPHIQL must be true, false, 1 or 0, got {graphiql!r:.40}"
                )
            else:
                values["graphiql"] = flag
        if (public_url := env.get("REVGATE_PUBLIC_URL")) is not None:
            if public_url == "":
                values["public_url"] = None
            else:
                url, reason = _normalise_url(public_url)
                if url is None:
                    self._env_problem(f"REVGATE_PUBLIC_URL {reason}")
                else:
                    values["public_url"] = url

    def _cache(self, raw: object) -> CacheSettings:
        return _check_cache(self, raw)

    def _credential(self, value: object, key: str, at: Callable[[str, str], None]) -> str | None:
        """The secret held by the variable that ``value`` names, or None (problem recorded)."""
        if not isinstance(value, str) or not _ENV_NAME_RE.fullmatch(value):
            # Never echo the value: it may be the secret itself, pasted by mistake.
            at(
                key,
                f"{key} must be the NAME of an environment variable (A-Z, 0-9, '_'; "
                f"e.g. KERNEL_PW_TOKEN), not the secret itself",
            )
            return None
        secret = self._env.get(value)
        if secret is None:
            at(key, f"environment variable {value} ({key}) is not set")
            return None
        if secret == "":
            at(key, f"environment variable {value} ({key}) is empty")
            return None
        return secret


# -- [cache] (the upstream response cache; see adapters/cache.py) -------------------------

CACHE_URL_ENV = "REVGATE_CACHE_URL"
_CACHE_KEYS: tuple[str, ...] = ("url", "max_entries", "max_bytes")


@dataclass(frozen=True, slots=True)
class CacheSettings:
    """Where cached upstream answers live. ``url`` stays out of ``repr`` (it may hold a password).

    ``memory://`` (default): in-process, bounded by ``max_entries`` and ``max_bytes``.
    ``redis://host:port/db`` (or ``rediss://``, ``unix://``): one Redis shared by every
    replica. What is cached is decided per backend by ``cache_ttl`` (default 0 = off).
    """

    url: str = field(default="memory://", repr=False)
    max_entries: int = 10_000
    max_bytes: int = 64 * 1024 * 1024


def _cache_url_problem(value: str, from_env: bool) -> str:
    """Why ``value`` is not a usable cache URL, or ``""``; never repeats the URL."""
    if problem := access.store_url_problem(value, from_env, env=CACHE_URL_ENV):
        return problem
    parts = urlsplit(value)
    db = parts.path.strip("/")
    if parts.scheme.lower() not in ("unix", "memory") and db and not db.isdigit():
        return "database must be a number (redis://host:port/0)"
    return ""


def _check_cache(checker: _Checker, raw: object) -> CacheSettings:
    """The ``[cache]`` table plus ``REVGATE_CACHE_URL``, problems recorded on ``checker``."""
    values: dict[str, Any] = {}
    if raw is not None and not isinstance(raw, Mapping):
        checker._at(("cache",), f"[cache] must be a table, not {_type_name(raw)}")
        raw = None
    for key, value in (raw or {}).items():
        path: Path_ = ("cache", key)
        if key == "url":
            if not isinstance(value, str):
                checker._at(path, f"[cache] url must be a string{_got(value)}")
            elif reason := _cache_url_problem(value, from_env=False):
                checker._at(path, f"[cache] url {reason}")
            else:
                values["url"] = value
        elif key in ("max_entries", "max_bytes"):
            if _is_int(value) and value >= 1:
                values[key] = value
            else:
                checker._at(path, f"[cache] {key} must be an integer >= 1{_got(value)}")
        else:
            checker._unknown_key(path, key, _CACHE_KEYS, "[cache]")
    if (env_url := checker._env.get(CACHE_URL_ENV)) is not None:
        if reason := _cache_url_problem(env_url, from_env=True):
            checker._env_problem(f"{CACHE_URL_ENV} {reason}")
        else:
            values["url"] = env_url
    return CacheSettings(**values)
