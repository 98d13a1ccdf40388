"""ABF's GraphQL types and queries: ``PullRequest`` (a ``Change``), its refs, revision,
commits and files; groups; the four pull request lists.

A pull request's global ID carries ``"<project id>/<number>"``. List items carry no
timestamps, body or closer: the fields that need them read the detail through the request's
loader (one request per pull request, de-duplicated within the request; unchanged ones are
``304``s upstream). ABF's one check on a pull request — whether it merges cleanly
(ready/already pass, blocked fails, open is pending) — is its ``checks`` and ``checkState``.
ABF's pull request API has no comments: ``comments`` is an empty connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any, ClassVar

import strawberry

from adapters import model
from adapters.abf import ports
from adapters.abf import records as abf
from adapters.model import Page
from schema import descriptions as doc
from schema.context import Info
from schema.descriptions import After, First
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

PullRequestRecord = abf.PullRequest  # the record ``schema/changes.py`` maps to ``PullRequest``

Mergeability = strawberry.enum(
    abf.Mergeability, name="PullRequestMergeability", description="Whether an open PR can merge."
)
doc.describe_values(
    Mergeability,
    MERGEABLE="It merges cleanly (ABF status ready).",
    CONFLICTING="It has merge conflicts (ABF status blocked).",
    UP_TO_DATE="The target already contains it: nothing to merge (ABF status already).",
    UNKNOWN="Not checked yet (ABF status open), or the pull request is closed.",
)


def _each(fetch: Callable[[str], Awaitable[Any]]) -> Callable[[Sequence[str]], Awaitable[Any]]:
    async def batch(keys: Sequence[str]) -> list[Any]:
        return list(await asyncio.gather(*(fetch(k) for k in keys)))

    return batch


def reader(info: Info, backend: str) -> ports.PullRequestReader:
    """Backend ``backend`` as a pull request reader, or an ``UNSUPPORTED`` error."""
    return info.context.capable(backend, ports.PullRequestReader, "pull requests")


async def pull_request(info: Info, backend: str, native_id: str) -> abf.PullRequest | None:
    """One pull request's detail, batched per request."""
    src = reader(info, backend)
    found: abf.PullRequest | None = await info.context.load(
        backend, "abf-pull", src.get_pull_requests, native_id
    )
    return found


async def group(info: Info, backend: str, native_id: str) -> abf.Group | None:
    """One group, batched per request."""
    src = info.context.capable(backend, ports.GroupReader, "groups")
    found: abf.Group | None = await info.context.load(
        backend, "abf-group", src.get_groups, native_id
    )
    return found


@unified(abf.Ref, keep=None)
@strawberry.type(description="One side of a pull request: a ref of a project at a commit.")
class PullRequestRef:
    ref: str = strawberry.field(description="The branch (or ref) name.")
    sha: str | None = strawberry.field(
        description="The commit it points at (null: ABF did not say)."
    )
    project: Project | None = strawberry.field(
        description="The project the ref is in (null: ABF did not say)."
    )

    of: ClassVar[Callable[[abf.Ref], PullRequestRef]]  # built by @unified


@unified(abf.GitActor, keep=None)
@strawberry.type(description="A commit's author or committer as git records them.")
class AbfGitActor:
    name: str | None = strawberry.field(description="The name git recorded (null: none).")
    email: str | None = strawberry.field(description="The email git recorded (null: none).")
    date: datetime | None = strawberry.field(
        description="When they authored or committed it (ISO 8601, UTC; null: not given)."
    )


@unified(abf.Commit, keep=None)
@strawberry.type(description="One commit of a pull request.")
class AbfCommit:
    sha: str = strawberry.field(description="The commit's hash.")
    message: str = strawberry.field(description="The full commit message.")
    author: AbfGitActor | None = strawberry.field(
        description="Who wrote the change (null: not given)."
    )
    committer: AbfGitActor | None = strawberry.field(
        description="Who committed it (null: not given)."
    )
    parents: list[str] = strawberry.field(description="The parent commits' hashes.")
    web_url: str | None = strawberry.field(description=doc.WEB_URL)

    of: ClassVar[Callable[[abf.Commit], AbfCommit]]  # built by @unified


