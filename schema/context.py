"""The per-request context every resolver sees, and its request-scoped DataLoaders.

``Context`` is built by the gateway for each request (``gateway/context.py``); loaders are
created lazily per (backend, entity) inside it, so batching and de-duplication never cross
requests and a record fetched once is reused for the rest of the query.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

import strawberry
from aiodataloader import DataLoader

from adapters import base
from adapters.breaker import Breakers
from adapters.errors import UpstreamError
from adapters.model import Bundle, Check, Cover, Patch, Person, Project, Revision, Series
from schema.errors import UserInputError
from schema.live import EventHub
from schema.request import RequestMeta

P = TypeVar("P")


@runtime_checkable
class AnonymousViewing(Protocol):
    """A source that can show a backend as its anonymous users see it (ABF: without hidden
    projects), where the gateway's own credential sees more."""

    def anonymous_view(self) -> base.Source:
        """The view (the same object each time, so pollers and caches are shared)."""
        ...


@runtime_checkable
class WriteAccess(Protocol):
    """The gateway's access policy as the caller's view of the backends carries it
    (``gateway/callers.py`` ``CallerSources``)."""

    def may_write(self, name: str) -> bool:
        """Whether the caller's writes to backend ``name`` are let through."""
        ...


@dataclass
class Context:
    """What a resolver may use: the configured backends and this request's loaders."""

    sources: Mapping[str, base.Source]
    public_url: str | None = None
    budget: float = 10.0  # seconds a backend may take in a federated list
    breakers: Breakers | None = None  # shared by every request of the app
    hub: EventHub | None = None  # live-event pollers, shared by every subscription
    meta: RequestMeta = field(default_factory=RequestMeta)  # request id, caller, cost budget
    _loaders: dict[tuple[str, str], DataLoader[str, Any]] = field(default_factory=dict)
    partial_errors: list[tuple[list[str | int], UpstreamError]] = field(default_factory=list)
    _placements: dict[str, base.Placement] = field(default_factory=dict)

    def report(self, info: Any, error: UpstreamError) -> None:
        """Record a backend failure that must not fail the field (federated lists)."""
        self.partial_errors.append((info.path.as_list(), error))

    def source(self, name: str) -> base.Source:
        """The backend called ``name``, or a ``BACKEND_NOT_FOUND`` error. An anonymous
        caller gets the backend as its anonymous users see it, where the kind has such a
        view: the one place every resolver reaches a backend through."""
        try:
            src = self.sources[name]
        except KeyError:
            known = ", ".join(sorted(self.sources)) or "none"
            raise UserInputError(
                f"no backend named {name!r} (configured: {known})", "BACKEND_NOT_FOUND"
            ) from None
        return self._anonymous(src) if self.meta.anonymous else src

    @staticmethod
    def _anonymous(src: base.Source) -> base.Source:
        return src.anonymous_view() if base.provides(src, AnonymousViewing) else src

    def capable(self, name: str, port: type[P], what: str) -> P:
        """Backend ``name`` as a ``port`` implementation, or a clear error that it is not one."""
        src = self.source(name)
        if not base.provides(src, port):
            raise UserInputError(
                f"backend {name!r} ({src.kind}) does not provide {what}", "UNSUPPORTED"
            )
        return src

    def may_write(self, name: str) -> bool:
        """Whether the access policy lets this caller write to backend ``name`` (no policy:
        every write is; the backend still decides with the credential used)."""
        policy = self.sources
        return policy.may_write(name) if base.provides(policy, WriteAccess) else True

    def all_capable(self, port: type[P]) -> list[tuple[str, P]]:
        """Every backend implementing ``port``, in configuration order."""
        if not self.meta.anonymous:
            return [(n, s) for n, s in self.sources.items() if base.provides(s, port)]
        views = [(n, self._anonymous(s)) for n, s in self.sources.items()]
        return [(n, v) for n, v in views if base.provides(v, port)]

    async def load(
        self,
        backend: str,
        entity: str,
        batch: Callable[[Sequence[str]], Awaitable[Any]],
        key: str,
    ) -> Any:
        """``key`` through the request's loader for ``(backend, entity)``: batched and
        de-duplicated within the request."""
        return await self._loader(backend, entity, batch).load(key)

    def _loader(
        self, backend: str, entity: str, batch: Callable[[Sequence[str]], Awaitable[Any]]
    ) -> DataLoader[str, Any]:
        key = (backend, entity)
        loader = self._loaders.get(key)
        if loader is None:

            async def load(keys: list[str]) -> list[Any]:
                return list(await batch(keys))

            loader = DataLoader(load, max_batch_size=100)
            self._loaders[key] = loader
        return loader

    async def patch(self, backend: str, native_id: str) -> Patch | None:
        """One patch's detail, batched per request."""
        src = self.capable(backend, base.PatchReader, "patches")
        result: Patch | None = await self._loader(backend, "patch", src.get_patches).load(native_id)
        return result

    async def checks(self, backend: str, patch_id: str) -> list[Check]:
        """One patch's checks, batched per request. On revision-tracking backends (fdo) they
        are the test results of the patch's latest revision, loaded through the same loaders
        as ``currentRevision`` and ``Revision.testResults`` so a query asking for several of
        them places each patch once."""
        tracking = self.source(backend)
        if base.provides(tracking, base.RevisionReader):
            rev = await self.patch_revision(backend, patch_id)
            if rev is None:
                return []
            placement = self.placement(backend)
            batch = (
                placement.revision_test_results
                if placement is not None
                else tracking.revision_test_results
            )
            found: list[Check] = await self._loader(backend, "test-results", batch).load(rev.key)
            return found
        src = self.capable(backend, base.PatchReader, "checks")
        result: list[Check] = await self._loader(backend, "checks", src.patch_checks).load(patch_id)
        return result

    async def patch_revision(self, backend: str, patch_id: str) -> Revision | None:
        """The latest revision holding a patch (revision-tracking backends only; ``None``
        elsewhere or when no revision holds it), batched per request."""
        src = self.source(backend)
        if not base.provides(src, base.RevisionReader):
            return None
        placement = self.placement(backend)
        batch = placement.patch_revisions if placement is not None else src.patch_revisions
        rev: Revision | None = await self._loader(backend, "patch-revision", batch).load(patch_id)
        return rev

    def placement(self, backend: str) -> base.Placement | None:
        """This request's placement on ``backend`` where its kind can warm one (a federated
        list warms it, ``schema/changes.py``; the patch-revision loader reuses its reads)."""
        found = self._placements.get(backend)
        if found is None:
            src = self.source(backend)
            if not base.provides(src, base.WarmPlacer):
                return None
            found = self._placements[backend] = src.placement()
        return found

    async def series(self, backend: str, native_id: str) -> Series | None:
        """One series, batched per request."""
        src = self.capable(backend, base.SeriesReader, "series")
        result: Series | None = await self._loader(backend, "series", src.get_series).load(
            native_id
        )
        return result

    async def cover(self, backend: str, native_id: str) -> Cover | None:
        """One cover letter, batched per request."""
        src = self.capable(backend, base.SeriesReader, "cover letters")
        result: Cover | None = await self._loader(backend, "cover", src.get_covers).load(native_id)
        return result

    async def project(self, backend: str, native_id: str) -> Project | None:
        """One project, batched per request."""
        src = self.capable(backend, base.ProjectReader, "projects")
        result: Project | None = await self._loader(backend, "project", src.get_projects).load(
            native_id
        )
        return result

    async def person(self, backend: str, native_id: str) -> Person | None:
        """One person or user account, batched per request. Patchwork shows people and user
        accounts (their emails) to authenticated users only: not to anonymous callers, whom
        the gateway's credential must not stand in for."""
        if self.meta.anonymous and self.source(backend).kind == "patchwork":
            return None
        src = self.capable(backend, base.PersonReader, "people")
        result: Person | None = await self._loader(backend, "person", src.get_people).load(
            native_id
        )
        return result

    async def bundle(self, backend: str, native_id: str) -> Bundle | None:
        """One bundle, batched per request."""
        src = self.capable(backend, base.BundleReader, "bundles")
        result: Bundle | None = await self._loader(backend, "bundle", src.get_bundles).load(
            native_id
        )
        if result is not None and not result.public and self.meta.anonymous:
            return None  # the gateway account's private bundle: as Patchwork, not found
        return result


Info = strawberry.Info[Context, None]


def pick_backend(
    info: Info, name: str | None, port: type[Any], what: str, hint: str = "set filter.backend"
) -> str:
    """The backend a single-backend list runs on: the named one, or the only capable one
    (``hint``: how the caller names one when several are)."""
    if name:
        info.context.capable(name, port, what)
        return name
    capable = [n for n, _ in info.context.all_capable(port)]
    if len(capable) == 1:
        return capable[0]
    if not capable:
        raise UserInputError(f"no configured backend provides {what}", "UNSUPPORTED")
    raise UserInputError(
        f"several backends provide {what} ({', '.join(capable)}): {hint}", "BACKEND_REQUIRED"
    )
