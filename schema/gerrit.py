"""Gerrit in the GraphQL schema: ``GerritChange`` (a ``Change``), its patch sets as
``GerritRevision``s, labels with their vote ranges, reviewers, messages and inline comments,
and the ``gerritChange`` / ``gerritChanges`` root fields.

Changes load through request-scoped loaders per backend: N changes asked by ID become one
``q=change:1 OR change:2 …`` upstream request (``GerritSource.get_changes``); a change's patch
sets, commits, files and messages come from a second batched query with the revision options.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import strawberry

from adapters import model
from adapters.gerrit import records as gr
from adapters.gerrit.query import QueryError, about_caller, parse
from adapters.gerrit.source import REVISION_OPTIONS, GerritSource
from schema import node
from schema.context import Info
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
    name: str
    command: str


@strawberry.type(description="How to fetch a patch set over one protocol.")
class GerritFetch:
    protocol: str
    url: str
    ref: str
    commands: list[GerritCommand]


@strawberry.type(description="A commit's author or committer.")
class GerritGitPerson:
    name: str
    email: str
    date: datetime | None
    tz: int | None


@strawberry.type(description="A parsed commit.")
class GerritCommit:
    sha: str | None
    subject: str
    message: str | None
    parents: list[str]
    author: GerritGitPerson | None
    committer: GerritGitPerson | None

    @staticmethod
    def of(c: gr.Commit, sha: str | None = None) -> GerritCommit:
        def person(p: gr.GitPerson | None) -> GerritGitPerson | None:
            return GerritGitPerson(name=p.name, email=p.email, date=p.date, tz=p.tz) if p else None

        return GerritCommit(
            sha=c.sha or sha,
            subject=c.subject,
            message=c.message,
            parents=[p[0] for p in c.parents],
            author=person(c.author),
            committer=person(c.committer),
        )


@strawberry.type(description="A file of a patch set.")
class GerritFile:
    path: str
    status: str
    binary: bool
    old_path: str | None
    lines_inserted: int
    lines_deleted: int

    @staticmethod
    def of(f: gr.FileChange) -> GerritFile:
        return GerritFile(
            path=f.path,
            status=f.status,
            binary=f.binary,
            old_path=f.old_path,
            lines_inserted=f.lines_inserted,
            lines_deleted=f.lines_deleted,
        )


@strawberry.type(description="One region of a file diff: lines only in A, only in B, or both.")
class GerritDiffChunk:
    a: list[str]
    b: list[str]
    ab: list[str]
    skip: int | None
    edit_a: list[list[int]]
    edit_b: list[list[int]]


@strawberry.type(description="The diff of one file.")
class GerritDiff:
    change_type: str
    intraline_status: str | None
    header: list[str]
    content: list[GerritDiffChunk]

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


@strawberry.type(description="An inline comment on a file of a patch set (published or draft).")
class GerritInlineComment:
    id: str
    path: str | None
    line: int | None
    side: str | None
    message: str | None
    updated: datetime | None
    in_reply_to: str | None
    author: Person | None

    @staticmethod
    def of(c: gr.InlineComment) -> GerritInlineComment:
        return GerritInlineComment(
            id=c.id,
            path=c.path,
            line=c.line,
            side=c.side,
            message=c.message,
            updated=c.updated,
            in_reply_to=c.in_reply_to,
            author=Person.of(c.author),
        )


@strawberry.type(description="A label value and what it means.")
class GerritLabelValue:
    value: int
    description: str


@strawberry.type(description="One account's vote on a label.")
class GerritVote:
    label: str
    value: int | None = strawberry.field(description="null: may vote but has not.")
    date: datetime | None
    account: Person | None


def _permitted(root: GerritLabel, info: Info) -> list[int]:
    # The gateway account's rights; an anonymous Gerrit user may vote nothing.
    return [] if info.context.meta.anonymous else root._permitted


@strawberry.type(description="A label: its votes, its value range and what the caller may vote.")
class GerritLabel:
    name: str
    optional: bool
    values: list[GerritLabelValue]
    permitted: list[int] = strawberry.field(
        description="Values the caller may vote.", resolver=_permitted
    )
    min_value: int | None
    max_value: int | None
    votes: list[GerritVote]
    approved: Person | None
    rejected: Person | None
    recommended: Person | None
    disliked: Person | None
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
    account: Person | None
    votes: list[GerritVote]

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
    id: str
    date: datetime
    message: str
    revision_number: int | None
    author: Person | None


@strawberry.type(description="A Gerrit patch set.")
class GerritRevision(Node, ChangeRevision):
    number: int
    sha: str
    is_current: bool
    draft: bool
    fetch: list[GerritFetch]
    _r: strawberry.Private[gr.Revision]

    @strawberry.field(description="The parsed commit (one request unless the list had it).")
    async def commit(self, info: Info) -> GerritCommit:
        if self._r.commit is not None:
            return GerritCommit.of(self._r.commit, self._r.sha)
        src = gerrit_source(info, self._r.backend)
        return GerritCommit.of(await src.commit(self._r.change, self._r.sha), self._r.sha)

    @strawberry.field(description="Files of this patch set (including /COMMIT_MSG when fetched).")
    async def files(self, info: Info) -> list[GerritFile]:
        if self._r.files is not None:
            return [GerritFile.of(f) for f in self._r.files]
        src = gerrit_source(info, self._r.backend)
        return [GerritFile.of(f) for f in await src.files(self._r.change, self._r.sha)]

    @strawberry.field(description="The diff of one file (base: another patch set number).")
    async def diff(
        self,
        info: Info,
        path: str,
        base: int | None = None,
        intraline: bool = False,
        context: str | None = None,
        ignore_whitespace: str | None = None,
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

    @strawberry.field(description="A file's content at this patch set (UTF-8 text).")
    async def file_content(self, info: Info, path: str) -> str:
        src = gerrit_source(info, self._r.backend)
        return (await src.file_content(self._r.change, self._r.sha, path)).text()

    @strawberry.field(description="The formatted patch (git format-patch output).")
    async def patch(self, info: Info) -> str:
        src = gerrit_source(info, self._r.backend)
        return (await src.patch(self._r.change, self._r.sha)).text()

    @strawberry.field(description="Whether this patch set can be merged as is.")
    async def mergeable(self, info: Info) -> bool:
        src = gerrit_source(info, self._r.backend)
        return (await src.mergeable(self._r.change, self._r.sha)).mergeable

    @strawberry.field(description="How the server would submit it (MERGE_IF_NECESSARY …).")
    async def submit_type(self, info: Info) -> str:
        src = gerrit_source(info, self._r.backend)
        return await src.submit_type(self._r.change, self._r.sha)

    @strawberry.field(description="Published inline comments on this patch set.")
    async def comments(self, info: Info) -> list[GerritInlineComment]:
        src = gerrit_source(info, self._r.backend)
        return [GerritInlineComment.of(c) for c in await src.comments(self._r.change, self._r.sha)]

    @strawberry.field(description="The caller's draft comments on this patch set.")
    async def drafts(self, info: Info) -> list[GerritInlineComment]:
        if info.context.meta.anonymous:
            return []  # the gateway account's drafts; an anonymous Gerrit user has none
        src = gerrit_source(info, self._r.backend)
        return [GerritInlineComment.of(c) for c in await src.drafts(self._r.change, self._r.sha)]

    @strawberry.field(description="Paths the caller marked as reviewed.")
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


@strawberry.type(description="A Gerrit change: a Change with patch sets, labels and reviewers.")
class GerritChange(Change):
    number: int
    change_id: str
    triplet: str = strawberry.field(description="project~branch~Change-Id, as Gerrit spells it.")
    branch: str
    topic: str | None
    mergeable: bool | None
    insertions: int | None
    deletions: int | None
    labels: list[GerritLabel]
    _r: strawberry.Private[gr.GerritChange]

    @strawberry.field
    def backend(self, info: Info) -> Backend:
        return backend_of(info, self._r.backend)

    @strawberry.field
    def project(self) -> Project:
        return Project.of(self._r.project)

    @strawberry.field(description="The owner (alias of author).")
    def owner(self) -> Person | None:
        return self.author

    @strawberry.field(description="Verified and CI votes as checks; their rollup is checkState.")
    async def checks(self, info: Info) -> list[Check] | None:
        return [Check.of(c) for c in self._r.checks]

    async def _full(self, info: Info) -> gr.GerritChange:
        full = await load_change(info, self._r.backend, self._r.id, full=True)
        return full or self._r

    @strawberry.field(description="Every patch set, oldest first (one batched request).")
    async def revisions(self, info: Info) -> list[GerritRevision]:
        return [GerritRevision.of(r) for r in (await self._full(info)).revisions]

    @strawberry.field(description="The current patch set.")
    async def current_revision(self, info: Info) -> GerritRevision | None:
        rec = self._r if self._r.current is not None else await self._full(info)
        current = rec.current
        return GerritRevision.of(current) if current else None

    @strawberry.field(description="A patch set by number, sha, abbreviated sha or 'current'.")
    async def revision(self, info: Info, id: str) -> GerritRevision | None:
        full = await self._full(info)
        for r in full.revisions:
            if (
                (id == "current" and r.is_current)
                or id == str(r.number)
                or (len(id) >= 4 and r.sha.startswith(id.lower()))
            ):
                return GerritRevision.of(r)
        return None

    @strawberry.field(description="The change messages, oldest first.")
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

    @strawberry.field(description="Reviewers and their votes (one request).")
    async def reviewers(self, info: Info) -> list[GerritReviewer]:
        src = gerrit_source(info, self._r.backend)
        return [GerritReviewer.of(r) for r in await src.reviewers(self._r.id)]

    @strawberry.field(description="Branches and tags this change is included in.")
    async def included_in(self, info: Info) -> list[str]:
        src = gerrit_source(info, self._r.backend)
        found = await src.included_in(self._r.id)
        return [*found.branches, *found.tags]

    @strawberry.field(description="Change messages, then every patch set's inline comments.")
    async def comments(
        self, info: Info, first: int | None = None, after: str | None = None
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

    @staticmethod
    def of(r: gr.GerritChange) -> GerritChange:
        """GraphQL view of a Gerrit change record."""
        return GerritChange(
            id=strawberry.ID(node.encode("GerritChange", r.backend, r.id)),
            title=r.subject,
            state=r.state,
            raw_state=r.raw_state,
            created_at=r.created,
            updated_at=r.updated,
            web_url=r.web_url,
            check_state=r.check_state,
            author=Person.of(r.owner),
            number=r.number,
            change_id=r.change_id,
            triplet=r.triplet,
            branch=r.branch,
            topic=r.topic,
            mergeable=r.mergeable,
            insertions=r.insertions,
            deletions=r.deletions,
            labels=[GerritLabel.of(label) for label in r.labels],
            _r=r,
        )


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


@strawberry.type
class GerritQuery:
    """Root fields of the Gerrit backend kind."""

    @strawberry.field(description="One change by any Gerrit id form (number, Change-Id, triplet).")
    async def gerrit_change(self, info: Info, backend: str, id: str) -> GerritChange | None:
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
        self, info: Info, backend: str, numbers: list[int]
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
        backend: str | None = None,
        gerrit_query: str = "status:open",
        first: int | None = None,
        after: str | None = None,
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
