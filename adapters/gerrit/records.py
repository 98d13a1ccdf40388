"""Gerrit's records: changes, patch sets, labels, reviews and what the writes take.

Like ``adapters.model``, these are frozen dataclasses built only by ``mapping.py``; they are
Gerrit-specific (patch sets, labels with vote ranges, inline comments on a file line), so they
live in the Gerrit package rather than the shared model. ``GerritChange`` carries the common
``Change`` fields (project record, normalized state + raw status, owner, times, check state)
so the GraphQL layer can serve it through the ``Change`` interface.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from adapters.model import ChangeState, Check, CheckState, Person, Project, Raw


@dataclass(frozen=True, slots=True)
class GitPerson:
    """A commit's author or committer (GitPersonInfo)."""

    name: str
    email: str
    date: datetime | None
    tz: int | None


@dataclass(frozen=True, slots=True)
class Commit:
    """A parsed commit (CommitInfo); ``sha`` is absent when it is the revision's own key."""

    sha: str | None
    parents: tuple[tuple[str, str | None], ...]  # (sha, subject)
    author: GitPerson | None
    committer: GitPerson | None
    subject: str
    message: str | None


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file of a patch set (FileInfo)."""

    path: str
    status: str  # M (default), A, D, R, C, W
    binary: bool = False
    old_path: str | None = None
    lines_inserted: int = 0
    lines_deleted: int = 0
    size_delta: int | None = None


@dataclass(frozen=True, slots=True)
class Fetch:
    """How to fetch a patch set over one protocol (FetchInfo)."""

    protocol: str
    url: str
    ref: str
    commands: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Revision:
    """A patch set (RevisionInfo) of change ``change``."""

    backend: str
    change: str  # the change's native id (its number)
    sha: str
    number: int
    draft: bool = False
    has_draft_comments: bool = False
    fetch: tuple[Fetch, ...] = ()
    commit: Commit | None = None
    files: tuple[FileChange, ...] | None = None
    is_current: bool = False
    raw: Raw = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Vote:
    """One account's vote on a label (ApprovalInfo); ``value=None``: may not vote."""

    label: str
    value: int | None
    account: Person
    date: datetime | None = None


@dataclass(frozen=True, slots=True)
class Label:
    """A label of a change (LabelInfo), from LABELS and/or DETAILED_LABELS."""

    name: str
    optional: bool = False
    approved: Person | None = None
    rejected: Person | None = None
    recommended: Person | None = None
    disliked: Person | None = None
    value: int | None = None
    votes: tuple[Vote, ...] = ()
    values: Mapping[int, str] = field(default_factory=dict)
    permitted: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Message:
    """A change message (ChangeMessageInfo)."""

    id: str
    author: Person | None
    date: datetime
    message: str
    revision_number: int | None


@dataclass(frozen=True, slots=True)
class CommentRange:
    """The characters an inline comment covers."""

    start_line: int
    start_character: int
    end_line: int
    end_character: int


@dataclass(frozen=True, slots=True)
class InlineComment:
    """A published or draft inline comment (CommentInfo)."""

    id: str
    path: str | None
    message: str | None
    updated: datetime | None
    author: Person | None = None
    line: int | None = None
    side: str | None = None
    range: CommentRange | None = None
    in_reply_to: str | None = None
    robot_id: str | None = None


@dataclass(frozen=True, slots=True)
class Reviewer:
    """A reviewer and their votes (ReviewerInfo); ``None``: may vote but has not."""

    account: Person
    approvals: Mapping[str, int | None]


@dataclass(frozen=True, slots=True)
class SuggestedReviewer:
    """An account or a group that could review (SuggestedReviewerInfo)."""

    account: Person | None = None
    group_id: str | None = None
    group_name: str | None = None


@dataclass(frozen=True, slots=True)
class AddReviewerResult:
    """What adding a reviewer did (AddReviewerResult)."""

    reviewers: tuple[Reviewer, ...]
    error: str | None = None
    confirm: bool = False


