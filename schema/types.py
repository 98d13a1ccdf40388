"""The GraphQL object types of the unified model, built from ``adapters.model`` records.

Each type keeps its record in a private field and exposes what the record already holds as
plain attributes (cheap to resolve); only what needs another upstream read is a resolver, and
those go through the request's loaders. GraphQL types never build URLs or call HTTP.

The leaf types (``BackendKind``, ``ChangeState``, ``CheckState``, ``Node``, ``Backend``,
``backend_of``, ``Person``, ``Check``, ``Comment``) live in ``schema/types_base.py`` and are
re-exported here; this module keeps projects, changes, patches and the patch filter. Cover
letters, series and bundles are in ``schema/types_series.py``, events in
``schema/types_events.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import strawberry
from strawberry.types.nodes import SelectedField

from adapters import base, links, model
from adapters.model import Page
from schema import descriptions as doc
from schema import node
from schema.context import UNKNOWN, Info, selects
from schema.descriptions import After, First
from schema.execution.projection import RESOLVE, shortcut
from schema.pagination import Connection, connection, page_request
from schema.types_base import Backend as Backend
from schema.types_base import BackendKind as BackendKind
from schema.types_base import ChangeState as ChangeState
from schema.types_base import Check as Check
from schema.types_base import CheckState as CheckState
from schema.types_base import Comment as Comment
from schema.types_base import Node as Node
from schema.types_base import Person as Person
from schema.types_base import backend_field
from schema.types_base import backend_of as backend_of
from schema.unified import record_field, unified
from schema.viewer import ViewerCan, resolve_viewer_can

if TYPE_CHECKING:
    from schema.changes import ChangeConnection, ChangeFilterInput, ChangeOrder
    from schema.related import ChangeLink
    from schema.revisions import Revision
    from schema.types_series import Series


@unified(model.Project, node_kind="Project", resolvers=("backend",))
@strawberry.type(description="A project on one backend.")
class Project(Node):
    name: str = strawberry.field(description="The project's display name.")
    link_name: str = strawberry.field(
        description="The project's short name on its backend (Patchwork link name, Gerrit "
        "project, ABF owner/name): `project(backend:, linkName:)` finds it."
    )
    web_url: str | None = strawberry.field(description=doc.WEB_URL)
    list_email: str | None = strawberry.field(
        description="The mailing list patches are sent to (Patchwork; null elsewhere)."
    )
    list_id: str | None = strawberry.field(
        description="The mailing list's List-Id (Patchwork; null elsewhere)."
    )
    scm_url: str | None = strawberry.field(
        description="The repository's clone URL (null: the backend gives none)."
    )
    webscm_url: str | None = strawberry.field(
        description="The repository's web browser URL (null: the backend gives none)."
    )
    list_archive_url: str | None = strawberry.field(
        description="The mailing list archive (Patchwork 1.2+; null elsewhere)."
    )
    _r: strawberry.Private[model.Project]

    backend: Backend = backend_field()

    @strawberry.field(
        description="This project's changes, newest update first (one upstream request per "
        "project)."
    )
    async def changes(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        # The argument's description is read only from an annotation that evaluates when the
        # class is decorated: the lazy types are named by strings inside it.
        filter: Annotated[
            Annotated["ChangeFilterInput", strawberry.lazy("schema.changes")] | None,  # noqa: UP037
            strawberry.argument(description="Narrow the list; null: every change."),
        ] = None,
        order_by: Annotated[
            Annotated["ChangeOrder", strawberry.lazy("schema.changes")] | None,  # noqa: UP037
            strawberry.argument(description="Null: newest update first."),
        ] = None,
    ) -> Annotated[ChangeConnection, strawberry.lazy("schema.changes")]:
        from schema.changes import resolve_changes

        return await resolve_changes(info, first, after, filter, order_by, self._r)

    @strawberry.field(
        description="Patches of this project. One upstream request per project on Patchwork "
        "kinds; elsewhere an empty list, no request, and a NO_PATCHES notice in the "
        "response's extensions.notices (the changes of any project are in `changes`)."
    )
    async def patches(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        filter: Annotated[
            Annotated["PatchFilterInput", strawberry.lazy("schema.types")] | None,  # noqa: UP037
            strawberry.argument(description="Narrow the list (its project is this one)."),
        ] = None,
    ) -> Connection[Patch]:
        src = info.context.source(self._r.backend)
        if not base.provides(src, base.PatchReader):
            # Empty rather than an error on a non-null field, so a query over every
            # backend's projects answers data; the notice says why it is empty.
            info.context.notice(
                info, "NO_PATCHES", f"backend {self._r.backend!r} ({src.kind}) has no patches"
            )
            return connection(Page(items=(), offset=0, has_next=False, total=0), Patch.of)
        flt = (filter or PatchFilterInput()).to_filter(project=self._r.id)
        presence = selects(info, "checkState")
        if presence:  # its presence read may go out with the list's
            info.context.expect_check_presence(self._r.backend, flt)
        page = await src.list_patches(flt, page_request(first, after))
        if presence:
            await info.context.prefetch_check_presence(page.items)
        return connection(page, Patch.of)

    of: ClassVar[Callable[[model.Project], Project]]  # built by @unified


@strawberry.type(description="A mail header.")
class Header:
    name: str = strawberry.field(description="The header's name, as sent.")
    value: str = strawberry.field(description="One value (a repeated header is several Headers).")


async def download(info: Info, backend: str, url: str | None) -> str | None:
    """The mbox at ``url`` (``None``: no URL), through the backend's mbox reader."""
    if url is None:
        return None
    src = info.context.capable(backend, base.MboxReader, "mbox downloads")
    return await src.download(url)