@unified(abf.FileChange, keep=None)
@strawberry.type(description="One file a pull request changes, with its line counts.")
class AbfFile:
    filename: str = strawberry.field(description="The file's path in the repository.")
    status: str = strawberry.field(description="ABF's status: added, modified, removed, renamed.")
    additions: int = strawberry.field(description="Lines added.")
    deletions: int = strawberry.field(description="Lines deleted.")
    changes: int = strawberry.field(description="Lines changed in all (additions + deletions).")
    sha: str | None = strawberry.field(
        description="The file's blob hash after the change (null: not given)."
    )
    blob_url: str | None = strawberry.field(
        description="The file's page in ABF's web UI (null: not given)."
    )
    raw_url: str | None = strawberry.field(
        description="The file's raw content after the change (null: not given)."
    )

    of: ClassVar[Callable[[abf.FileChange], AbfFile]]  # built by @unified


@unified(
    abf.PullRequest,
    node_kind="PullRequestRevision",
    native=lambda r: f"{r.id}@{r.from_ref.sha or ''}",
    rename={"sha": lambda r: r.from_ref.sha},
    keep=None,
    private={"_backend": attrgetter("backend"), "_pr": attrgetter("id")},
)
@strawberry.type(
    description="What a pull request would merge now: the head of fromRef, its commits and files."
)
class PullRequestRevision(Node, ChangeRevision):
    sha: str | None = strawberry.field(
        description="The head commit of fromRef (null: ABF did not say)."
    )
    _backend: strawberry.Private[str]
    _pr: strawberry.Private[str]

    of: ClassVar[Callable[[abf.PullRequest], PullRequestRevision]]  # built by @unified

    @strawberry.field(description="Pull requests have no revision numbers: always null.")
    def number(self) -> int | None:
        return None

    @strawberry.field(
        description="The commits, oldest first (one upstream request per pull request)."
    )
    async def commits(self, info: Info) -> list[AbfCommit]:
        src = reader(info, self._backend)
        found: list[abf.Commit] = await info.context.load(
            self._backend, "abf-commits", _each(src.pull_request_commits), self._pr
        )
        return [AbfCommit.of(c) for c in found]

    async def _files(self, info: Info) -> list[abf.FileChange]:
        src = reader(info, self._backend)
        found: list[abf.FileChange] = await info.context.load(
            self._backend, "abf-files", _each(src.pull_request_files), self._pr
        )
        return found

    @strawberry.field(description="The changed files (one upstream request per pull request).")
    async def files(self, info: Info) -> list[AbfFile]:
        return [AbfFile.of(f) for f in await self._files(info)]

    @strawberry.field(description="Lines added over every file (reads the files, as files).")
    async def additions(self, info: Info) -> int:
        return sum(f.additions for f in await self._files(info))

    @strawberry.field(description="Lines deleted over every file (reads the files, as files).")
    async def deletions(self, info: Info) -> int:
        return sum(f.deletions for f in await self._files(info))


_OPENED = "When it was opened (ISO 8601, UTC; a batched detail read for list items)."
_UPDATED = "The last update (ISO 8601, UTC; a batched detail read for list items)."


def _opened(r: abf.PullRequest) -> datetime | None:
    return r.created_at or r.updated_at


def _updated(r: abf.PullRequest) -> datetime | None:
    return r.updated_at


def _check_state(r: abf.PullRequest) -> model.CheckState | None:
    check = abf.merge_check(r)
    return model.rollup([check.state]) if check else None


