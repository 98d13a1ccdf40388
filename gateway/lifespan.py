"""Backend sources for the app's lifetime: built from settings, opened at start, closed at stop."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from adapters.base import Source
from adapters.cache import Cache, open_cache
from adapters.http import Credentials
from adapters.registry import BackendSpec, build_source
from gateway.settings import BackendSettings, Settings

log = logging.getLogger("revgate")


def spec_of(backend: BackendSettings, cache: Cache | None = None) -> BackendSpec:
    """The adapter-level description of one configured backend."""
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
        cache_ttl=backend.cache_ttl,
        cache=cache,
    )


def build_cache(settings: Settings) -> Cache | None:
    """The response-cache store of ``[cache]``; None when no backend has ``cache_ttl > 0``.

    A Redis store opens no connection here (redis-py connects on first use); close it with
    ``open_sources(…, cache)`` or ``await cache.close()``.
    """
    if not any(b.cache_ttl > 0 for b in settings.backends):
        return None
    conf = settings.cache
    return open_cache(conf.url, max_entries=conf.max_entries, max_bytes=conf.max_bytes)


def build_sources(settings: Settings, cache: Cache | None = None) -> dict[str, Source]:
    """One source per configured backend, in configuration order (not yet opened).

    ``cache`` is the store shared by the backends whose ``cache_ttl`` is > 0 (see
    ``build_cache``); without one nothing is cached.
    """
    return {b.name: build_source(spec_of(b, cache)) for b in settings.backends}


@contextlib.asynccontextmanager
async def open_sources(
    sources: dict[str, Source], cache: Cache | None = None
) -> AsyncIterator[dict[str, Source]]:
    """Open every source's pooled session; close them all (and ``cache``) on the way out."""
    opened: list[Source] = []
    try:
        for source in sources.values():
            await source.open()
            opened.append(source)
        log.info("backends ready: %s", ", ".join(sources) or "none")
        yield sources
    finally:
        for source in opened:
            await source.close()
        if cache is not None:
            await cache.close()