def header_list(headers: Any) -> list[Header] | None:
    """Mail headers as ``Header`` objects, a repeated header as several."""
    if headers is None:
        return None
    out: list[Header] = []
    for name, value in headers.items():
        values = value if isinstance(value, list) else [value]
        out.extend(Header(name=name, value=str(v)) for v in values)
    return out


@strawberry.interface(
    description="One version of a change: a Gerrit patch set, the head of a pull request, "
    "a Patchwork series revision."
)
class ChangeRevision:
    @strawberry.field(description="Global ID of the revision.")
    def id(self) -> strawberry.ID:
        raise NotImplementedError

    @strawberry.field(
        description="Its number: patch set number, series version (null: the forge has none)."
    )
    def number(self) -> int | None:
        raise NotImplementedError

    @strawberry.field(description="The commit it would merge (null: not a git commit yet).")
    def sha(self) -> str | None:
        raise NotImplementedError


@strawberry.interface(description="A proposed change on any forge: patch, Gerrit change, PR.")
class Change(Node):
    title: str = strawberry.field(description=doc.TITLE)
    state: ChangeState = strawberry.field(description=doc.STATE)  # type: ignore[valid-type]
    raw_state: str = strawberry.field(description=doc.RAW_STATE)
    created_at: datetime = strawberry.field(description=doc.CREATED)
    updated_at: datetime = strawberry.field(
        description="Its last activity the backend tells without a read per change (ISO 8601, "
        "UTC): upstream Patchwork in change lists the newest of the mail date and its events "
        "(state, delegate, checks, comments), elsewhere its mail date; see docs/federation.md."
    )
    web_url: str | None = strawberry.field(description=doc.WEB_URL)
    check_state: CheckState | None = strawberry.field(  # type: ignore[valid-type]
        description=doc.CHECK_STATE
    )
    raw_check_state: str | None = strawberry.field(description=doc.RAW_CHECK_STATE)
    author: Person | None = strawberry.field(
        description="Who proposed it (null: unknown or hidden)."
    )
    viewer_can: ViewerCan = strawberry.field(
        resolver=resolve_viewer_can,
        description="Which kind-neutral actions (commentOnChange, reviewChange, "
        "setChangeState, reportCheck) the caller may take on it (no upstream request).",
    )

    @strawberry.field(description=doc.BACKEND)
    def backend(self, info: Info) -> Backend:
        raise NotImplementedError

    @strawberry.field(description="The project it targets.")
    def project(self) -> Project:
        raise NotImplementedError

    @strawberry.field(
        description="Every check on this change, with their rollup in checkState (may cost an "
        "upstream request per change; null: that read failed)."
    )
    async def checks(self, info: Info) -> list[Check] | None:
        raise NotImplementedError

    @strawberry.field(
        description="The change's newest version (null: none known, or its read failed)."
    )
    async def current_revision(self, info: Info) -> ChangeRevision | None:
        raise NotImplementedError

    @strawberry.field(
        description="Replies to the change, oldest first (one upstream request per change; "
        "null: that read failed)."
    )
    async def comments(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Comment] | None:
        raise NotImplementedError

    @strawberry.field(
        description="The same work on other backends or elsewhere on this one (a list "
        "posting and its Gerrit change, a pull request of the same commit), strongest "
        "evidence first. Costs reads (batched per request: keys of the changes asked about, "
        'then one search per backend; docs/federation.md "Linked changes"). A backend whose '
        "search fails is left out and named in errors; null: this change's keys could not be "
        "read."
    )
    async def related(
        self, info: Info
    ) -> list[Annotated[ChangeLink, strawberry.lazy("schema.related")]] | None:
        from schema.related import resolve_related

        return await resolve_related(info, getattr(self, "_r"))  # noqa: B009  (every kind's)


