"""Backend sources for the app's lifetime: built from settings, opened at start, closed at stop."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from adapters.base import Source
from adapters.http import Credentials
from adapters.registry import BackendSpec, build_source
from gateway.settings import BackendSettings, Settings

log = logging.getLogger("revgate")


def spec_of(backend: BackendSettings) -> BackendSpec:
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
        max_response_bytes=backend.max_response_bytes,
    )


def build_sources(settings: Settings) -> dict[str, Source]:
    """One source per configured backend, in configuration order (not yet opened)."""
    return {b.name: build_source(spec_of(b)) for b in settings.backends}


@contextlib.asynccontextmanager
async def open_sources(sources: dict[str, Source]) -> AsyncIterator[dict[str, Source]]:
    """Open every source's pooled session; close them all on the way out."""
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
