"""The backends one caller sees: hidden ones for anonymous callers, their own credentials.

- A backend configured with ``anonymous = false`` is invisible to anonymous callers: it is
  not listed, and naming it (by name or through a global ID) is an ``UNAUTHENTICATED``
  error rather than "no such backend", so the fix is obvious.
- An API key whose entry has ``backend_tokens = { kernel = "ENV_VAR" }`` gets its own
  source for ``kernel``, built like the configured one but authenticating with that token:
  the caller's writes are made as that user, and the backend enforces that user's rights.

Caller sources are built once at start-up (``build_caller_sources``), opened and closed with
the others in the app's lifespan, and swapped in per request by ``CallerSources`` — so the
schema, which only ever looks sources up by name, needs no change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping

from adapters.base import Source
from adapters.cache import Cache
from adapters.registry import RequestHook, build_source
from gateway.auth import Caller
from gateway.lifespan import spec_of
from gateway.settings import Settings
from schema.errors import UserInputError


def build_caller_sources(
    settings: Settings,
    hooks: Callable[[str], RequestHook] | None = None,
    cache: Cache | None = None,
) -> dict[str, dict[str, Source]]:
    """``{api key name: {backend name: source with that caller's token}}`` (not opened);
    ``hooks(name)`` is backend ``name``'s upstream-request hook (metrics) and ``cache`` the
    shared response cache, as for the configured sources. Cache keys include the credentials
    in effect, so a caller never reads another's entries; a caller's write invalidates the
    backend's entries for everyone (the store invalidates per backend name)."""
    backends = {b.name: b for b in settings.backends}
    result: dict[str, dict[str, Source]] = {}
    for key in settings.api_keys:
        own: dict[str, Source] = {}
        for backend, token in key.backend_tokens:
            spec = spec_of(backends[backend], cache)
            credentials = dataclasses.replace(
                spec.credentials, token=token, username=None, password=None
            )
            own[backend] = build_source(
                dataclasses.replace(spec, credentials=credentials),
                hooks(backend) if hooks else None,
            )
        if own:
            result[key.name] = own
    return result


def hidden_backends(settings: Settings) -> frozenset[str]:
    """The backends anonymous callers may not use."""
    return frozenset(b.name for b in settings.backends if not b.anonymous)


class CallerSources(Mapping[str, Source]):
    """The configured sources as one caller sees them (see the module docstring)."""

    def __init__(
        self, sources: Mapping[str, Source], own: Mapping[str, Source], hidden: frozenset[str]
    ) -> None:
        self._sources = sources
        self._own = own
        self._hidden = hidden

    @classmethod
    def for_caller(
        cls,
        caller: Caller | None,
        sources: Mapping[str, Source],
        caller_sources: Mapping[str, Mapping[str, Source]],
        hidden: frozenset[str],
    ) -> Mapping[str, Source]:
        """What ``caller`` may use; the plain mapping when nothing differs."""
        if caller is None:
            return sources
        if caller.anonymous:
            return cls(sources, {}, hidden & sources.keys()) if hidden else sources
        own = caller_sources.get(caller.name or "", {})
        return cls(sources, own, frozenset()) if own else sources

    def __getitem__(self, name: str) -> Source:
        if name in self._hidden:
            raise UserInputError(
                f"backend {name!r} is only available with an API key "
                f"(send Authorization: Bearer <key>)",
                "UNAUTHENTICATED",
            )
        source = self._sources[name]  # KeyError first: a backend removed by a reload is gone
        return self._own.get(name, source)

    def __contains__(self, name: object) -> bool:
        return name in self._sources and name not in self._hidden

    def __iter__(self) -> Iterator[str]:
        return (n for n in self._sources if n not in self._hidden)

    def __len__(self) -> int:
        return len(self._sources) - len(self._hidden)
