"""The per-request context every resolver sees, and its request-scoped DataLoaders.

``Context`` is built by the gateway for each request (``gateway/context.py``); loaders are
created lazily per (backend, entity) inside it, so batching and de-duplication never cross
requests and a record fetched once is reused for the rest of the query.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

import strawberry
from graphql import FieldNode, FragmentSpreadNode

from adapters import base
from adapters.breaker import Breakers
from adapters.errors import UpstreamError
from adapters.model import (
    Bundle,
    Check,
    CheckState,
    Cover,
    Patch,
    Person,
    Project,
    Revision,
    Series,
)
from adapters.people import Directory
from schema.errors import UserInputError
from schema.execution.strawberry_private import selection_nodes
from schema.live import EventHub
from schema.loader import Loader
from schema.request import RequestMeta

P = TypeVar("P")

# What ``Context.known`` answers for a read no prefetch settled (its field must load it).
UNKNOWN: Any = object()


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
    people: Directory = field(default_factory=Directory)  # the [[people]] identity map
    _loaders: dict[tuple[str, str], Loader[Any, Any]] = field(default_factory=dict)
    # This context serves one operation alone (a plain POST's, ``schema/lean.py``): while its
    # only root field starts, nothing else of the request can be reading.
    solo: bool = False
    # Set by ``resolve_node`` for such a field's one record read: the next ``_one`` reads at
    # once instead of waiting two loop turns for keys that cannot come (then it is unset).
    read_now: bool = False
    partial_errors: list[tuple[list[str | int], UpstreamError | UserInputError]] = field(
        default_factory=list
    )
    # Notes for the response's ``extensions.notices`` (e.g. why a list is empty by design).
    notices: list[dict[str, Any]] = field(default_factory=list)
    _asked_patches: dict[str, dict[str, Patch]] = field(default_factory=dict)
    _presence_ahead: dict[str, object] = field(default_factory=dict)  # expect_check_presence
    _placements: dict[str, base.Placement] = field(default_factory=dict)
    _settled: dict[tuple[str, str, str], Any] = field(default_factory=dict)

    def notice(self, info: Any, code: str, message: str) -> None:
        """Say something about a field's answer that is not an error (``extensions.notices``)."""
        self.notices.append({"path": info.path.as_list(), "code": code, "message": message})

    def report(self, info: Any, error: UpstreamError | UserInputError, *at: str | int) -> None:
        """Record a failure that must not fail the field (federated lists; one id of
        ``nodes``: ``at`` extends the field's path to the item)."""
        self.partial_errors.append(([*info.path.as_list(), *at], error))

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

    def loader(
        self, backend: str, entity: str, batch: Callable[[Sequence[Any]], Awaitable[Any]]
    ) -> Loader[Any, Any]:
        """The request's loader for ``(backend, entity)``, for keys that are not plain ids
        (``schema/related.py``: one loader across backends, ``backend="*"``)."""
        return self._loader(backend, entity, batch)

    def _loader(
        self, backend: str, entity: str, batch: Callable[[Sequence[str]], Awaitable[Any]]
    ) -> Loader[Any, Any]:
        key = (backend, entity)
        loader = self._loaders.get(key)
        if loader is None:
            loader = self._loaders[key] = Loader(batch, max_batch_size=100)
        return loader

    def _one(self, loader: Loader[str, Any], key: str) -> Awaitable[Any]:
        """``loader.load(key)``, or its read alone at once the first time after ``read_now``."""
        if self.read_now:
            self.read_now = False
            return loader.load_now(key)
        return loader.load(key)

    async def patch(self, backend: str, native_id: str) -> Patch | None:
        """One patch's detail, batched per request."""
        src = self.capable(backend, base.PatchReader, "patches")
        result: Patch | None = await self._one(
            self._loader(backend, "patch", src.get_patches), native_id
        )
        return result

    async def checks(self, backend: str, patch_id: str) -> list[Check]:
        """One patch's checks, batched per request. On revision-tracking backends (fdo) they
        are the test results of the patch's latest revision, loaded through the same loaders
        as ``currentRevision`` and ``Revision.testResults`` so a query asking for several of
        them places each patch once."""
        tracking = self.source(backend)
        if base.provides(tracking, base.RevisionReader):
            rev = await self.patch_revision(backend, patch_id)
            return [] if rev is None else await self.test_results(backend, rev.key)
        src = self.capable(backend, base.PatchReader, "checks")
        result: list[Check] = await self._loader(backend, "checks", src.patch_checks).load(patch_id)
        return result

    def checks_ahead(self, backend: str, patches: Iterable[Patch]) -> None:
        """Start loading the checks of ``patches`` (a backend that keeps checks per patch)
        through the request's loader, without waiting: ``checks`` then finds them read or
        being read. Patches known to have none are not read. A failure is left for the
        field to report."""
        src = self.source(backend)
        if not base.provides(src, base.PatchReader):
            return
        loader = self._loader(backend, "checks", src.patch_checks)
        for patch in patches:
            if not self.without_checks(patch):
                loader.load(patch.id).add_done_callback(base.retrieved)

    def without_checks(self, patch: Patch) -> bool:
        """Whether ``patch`` is known to have no check at all, so its ``checks`` are ``[]``
        without a read: on a backend whose presence is told by its event log (upstream
        Patchwork, ``CheckPresence``), a change list's patch whose state that log left
        unset (``activity.Activity.of``), or a listed "pending" patch whose presence read
        found none (``prefetch_check_presence``)."""
        state = patch.check_state
        if state is not None and state is not CheckState.PENDING:
            return False  # a told state: there are checks
        if not base.provides(self.source(patch.backend), base.CheckPresence):
            return False
        if patch.__class__ is Patch:  # a failed presence read is the checkState's to report
            found = self._settled.get((patch.backend, "has-checks", patch.id))
            return state is CheckState.PENDING and found is False
        # told by the log: the server's own word was "pending" (an unknown or missing word
        # also maps to no state, and proves nothing)
        return state is None and patch.raw.get("check") == "pending"

    async def has_checks(self, patch: Patch) -> bool:
        """Whether ``patch`` has any check (``CheckPresence`` backends), batched per request:
        the patches asked together cost one upstream read."""
        found: bool = await self._has_checks(patch)
        return found

    def _has_checks(self, patch: Patch) -> Awaitable[bool]:
        """``has_checks``'s answer as the request loader's future (no coroutine, no task)."""
        return self._presence(patch).load(patch.id)

    def _presence(self, patch: Patch) -> Loader[str, bool]:
        """The request's check-presence loader of ``patch``'s backend, ``patch`` asked."""
        backend = patch.backend
        src = self.capable(backend, base.CheckPresence, "check presence")
        asked = self._asked_patches.setdefault(backend, {})
        asked[patch.id] = patch

        async def batch(ids: Sequence[str]) -> list[bool]:
            ahead = self._presence_ahead.pop(backend, None)
            return await src.patches_with_checks([asked[i] for i in ids], ahead)

        return self._loader(backend, "has-checks", batch)

    def known_checks(self, patch: Patch) -> bool | None:
        """What ``prefetch_check_presence`` found for ``patch`` (``None``: not asked); its
        failure is raised here, so the field reports it without waiting on anything."""
        found = self.known(patch.backend, "has-checks", patch.id)
        return None if found is UNKNOWN else bool(found)

    def expect_check_presence(self, backend: str, flt: base.PatchFilter) -> None:
        """Before reading the list ``flt`` of ``backend`` whose presence will be asked
        (``prefetch_check_presence``): let the backend issue its presence read alongside."""
        src = self.source(backend)
        if base.provides(src, base.CheckPresence):
            self._presence_ahead[backend] = src.expect_checks(flt)

    async def prefetch_check_presence(self, records: Iterable[Any], alone: bool = False) -> None:
        """Ask ``has_checks`` for every listed patch whose backend's word is "pending", all
        at once (one read), so that their ``checkState`` answers without waiting (the fast
        path then plans the list). A failure is left for the field to report. ``alone``:
        asked by the only field of a ``solo`` operation, whose reads nothing else can join:
        they go out at once, not two loop turns later."""
        pending = {
            (r.backend, r.id): r
            for r in records
            if r.__class__ is Patch  # a change list's patches (TrackedPatch) come with it told
            and r.check_state is CheckState.PENDING
            and base.provides(self.source(r.backend), base.CheckPresence)
        }
        asking = {backend for backend, _ in pending}
        for backend in [b for b in self._presence_ahead if b not in asking]:
            # nothing to ask: the backend learns that this list needed no read
            src = self.capable(backend, base.CheckPresence, "check presence")
            await src.patches_with_checks([], self._presence_ahead.pop(backend))
        if pending and alone and len(asking) == 1:  # several: their reads go out together
            await self._presence_now(pending)
        elif pending:
            # the loader's futures, gathered as they are: a list's pending patches (a third
            # of a page) make no task each
            await self.prefetch(
                "has-checks",
                lambda backend, key: self._has_checks(pending[(backend, key)]),
                pending,
            )

    async def _presence_now(self, pending: dict[tuple[str, str], Patch]) -> None:
        """``prefetch``'s settling of ``has_checks`` for ``pending`` (one backend's patches),
        their batch run here at once (``Loader.ask_now``)."""
        asked = list(pending.values())
        loader = self._presence(asked[0])
        known = self._asked_patches[asked[0].backend]
        for patch in asked:
            known[patch.id] = patch
        futures = await loader.ask_now([p.id for p in asked])
        for patch, future in zip(asked, futures, strict=True):
            try:
                answer: Any = await future
            except Exception as exc:  # as ``prefetch`` keeps it: raised by ``known``
                answer = exc
            self._settled[(patch.backend, "has-checks", patch.id)] = answer

    async def prefetch(
        self,
        entity: str,
        load: Callable[[str, str], Awaitable[Any]],
        keys: Iterable[tuple[str, str]],
    ) -> None:
        """Load ``(backend, key)`` pairs through ``load`` (one of this context's loading
        methods: the same request loaders its fields use, so nothing is read twice), all at
        once, and keep the answers for ``known``: a field that finds its answer there needs no
        await, so the fast path plans the list instead of graphql-core completing it."""
        asked = list(dict.fromkeys(keys))
        found = await asyncio.gather(*(load(b, k) for b, k in asked), return_exceptions=True)
        for (backend, key), answer in zip(asked, found, strict=True):
            if isinstance(answer, BaseException) and not isinstance(answer, Exception):
                raise answer  # cancelled: the request is going away
            self._settled[(backend, entity, key)] = answer

    def known(self, backend: str, entity: str, key: str) -> Any:
        """What ``prefetch`` settled for ``(backend, entity, key)``, ``UNKNOWN`` when none
        did; a failed load is raised here, as awaiting it would raise it."""
        found = self._settled.get((backend, entity, key), UNKNOWN)
        if isinstance(found, Exception):
            raise found
        return found

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

    async def test_results(self, backend: str, key: str) -> list[Check]:
        """A revision's test results, batched per request, through this request's placement
        where there is one (what ``warm`` read, and none that a series list showed untested)."""
        src = self.capable(backend, base.RevisionReader, "test results")
        placement = self.placement(backend)
        batch = (
            placement.revision_test_results if placement is not None else src.revision_test_results
        )
        found: list[Check] = await self._loader(backend, "test-results", batch).load(key)
        return found

    def listed_check_state(
        self, backend: str, rev: Revision | None
    ) -> tuple[CheckState | None] | None:
        """The rollup of a placed revision's test results without reading them: ``(None,)``
        for no revision (no checks), the state a series list this request's placement read
        tells (``base.Placement.listed_state``), else ``None``."""
        if rev is None:
            return (None,)
        placement = self._placements.get(backend)
        return placement.listed_state(rev.key) if placement is not None else None

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
        result: Series | None = await self._one(
            self._loader(backend, "series", src.get_series), native_id
        )
        return result

    async def cover(self, backend: str, native_id: str) -> Cover | None:
        """One cover letter, batched per request."""
        src = self.capable(backend, base.SeriesReader, "cover letters")
        result: Cover | None = await self._one(
            self._loader(backend, "cover", src.get_covers), native_id
        )
        return result

    async def project(self, backend: str, native_id: str) -> Project | None:
        """One project, batched per request."""
        src = self.capable(backend, base.ProjectReader, "projects")
        result: Project | None = await self._one(
            self._loader(backend, "project", src.get_projects), native_id
        )
        return result

    async def person(self, backend: str, native_id: str) -> Person | None:
        """One person or user account, batched per request. A backend showing people to
        authenticated users only (``base.PrivatePeople``: Patchwork) shows none to anonymous
        callers, whom the gateway's credential must not stand in for."""
        src = self.capable(backend, base.PersonReader, "people")
        private = base.provides(src, base.PrivatePeople) and src.people_are_private()
        if self.meta.anonymous and private:
            return None
        result: Person | None = await self._one(
            self._loader(backend, "person", src.get_people), native_id
        )
        return result

    async def bundle(self, backend: str, native_id: str) -> Bundle | None:
        """One bundle, batched per request."""
        src = self.capable(backend, base.BundleReader, "bundles")
        result: Bundle | None = await self._one(
            self._loader(backend, "bundle", src.get_bundles), native_id
        )
        if result is not None and not result.public and self.meta.anonymous:
            return None  # the gateway account's private bundle: as Patchwork, not found
        return result


Info = strawberry.Info[Context, None]


def selects(info: Info, name: str, depth: int = 4) -> bool:
    """Whether the field ``info`` resolves selects a field called ``name`` within ``depth``
    levels (a fragment is a level): e.g. a list whose nodes ask for ``checkState``. Walks
    the query's own nodes (``selected_fields`` would convert the whole selection first)."""
    nodes, fragments = selection_nodes(info)

    def walk(selections: Iterable[Any], left: int) -> bool:
        for sel in selections:
            if type(sel) is FieldNode:
                if sel.name.value == name:
                    return True
                below = sel.selection_set
            elif type(sel) is FragmentSpreadNode:
                fragment = fragments.get(sel.name.value)
                below = fragment.selection_set if fragment is not None else None
            else:  # an inline fragment
                below = sel.selection_set
            if left > 0 and below is not None and walk(below.selections, left - 1):
                return True
        return False

    return walk(nodes, depth)


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
