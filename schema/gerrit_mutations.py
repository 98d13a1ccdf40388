"""Every documented Gerrit write as a GraphQL mutation: ``gerritVerbNoun(input) → payload``.

Like the other mutations (``schema/mutations.py``), a refused write comes back in the
payload's ``errors`` with a code: ``CONFLICT`` for Gerrit's ``409`` text bodies (``change is
merged``, ``blocked by Verified``), ``NOT_FOUND`` for 404, ``UNAUTHORIZED``/``FORBIDDEN`` for
401/403, ``BAD_REQUEST`` for 400, ``BAD_USER_INPUT``/``BAD_ID`` for mistakes caught before
anything is sent. ``change`` is a ``GerritChange`` ID; ``revision`` is any revision id Gerrit
accepts (``current``, a patch-set number, a sha or an abbreviated sha).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import strawberry

from adapters.errors import UpstreamError
from adapters.gerrit import records as gr
from adapters.gerrit.ports import GerritWriter
from schema import descriptions as doc
from schema import node
from schema.context import Info
from schema.errors import UserInputError
from schema.gerrit import GerritChange
from schema.gerrit_base import writer
from schema.gerrit_review import GerritInlineComment, GerritReviewer
from schema.mutations import MutationError
from schema.mutations import _error as mutation_error
from schema.types import Person

T = TypeVar("T")
CURRENT = "current"

_CHANGE = "The GerritChange ID."
_REVISION = "The patch set: current (the default), its number, its sha or 4+ characters of it."
_INPUT = strawberry.argument(description="The write's parameters (see the input type).")


def _target(info: Info, change: strawberry.ID) -> tuple[GerritWriter, str]:
    gid = node.decode(str(change), "GerritChange")
    return writer(info, gid.backend), gid.native


async def _attempt(
    info: Info, change: strawberry.ID, op: Callable[[GerritWriter, str], Awaitable[T]]
) -> tuple[T | None, list[MutationError]]:
    """Run one write; expected failures become payload errors."""
    try:
        src, native = _target(info, change)
        return await op(src, native), []
    except (UpstreamError, UserInputError) as exc:
        return None, [mutation_error(exc)]


async def _reloaded(src: GerritWriter, native: str) -> gr.GerritChange:
    return await src.change(native, ("LABELS", "DETAILED_LABELS", "DETAILED_ACCOUNTS"))


# --- payloads ------------------------------------------------------------------------------


@strawberry.type(description="A change after a write (null when the write failed or deleted it).")
class GerritChangePayload:
    change: GerritChange | None = strawberry.field(
        description="The change afterwards (revert, cherry-pick: the new change; null: the "
        "write failed)."
    )
    errors: list[MutationError] = strawberry.field(description=doc.PAYLOAD_ERRORS)


@strawberry.type(description="Whether a write that returns nothing happened.")
class GerritDonePayload:
    done: bool = strawberry.field(description="Whether it happened (false: see errors).")
    errors: list[MutationError] = strawberry.field(description=doc.PAYLOAD_ERRORS)


@strawberry.type(description="Reviewers added, or why not (confirm: ask again with confirmed).")
class GerritAddReviewerPayload:
    reviewers: list[GerritReviewer] = strawberry.field(
        description="The reviewers added (empty: none, see confirm and errors)."
    )
    confirm: bool = strawberry.field(
        description="A big group: repeat with confirmed: true to add all its members."
    )
    message: str | None = strawberry.field(description="Gerrit's own explanation, if any.")
    errors: list[MutationError] = strawberry.field(description=doc.PAYLOAD_ERRORS)


@strawberry.type(description="A label and the value a review applied.")
class GerritAppliedLabel:
    label: str = strawberry.field(description="The label, e.g. Code-Review.")
    value: int = strawberry.field(description="The value now applied, e.g. 1.")


@strawberry.type(description="The labels a review applied.")
class GerritReviewPayload:
    labels: list[GerritAppliedLabel] = strawberry.field(
        description="The votes Gerrit applied (empty: none, or the review failed)."
    )
    errors: list[MutationError] = strawberry.field(description=doc.PAYLOAD_ERRORS)


@strawberry.type(description="A draft comment after a write.")
class GerritDraftPayload:
    draft: GerritInlineComment | None = strawberry.field(
        description="The draft as saved (null: the write failed)."
    )
    errors: list[MutationError] = strawberry.field(description=doc.PAYLOAD_ERRORS)


@strawberry.type(description="What a submit type rule answers.")
class GerritSubmitTypePayload:
    submit_type: str | None = strawberry.field(
        description="The submit type, e.g. MERGE_IF_NECESSARY (null: the rule failed)."
    )
    errors: list[MutationError] = strawberry.field(description=doc.PAYLOAD_ERRORS)


@strawberry.type(description="One label's standing in a submit record.")
class GerritSubmitLabel:
    label: str = strawberry.field(description="The label, e.g. Code-Review.")
    status: str = strawberry.field(description="ok, reject, need, may or impossible.")
    account: Person | None = strawberry.field(
        description="Who gave the deciding vote (null: nobody yet)."
    )


@strawberry.type(description="One outcome of a submit rule.")
class GerritSubmitRecord:
    status: str = strawberry.field(
        description="OK, NOT_READY, CLOSED, FORCED or RULE_ERROR, as Gerrit says."
    )
    labels: list[GerritSubmitLabel] = strawberry.field(description="Each label's standing.")
    error_message: str | None = strawberry.field(
        description="The rule's error (RULE_ERROR; null otherwise)."
    )


@strawberry.type(description="What a submit rule answers.")
class GerritSubmitRulePayload:
    records: list[GerritSubmitRecord] = strawberry.field(
        description="The submit records (empty: the rule failed, see errors)."
    )
    errors: list[MutationError] = strawberry.field(description=doc.PAYLOAD_ERRORS)


def _submit_record(r: gr.SubmitRecord) -> GerritSubmitRecord:
    labels = [
        GerritSubmitLabel(label=name, status=status, account=Person.of(who))
        for status, group in (
            ("ok", r.ok),
            ("reject", r.reject),
            ("need", r.need),
            ("may", r.may),
            ("impossible", r.impossible),
        )
        for name, who in group.items()
    ]
    return GerritSubmitRecord(status=r.status, labels=labels, error_message=r.error_message)


# --- inputs --------------------------------------------------------------------------------


@strawberry.input(description="A change and an optional message (abandon, restore, revert).")
class GerritChangeMessageInput:
    change: strawberry.ID = strawberry.field(description=_CHANGE)
    message: str | None = strawberry.field(
        default=None, description="A message to post on the change (null: Gerrit's default)."
    )


@strawberry.input(description="A change.")
class GerritChangeInput:
    change: strawberry.ID = strawberry.field(description=_CHANGE)


@strawberry.input(description="A change's new topic (empty deletes it).")
class GerritSetTopicInput:
    change: strawberry.ID = strawberry.field(description=_CHANGE)
    topic: str = strawberry.field(description="The new topic; empty deletes it.")
    message: str | None = strawberry.field(
        default=None, description="A message to post on the change (null: none)."
    )


@strawberry.input(description="A change, or one of its patch sets when revision is given.")
class GerritChangeRevisionInput:
    change: strawberry.ID = strawberry.field(description=_CHANGE)
    revision: str | None = strawberry.field(
        default=None, description="A patch set as in revision fields; null: the whole change."
    )


@strawberry.input(description="Submit a change (or one patch set).")
class GerritSubmitInput:
    change: strawberry.ID = strawberry.field(description=_CHANGE)
    revision: str | None = strawberry.field(
        default=None, description="A patch set as in revision fields; null: the whole change."
    )
    wait_for_merge: bool = strawberry.field(
        default=False, description="Gerrit's wait_for_merge: answer once the merge is done."
    )


@strawberry.input(description="Add an account or group as reviewer.")
class GerritAddReviewerInput:
    change: strawberry.ID = strawberry.field(description=_CHANGE)
    reviewer: str = strawberry.field(description="Account id, username, email, name or group.")
    confirmed: bool = strawberry.field(
        default=False, description="Add a big group anyway (after a confirm answer)."
    )


@strawberry.input(description="Remove a reviewer.")
class GerritDeleteReviewerInput:
    change: strawberry.ID = strawberry.field(description=_CHANGE)
    account: str = strawberry.field(description="Account id, username or email.")


@strawberry.input(description="A vote on one label.")
class GerritLabelInput:
    label: str = strawberry.field(description="The label, e.g. Code-Review.")
    value: int = strawberry.field(description="The vote, within the label's range (e.g. -2..2).")


@strawberry.input(description="An inline comment (in a review, or a draft).")
class GerritCommentInput:
    path: str = strawberry.field(description="The file (/PATCHSET_LEVEL: the whole patch set).")
    message: str = strawberry.field(description="The comment's text (not empty).")
    line: int | None = strawberry.field(default=None, description="The line, from 1; null: file.")
    side: str | None = strawberry.field(default=None, description="REVISION (default) or PARENT.")
    in_reply_to: str | None = strawberry.field(
        default=None, description="The id of the comment it answers (null: a new thread)."
    )


@strawberry.input(description="A review: a message, votes and inline comments.")
class GerritSetReviewInput:
    change: strawberry.ID = strawberry.field(description=_CHANGE)
    revision: str = strawberry.field(default=CURRENT, description=_REVISION)
    message: str | None = strawberry.field(
        default=None, description="The review's message (null: none)."
    )
    labels: list[GerritLabelInput] = strawberry.field(
        default_factory=list, description="Votes to cast."
    )
    comments: list[GerritCommentInput] = strawberry.field(
        default_factory=list, description="Inline comments to publish."
    )
    drafts: str | None = strawberry.field(default=None, description="DELETE, PUBLISH or KEEP.")
    notify: str | None = strawberry.field(
        default=None, description="NONE, OWNER, OWNER_REVIEWERS or ALL."
    )


@strawberry.input(description="A draft comment to create, or (with draftId) to update.")
class GerritDraftInput:
    change: strawberry.ID = strawberry.field(description=_CHANGE)
    comment: GerritCommentInput = strawberry.field(description="The draft's content.")
    revision: str = strawberry.field(default=CURRENT, description=_REVISION)
    draft_id: str | None = strawberry.field(
        default=None, description="The draft to update; null: create one."
    )


@strawberry.input(description="One draft comment.")
class GerritDeleteDraftCommentInput:
    change: strawberry.ID = strawberry.field(description=_CHANGE)
    draft_id: str = strawberry.field(description="The draft comment's id.")
    revision: str = strawberry.field(default=CURRENT, description=_REVISION)


@strawberry.input(description="A file of a patch set (reviewed flag).")
class GerritFileInput:
    change: strawberry.ID = strawberry.field(description=_CHANGE)
    path: str = strawberry.field(description="The file's path.")
    revision: str = strawberry.field(default=CURRENT, description=_REVISION)


@strawberry.input(description="Cherry-pick a patch set onto another branch.")
class GerritCherryPickInput:
    change: strawberry.ID = strawberry.field(description=_CHANGE)
    destination: str = strawberry.field(description="The branch to cherry-pick onto.")
    message: str = strawberry.field(description="The new change's commit message.")
    revision: str = strawberry.field(default=CURRENT, description=_REVISION)


@strawberry.input(description="A patch set's new commit message.")
class GerritEditMessageInput:
    change: strawberry.ID = strawberry.field(description=_CHANGE)
    message: str = strawberry.field(description="The new commit message (keep the Change-Id).")
    revision: str = strawberry.field(default=CURRENT, description=_REVISION)


@strawberry.input(description="A Prolog rule to try on a patch set.")
class GerritTestRuleInput:
    change: strawberry.ID = strawberry.field(description=_CHANGE)
    rule: str = strawberry.field(description="The Prolog rule's source.")
    revision: str = strawberry.field(default=CURRENT, description=_REVISION)
    skip_filters: bool = strawberry.field(
        default=False, description="Skip the parent projects' submit filters."
    )


def _comment(c: GerritCommentInput, draft_id: str | None = None) -> gr.CommentInput:
    if not c.message.strip():
        raise UserInputError("a comment needs a message")
    if c.side not in (None, "REVISION", "PARENT"):
        raise UserInputError("side must be REVISION or PARENT")
    return gr.CommentInput(
        path=c.path,
        message=c.message,
        line=c.line,
        side=c.side,
        in_reply_to=c.in_reply_to,
        id=draft_id,
    )


def _change_payload(
    found: gr.GerritChange | None, errors: list[MutationError]
) -> GerritChangePayload:
    return GerritChangePayload(change=GerritChange.of(found) if found else None, errors=errors)


def _done(_: object, errors: list[MutationError]) -> GerritDonePayload:
    return GerritDonePayload(done=not errors, errors=errors)


@strawberry.type
class GerritMutation:
    """Gerrit's writes."""

    @strawberry.mutation(description="Set (or, with an empty topic, delete) a change's topic.")
    async def gerrit_set_topic(
        self, info: Info, input: Annotated[GerritSetTopicInput, _INPUT]
    ) -> GerritChangePayload:
        async def op(src: GerritWriter, c: str) -> gr.GerritChange:
            await src.set_topic(c, input.topic, input.message)
            return await _reloaded(src, c)

        return _change_payload(*await _attempt(info, input.change, op))

    @strawberry.mutation(description="Delete a change's topic.")
    async def gerrit_delete_topic(
        self, info: Info, input: Annotated[GerritChangeInput, _INPUT]
    ) -> GerritChangePayload:
        async def op(src: GerritWriter, c: str) -> gr.GerritChange:
            await src.delete_topic(c)
            return await _reloaded(src, c)

        return _change_payload(*await _attempt(info, input.change, op))

    @strawberry.mutation(description="Abandon an open change (CONFLICT when it is not open).")
    async def gerrit_abandon(
        self, info: Info, input: Annotated[GerritChangeMessageInput, _INPUT]
    ) -> GerritChangePayload:
        found = await _attempt(info, input.change, lambda s, c: s.abandon(c, input.message))
        return _change_payload(*found)

    @strawberry.mutation(description="Restore an abandoned change (CONFLICT otherwise).")
    async def gerrit_restore(
        self, info: Info, input: Annotated[GerritChangeMessageInput, _INPUT]
    ) -> GerritChangePayload:
        found = await _attempt(info, input.change, lambda s, c: s.restore(c, input.message))
        return _change_payload(*found)

    @strawberry.mutation(description="Rebase a change, or one of its patch sets.")
    async def gerrit_rebase(
        self, info: Info, input: Annotated[GerritChangeRevisionInput, _INPUT]
    ) -> GerritChangePayload:
        found = await _attempt(info, input.change, lambda s, c: s.rebase(c, input.revision))
        return _change_payload(*found)

    @strawberry.mutation(description="Revert a merged change: the new reverting change.")
    async def gerrit_revert(
        self, info: Info, input: Annotated[GerritChangeMessageInput, _INPUT]
    ) -> GerritChangePayload:
        found = await _attempt(info, input.change, lambda s, c: s.revert(c, input.message))
        return _change_payload(*found)

    @strawberry.mutation(description="Submit a change or patch set (CONFLICT: blocked by …).")
    async def gerrit_submit(
        self, info: Info, input: Annotated[GerritSubmitInput, _INPUT]
    ) -> GerritChangePayload:
        async def op(src: GerritWriter, c: str) -> gr.GerritChange:
            if input.revision is None:
                return await src.submit(c, input.wait_for_merge)
            await src.submit_revision(c, input.revision, input.wait_for_merge)
            return await _reloaded(src, c)

        return _change_payload(*await _attempt(info, input.change, op))

    @strawberry.mutation(description="Publish a draft change, or one draft patch set.")
    async def gerrit_publish_draft(
        self, info: Info, input: Annotated[GerritChangeRevisionInput, _INPUT]
    ) -> GerritChangePayload:
        async def op(src: GerritWriter, c: str) -> gr.GerritChange:
            await src.publish(c, input.revision)
            return await _reloaded(src, c)

        return _change_payload(*await _attempt(info, input.change, op))

    @strawberry.mutation(description="Delete a draft change, or one draft patch set.")
    async def gerrit_delete_draft(
        self, info: Info, input: Annotated[GerritChangeRevisionInput, _INPUT]
    ) -> GerritDonePayload:
        found = await _attempt(info, input.change, lambda s, c: s.delete_draft(c, input.revision))
        return _done(*found)

    @strawberry.mutation(
        description="Add a reviewer. A big group answers confirm: true and adds nobody until "
        "asked again with confirmed: true."
    )
    async def gerrit_add_reviewer(
        self, info: Info, input: Annotated[GerritAddReviewerInput, _INPUT]
    ) -> GerritAddReviewerPayload:
        result, errors = await _attempt(
            info, input.change, lambda s, c: s.add_reviewer(c, input.reviewer, input.confirmed)
        )
        if result is not None and result.error and not result.confirm:
            # Gerrit answers 200 with an error for an unknown account or group
            errors = [MutationError(code="NOT_FOUND", message=result.error, field="reviewer")]
        return GerritAddReviewerPayload(
            reviewers=[GerritReviewer.of(r) for r in result.reviewers] if result else [],
            confirm=bool(result and result.confirm),
            message=result.error if result else None,
            errors=errors,
        )

    @strawberry.mutation(description="Remove a reviewer and their votes.")
    async def gerrit_delete_reviewer(
        self, info: Info, input: Annotated[GerritDeleteReviewerInput, _INPUT]
    ) -> GerritDonePayload:
        done = await _attempt(info, input.change, lambda s, c: s.delete_reviewer(c, input.account))
        return _done(*done)

    @strawberry.mutation(description="Review a patch set: a message, votes, inline comments.")
    async def gerrit_set_review(
        self, info: Info, input: Annotated[GerritSetReviewInput, _INPUT]
    ) -> GerritReviewPayload:
        async def op(src: GerritWriter, c: str) -> dict[str, int]:
            if not (input.message or input.labels or input.comments):
                raise UserInputError("a review needs a message, labels or comments")
            review = gr.ReviewInput(
                message=input.message,
                labels={v.label: v.value for v in input.labels},
                comments=tuple(_comment(x) for x in input.comments),
                drafts=input.drafts,
                notify=input.notify,
            )
            return await src.set_review(c, input.revision, review)

        applied, errors = await _attempt(info, input.change, op)
        labels = [GerritAppliedLabel(label=k, value=v) for k, v in (applied or {}).items()]
        return GerritReviewPayload(labels=labels, errors=errors)

    @strawberry.mutation(description="Create a draft comment, or update one (draftId).")
    async def gerrit_save_draft(
        self, info: Info, input: Annotated[GerritDraftInput, _INPUT]
    ) -> GerritDraftPayload:
        async def op(src: GerritWriter, c: str) -> gr.InlineComment:
            body = _comment(input.comment, input.draft_id)
            if input.draft_id is None:
                return await src.create_draft(c, input.revision, body)
            return await src.update_draft(c, input.revision, input.draft_id, body)

        draft, errors = await _attempt(info, input.change, op)
        return GerritDraftPayload(
            draft=GerritInlineComment.of(draft) if draft else None, errors=errors
        )

    @strawberry.mutation(description="Delete a draft comment.")
    async def gerrit_delete_draft_comment(
        self, info: Info, input: Annotated[GerritDeleteDraftCommentInput, _INPUT]
    ) -> GerritDonePayload:
        done = await _attempt(
            info,
            input.change,
            lambda s, c: s.delete_draft_comment(c, input.revision, input.draft_id),
        )
        return _done(*done)

    @strawberry.mutation(description="Mark a file of a patch set as reviewed by the caller.")
    async def gerrit_set_reviewed(
        self, info: Info, input: Annotated[GerritFileInput, _INPUT]
    ) -> GerritDonePayload:
        done = await _attempt(
            info, input.change, lambda s, c: s.set_reviewed(c, input.revision, input.path)
        )
        return _done(*done)

    @strawberry.mutation(description="Clear a file's reviewed mark.")
    async def gerrit_delete_reviewed(
        self, info: Info, input: Annotated[GerritFileInput, _INPUT]
    ) -> GerritDonePayload:
        done = await _attempt(
            info, input.change, lambda s, c: s.delete_reviewed(c, input.revision, input.path)
        )
        return _done(*done)

    @strawberry.mutation(description="Cherry-pick a patch set: the new change on destination.")
    async def gerrit_cherry_pick(
        self, info: Info, input: Annotated[GerritCherryPickInput, _INPUT]
    ) -> GerritChangePayload:
        found = await _attempt(
            info,
            input.change,
            lambda s, c: s.cherry_pick(c, input.revision, input.destination, input.message),
        )
        return _change_payload(*found)

    @strawberry.mutation(description="Edit a patch set's commit message (a new patch set).")
    async def gerrit_edit_commit_message(
        self, info: Info, input: Annotated[GerritEditMessageInput, _INPUT]
    ) -> GerritChangePayload:
        found = await _attempt(
            info, input.change, lambda s, c: s.edit_message(c, input.revision, input.message)
        )
        return _change_payload(*found)

    @strawberry.mutation(description="The submit type a Prolog rule gives (test.submit_type).")
    async def gerrit_test_submit_type(
        self, info: Info, input: Annotated[GerritTestRuleInput, _INPUT]
    ) -> GerritSubmitTypePayload:
        found, errors = await _attempt(
            info,
            input.change,
            lambda s, c: s.test_submit_type(c, input.revision, input.rule, input.skip_filters),
        )
        return GerritSubmitTypePayload(submit_type=found, errors=errors)

    @strawberry.mutation(description="The submit records a Prolog rule gives (test.submit_rule).")
    async def gerrit_test_submit_rule(
        self, info: Info, input: Annotated[GerritTestRuleInput, _INPUT]
    ) -> GerritSubmitRulePayload:
        found, errors = await _attempt(
            info,
            input.change,
            lambda s, c: s.test_submit_rule(c, input.revision, input.rule, input.skip_filters),
        )
        return GerritSubmitRulePayload(
            records=[_submit_record(r) for r in found or ()], errors=errors
        )
