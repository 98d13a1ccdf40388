"""Backend sources built from settings (opened and closed by ``gateway.reload.Backends``)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from adapters.base import Source
from adapters.http import Credentials
from adapters.registry import BackendSpec, RequestHook, build_source
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


def build_sources(
    settings: Settings, hooks: Callable[[str], RequestHook] | None = None
) -> dict[str, Source]:
    """One source per configured backend, in configuration order (not yet opened).

    ``hooks(name)`` gives the upstream-request hook of backend ``name`` (metrics).
    """
    return {
        b.name: build_source(spec_of(b), hooks(b.name) if hooks else None)
        for b in settings.backends
    }