# Fields of Series that a patch's inline series summary already answers.
_SERIES_REF_FIELDS = frozenset({"id", "name", "version", "date", "webUrl", "mboxUrl", "__typename"})


def _only_ref_fields(info: Info) -> bool:
    fields = info.selected_fields
    for selected in fields:
        for sel in selected.selections:
            if not isinstance(sel, SelectedField) or sel.name not in _SERIES_REF_FIELDS:
                return False
    return True


def _patch_check_state(root: Patch, info: Info) -> CheckState | None:  # type: ignore[valid-type]
    # Synchronous unless there is I/O to do: most patches carry their state, and a sync
    # resolver costs no coroutine per item (the fast path reads it directly, schema/execution/)
    r = root._r
    if r.check_state is None and base.provides(info.context.source(r.backend), base.RevisionReader):
        known = info.context.known(r.backend, "checks", r.id)  # a change list prefetches them
        if known is not UNKNOWN:
            return model.rollup([c.state for c in known])
        rev = info.context.known(r.backend, "patch-revision", r.id)
        if rev is not UNKNOWN:  # placed, and its series list may tell the rollup
            told = info.context.listed_check_state(r.backend, rev)
            if told is not None:
                return told[0]
        return _rollup_checks(info, r)  # graphql-core awaits it
    if (
        r.check_state is model.CheckState.PENDING
        and r.__class__ is model.Patch  # a change list's patches come with it told
        and base.provides(info.context.source(r.backend), base.CheckPresence)
    ):
        # "pending" may mean no checks at all upstream; a list asked for them already
        known = info.context.known_checks(r)
        if known is None:
            return _pending_or_none(info, r)
        return r.check_state if known else None
    return r.check_state


async def _pending_or_none(info: Info, r: model.Patch) -> model.CheckState | None:
    # Upstream Patchwork's word is "pending" for no checks too; no checks is null everywhere.
    return model.CheckState.PENDING if await info.context.has_checks(r) else None


async def _rollup_checks(info: Info, r: model.Patch) -> model.CheckState | None:
    # Revision-tracking backends (fdo) test revisions: roll up the patch's latest one's,
    # unless the series list that placed it tells the rollup (no test-results read).
    rev = await info.context.patch_revision(r.backend, r.id)
    told = info.context.listed_check_state(r.backend, rev)
    if told is not None:
        return told[0]
    return model.rollup([c.state for c in await info.context.checks(r.backend, r.id)])


def raw_check_word(r: model.Patch) -> str | None:
    """Upstream Patchwork's own ``check`` word (the fork's patches carry none)."""
    word = r.raw.get("check")
    return word if isinstance(word, str) else None


