"""The backends one caller sees and may write to, and the access policy they come from.

- A backend configured with ``anonymous = false`` is invisible to anonymous callers: it is
  not listed, and naming it (by name or through a global ID) is an ``UNAUTHENTICATED``
  error rather than "no such backend", so the fix is obvious.
- Writes (GraphQL mutations) use a backend's credential, so they need an identified caller:
  an anonymous caller writes only to backends configured with ``anonymous_writes = true``
  (``UNAUTHENTICATED`` elsewhere) and an API key with ``write = false`` nowhere
  (``FORBIDDEN``). ``WRITING`` is set by ``gateway.guard.OperationGate`` for the duration of
  a mutation; ``CallerSources`` refuses, before any upstream request, to hand out a backend
  the caller may not write to while it is set.
- An API key whose entry has ``backend_tokens = { kernel = "ENV_VAR" }`` gets its own
  source for ``kernel``, built like the configured one but authenticating with that token:
  the caller's writes are made as that user, and the backend enforces that user's rights.

``Policy`` is everything derived from the access settings (API keys, hidden backends,
anonymous writes, caller sources). One is built per configuration generation
(``gateway/reload.py``): each request pins the generation current at its start, and a
reload opens the new policy's caller sources and closes the old ones once the requests
using them are done. ``CallerSources`` is swapped in per request, so the schema, which only
ever looks sources up by name, needs no change.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar

from adapters.base import Source
from adapters.cache import Cache
from adapters.people import Directory
from adapters.registry import RequestHook, build_source
from gateway.auth import Authenticator, Caller
from gateway.lifespan import spec_of
from gateway.settings import Settings
from schema.errors import UserInputError

# True while a mutation executes (set by gateway.guard.OperationGate): sources handed out
# then are written to. A context variable, so concurrent operations never see each other's.
WRITING: ContextVar[bool] = ContextVar("revgate_writing", default=False)


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
                settings.kinds,
            )
        if own:
            result[key.name] = own
    return result


def hidden_backends(settings: Settings) -> frozenset[str]:
    """The backends anonymous callers may not use."""
    return frozenset(b.name for b in settings.backends if not b.anonymous)


def anonymous_writes(settings: Settings) -> frozenset[str]:
    """The backends anonymous callers may write to (visible ones with ``anonymous_writes``)."""
    return frozenset(b.name for b in settings.backends if b.anonymous and b.anonymous_writes)


@dataclasses.dataclass(eq=False)
class Policy:
    """Who may do what under one configuration (see the module docstring)."""

    settings: Settings
    authenticator: Authenticator
    hidden: frozenset[str]
    anonymous_writes: frozenset[str]
    caller_sources: dict[str, dict[str, Source]]

    @functools.cached_property
    def directory(self) -> Directory:
        """The ``[[people]]`` identity map of this configuration (``adapters/people.py``)."""
        return Directory(self.settings.people)

    @classmethod
    def build(
        cls,
        settings: Settings,
        hooks: Callable[[str], RequestHook] | None = None,
        cache: Cache | None = None,
    ) -> Policy:
        """The policy of ``settings``; its caller sources are built, not opened."""
        return cls(
            settings=settings,
            authenticator=Authenticator(settings),
            hidden=hidden_backends(settings),
            anonymous_writes=anonymous_writes(settings),
            caller_sources=build_caller_sources(settings, hooks, cache),
        )

    def all_caller_sources(self) -> dict[str, Source]:
        """Every caller-specific source, named ``<backend> (as <key name>)``, to open/close."""
        return {
            f"{backend} (as {name})": source
            for name, own in self.caller_sources.items()
            for backend, source in own.items()
        }

    def view(self, caller: Caller | None, sources: Mapping[str, Source]) -> Mapping[str, Source]:
        """What ``caller`` may use of ``sources``; the plain mapping when nothing differs."""
        if caller is None:  # no gateway in front (tests, tools): everything
            return sources
        if caller.anonymous:
            hidden = self.hidden & sources.keys()
            writable = self.anonymous_writes & sources.keys()
            if not hidden and writable == sources.keys():
                return sources
            return CallerSources(sources, {}, hidden, writable, "UNAUTHENTICATED")
        own = self.caller_sources.get(caller.name or "", {})
        if caller.can_write:
            return CallerSources(sources, own, frozenset(), None, "") if own else sources
        return CallerSources(sources, own, frozenset(), frozenset(), "FORBIDDEN")


class CallerSources(Mapping[str, Source]):
    """The configured sources as one caller sees them (see the module docstring).

    ``writable`` is the set of backends the caller may write to (``None``: all of them) and
    ``write_code`` the error code of a refused write."""

    def __init__(
        self,
        sources: Mapping[str, Source],
        own: Mapping[str, Source],
        hidden: frozenset[str],
        writable: frozenset[str] | None = None,
        write_code: str = "FORBIDDEN",
    ) -> None:
        self._sources = sources
        self._own = own
        self._hidden = hidden
        self.writable = writable
        self.write_code = write_code

    @property
    def identity(self) -> tuple[object, ...]:
        """Equal for two views that show the same (``schema/shared_runs.py``): one per request
        otherwise. The mappings' ids stay unique while a view that holds them is alive."""
        writable = None if self.writable is None else frozenset(self.writable)
        hidden = frozenset(self._hidden)
        return (id(self._sources), id(self._own), hidden, writable, self.write_code)

    @classmethod
    def for_caller(
        cls,
        caller: Caller | None,
        sources: Mapping[str, Source],
        caller_sources: Mapping[str, Mapping[str, Source]],
        hidden: frozenset[str],
    ) -> Mapping[str, Source]:
        """What ``caller`` may read (writes unrestricted): the pre-policy view, for tests."""
        if caller is None:
            return sources
        if caller.anonymous:
            return cls(sources, {}, hidden & sources.keys()) if hidden else sources
        own = caller_sources.get(caller.name or "", {})
        return cls(sources, own, frozenset()) if own else sources

    def may_write(self, name: str) -> bool:
        """Whether this caller's writes to backend ``name`` are let through
        (``schema.context.WriteAccess``: ``Change.viewerCan``)."""
        return self.writable is None or name in self.writable

    def may_write_any(self) -> bool:
        """Whether some visible backend accepts this caller's writes."""
        return self.writable is None or any(name in self.writable for name in self)

    def write_refusal(self, name: str | None = None) -> UserInputError:
        """The error of a write this caller may not make (to ``name``, or anywhere)."""
        if self.write_code == "UNAUTHENTICATED":
            where = f"backend {name!r}" if name else "these backends"
            return UserInputError(
                f"writing to {where} needs an API key (send Authorization: Bearer <key>)",
                "UNAUTHENTICATED",
            )
        return UserInputError("this API key is read-only: it may not write", "FORBIDDEN")

    def __getitem__(self, name: str) -> Source:
        if name in self._hidden:
            raise UserInputError(
                f"backend {name!r} is only available with an API key "
                f"(send Authorization: Bearer <key>)",
                "UNAUTHENTICATED",
            )
        source = self._sources[name]  # KeyError first: a backend removed by a reload is gone
        if self.writable is not None and name not in self.writable and WRITING.get():
            raise self.write_refusal(name)
        return self._own.get(name, source)

    def __contains__(self, name: object) -> bool:
        return name in self._sources and name not in self._hidden

    def __iter__(self) -> Iterator[str]:
        return (n for n in self._sources if n not in self._hidden)

    def __len__(self) -> int:
        return len(self._sources) - len(self._hidden)
