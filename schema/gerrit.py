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
from datetime import datetime
from typing import Annotated, Any, ClassVar

import strawberry

from adapters import model
from adapters.gerrit import records as gr
from adapters.gerrit.query import QueryError, about_caller, parse
from adapters.gerrit.source import REVISION_OPTIONS, GerritSource
from schema import descriptions as doc
from schema import node
from schema.context import Info
from schema.descriptions import After, First
from schema.errors import UserInputError
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

GERRIT = "gerrit changes"
MAX_NUMBERS = 500


def gerrit_source(info: Info, backend: str) -> GerritSource:
    """Backend ``backend`` as a Gerrit source, or a clear UNSUPPORTED error."""
    return info.context.capable(backend, GerritSource, GERRIT)


async def load_change(
    info: Info, backend: str, native: str, full: bool = False
) -> gr.GerritChange | None:
    """One change through the request's batching loader (``full``: with every patch set)."""
    src = gerrit_source(info, backend)
    if full:

        async def batch(ids: Any) -> list[gr.GerritChange | None]:
            return await src.get_changes(ids, REVISION_OPTIONS)

        loader = info.context._loader(backend, "gerrit-change-full", batch)
    else:
        loader = info.context._loader(backend, "gerrit-change", src.get_changes)
    result: gr.GerritChange | None = await loader.load(native)
    return result


def check_query(info: Info, text: str) -> str:
    """A native Gerrit query, validated before anything is sent upstream. A term naming the
    signed-in user (``owner:self``, ``is:starred`` …) would run as the gateway's account:
    an anonymous caller gets ``UNAUTHENTICATED`` instead."""
    try:
        tree = parse(text)
    except QueryError as exc:
        raise UserInputError(f"invalid gerritQuery: {exc}", "BAD_USER_INPUT") from None
    if info.context.meta.anonymous and (term := about_caller(tree)) is not None:
        raise UserInputError(
            f"gerritQuery: {term.operator}:{term.value} names the signed-in user; "
            "send an API key to use it",
            "UNAUTHENTICATED",
        )
    return text


@strawberry.type(description="One git command to fetch or apply a patch set.")
class GerritCommand:
    name: str = strawberry.field(description="What it does: Checkout, Cherry Pick, Pull …")
    command: str = strawberry.field(description="The shell command to run.")


@strawberry.type(description="How to fetch a patch set over one protocol.")
class GerritFetch:
    protocol: str = strawberry.field(description="The protocol: http, ssh, anonymous http …")
    url: str = strawberry.field(description="The repository URL to fetch from.")
    ref: str = strawberry.field(description="The patch set's ref, e.g. refs/changes/45/12345/2.")
    commands: list[GerritCommand] = strawberry.field(
        description="Ready-made git commands (empty: the server's download plugin gives none)."
    )


@unified(gr.GitPerson, keep=None, nullable=True)
@strawberry.type(description="A commit's author or committer.")
class GerritGitPerson:
    name: str = strawberry.field(description="The name git recorded.")
    email: str = strawberry.field(description="The email git recorded.")
    date: datetime | None = strawberry.field(
        description="When they authored or committed it (ISO 8601, UTC; null: not given)."
    )
    tz: int | None = strawberry.field(
        description="Their time zone, in minutes east of UTC (null: not given)."
    )
    of: ClassVar[Callable[[gr.GitPerson | None], GerritGitPerson | None]]  # built by @unified


@strawberry.type(description="A parsed commit.")
class GerritCommit:
    sha: str | None = strawberry.field(description="The commit's hash (null: not given).")
    subject: str = strawberry.field(description="The message's first line.")
    message: str | None = strawberry.field(description="The full commit message (null: not given).")
    parents: list[str] = strawberry.field(description="The parent commits' hashes.")
    author: GerritGitPerson | None = strawberry.field(description="Who wrote it (null: not given).")
    committer: GerritGitPerson | None = strawberry.field(
        description="Who committed it (null: not given)."
    )

    @staticmethod
    def of(c: gr.Commit, sha: str | None = None) -> GerritCommit:
        return GerritCommit(
            sha=c.sha or sha,
            subject=c.subject,
            message=c.message,
            parents=[p[0] for p in c.parents],
            author=GerritGitPerson.of(c.author),
            committer=GerritGitPerson.of(c.committer),
        )