@unified(
    abf.PullRequest,
    node_kind="PullRequest",
    rename={
        "author": "owner",
        "check_state": _check_state,
        # ABF's word for its one check: the open pull request's status (ready, blocked …)
        "raw_check_state": lambda r: r.raw_state if abf.merge_check(r) else None,
    },
    resolvers=("backend",),
)
@strawberry.type(description="An ABF pull request: a Change from one ref into another.")
class PullRequest(Change):
    number: int = strawberry.field(description="Its number within its project.")
    mergeable: bool | None = strawberry.field(
        description="ABF's own mergeable flag (null: ABF did not say)."
    )
    mergeability: Mergeability = strawberry.field(  # type: ignore[valid-type]
        description="Whether it can merge now, from ABF's status."
    )
    from_ref: PullRequestRef = strawberry.field(description="What would be merged.")
    to_ref: PullRequestRef = strawberry.field(description="Where it would be merged.")
    owner: Person | None = strawberry.field(
        description="Who opened it (the same as author; null: unknown)."
    )
    assignee: Person | None = strawberry.field(description="Who is to review it (null: nobody).")
    api_url: str | None = strawberry.field(
        description="The pull request in ABF's REST API (null: not given)."
    )
    _r: strawberry.Private[abf.PullRequest]

    async def _detail(self, info: Info) -> abf.PullRequest:
        if self._r.is_detail:
            return self._r
        found = await pull_request(info, self._r.backend, self._r.id)
        return found or self._r

    @strawberry.field(description=doc.BACKEND)
    def backend(self, info: Info) -> Backend:
        return backend_of(info, self._r.backend)

    project: Project = record_field("project", "The project it is merged into.")

    # Change declares these as plain fields; list items lack them, so here they are resolvers
    # (strawberry allows the override; mypy's dataclass check does not know that).
    # Synchronous on a detail record (a change list's are): the fast path plans the list.
    @strawberry.field(description=_OPENED)  # type: ignore[misc]
    def created_at(self, info: Info) -> datetime:
        return self._of_detail(info, _opened)  # type: ignore[no-any-return]

    @strawberry.field(description=_UPDATED)  # type: ignore[misc]
    def updated_at(self, info: Info) -> datetime:
        return self._of_detail(info, _updated)  # type: ignore[no-any-return]

    def _of_detail(self, info: Info, read: Callable[[abf.PullRequest], Any]) -> Any:
        """``read`` of the detail record: at once when this is one, else after its read
        (graphql-core awaits it)."""
        return read(self._r) if self._r.is_detail else self._read_detail(info, read)

    async def _read_detail(self, info: Info, read: Callable[[abf.PullRequest], Any]) -> Any:
        return read(await self._detail(info))

    @strawberry.field(
        description="The description, as written (a batched detail read for list items; "
        "null: empty, or the read failed)."
    )
    async def body(self, info: Info) -> str | None:
        return (await self._detail(info)).body

    @strawberry.field(
        description="When it was merged (ISO 8601, UTC; may need a detail read; null: not "
        "merged, or the read failed)."
    )
    async def merged_at(self, info: Info) -> datetime | None:
        return self._r.merged_at or (await self._detail(info)).merged_at

    @strawberry.field(
        description="When it was merged or closed (ISO 8601, UTC; a detail read; null: open, "
        "or the read failed)."
    )
    async def closed_at(self, info: Info) -> datetime | None:
        return (await self._detail(info)).closed_at

    @strawberry.field(
        description="Who merged it (a detail read; null: not merged, or the read failed)."
    )
    async def merged_by(self, info: Info) -> Person | None:
        return Person.of((await self._detail(info)).merged_by)

    @strawberry.field(
        description="Who closed (or merged) it (a detail read; null: open, or the read failed)."
    )
    async def closed_by(self, info: Info) -> Person | None:
        return Person.of((await self._detail(info)).closed_by)

    @strawberry.field(
        description="ABF's merge check while open: mergeable passes, conflicts fail, not yet "
        "checked is pending (no upstream request; empty once closed)."
    )
    def checks(self, info: Info) -> list[Check] | None:
        found = abf.merge_check(self._r)
        return [Check.of(found)] if found else []

    @strawberry.field(description="ABF's pull request API has no comments: always empty.")
    async def comments(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Comment] | None:
        request = page_request(first, after)
        empty: Page[model.Comment] = Page(items=(), offset=request.offset, has_next=False, total=0)
        return connection(empty, Comment.of)

    @strawberry.field(description="What it would merge now: the head of fromRef (no request).")
    def revision(self) -> PullRequestRevision:
        return PullRequestRevision.of(self._r)

    @strawberry.field(description="What it would merge now (same as revision).")
    def current_revision(self) -> PullRequestRevision | None:
        return PullRequestRevision.of(self._r)

    @strawberry.field(
        description="Its commits, oldest first (one upstream request per pull request)."
    )
    async def commits(self, info: Info) -> list[AbfCommit]:
        found: list[AbfCommit] = await self.revision().commits(info)
        return found

    @strawberry.field(description="Its changed files (one upstream request per pull request).")
    async def files(self, info: Info) -> list[AbfFile]:
        found: list[AbfFile] = await self.revision().files(info)
        return found

    of: ClassVar[Callable[[abf.PullRequest], PullRequest]]  # built by @unified
