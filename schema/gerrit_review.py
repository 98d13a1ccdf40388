"""The parts of a Gerrit patch set's review as GraphQL value types: commits, files, diffs,
inline comments, labels and votes, reviewers, messages (``schema/gerrit.py`` holds the
change and patch set types that use them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

import strawberry

from adapters.gerrit import records as gr
from schema.context import Info
from schema.types import (
    Person,
)
from schema.unified import unified


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