@unified(gr.FileChange, keep=None)
@strawberry.type(description="A file of a patch set.")
class GerritFile:
    path: str = strawberry.field(description="The file's path (/COMMIT_MSG: the message).")
    status: str = strawberry.field(
        description="Gerrit's letter: M modified, A added, D deleted, R renamed, C copied, "
        "W rewritten."
    )
    binary: bool = strawberry.field(description="Whether it is a binary file.")
    old_path: str | None = strawberry.field(
        description="The path before a rename or copy (null: neither)."
    )
    lines_inserted: int = strawberry.field(description="Lines added.")
    lines_deleted: int = strawberry.field(description="Lines deleted.")

    of: ClassVar[Callable[[gr.FileChange], GerritFile]]  # built by @unified


@strawberry.type(description="One region of a file diff: lines only in A, only in B, or both.")
class GerritDiffChunk:
    a: list[str] = strawberry.field(description="Lines only in the old side.")
    b: list[str] = strawberry.field(description="Lines only in the new side.")
    ab: list[str] = strawberry.field(description="Lines on both sides (context).")
    skip: int | None = strawberry.field(
        description="How many unchanged lines are left out here (null: none)."
    )
    edit_a: list[list[int]] = strawberry.field(
        description="Intraline edits of a, as [skip, length] character pairs (intraline only)."
    )
    edit_b: list[list[int]] = strawberry.field(
        description="Intraline edits of b, as [skip, length] character pairs (intraline only)."
    )


@strawberry.type(description="The diff of one file.")
class GerritDiff:
    change_type: str = strawberry.field(
        description="ADDED, MODIFIED, DELETED, RENAMED, COPIED or REWRITE."
    )
    intraline_status: str | None = strawberry.field(
        description="OK, ERROR or TIMEOUT when intraline edits were asked for (null: not asked)."
    )
    header: list[str] = strawberry.field(description="The diff's header lines (diff --git …).")
    content: list[GerritDiffChunk] = strawberry.field(description="The file's regions in order.")

    @staticmethod
    def of(d: gr.Diff) -> GerritDiff:
        return GerritDiff(
            change_type=d.change_type,
            intraline_status=d.intraline_status,
            header=list(d.diff_header),
            content=[
                GerritDiffChunk(
                    a=list(c.a),
                    b=list(c.b),
                    ab=list(c.ab),
                    skip=c.skip,
                    edit_a=[list(e) for e in c.edit_a],
                    edit_b=[list(e) for e in c.edit_b],
                )
                for c in d.content
            ],
        )


@unified(gr.InlineComment, keep=None)
@strawberry.type(description="An inline comment on a file of a patch set (published or draft).")
class GerritInlineComment:
    id: str = strawberry.field(description="Gerrit's comment id (a UUID), unique in the change.")
    path: str | None = strawberry.field(
        description="The file it is on (/PATCHSET_LEVEL: the whole patch set)."
    )
    line: int | None = strawberry.field(description="The line, from 1 (null: the whole file).")
    side: str | None = strawberry.field(
        description="PARENT when on the old side; REVISION or null: the new side."
    )
    message: str | None = strawberry.field(description="The comment's text.")
    updated: datetime | None = strawberry.field(
        description="When it was written (ISO 8601, UTC; null: not given)."
    )
    in_reply_to: str | None = strawberry.field(
        description="The id of the comment it answers (null: starts a thread)."
    )
    author: Person | None = strawberry.field(
        description="Who wrote it (null: not given, as for the caller's drafts)."
    )

    of: ClassVar[Callable[[gr.InlineComment], GerritInlineComment]]  # built by @unified


