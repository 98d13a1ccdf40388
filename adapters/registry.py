"""Backend kinds and their factories: adding a forge is its package plus one line here.

``build_source`` turns one configured backend instance (plain values, so that adapters do not
depend on the gateway's settings type) into a ``Source`` with its own pooled HTTP client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from adapters.abf import rest as abf_rest
from adapters.abf.source import create_source as create_abf
from adapters.base import Source
from adapters.cache import Cache
from adapters.compat import CompatKind
from adapters.gerrit import rest as gerrit_rest
from adapters.gerrit.source import create_source as create_gerrit
from adapters.http import Credentials, HttpClient, HttpConfig
from adapters.patchwork import rest as patchwork_rest
from adapters.patchwork.source import create_source as create_patchwork
from adapters.patchwork_fdo import rest as fdo_rest
from adapters.patchwork_fdo.source import create_source as create_patchwork_fdo


@dataclass(frozen=True, slots=True)
class BackendSpec:
    """What the registry needs to build one backend instance."""

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
    time_zone: str = "UTC"  # Patchwork kinds: the server's TIME_ZONE (naive server-clock dates)


RequestHook = Callable[[str, str, int | None, float], None]


def _patchwork(spec: BackendSpec, http: HttpClient) -> Source:
    return create_patchwork(
        spec.name,
        spec.url,
        http,
        api_version=spec.api_version,
        page_size=spec.page_size,
        time_zone=spec.time_zone,
    )


FACTORIES: dict[str, Callable[[BackendSpec, HttpClient], Source]] = {
    "patchwork": _patchwork,
    "patchwork-fdo": lambda spec, http: create_patchwork_fdo(
        spec.name, spec.url, http, page_size=spec.page_size, time_zone=spec.time_zone
    ),
    "abf": lambda spec, http: create_abf(spec.name, spec.url, http),
    "gerrit": lambda spec, http: create_gerrit(spec.name, spec.url, http, page_size=spec.page_size),
}


def build_source(spec: BackendSpec, on_request: RequestHook | None = None) -> Source:
    """A source for ``spec``; its HTTP session is opened by its ``open()`` (the app's lifespan)."""
    try:
        factory = FACTORIES[spec.kind]
    except KeyError:
        raise ValueError(f"backend {spec.name!r}: kind {spec.kind!r} is not supported") from None
    config = HttpConfig(
        backend=spec.name,
        base_url=spec.url,
        credentials=spec.credentials,
        connect_timeout=spec.connect_timeout,
        read_timeout=spec.timeout,
        retries=spec.retries,
        max_body_bytes=spec.max_body_bytes,
        cache_ttl=spec.cache_ttl,
        content_memo=spec.content_memo,
    )
    return factory(spec, HttpClient(config, on_request=on_request, cache=spec.cache))


# Backend kind → its REST compatibility router (``/rest/<backend>/…``, see adapters/compat.py
# and docs/compat.md); a kind without an entry has no compat mount.
COMPAT_ROUTERS: dict[str, CompatKind] = {
    "patchwork": CompatKind(router=patchwork_rest.router),
    "patchwork-fdo": CompatKind(router=fdo_rest.router, presented=fdo_rest.presented),
    "abf": CompatKind(router=abf_rest.router, presented=abf_rest.presented),
    "gerrit": CompatKind(router=gerrit_rest.router, presented=gerrit_rest.presented),
}
