"""``[compat]``: who may use the REST compatibility layer and as whom it calls the backends.

Part of ``gateway.settings`` (whose checker mixes ``CompatChecks`` in); split out to keep
each module to one concern.

```toml
[compat]
anonymous_reads = true          # callers without a token may read (as on Patchwork)

[[compat.tokens]]
name = "ci-bot"
sha256 = "…"                    # sha256 of the token the client sends (Authorization: Token …)
write = true                    # may it write (patch state, checks)?
backends = ["kernel"]           # optional: only these backends (default: all)
backend_tokens = { kernel = "CI_BOT_KERNEL_TOKEN" }   # env var NAMES: its own backend token
```

A client presents its gateway token; the gateway calls the backend with the credential the
configuration maps that token to (``backend_tokens``), else with the backend's own configured
credential. A client never sees either. As everywhere in the settings, no secret value is
ever put in a message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.settings_values import _name_problem


@dataclass(frozen=True, slots=True)
class CompatToken:
    """A token REST-compat clients may present (``Authorization: Token …``), kept as sha256."""

    name: str
    sha256: str = field(repr=False)
    write: bool = True
    backends: tuple[str, ...] = ()  # empty: every backend
    # (backend, secret): the credential this caller's compat requests use on that backend
    backend_tokens: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    def backend_token(self, backend: str) -> str | None:
        """The backend credential configured for this token on ``backend``, if any."""
        return next((secret for name, secret in self.backend_tokens if name == backend), None)


@dataclass(frozen=True, slots=True)
class CompatSettings:
    """``[compat]``: who may use the REST compatibility layer (``/rest/<backend>/…``)."""

    anonymous_reads: bool = True
    tokens: tuple[CompatToken, ...] = ()


COMPAT_KEYS: tuple[str, ...] = ("anonymous_reads", "tokens")
COMPAT_TOKEN_KEYS: tuple[str, ...] = ("name", "sha256", "write", "backends", "backend_tokens")
_SHA256_RE = re.compile(r"[0-9a-fA-F]{64}")


class CompatChecks:
    """The ``[compat]`` part of the settings checker (mixed into ``settings._Checker``)."""

    problems: list[Any]
    _at: Callable[..., None]
    _unknown_key: Callable[..., None]
    _credential: Callable[[object, str, Callable[[str, str], None]], str | None]
    # ``backend_tokens = { <backend> = "<ENV VAR NAME>" }``, as on ``[[api_keys]]``.
    _backend_tokens: Callable[
        [object, list[str], Callable[[str, str], None]], tuple[tuple[str, str], ...]
    ]

    def _compat(self, raw: object, backend_names: list[str]) -> CompatSettings:
        """``[compat]`` with ``anonymous_reads`` and ``[[compat.tokens]]`` entries."""
        if raw is None:
            return CompatSettings()
        if not isinstance(raw, Mapping):
            self._at(("compat",), f"[compat] must be a table, not {base._type_name(raw)}")
            return CompatSettings()
        anonymous_reads = True
        tokens: list[CompatToken] = []
        for key, value in raw.items():
            if key == "anonymous_reads":
                if isinstance(value, bool):
                    anonymous_reads = value
                else:
                    self._at(
                        ("compat", key),
                        f"[compat] anonymous_reads must be true or false{base._got(value)}",
                    )
            elif key == "tokens":
                if not isinstance(value, list):
                    self._at(
                        ("compat", key),
                        "[compat] tokens must be an array of tables ([[compat.tokens]])",
                    )
                    continue
                for index, entry in enumerate(value):
                    token = self._compat_token(index, entry, backend_names, tokens)
                    if token is not None:
                        tokens.append(token)
            else:
                self._unknown_key(("compat", key), key, COMPAT_KEYS, "[compat]")
        return CompatSettings(anonymous_reads=anonymous_reads, tokens=tuple(tokens))

    def _compat_token(
        self, index: int, raw: object, backend_names: list[str], seen: list[CompatToken]
    ) -> CompatToken | None:
        header: base.Path_ = ("compat", "tokens", index)
        if not isinstance(raw, Mapping):
            self._at(
                header, f"compat token {index + 1} must be a table, not {base._type_name(raw)}"
            )
            return None
        start = len(self.problems)
        name = raw.get("name")
        label = f"compat token {name!r}" if isinstance(name, str) else f"compat token #{index + 1}"

        def at(key: str, message: str) -> None:
            self._at((*header, key), f"{label}: {message}")

        values: dict[str, Any] = {}
        for key, value in raw.items():
            self._compat_token_field(key, value, values, at, (header, label), backend_names, seen)
        for key in ("name", "sha256"):
            if key not in raw:
                self._at(header, f"{label}: missing required key {key!r}")
        if len(self.problems) > start:
            return None
        return CompatToken(**values)

    def _compat_token_field(
        self,
        key: str,
        value: object,
        values: dict[str, Any],
        at: Callable[[str, str], None],
        where: tuple[base.Path_, str],
        backend_names: list[str],
        seen: list[CompatToken],
    ) -> None:
        """Checks one key of a ``[[compat.tokens]]`` entry (at ``where``: its path and label): a
        valid value goes into ``values``, a problem to ``at``."""
        header, label = where
        if key == "name":
            if problem := _name_problem(value, (t.name for t in seen), "compat token"):
                at(key, problem)
            else:
                values["name"] = value
        elif key == "sha256":
            # Never echo the value: a token pasted here by mistake is a secret.
            if not isinstance(value, str) or not _SHA256_RE.fullmatch(value.strip()):
                at(
                    key,
                    "sha256 must be the 64 hex digits of the token's SHA-256 "
                    '(e.g. printf %s "$TOKEN" | sha256sum), not the token itself',
                )
            else:
                values["sha256"] = value.strip().lower()
        elif key == "write":
            if isinstance(value, bool):
                values["write"] = value
            else:
                at(key, f"write must be true or false{base._got(value)}")
        elif key == "backends":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                at(key, "backends must be an array of backend names")
                return
            for unknown in [v for v in value if v not in backend_names]:
                at(
                    key,
                    f"backends: no backend is called {unknown!r:.40}"
                    f"{base._suggest(unknown, backend_names)}",
                )
            values["backends"] = tuple(value)
        elif key == "backend_tokens":
            values[key] = self._backend_tokens(value, backend_names, at)
        elif key == "token":
            at(
                key,
                "'token' is not allowed: give its sha256 (secrets stay out of the file)",
            )
        else:
            self._unknown_key((*header, key), key, COMPAT_TOKEN_KEYS, label)


# Last, and circular on purpose: the checker's helpers are used at call time only, and
# importing here lets either module be imported first.
from gateway import settings as base  # noqa: E402