@strawberry.type(description="A label value and what it means.")
class GerritLabelValue:
    value: int = strawberry.field(description="A vote value, e.g. -2..+2.")
    description: str = strawberry.field(description="What it means, e.g. Looks good to me.")


@strawberry.type(description="One account's vote on a label.")
class GerritVote:
    label: str = strawberry.field(description="The label's name, e.g. Code-Review.")
    value: int | None = strawberry.field(description="null: may vote but has not.")
    date: datetime | None = strawberry.field(
        description="When the vote was cast (ISO 8601, UTC; null: not given)."
    )
    account: Person | None = strawberry.field(description="Who voted (null: unknown).")


def _permitted(root: GerritLabel, info: Info) -> list[int]:
    # The gateway account's rights; an anonymous Gerrit user may vote nothing.
    return [] if info.context.meta.anonymous else root._permitted


@strawberry.type(description="A label: its votes, its value range and what the caller may vote.")
class GerritLabel:
    name: str = strawberry.field(description="The label, e.g. Code-Review, Verified.")
    optional: bool = strawberry.field(description="Whether submitting does not need it.")
    values: list[GerritLabelValue] = strawberry.field(
        description="Every value of the label, lowest first, with its meaning."
    )
    permitted: list[int] = strawberry.field(
        description="Values the caller may vote (empty for anonymous callers).",
        resolver=_permitted,
    )
    min_value: int | None = strawberry.field(
        description="The lowest value (null: the label has no values)."
    )
    max_value: int | None = strawberry.field(
        description="The highest value (null: the label has no values)."
    )
    votes: list[GerritVote] = strawberry.field(description="Every account's vote.")
    approved: Person | None = strawberry.field(
        description="Who gave the highest vote (null: nobody)."
    )
    rejected: Person | None = strawberry.field(
        description="Who gave the lowest vote (null: nobody)."
    )
    recommended: Person | None = strawberry.field(
        description="Who gave a positive, not highest, vote (null: nobody)."
    )
    disliked: Person | None = strawberry.field(
        description="Who gave a negative, not lowest, vote (null: nobody)."
    )
    _permitted: strawberry.Private[list[int]]

    @staticmethod
    def of(label: gr.Label) -> GerritLabel:
        return GerritLabel(
            name=label.name,
            optional=label.optional,
            values=[
                GerritLabelValue(value=v, description=d) for v, d in sorted(label.values.items())
            ],
            _permitted=list(label.permitted),
            min_value=min(label.values) if label.values else None,
            max_value=max(label.values) if label.values else None,
            votes=[
                GerritVote(
                    label=label.name, value=v.value, date=v.date, account=Person.of(v.account)
                )
                for v in label.votes
            ],
            approved=Person.of(label.approved),
            rejected=Person.of(label.rejected),
            recommended=Person.of(label.recommended),
            disliked=Person.of(label.disliked),
        )


@strawberry.type(description="A reviewer and their votes.")
class GerritReviewer:
    account: Person | None = strawberry.field(description="The reviewer (null: unknown).")
    votes: list[GerritVote] = strawberry.field(description="Their vote on each label.")

    @staticmethod
    def of(r: gr.Reviewer) -> GerritReviewer:
        return GerritReviewer(
            account=Person.of(r.account),
            votes=[
                GerritVote(label=k, value=v, date=None, account=Person.of(r.account))
                for k, v in sorted(r.approvals.items())
            ],
        )