@unified(
    model.Patch,
    node_kind="Patch",
    rename={"created_at": "date", "author": "submitter", "raw_check_state": raw_check_word},
    resolvers=("backend",),
    # check_state also reads the request's check presence: projected, but a list built with
    # it is never kept by the fast path's memo, which would serve yesterday's answer.
    contextual=("check_state",),
)
@strawberry.type(description="A Patchwork patch: one mail carrying a diff.")
class Patch(Change):
    check_state: CheckState | None = strawberry.field(  # type: ignore[valid-type]
        resolver=_patch_check_state, description="The rollup of the checks (null: none yet)."
    )
    msgid: str = strawberry.field(description=doc.MSGID)
    archived: bool = strawberry.field(
        description="Whether it is archived (hidden from Patchwork's default lists)."
    )
    hash: str | None = strawberry.field(
        description="Patchwork's hash of the diff, to find the same change elsewhere (null: "
        "no diff)."
    )
    commit_ref: str | None = strawberry.field(
        description="The commit it was applied as (null: not recorded)."
    )
    pull_url: str | None = strawberry.field(
        description="The git pull request URL the mail carries (null: a plain patch)."
    )
    mbox_url: str | None = strawberry.field(description=doc.MBOX_URL)
    list_archive_url: str | None = strawberry.field(description=doc.ARCHIVE_URL)
    delegate: Person | None = strawberry.field(
        description="The maintainer it is delegated to (null: nobody)."
    )
    _r: strawberry.Private[model.Patch]

    backend: Backend = backend_field()

    project: Project = record_field("project", "The project it was sent to.")

    @strawberry.field(description="The submitter (alias of author).")
    def submitter(self) -> Person | None:
        return self.author

    async def _detail(self, info: Info) -> model.Patch:
        if self._r.is_detail:
            return self._r
        detail = await info.context.patch(self._r.backend, self._r.id)
        return detail or self._r

    @strawberry.field(
        description="The commit message part of the mail (a batched detail read for list items; "
        "null: none, or the read failed)."
    )
    async def content(self, info: Info) -> str | None:
        return (await self._detail(info)).content

    @strawberry.field(
        description="The diff, unified format (a batched detail read for list items; null: "
        "none, or the read failed)."
    )
    async def diff(self, info: Info) -> str | None:
        return (await self._detail(info)).diff

    @strawberry.field(
        description="The mail headers (a batched detail read for list items; null: the read "
        "failed)."
    )
    async def headers(self, info: Info) -> list[Header] | None:
        return header_list((await self._detail(info)).headers)

    @strawberry.field(
        description="The patch as an mbox, ready for `git am` (one download per patch; null: "
        "no mbox URL, or the download failed)."
    )
    async def mbox(self, info: Info) -> str | None:
        return await download(info, self._r.backend, self._r.mbox_url)

    @strawberry.field(
        description="Every check on this patch; fdo: the test results of its latest revision "
        "(one upstream list per patch; null: the read failed)."
    )
    def checks(self, info: Info) -> list[Check] | None:
        # Synchronous when a change list prefetched them (schema/changes.py): planned lists.
        r = self._r
        known = info.context.known(r.backend, "checks", r.id)
        if known is UNKNOWN:
            if info.context.without_checks(r):
                return []
            return _load_checks(info, r)  # type: ignore[return-value]  # graphql-core awaits it
        return [Check.of(c) for c in known]

    @strawberry.field(
        description="Replies to the patch, oldest first (one upstream request per patch; null: "
        "the read failed)."
    )
    async def comments(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Comment] | None:
        src = info.context.capable(self._r.backend, base.PatchReader, "comments")
        page = await src.patch_comments(self._r.id, page_request(first, after))
        return connection(page, Comment.of)

    @strawberry.field(
        description="The newest series revision holding this patch: fdo's latest revision "
        "(batched), upstream the version of the series it was sent in (no request)."
    )
    def current_revision(
        self, info: Info
    ) -> Annotated[Revision, strawberry.lazy("schema.revisions")] | None:
        # Synchronous unless there is a read to wait for (an fdo patch that no change list
        # placed already): the fast path then plans the list (schema/execution/).
        r = self._r
        ctx = info.context
        if not base.provides(ctx.source(r.backend), base.RevisionReader):
            return _current_revision(r, None)
        known = ctx.known(r.backend, "patch-revision", r.id)
        if known is UNKNOWN:
            return _placed_revision(info, r)  # type: ignore[return-value]  # graphql-core awaits it
        return _current_revision(r, known)

    @strawberry.field(
        description="The series this patch was sent in (usually one). Free for id, name, "
        "version, date, webUrl and mboxUrl; other fields read each series (batched)."
    )
    async def series(
        self, info: Info
    ) -> list[Annotated[Series, strawberry.lazy("schema.types_series")]] | None:
        from schema.types_series import Series

        refs = self._r.series
        if _only_ref_fields(info):
            return [Series.of_ref(ref, self._r.project) for ref in refs]
        out: list[Series] = []
        for ref in refs:
            full = await info.context.series(ref.backend, ref.id)
            out.append(Series.of(full) if full else Series.of_ref(ref, self._r.project))
        return out

    of: ClassVar[Callable[[model.Patch], Patch]]  # built by @unified


