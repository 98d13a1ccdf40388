"""The ``[[backends]]`` checks of ``gateway.settings._Checker`` (mixed into it).

Keys every kind takes are checked alike (``_COMMON_KEYS``); the keys only some kinds take are
each kind's (``AdapterKind.config``, ``adapters/plugin.py``): a key is checked by the
backend's kind, and a key of another kind is named as such. The kind names come from the
kinds the checker was given (``adapters/kinds.py`` by default).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from adapters import passthrough
from adapters.plugin import AdapterKind, ConfigKey
from gateway import settings as base  # circular on purpose: used at call time
from gateway import settings_access as access
from gateway.settings_locator import Path_
from gateway.settings_values import _env_key, _got, _normalise_url, _parse_int, _suggest, _type_name

MAX_CACHE_TTL = 86_400
_CREDENTIAL_ENV_KEYS: tuple[str, ...] = ("token_env", "username_env", "password_env")
_OVERRIDE_SUFFIXES: tuple[str, ...] = ("URL", "TIMEOUT", "PAGE_SIZE")
_BACKEND_OVERRIDE_PREFIX = "REVGATE_BACKEND_"


def _seconds(key: str, low: float = 0.0, high: float | None = None) -> ConfigKey:
    """A number of seconds > ``low`` (or ``low..high`` inclusive when ``high`` is given)."""

    def problem(value: object) -> str | None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if high is None and math.isfinite(value) and value > low:
                return None
            if high is not None and low <= value <= high:
                return None
        return f"{key} must be a number of seconds {'> 0' if high is None else f'0..{high}'}"

    return ConfigKey(problem, convert=float)


def _integer(key: str, low: int, high: int) -> ConfigKey:
    def problem(value: object) -> str | None:
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return None
        return f"{key} must be an integer {low}..{high}"

    return ConfigKey(problem)


def _passthrough_problem(value: object) -> str | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return None
    return 'passthrough must be a list of path prefixes like ["/api/"]'


# Keys every kind takes, checked alike (each kind's own keys: AdapterKind.config).
_COMMON_KEYS: dict[str, ConfigKey] = {
    "timeout": _seconds("timeout"),
    "connect_timeout": _seconds("connect_timeout"),
    "page_size": _integer("page_size", 1, 250),
    "retries": _integer("retries", 0, 10),
    "cache_ttl": _seconds("cache_ttl", 0, MAX_CACHE_TTL),
    "content_memo": ConfigKey(
        lambda v: None if isinstance(v, bool) else "content_memo must be true or false"
    ),
    "coalesce_reads": ConfigKey(
        lambda v: None if isinstance(v, bool) else "coalesce_reads must be true or false"
    ),
    "passthrough": ConfigKey(_passthrough_problem, convert=tuple),
}


_BACKEND_KEYS: tuple[str, ...] = (
    "name",
    "kind",
    "url",
    *_CREDENTIAL_ENV_KEYS,
    *_COMMON_KEYS,
    *access.BACKEND_KEYS,
)


class BackendChecks:
    """Checks ``[[backends]]``: names, kinds, URLs, credentials, the common and the kinds'
    own keys, and the ``REVGATE_BACKEND_<NAME>_*`` overrides."""

    _env: Mapping[str, str]
    _loc: Any  # gateway.settings_locator._Locator
    problems: list[Any]
    kinds: dict[str, AdapterKind]
    _kind_keys: dict[str, list[str]]

    def _at(self, path: Path_, message: str) -> None:
        raise NotImplementedError

    def _env_problem(self, message: str) -> None:
        raise NotImplementedError

    def _credential(self, value: object, key: str, at: Callable[[str, str], None]) -> str | None:
        raise NotImplementedError

    def _access_key(
        self, key: str, value: object, values: dict[str, Any], at: Callable[[str, str], None]
    ) -> None:
        raise NotImplementedError

    def _unknown_key(
        self, path: Path_, key: str, allowed: tuple[str, ...], where: str, backend: bool = False
    ) -> None:
        raise NotImplementedError

    def _backends(self, raw: object) -> list[base.BackendSettings]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self._at(
                ("backends",),
                f"backends must be an array of tables ([[backends]]), not {_type_name(raw)}",
            )
            return []
        result: list[base.BackendSettings] = []
        first_by_name: dict[str, int] = {}
        first_by_env_key: dict[str, str] = {}
        for index, entry in enumerate(raw):
            if not isinstance(entry, Mapping):
                self._at(
                    ("backends", index),
                    f"backends entry {index + 1} must be a table, not {_type_name(entry)}",
                )
                continue
            backend = self._backend(index, entry, first_by_name, first_by_env_key)
            if backend is not None:
                result.append(backend)
        self._unknown_backend_overrides(raw)
        return result

    def _backend(
        self,
        index: int,
        raw: Mapping[str, Any],
        first_by_name: dict[str, int],
        first_by_env_key: dict[str, str],
    ) -> base.BackendSettings | None:
        start = len(self.problems)
        header: Path_ = ("backends", index)
        name = raw.get("name")
        label = f"backend {name!r}" if isinstance(name, str) else f"backend #{index + 1}"
        values: dict[str, Any] = {}

        def at(key: str, message: str) -> None:
            self._at((*header, key), f"{label}: {message}")

        for key, value in raw.items():
            if key == "name":
                self._backend_name(value, index, first_by_name, first_by_env_key, values, at)
            elif key == "kind":
                self._backend_kind(value, values, at)
            elif key == "url":
                self._backend_url(value, values, at)
            elif key in _CREDENTIAL_ENV_KEYS:
                secret = self._credential(value, key, at)
                if secret is not None:
                    values[key.removesuffix("_env")] = secret
            elif key in access.BACKEND_KEYS:
                self._access_key(key, value, values, at)
            elif key in _COMMON_KEYS:
                self._checked(key, _COMMON_KEYS[key], value, values, at)
            elif key in self._kind_keys:
                self._kind_key(key, value, raw.get("kind"), values, at)
            else:
                allowed = (*_BACKEND_KEYS, *self._kind_keys)
                self._unknown_key((*header, key), key, allowed, label, backend=True)
        self._backend_pairs(raw, values, at)
        if isinstance(name, str) and "name" in values:
            self._backend_overrides(name, values)
        for key in ("name", "kind", "url"):
            if key not in raw and key not in values:
                self._at(header, f"{label}: missing required key {key!r}")
        if len(self.problems) > start:
            return None
        return base.BackendSettings(**values)

    def _backend_url(
        self, value: object, values: dict[str, Any], at: Callable[[str, str], None]
    ) -> None:
        if not isinstance(value, str):
            at("url", f"url must be a string{_got(value)}")
            return
        url, reason = _normalise_url(value)
        if url is None:
            at("url", f"url {reason}")
        else:
            values["url"] = url

    def _backend_name(
        self,
        value: object,
        index: int,
        first_by_name: dict[str, int],
        first_by_env_key: dict[str, str],
        values: dict[str, Any],
        at: Callable[[str, str], None],
    ) -> None:
        if not isinstance(value, str):
            at("name", f"name must be a string{_got(value)}")
        elif not base._NAME_RE.fullmatch(value):
            at(
                "name",
                "name must start with a lower-case letter or digit and contain only "
                "a-z, 0-9, '_' and '-'",
            )
        elif value in first_by_name:
            first = self._loc.line(("backends", first_by_name[value], "name"))
            where = f" (first defined at line {first})" if first is not None else ""
            at("name", f"duplicate backend name {value!r}{where}")
        elif _env_key(value) in first_by_env_key:
            other = first_by_env_key[_env_key(value)]
            at(
                "name",
                f"name {value!r} clashes with backend {other!r}: both use "
                f"{_BACKEND_OVERRIDE_PREFIX}{_env_key(value)}_* overrides",
            )
        else:
            first_by_name[value] = index
            first_by_env_key[_env_key(value)] = value
            values["name"] = value

    def _backend_kind(
        self, value: object, values: dict[str, Any], at: Callable[[str, str], None]
    ) -> None:
        names = tuple(self.kinds)
        if not isinstance(value, str):
            at("kind", f"kind must be a string{_got(value)}")
        elif value not in self.kinds:
            at(
                "kind",
                f"unknown kind {value!r:.40} (valid kinds: {', '.join(names)})"
                f"{_suggest(value, names)}",
            )
        else:
            values["kind"] = value

    def _checked(
        self,
        key: str,
        rule: ConfigKey,
        value: object,
        values: dict[str, Any],
        at: Callable[[str, str], None],
    ) -> None:
        """``value`` of ``key`` kept when ``rule`` accepts it, else its problem recorded."""
        problem = rule.problem(value)
        if problem is None:
            values[key] = rule.convert(value)
        else:
            at(key, problem + (_got(value) if rule.show_got else ""))

    def _kind_key(
        self, key: str, value: object, kind: object, values: dict[str, Any], at: Callable[..., None]
    ) -> None:
        """A key only some kinds take (``AdapterKind.config``): checked by the backend's kind,
        else by the first kind that takes it; kept as a field or in ``options``."""
        takers = self._kind_keys[key]
        own = self.kinds.get(kind) if isinstance(kind, str) else None
        rule = own.config.get(key) if own is not None else None
        if own is not None and rule is None:
            names = [repr(k) for k in takers]
            which = " and ".join(names) if len(names) < 3 else ", ".join(names)
            at(key, f"{key} only applies to kind{'s' if len(names) > 1 else ''} {which}")
        checked: dict[str, Any] = {}
        self._checked(key, rule or self.kinds[takers[0]].config[key], value, checked, at)
        if key in checked and key in base._BACKEND_FIELDS:
            values[key] = checked[key]
        elif key in checked:
            values["options"] = (*values.get("options", ()), (key, checked[key]))

    def _backend_pairs(
        self, raw: Mapping[str, Any], values: dict[str, Any], at: Callable[[str, str], None]
    ) -> None:
        """What one key says about another: prefixes inside the kind's API, basic auth."""
        name = raw.get("kind")
        kind = self.kinds.get(name) if isinstance(name, str) else None
        if "passthrough" in values and kind is not None:
            roots = kind.compat.roots if kind.compat is not None else ()
            why = passthrough.check_prefixes(kind.name, roots, values["passthrough"])
            if why is not None:
                at("passthrough", why)
        for one, other in (("username_env", "password_env"), ("password_env", "username_env")):
            if one in raw and other not in raw:
                at(one, f"{one} is set but {other} is not (basic auth needs both)")

    def _backend_overrides(self, name: str, values: dict[str, Any]) -> None:
        prefix = f"{_BACKEND_OVERRIDE_PREFIX}{_env_key(name)}_"
        if (raw_url := self._env.get(prefix + "URL")) is not None:
            url, reason = _normalise_url(raw_url)
            if url is None:
                self._env_problem(f"{prefix}URL {reason}")
            else:
                values["url"] = url
        if (raw_timeout := self._env.get(prefix + "TIMEOUT")) is not None:
            try:
                timeout = float(raw_timeout.strip())
            except ValueError:
                timeout = math.nan
            if math.isfinite(timeout) and timeout > 0:
                values["timeout"] = timeout
            else:
                self._env_problem(
                    f"{prefix}TIMEOUT must be a number of seconds > 0, got {raw_timeout!r:.40}"
                )
        if (raw_size := self._env.get(prefix + "PAGE_SIZE")) is not None:
            size = _parse_int(raw_size)
            if size is not None and 1 <= size <= 250:
                values["page_size"] = size
            else:
                self._env_problem(
                    f"{prefix}PAGE_SIZE must be an integer 1..250, got {raw_size!r:.40}"
                )

    def _unknown_backend_overrides(self, raw: list[Any]) -> None:
        """``REVGATE_BACKEND_<X>_URL`` & co. where no backend is called X: a silent typo."""
        names = [
            e["name"] for e in raw if isinstance(e, Mapping) and isinstance(e.get("name"), str)
        ]
        known = [
            f"{_BACKEND_OVERRIDE_PREFIX}{_env_key(n)}_{s}"
            for n in names
            for s in _OVERRIDE_SUFFIXES
        ]
        for var in sorted(self._env):
            if not var.startswith(_BACKEND_OVERRIDE_PREFIX) or var in known:
                continue
            middle = var.removeprefix(_BACKEND_OVERRIDE_PREFIX)
            if any(
                middle.endswith(f"_{s}") and len(middle) > len(s) + 1 for s in _OVERRIDE_SUFFIXES
            ):
                self._env_problem(f"{var} names no configured backend{_suggest(var, known)}")
