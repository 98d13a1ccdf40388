"""What a backend kind is, on the adapter side: one ``AdapterKind`` descriptor per kind.

A kind's package (``adapters/<kind>/kind.py``) exports one frozen ``AdapterKind``; the list of
kinds the gateway knows is ``adapters/kinds.py`` (the one registration line per kind). Every
table that used to be written per kind is derived from the descriptors: the source factories
and compat routers (``adapters/registry.py``), the kind names and kind-specific config keys
(``gateway/settings.py``), the demo's simulators (``gateway/cli.py``), and, through
``AdapterKind.schema``, the kind's GraphQL part (``schema/plugin.py``).

The dependency direction stays gateway → schema → adapters: a descriptor cannot import its
schema part, so it *names* it the way a packaging entry point does (``"module:attribute"``);
``schema/plugin.py`` loads it with ``importlib.metadata.EntryPoint``. Guide:
``docs/adding-a-kind.md``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from adapters.base import Source
from adapters.cache import Cache
from adapters.compat import CompatKind
from adapters.http import Credentials, HttpClient


@dataclass(frozen=True, slots=True)
class BackendSpec:
    """What a kind's factory needs to build one backend instance (plain values, so that
    adapters do not depend on the gateway's settings type)."""

    name: str
    kind: str
    url: str
    credentials: Credentials = field(default_factory=Credentials)
    api_version: str = "auto"
    page_size: int = 100
    timeout: float = 30.0
    connect_timeout: float = 5.0
    retries: int = 3
    max_body_bytes: int = 50 * 1024 * 1024  # upstream response cap
    cache_ttl: float = 0.0  # seconds; 0 = this backend's GETs are never cached
    cache: Cache | None = None  # the store shared by every backend (memory or Redis)
    content_memo: bool = True  # content stamps for uncached answers (adapters/stamps.py)
    coalesce_reads: bool = True  # identical uncached GETs in flight share one (adapters/http.py)
    time_zone: str = "UTC"  # Patchwork kinds: the server's TIME_ZONE (naive server-clock dates)
    # The kind's own config keys (``AdapterKind.config``) that have no field above.
    options: tuple[tuple[str, Any], ...] = ()

    def option(self, key: str, default: Any = None) -> Any:
        """The value of the kind-specific config key ``key`` (``default`` when not set)."""
        return dict(self.options).get(key, default)


SourceFactory = Callable[[BackendSpec, HttpClient], Source]
"""Builds one backend's source around its pooled HTTP client."""


@dataclass(frozen=True, slots=True)
class ConfigKey:
    """A config key only backends of some kinds take (``api_version`` on Patchwork).

    ``problem(value)`` says what is wrong with a value (``None``: fine); with ``show_got``
    the settings checker appends what it got (``", got 5"``) in its usual words. ``convert``
    turns an accepted value into the one the backend keeps.
    """

    problem: Callable[[object], str | None]
    show_got: bool = True
    convert: Callable[[Any], Any] = lambda value: value


class Simulator(Protocol):
    """A running demo simulator."""

    url: str

    async def close(self) -> None:
        """Stop it."""


@dataclass(frozen=True, slots=True)
class Demo:
    """What ``revgate demo`` runs and configures for a kind."""

    label: str  # what the demo prints: "<label> at <url>"
    # Starts the simulator answering API requests ``latency_ms`` late; imports it lazily (the
    # simulators are not served code).
    start: Callable[[float], Awaitable[Simulator]]
    # The ``[[backends]]`` entry for a simulator at ``url`` (``url`` itself is added), and
    # the environment its ``*_env`` keys name (the simulator's own demo credentials).
    backend: Mapping[str, object]
    env: Callable[[], Mapping[str, str]] = dict  # a function: it may read the simulator's data
    note: str = ""  # printed after the URL ("(admin / secret)")
    # How REST clients reach the backend through the gateway, ``{rest}`` the gateway's
    # ``/rest`` URL: its compat mount line, then any client set-up lines (``{token}``: the
    # demo's compat token).
    compat: str = ""
    clients: tuple[str, ...] = ()
    # The simulator's ``python -m`` module: ``revgate demo`` runs ``MODULE --demo`` in a
    # process of its own (``simulator_common.start_child``); empty: ``start`` in the demo's.
    module: str = ""


@dataclass(frozen=True, slots=True)
class AdapterKind:
    """One backend kind, as the adapters and the gateway see it."""

    name: str  # the config's ``kind = "..."``
    description: str  # the GraphQL ``BackendKind`` value's description
    factory: SourceFactory
    schema: str  # its GraphQL part, ``"module:attribute"`` (a ``schema.plugin.SchemaPart``)
    compat: CompatKind | None = None  # its ``/rest/<backend>/`` router; None: no compat mount
    config: Mapping[str, ConfigKey] = field(default_factory=dict)  # kind-specific keys
    demo: Demo | None = None

    @property
    def enum_name(self) -> str:
        """Its ``BackendKind`` value: ``patchwork-fdo`` → ``PATCHWORK_FDO``."""
        return self.name.upper().replace("-", "_")


def by_name(kinds: Sequence[AdapterKind]) -> dict[str, AdapterKind]:
    """``kinds`` by name; two kinds with one name (or one enum value) are a mistake."""
    found: dict[str, AdapterKind] = {}
    enums: set[str] = set()
    for kind in kinds:
        if kind.name in found or kind.enum_name in enums:
            raise ValueError(f"backend kind {kind.name!r} is registered twice")
        found[kind.name] = kind
        enums.add(kind.enum_name)
    return found
