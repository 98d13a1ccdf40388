"""Backend sources built from settings (opened and closed by ``gateway.reload.Backends``)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from adapters.base import Source
from adapters.cache import Cache, open_cache
from adapters.http import Credentials
from adapters.registry import BackendSpec, RequestHook, build_source
from gateway.settings import BackendSettings, Settings

log = logging.getLogger("revgate")


def spec_of(backend: BackendSettings, cache: Cache | None = None) -> BackendSpec:
    """The adapter-level description of one configured backend (``cache``: the shared store)."""
    return BackendSpec(
        name=backend.name,
        kind=backend.kind,
        url=backend.url,
        credentials=Credentials(
            token=backend.token, username=backend.username, password=backend.password
        ),
        api_version=backend.api_version,
        page_size=backend.page_size,
        timeout=backend.timeout,
        connect_timeout=backend.connect_timeout,
        retries=backend.retries,
        max_body_bytes=backend.max_body_bytes,
        cache_ttl=backend.cache_ttl,
        content_memo=backend.content_memo,
        coalesce_reads=backend.coalesce_reads,
        time_zone=backend.time_zone,
        options=backend.options,
        cache=cache,
    )


def build_cache(settings: Settings) -> Cache:
    """The response-cache store of ``[cache]``, shared by every backend and generation.

    Built even when no backend has ``cache_ttl > 0`` yet (a SIGHUP reload may turn it on;
    the ``[cache]`` table itself needs a restart). A Redis store opens no connection here
    (redis-py connects on first use); the app's lifespan closes it.
    """
    conf = settings.cache
    return open_cache(conf.url, max_entries=conf.max_entries, max_bytes=conf.max_bytes)


def build_sources(
    settings: Settings,
    hooks: Callable[[str], RequestHook] | None = None,
    cache: Cache | None = None,
) -> dict[str, Source]:
    """One source per configured backend, in configuration order (not yet opened).

    ``hooks(name)`` gives the upstream-request hook of backend ``name`` (metrics); ``cache``
    is the store used by the backends whose ``cache_ttl`` is > 0 (none: nothing is cached).
    """
    return {
        b.name: build_source(spec_of(b, cache), hooks(b.name) if hooks else None, settings.kinds)
        for b in settings.backends
    }
