"""Who is calling: gateway API keys from the config, checked by their SHA-256.

A client sends its key as ``Authorization: Bearer <key>`` or ``X-Api-Key: <key>``. The config
holds only ``sha256`` hex digests (``revgate hash-key`` prints one), so a leaked config leaks
no key. ``Authenticator.authenticate`` answers a ``Caller`` — named by its key entry, or
anonymous (``name=None``) when no key was sent and ``[server] anonymous`` allows it — or an
``AuthFailure`` whose message never repeats what was sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from gateway.settings import Settings
from gateway.settings_access import ApiKeySettings


def hash_key(key: str) -> str:
    """The ``sha256`` config value for an API key (surrounding whitespace ignored)."""
    return hashlib.sha256(key.strip().encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller; ``name`` is ``None`` for an anonymous one."""

    name: str | None
    rate_key: str  # names its rate-limit buckets: key:<name> or anon:<client address>
    requests_per_minute: int
    cost_per_minute: int
    backend_tokens: Mapping[str, str] = field(default_factory=dict, repr=False)
    # May this caller write (mutations, compat writes)? An API key unless ``write = false``;
    # never an anonymous caller, except on backends with ``anonymous_writes`` (callers.py).
    can_write: bool = False

    @property
    def anonymous(self) -> bool:
        """True when no API key was presented."""
        return self.name is None


@dataclass(frozen=True, slots=True)
class AuthFailure:
    """Why a request is refused (HTTP 401); safe to show, never echoes the key."""

    message: str
    invalid_token: bool  # a key was sent but is not valid (vs. no key at all)


class Authenticator:
    """Maps request headers to a ``Caller`` using the configured keys."""

    def __init__(self, settings: Settings) -> None:
        self._by_hash: dict[str, ApiKeySettings] = {k.sha256: k for k in settings.api_keys}
        self._anonymous = settings.server.anonymous
        self._limits = settings.limits
        # A key's caller depends on its entry and the limits only: built once (it is frozen,
        # its token map read-only), not on every request.
        self._callers = {digest: self._caller(entry) for digest, entry in self._by_hash.items()}

    def _caller(self, entry: ApiKeySettings) -> Caller:
        return Caller(
            name=entry.name,
            rate_key=f"key:{entry.name}",
            requests_per_minute=_pick(entry.requests_per_minute, self._limits.requests_per_minute),
            cost_per_minute=_pick(entry.cost_per_minute, self._limits.cost_per_minute),
            backend_tokens=MappingProxyType(dict(entry.backend_tokens)),
            can_write=entry.write,
        )

    def authenticate(self, headers: Mapping[str, str], client: str) -> Caller | AuthFailure:
        """The caller behind ``headers`` (lower-case names) from address ``client``."""
        key, problem = _presented_key(headers)
        if problem is not None:
            return AuthFailure(problem, invalid_token=True)
        if key is None:
            if not self._anonymous:
                return AuthFailure(
                    "an API key is required: send Authorization: Bearer <key>",
                    invalid_token=False,
                )
            return Caller(
                name=None,
                rate_key=f"anon:{client}",
                requests_per_minute=self._limits.requests_per_minute,
                cost_per_minute=self._limits.cost_per_minute,
            )
        caller = self._callers.get(hash_key(key))
        if caller is None:
            return AuthFailure("invalid API key", invalid_token=True)
        return caller


def _pick(override: int | None, default: int) -> int:
    return default if override is None else override


def _presented_key(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    """``(key, None)``, ``(None, None)`` without a key, or ``(None, problem)``."""
    authorization = headers.get("authorization")
    api_key = headers.get("x-api-key")
    bearer: str | None = None
    if authorization is not None:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None, "unsupported Authorization header: send Authorization: Bearer <key>"
        bearer = value.strip()
    if api_key is not None:
        api_key = api_key.strip()
        if not api_key:
            return None, "empty X-Api-Key header"
        if bearer is not None and bearer != api_key:
            return None, "Authorization and X-Api-Key carry different keys"
    return bearer or api_key, None