@strawberry.type(description="A change message.")
class GerritMessage:
    id: str = strawberry.field(description="Gerrit's message id, unique in the change.")
    date: datetime = strawberry.field(description="When it was posted (ISO 8601, UTC).")
    message: str = strawberry.field(description="The text, e.g. 'Patch Set 2: Code-Review+1'.")
    revision_number: int | None = strawberry.field(
        description="The patch set it was posted on (null: not given)."
    )
    author: Person | None = strawberry.field(description="Who posted it (null: the server itself).")


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
        src = gerrit_source(info, self._r.backend)
        return GerritCommit.of(await src.commit(self._r.change, self._r.sha), self._r.sha)

    @strawberry.field(
        description="Files of this patch set, with /COMMIT_MSG (one upstream request per patch "
        "set unless the change was loaded with them)."
    )
    async def files(self, info: Info) -> list[GerritFile]:
        if self._r.files is not None:
            return [GerritFile.of(f) for f in self._r.files]
        src = gerrit_source(info, self._r.backend)
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
        src = gerrit_source(info, self._r.backend)
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
        src = gerrit_source(info, self._r.backend)
        return (await src.file_content(self._r.change, self._r.sha, path)).text()

    @strawberry.field(
        description="The formatted patch, git format-patch output (one upstream request)."
    )
    async def patch(self, info: Info) -> str:
        src = gerrit_source(info, self._r.backend)
        return (await src.patch(self._r.change, self._r.sha)).text()

    @strawberry.field(
        description="Whether this patch set merges cleanly into its branch (one upstream request)."
    )
    async def mergeable(self, info: Info) -> bool:
        src = gerrit_source(info, self._r.backend)
        return (await src.mergeable(self._r.change, self._r.sha)).mergeable

    @strawberry.field(
        description="How the server would submit it: MERGE_IF_NECESSARY, FAST_FORWARD_ONLY, "
        "REBASE_IF_NECESSARY … (one upstream request)."
    )
    async def submit_type(self, info: Info) -> str:
        src = gerrit_source(info, self._r.backend)
        return await src.submit_type(self._r.change, self._r.sha)

    @strawberry.field(
        description="Published inline comments on this patch set (one upstream request)."
    )
    async def comments(self, info: Info) -> list[GerritInlineComment]:
        src = gerrit_source(info, self._r.backend)
        return [GerritInlineComment.of(c) for c in await src.comments(self._r.change, self._r.sha)]

    @strawberry.field(
        description="The caller's draft comments on this patch set (one upstream request; "
        "always empty for an anonymous caller)."
    )
    async def drafts(self, info: Info) -> list[GerritInlineComment]:
        if info.context.meta.anonymous:
            return []  # the gateway account's drafts; an anonymous Gerrit user has none
        src = gerrit_source(info, self._r.backend)
        return [GerritInlineComment.of(c) for c in await src.drafts(self._r.change, self._r.sha)]

    @strawberry.field(
        description="Paths the caller marked as reviewed (one upstream request; always empty "
        "for an anonymous caller)."
    )
    async def reviewed_files(self, info: Info) -> list[str]:
        if info.context.meta.anonymous:
            return []  # the gateway account's flags, as for drafts
        src = gerrit_source(info, self._r.backend)
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
    async def checks(self, info: Info) -> list[Check] | None:
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
    async def current_revision(self, info: Info) -> GerritRevision | None:
        rec = self._r if self._r.current is not None else await self._full(info)
        current = rec.current
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
        src = gerrit_source(info, self._r.backend)
        return [GerritReviewer.of(r) for r in await src.reviewers(self._r.id)]

    @strawberry.field(
        description="Branches and tags that contain this change once merged (one upstream "
        "request per change)."
    )
    async def included_in(self, info: Info) -> list[str]:
        src = gerrit_source(info, self._r.backend)
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
        src = gerrit_source(info, self._r.backend)
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
        src = gerrit_source(info, backend)
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
        gerrit_source(info, backend)
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
            names = [n for n, _ in info.context.all_capable(GerritSource)]
            if len(names) != 1:
                raise UserInputError(
                    "set backend: " + (", ".join(names) or "no Gerrit backend is configured"),
                    "BACKEND_REQUIRED" if names else "UNSUPPORTED",
                )
            backend = names[0]
        src = gerrit_source(info, backend)
        page = await src.query_changes(query, page_request(first, after))
        return connection(page, GerritChange.of)


GERRIT_TYPES: list[type[Any]] = [GerritChange, GerritRevision]