def _told_check_state(r: model.Patch) -> Any:
    # A told state other than "pending" is the answer (_patch_check_state's last line).
    state = r.check_state
    return RESOLVE if state is None or state is model.CheckState.PENDING else state


shortcut(Patch, check_state=_told_check_state)


async def _load_checks(info: Info, r: model.Patch) -> list[Check]:
    return [Check.of(c) for c in await info.context.checks(r.backend, r.id)]


async def _placed_revision(info: Info, r: model.Patch) -> Revision | None:
    return _current_revision(r, await info.context.patch_revision(r.backend, r.id))


def _current_revision(r: model.Patch, rev: model.Revision | None) -> Revision | None:
    """A patch's newest revision: fdo's placed one (``rev``), else the version of the series it
    was sent in."""
    from schema.revisions import Revision

    if rev is not None:
        found = Revision.of(rev)
    elif r.series:
        found = Revision.of_ref(max(r.series, key=lambda ref: ref.version))
    else:
        return None
    found._sha = links.sha(r.commit_ref)  # the applied commit: what other forges know
    return found


@strawberry.input(description="Patch list filters; each maps onto Patchwork's own.")
class PatchFilterInput:
    backend: str | None = strawberry.field(default=None, description=doc.FILTER_BACKEND)
    project: str | None = strawberry.field(
        default=None, description="Project link name or native id (ignored on Project.patches)."
    )
    states: list[str] | None = strawberry.field(
        default=None, description="Raw state slugs, e.g. new, under-review, accepted."
    )
    archived: bool | None = strawberry.field(
        default=None, description="Only archived (true) or unarchived (false); null: both."
    )
    submitters: list[str] | None = strawberry.field(
        default=None, description="Submitter emails or native person ids."
    )
    delegate: str | None = strawberry.field(default=None, description="Username or user id.")
    series: strawberry.ID | None = strawberry.field(default=None, description="A Series ID.")
    since: datetime | None = strawberry.field(default=None, description=doc.SINCE)
    before: datetime | None = strawberry.field(default=None, description=doc.BEFORE)
    q: str | None = strawberry.field(default=None, description="Substring of the patch name.")
    msgid: str | None = strawberry.field(
        default=None, description="The patch with this Message-ID (Patchwork 1.1+)."
    )
    hash: str | None = strawberry.field(
        default=None, description="Patches with this diff hash (Patchwork 1.2+)."
    )
    order: str | None = strawberry.field(
        default=None, description="Patchwork ordering: id, name, date, state …; '-' reverses."
    )

    def to_filter(self, project: str | None = None) -> base.PatchFilter:
        """The adapter-level filter."""
        series = node.decode(str(self.series), "Series").native if self.series else None
        return base.PatchFilter(
            project=project or self.project,
            states=tuple(self.states or ()),
            archived=self.archived,
            submitters=tuple(self.submitters or ()),
            delegate=self.delegate,
            series=series,
            since=self.since,
            before=self.before,
            q=self.q,
            msgid=self.msgid,
            hash=self.hash,
            order=self.order,
        )