@dataclass(frozen=True, slots=True)
class GerritChange:
    """A Gerrit change (ChangeInfo). A ``Change`` in the unified schema."""

    backend: str
    id: str  # the legacy numeric id as a string: stable and unique on one server
    number: int
    triplet: str  # "<project>~<branch>~<Change-Id>", as Gerrit sent it
    change_id: str
    project: Project
    branch: str
    subject: str
    state: ChangeState
    raw_state: str
    created: datetime
    updated: datetime
    owner: Person | None
    check_state: CheckState | None
    checks: tuple[Check, ...] = ()
    topic: str | None = None
    mergeable: bool | None = None
    starred: bool = False
    reviewed: bool = False
    sortkey: str | None = None
    insertions: int | None = None
    deletions: int | None = None
    labels: tuple[Label, ...] = ()
    has_labels: bool = False
    removable_reviewers: tuple[Person, ...] = ()
    messages: tuple[Message, ...] | None = None
    current_revision: str | None = None
    revisions: tuple[Revision, ...] = ()
    more_changes: bool = False
    web_url: str | None = None
    raw: Raw = field(default_factory=dict, repr=False, compare=False)

    @property
    def title(self) -> str:
        """``ChangeRecord``: the subject."""
        return self.subject

    @property
    def updated_at(self) -> datetime:
        """``ChangeRecord``: the last update time."""
        return self.updated

    @property
    def author(self) -> Person | None:
        """``ChangeRecord``: the owner."""
        return self.owner

    @property
    def current(self) -> Revision | None:
        """The current patch set when the response described it."""
        for rev in self.revisions:
            if rev.sha == self.current_revision:
                return rev
        return max(self.revisions, key=lambda r: r.number) if self.revisions else None


@dataclass(frozen=True, slots=True)
class DiffChunk:
    """One region of a file diff (DiffContent)."""

    a: tuple[str, ...] = ()
    b: tuple[str, ...] = ()
    ab: tuple[str, ...] = ()
    edit_a: tuple[tuple[int, int], ...] = ()
    edit_b: tuple[tuple[int, int], ...] = ()
    skip: int | None = None


@dataclass(frozen=True, slots=True)
class DiffSide:
    """Meta information of one side of a diff (DiffFileMetaInfo)."""

    name: str
    content_type: str
    lines: int | None = None


@dataclass(frozen=True, slots=True)
class Diff:
    """The diff of one file (DiffInfo)."""

    change_type: str
    meta_a: DiffSide | None
    meta_b: DiffSide | None
    intraline_status: str | None
    diff_header: tuple[str, ...]
    content: tuple[DiffChunk, ...]


@dataclass(frozen=True, slots=True)
class IncludedIn:
    """Branches and tags a change was merged into (IncludedInInfo)."""

    branches: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Mergeable:
    """How the server would submit a revision and whether it can (MergeableInfo)."""

    submit_type: str
    mergeable: bool
    strategy: str | None = None


@dataclass(frozen=True, slots=True)
class SubmitRecord:
    """One outcome of a submit rule (SubmitRecord): label name → voter (or None)."""

    status: str
    ok: Mapping[str, Person | None] = field(default_factory=dict)
    reject: Mapping[str, Person | None] = field(default_factory=dict)
    need: Mapping[str, Person | None] = field(default_factory=dict)
    may: Mapping[str, Person | None] = field(default_factory=dict)
    impossible: Mapping[str, Person | None] = field(default_factory=dict)
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class Capabilities:
    """The caller's global capabilities (``/accounts/self/capabilities``)."""

    enabled: tuple[str, ...]
    query_limit: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class BinaryContent:
    """A file or patch the server sent base64-encoded (or zipped), decoded."""

    data: bytes
    content_type: str | None = None
    name: str | None = None  # the file's name inside a ``?zip`` archive

    def text(self) -> str:
        """The content as UTF-8 text (undecodable bytes replaced)."""
        return self.data.decode("utf-8", "replace")


# --- what writes take ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommentInput:
    """An inline comment to post or a draft to create/update (CommentInput)."""

    path: str | None
    message: str
    line: int | None = None
    side: str | None = None
    range: CommentRange | None = None
    in_reply_to: str | None = None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ReviewInput:
    """A review (ReviewInput): a message, votes and inline comments."""

    message: str | None = None
    labels: Mapping[str, int] = field(default_factory=dict)
    comments: tuple[CommentInput, ...] = ()
    strict_labels: bool | None = None
    drafts: str | None = None  # DELETE, PUBLISH or KEEP
    notify: str | None = None  # NONE, OWNER, OWNER_REVIEWERS or ALL
    on_behalf_of: str | None = None
