"""Backend sources and compat routers by kind, derived from the kind descriptors.

``build_source`` turns one configured backend instance (plain values, so that adapters do not
depend on the gateway's settings type) into a ``Source`` with its own pooled HTTP client, with
the factory of its kind. The kinds are ``adapters/kinds.py`` unless a caller passes its own
list (the gateway passes the list its settings were checked against: ``Settings.kinds``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from adapters.base import Source
from adapters.compat import CompatKind
from adapters.http import HttpClient, HttpConfig
from adapters.kinds import KINDS
from adapters.plugin import AdapterKind, BackendSpec, SourceFactory, by_name

__all__ = ["COMPAT_ROUTERS", "FACTORIES", "BackendSpec", "RequestHook", "build_source"]

RequestHook = Callable[[str, str, int | None, float], None]


def factories(kinds: Sequence[AdapterKind]) -> dict[str, SourceFactory]:
    """Kind name → its source factory."""
    return {name: kind.factory for name, kind in by_name(kinds).items()}


def compat_routers(kinds: Sequence[AdapterKind]) -> dict[str, CompatKind]:
    """Kind name → its REST compatibility router (``/rest/<backend>/…``, see
    adapters/compat.py and docs/compat.md); a kind without one has no compat mount."""
    return {name: k.compat for name, k in by_name(kinds).items() if k.compat is not None}


FACTORIES: dict[str, SourceFactory] = factories(KINDS)
COMPAT_ROUTERS: dict[str, CompatKind] = compat_routers(KINDS)


def build_source(
    spec: BackendSpec,
    on_request: RequestHook | None = None,
    kinds: Sequence[AdapterKind] = KINDS,
) -> Source:
    """A source for ``spec``; its HTTP session is opened by ``open_source``."""
    found = by_name(kinds).get(spec.kind)
    if found is None:
        raise ValueError(f"backend {spec.name!r}: kind {spec.kind!r} is not supported")
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
        coalesce_reads=spec.coalesce_reads,
    )
    return found.factory(spec, HttpClient(config, on_request=on_request, cache=spec.cache))
