"""Gerrit in the GraphQL schema: ``GerritChange`` (a ``Change``), its patch sets as
``GerritRevision``s, labels with their vote ranges, reviewers, messages and inline comments,
and the ``gerritChange`` / ``gerritChanges`` root fields.

Changes load through request-scoped loaders per backend: N changes asked by ID become one
``q=change:1 OR change:2 …`` upstream request (``GerritSource.get_changes``); a change's patch
sets, commits, files and messages come from a second batched query with the revision options.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, ClassVar

import strawberry

from adapters import model
from adapters.gerrit import records as gr
from adapters.gerrit.ports import GerritChangeReader
from schema import descriptions as doc
from schema import node
from schema.context import Info
from schema.descriptions import After, First
from schema.errors import UserInputError
from schema.gerrit_base import (
    MAX_NUMBERS,
    change_reader,
    check_query,
    load_change,
    revision_reader,
)
from schema.gerrit_review import (
    GerritCommand,
    GerritCommit,
    GerritDiff,
    GerritFetch,
    GerritFile,
    GerritInlineComment,
    GerritLabel,
    GerritMessage,
    GerritReviewer,
)
from schema.pagination import Connection, connection, page_request
from schema.types import (
    Backend,
    Change,
    ChangeRevision,
    Check,
    Comment,
    Node,
    Person,
    Project,
    backend_of,
)
from schema.unified import record_field, unified


@strawberry.type(description="A Gerrit patch set.")
class GerritRevision(Node, ChangeRevision):
    number: int = strawberry.field(description="The patch set number, from 1.")
    sha: str = strawberry.field(description="The patch set's commit.")
    is_current: bool = strawberry.field(description="Whether it is the change's latest patch set.")
    draft: bool = strawberry.field(description="Whether it is a draft patch set (Gerrit 2.x).")
    fetch: list[GerritFetch] = strawberry.field(
        description="How to fetch it, per protocol (empty: the server gave none)."
    )
    _r: strawberry.Private[gr.Revision]

    @strawberry.field(
        description="The parsed commit (one upstream request per patch set unless the change "
        "was loaded with it)."
    )
    async def commit(self, info: Info) -> GerritCommit:
        if self._r.commit is not None:
            return GerritCommit.of(self._r.commit, self._r.sha)
        src = revision_reader(info, self._r.backend)
        return GerritCommit.of(await src.commit(self._r.change, self._r.sha), self._r.sha)

    @strawberry.field(
        description="Files of this patch set, with /COMMIT_MSG (one upstream request per patch "
        "set unless the change was loaded with them)."
    )
    async def files(self, info: Info) -> list[GerritFile]:
        if self._r.files is not None:
            return [GerritFile.of(f) for f in self._r.files]
        src = revision_reader(info, self._r.backend)
        return [GerritFile.of(f) for f in await src.files(self._r.change, self._r.sha)]

    @strawberry.field(
        description="The diff of one file against its parent or another patch set (one upstream "
        "request per call)."
    )
    async def diff(
        self,
        info: Info,
        path: Annotated[str, strawberry.argument(description="The file's path.")],
        base: Annotated[
            int | None,
            strawberry.argument(description="A patch set number to diff against; null: parent."),
        ] = None,
        intraline: Annotated[
            bool, strawberry.argument(description="Also compute the edits within lines.")
        ] = False,
        context: Annotated[
            str | None,
            strawberry.argument(description="Lines of context, or ALL; null: Gerrit's default."),
        ] = None,
        ignore_whitespace: Annotated[
            str | None,
            strawberry.argument(
                description="IGNORE_NONE, IGNORE_TRAILING, IGNORE_LEADING_AND_TRAILING or "
                "IGNORE_ALL; null: Gerrit's default."
            ),
        ] = None,
    ) -> GerritDiff:
        src = revision_reader(info, self._r.backend)
        d = await src.diff(
            self._r.change,
            self._r.sha,
            path,
            base=str(base) if base is not None else None,
            intraline=intraline,
            context=context,
            ignore_whitespace=ignore_whitespace,
        )
        return GerritDiff.of(d)

    @strawberry.field(
        description="A file's content at this patch set, as UTF-8 text (one upstream request)."
    )
    async def file_content(
        self, info: Info, path: Annotated[str, strawberry.argument(description="The file's path.")]
    ) -> str:
        src = revision_reader(info, self._r.backend)
        return (await src.file_content(self._r.change, self._r.sha, path)).text()

    @strawberry.field(
        description="The formatted patch, git format-patch output (one upstream request)."
    )
    async def patch(self, info: Info) -> str:
        src = revision_reader(info, self._r.backend)
        return (await src.patch(self._r.change, self._r.sha)).text()

    @strawberry.field(
        description="Whether this patch set merges cleanly into its branch (one upstream request)."
    )
    async def mergeable(self, info: Info) -> bool:
        src = revision_reader(info, self._r.backend)
        return (await src.mergeable(self._r.change, self._r.sha)).mergeable

    @strawberry.field(
        description="How the server would submit it: MERGE_IF_NECESSARY, FAST_FORWARD_ONLY, "
        "REBASE_IF_NECESSARY … (one upstream request)."
    )
    async def submit_type(self, info: Info) -> str:
        src = revision_reader(info, self._r.backend)
        return await src.submit_type(self._r.change, self._r.sha)

    @strawberry.field(
        description="Published inline comments on this patch set (one upstream request)."
    )
    async def comments(self, info: Info) -> list[GerritInlineComment]:
        src = revision_reader(info, self._r.backend)
        return [GerritInlineComment.of(c) for c in await src.comments(self._r.change, self._r.sha)]

    @strawberry.field(
        description="The caller's draft comments on this patch set (one upstream request; "
        "always empty for an anonymous caller)."
    )
    async def drafts(self, info: Info) -> list[GerritInlineComment]:
        if info.context.meta.anonymous:
            return []  # the gateway account's drafts; an anonymous Gerrit user has none
        src = revision_reader(info, self._r.backend)
        return [GerritInlineComment.of(c) for c in await src.drafts(self._r.change, self._r.sha)]

    @strawberry.field(
        description="Paths the caller marked as reviewed (one upstream request; always empty "
        "for an anonymous caller)."
    )
    async def reviewed_files(self, info: Info) -> list[str]:
        if info.context.meta.anonymous:
            return []  # the gateway account's flags, as for drafts
        src = revision_reader(info, self._r.backend)
        return await src.reviewed_files(self._r.change, self._r.sha)

    @staticmethod
    def of(r: gr.Revision) -> GerritRevision:
        return GerritRevision(
            id=strawberry.ID(node.encode("GerritRevision", r.backend, f"{r.change}/{r.number}")),
            number=r.number,
            sha=r.sha,
            is_current=r.is_current,
            draft=r.draft,
            fetch=[
                GerritFetch(
                    protocol=f.protocol,
                    url=f.url,
                    ref=f.ref,
                    commands=[
                        GerritCommand(name=k, command=v) for k, v in sorted(f.commands.items())
                    ],
                )
                for f in r.fetch
            ],
            _r=r,
        )


def _message_comment(c: gr.GerritChange, m: gr.Message) -> model.Comment:
    return model.Comment(
        backend=c.backend,
        id=f"m{m.id}",
        parent_id=c.id,
        parent_type="GerritChange",
        date=m.date,
        subject=None,
        submitter=m.author,
        content=m.message,
        web_url=c.web_url,
    )


def _inline_comment(c: gr.GerritChange, rev: int, x: gr.InlineComment) -> model.Comment:
    where = f"{x.path}:{x.line}" if x.line is not None else (x.path or "")
    return model.Comment(
        backend=c.backend,
        id=f"i{rev}/{x.id}",
        parent_id=c.id,
        parent_type="GerritChange",
        date=x.updated or c.updated,
        subject=f"Patch Set {rev}: {where}",
        submitter=x.author,
        content=x.message,
        web_url=c.web_url,
    )


@unified(
    gr.GerritChange,
    node_kind="GerritChange",
    rename={
        "title": "subject",
        "created_at": "created",
        "updated_at": "updated",
        "author": "owner",
        "raw_check_state": lambda r: None,  # Gerrit rolls up no word: the votes are the checks
        "labels": lambda r: [GerritLabel.of(label) for label in r.labels],
    },
    resolvers=("backend",),
)
@strawberry.type(description="A Gerrit change: a Change with patch sets, labels and reviewers.")
class GerritChange(Change):
    number: int = strawberry.field(description="The change number (the one in its URL).")
    change_id: str = strawberry.field(description="The Change-Id trailer (I followed by 40 hex).")
    triplet: str = strawberry.field(description="project~branch~Change-Id, as Gerrit spells it.")
    branch: str = strawberry.field(description="The branch it targets.")
    topic: str | None = strawberry.field(description="Its topic (null: none).")
    mergeable: bool | None = strawberry.field(
        description="Whether it merges cleanly (null: the server did not compute it)."
    )
    insertions: int | None = strawberry.field(
        description="Lines added by the current patch set (null: not given)."
    )
    deletions: int | None = strawberry.field(
        description="Lines deleted by the current patch set (null: not given)."
    )
    labels: list[GerritLabel] = strawberry.field(
        description="The labels with their votes (no extra request)."
    )
    _r: strawberry.Private[gr.GerritChange]

    @strawberry.field(description=doc.BACKEND)
    def backend(self, info: Info) -> Backend:
        return backend_of(info, self._r.backend)

    project: Project = record_field("project", "The project it targets.")

    @strawberry.field(description="The owner (alias of author).")
    def owner(self) -> Person | None:
        return self.author

    @strawberry.field(
        description="Verified and CI votes as checks; their rollup is checkState (no extra "
        "request)."
    )
    def checks(self, info: Info) -> list[Check] | None:
        return [Check.of(c) for c in self._r.checks]

    async def _full(self, info: Info) -> gr.GerritChange:
        full = await load_change(info, self._r.backend, self._r.id, full=True)
        return full or self._r

    @strawberry.field(
        description="Every patch set, oldest first (one batched request for all the changes asked)."
    )
    async def revisions(self, info: Info) -> list[GerritRevision]:
        return [GerritRevision.of(r) for r in (await self._full(info)).revisions]

    @strawberry.field(
        description="The current patch set (a batched read unless the change was loaded with "
        "it; null: none known)."
    )
    def current_revision(self, info: Info) -> GerritRevision | None:
        # Synchronous when the list carried it (CURRENT_REVISION): the fast path plans lists.
        if self._r.current is not None:
            return GerritRevision.of(self._r.current)
        return self._full_current(info)  # type: ignore[return-value]  # graphql-core awaits it

    async def _full_current(self, info: Info) -> GerritRevision | None:
        current = (await self._full(info)).current
        return GerritRevision.of(current) if current else None

    @strawberry.field(description="One patch set (a batched read; null: no such patch set).")
    async def revision(
        self,
        info: Info,
        id: Annotated[
            str,
            strawberry.argument(
                description="Its number, its sha or 4+ characters of it, or 'current'."
            ),
        ],
    ) -> GerritRevision | None:
        full = await self._full(info)
        for r in full.revisions:
            if (
                (id == "current" and r.is_current)
                or id == str(r.number)
                or (len(id) >= 4 and r.sha.startswith(id.lower()))
            ):
                return GerritRevision.of(r)
        return None

    @strawberry.field(
        description="The change messages, oldest first (a batched read for all the changes asked)."
    )
    async def messages(self, info: Info) -> list[GerritMessage]:
        full = await self._full(info)
        return [
            GerritMessage(
                id=m.id,
                date=m.date,
                message=m.message,
                revision_number=m.revision_number,
                author=Person.of(m.author),
            )
            for m in full.messages or ()
        ]

    @strawberry.field(description="Reviewers and their votes (one upstream request per change).")
    async def reviewers(self, info: Info) -> list[GerritReviewer]:
        src = change_reader(info, self._r.backend)
        return [GerritReviewer.of(r) for r in await src.reviewers(self._r.id)]

    @strawberry.field(
        description="Branches and tags that contain this change once merged (one upstream "
        "request per change)."
    )
    async def included_in(self, info: Info) -> list[str]:
        src = change_reader(info, self._r.backend)
        found = await src.included_in(self._r.id)
        return [*found.branches, *found.tags]

    @strawberry.field(
        description="Change messages, then every patch set's inline comments (one upstream "
        "request per patch set; null: a read failed)."
    )
    async def comments(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Comment] | None:
        full = await self._full(info)
        src = revision_reader(info, self._r.backend)
        inline = await asyncio.gather(*(src.comments(full.id, r.sha) for r in full.revisions))
        items = [_message_comment(full, m) for m in full.messages or ()]
        for rev, found in zip(full.revisions, inline, strict=True):
            items += [_inline_comment(full, rev.number, x) for x in found]
        req = page_request(first, after)
        window = tuple(items[req.offset : req.offset + req.count])
        page = model.Page(
            items=window,
            offset=req.offset,
            has_next=req.offset + req.count < len(items),
            total=len(items),
        )
        return connection(page, Comment.of)

    of: ClassVar[Callable[[gr.GerritChange], GerritChange]]  # built by @unified


async def resolve_gerrit_node(info: Info, backend: str, type_name: str, native: str) -> Node | None:
    """``node(id)`` for GerritChange and GerritRevision IDs."""
    if type_name == "GerritChange":
        found = await load_change(info, backend, native)
        return GerritChange.of(found) if found else None
    change, _, number = native.partition("/")
    full = await load_change(info, backend, change, full=True)
    for r in full.revisions if full else ():
        if str(r.number) == number:
            return GerritRevision.of(r)
    return None


_GERRIT_BACKEND = strawberry.argument(description="The Gerrit backend's name.")


@strawberry.type
class GerritQuery:
    """Root fields of the Gerrit backend kind."""

    @strawberry.field(
        description="One change by any Gerrit id form (null: no such change, or not visible)."
    )
    async def gerrit_change(
        self,
        info: Info,
        backend: Annotated[str, _GERRIT_BACKEND],
        id: Annotated[
            str,
            strawberry.argument(description="A number, a Change-Id, or project~branch~Change-Id."),
        ],
    ) -> GerritChange | None:
        src = change_reader(info, backend)
        if id.isdigit():
            found = await load_change(info, backend, id)
        else:
            found = (await src.get_changes([id]))[0]
        return GerritChange.of(found) if found else None

    @strawberry.field(
        description="Changes by number, in order (null where there is none): one "
        "`q=change:1 OR change:2 …` request per chunk of the server's query limit."
    )
    async def gerrit_changes_by_number(
        self,
        info: Info,
        backend: Annotated[str, _GERRIT_BACKEND],
        numbers: Annotated[
            list[int], strawberry.argument(description="Change numbers, at most 500.")
        ],
    ) -> list[GerritChange | None]:
        if len(numbers) > MAX_NUMBERS:
            raise UserInputError(f"at most {MAX_NUMBERS} numbers per call, got {len(numbers)}")
        if any(n <= 0 for n in numbers):
            raise UserInputError("change numbers are positive integers")
        change_reader(info, backend)
        found = await asyncio.gather(*(load_change(info, backend, str(n)) for n in numbers))
        return [GerritChange.of(c) if c else None for c in found]

    @strawberry.field(
        description="Changes of one Gerrit backend, most recently updated first. gerritQuery "
        "is Gerrit's own query language (default status:open), validated before it is sent."
    )
    async def gerrit_changes(
        self,
        info: Info,
        backend: Annotated[
            str | None,
            strawberry.argument(description="The Gerrit backend; null: the only one configured."),
        ] = None,
        gerrit_query: Annotated[
            str, strawberry.argument(description="A Gerrit search, e.g. 'status:open owner:self'.")
        ] = "status:open",
        first: First = None,
        after: After = None,
    ) -> Connection[GerritChange]:
        query = check_query(info, gerrit_query)
        if backend is None:
            names = [n for n, _ in info.context.all_capable(GerritChangeReader)]
            if len(names) != 1:
                raise UserInputError(
                    "set backend: " + (", ".join(names) or "no Gerrit backend is configured"),
                    "BACKEND_REQUIRED" if names else "UNSUPPORTED",
                )
            backend = names[0]
        src = change_reader(info, backend)
        page = await src.query_changes(query, page_request(first, after))
        return connection(page, GerritChange.of)


GERRIT_TYPES: list[type[Any]] = [GerritChange, GerritRevision]
