"""Kind-neutral mutations: act on any ``Change`` ID without knowing its forge.

``commentOnChange``, ``reviewChange``, ``setChangeState`` and ``reportCheck`` decode the ID,
find its backend's ``ChangeActor`` (``adapters/actions.py``) and let the kind do what its
forge can; docs/actions.md has the kind × action table. Like every mutation
(``schema/mutations.py``), expected failures come back in the payload's ``errors`` with a code:
``BAD_ID`` (not a change ID, or not one of that backend's changes), ``UNSUPPORTED`` (the
forge has no such thing: nothing was sent), ``UNAUTHENTICATED``/``FORBIDDEN`` (the access
policy, before any upstream request; or the forge's own refusal), ``NOT_FOUND``,
``CONFLICT``, ``UPSTREAM_*``. The per-kind mutations stay; these reuse the same adapter writes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import strawberry

from adapters import model
from adapters.actions import ActionSupport, ChangeActor, StateAction, Verdict
from adapters.errors import UpstreamError
from schema import descriptions as doc
from schema import node
from schema.context import Info
from schema.errors import UserInputError
from schema.mutations import MutationError
from schema.mutations import _error as mutation_error
from schema.plugin import composition_of
from schema.types import Change, Check, CheckState

T = TypeVar("T")

ReviewVerdict = strawberry.enum(
    Verdict, name="ReviewVerdict", description="A reviewer's verdict, on any forge."
)
doc.describe_values(
    ReviewVerdict,
    APPROVE="Approve: Patchwork accepted, Gerrit Code-Review +2.",
    REQUEST_CHANGES="Ask for a new version: Patchwork changes-requested, Gerrit Code-Review -1.",
    REJECT="Reject: Patchwork rejected, Gerrit Code-Review -2.",
)
ChangeStateAction = strawberry.enum(
    StateAction, name="ChangeStateAction", description="A move in a change's life."
)
doc.describe_values(
    ChangeStateAction,
    CLOSE="Close without merging: Patchwork rejected, Gerrit abandon, ABF close.",
    REOPEN="Open a closed change again: Patchwork new, Gerrit restore, ABF reopen.",
    MERGE="Merge: Patchwork accepted, Gerrit submit, ABF merge.",
    ABANDON="Give it up: Patchwork not-applicable, Gerrit abandon, ABF close.",
)

_CHANGE = "The Change ID (a Patch, GerritChange or PullRequest ID)."
_INPUT = strawberry.argument(description="The action's parameters (see the input type).")
_MESSAGE = (
    "A message to post with it, where the forge keeps one (elsewhere the action still "
    "happens, and errors says the message was not posted)."
)


@strawberry.input(description="A comment to post on a change.")
class CommentOnChangeInput:
    change: strawberry.ID = strawberry.field(description=_CHANGE)
    body: str = strawberry.field(description="The comment's text (not empty).")


@strawberry.input(description="A verdict on a change.")
class ReviewChangeInput:
    change: strawberry.ID = strawberry.field(description=_CHANGE)
    verdict: ReviewVerdict = strawberry.field(description="The verdict.")  # type: ignore[valid-type]
    message: str | None = strawberry.field(default=None, description=_MESSAGE)


@strawberry.input(description="A move in a change's life.")
class SetChangeStateInput:
    change: strawberry.ID = strawberry.field(description=_CHANGE)
    action: ChangeStateAction = strawberry.field(description="What to do.")  # type: ignore[valid-type]
    message: str | None = strawberry.field(default=None, description=_MESSAGE)


@strawberry.input(description="A CI result to report on a change.")
class ReportCheckInput:
    change: strawberry.ID = strawberry.field(description=_CHANGE)
    context: str = strawberry.field(
        description="The CI job's name (not empty); a later report with the same one replaces "
        "it where the forge keys checks by name."
    )
    state: CheckState = strawberry.field(description="The outcome.")  # type: ignore[valid-type]
    description: str | None = strawberry.field(default=None, description="A one-line summary.")
    target_url: str | None = strawberry.field(
        default=None, description="Where the job's details are."
    )


@strawberry.type(description="What a kind-neutral action did.")
class ChangePayload:
    change: Change | None = strawberry.field(
        description="The change after the action (null: it did not happen, see errors)."
    )
    errors: list[MutationError] = strawberry.field(description=doc.PAYLOAD_ERRORS)


@strawberry.type(description="What reportCheck did.")
class ReportCheckPayload:
    check: Check | None = strawberry.field(
        description="The check as the forge records it (null: not reported, or the forge "
        "keeps no record of this one, e.g. a pending Gerrit vote)."
    )
    change: Change | None = strawberry.field(
        description="The change after the report, with its new checkState (null: not "
        "reported, see errors)."
    )
    errors: list[MutationError] = strawberry.field(description=doc.PAYLOAD_ERRORS)


def _target(info: Info, change: strawberry.ID) -> tuple[ChangeActor, str, ActionSupport]:
    """The backend's actor, the native id and what the backend can do."""
    gid = node.decode(str(change))
    actor = info.context.capable(gid.backend, ChangeActor, "actions on changes")
    support = actor.action_support()
    if gid.type != support.change_type:
        raise UserInputError(
            f"ID {str(change)[:60]!r} is a {gid.type}, not a change of backend "
            f"{gid.backend!r} (its changes are {support.change_type}s)",
            "BAD_ID",
        )
    return actor, gid.native, support


def _change(info: Info, record: model.ChangeRecord) -> Change:
    """A change record as its kind's GraphQL type (``SchemaPart.changes``)."""
    table = composition_of(info).changes
    for cls in type(record).__mro__:
        if cls in table:
            return table[cls](record)
    raise TypeError(f"no GraphQL type for {type(record).__name__}")


def _message_note(support: ActionSupport, message: str | None) -> list[MutationError]:
    """The action happened but its message had nowhere to go (the forge takes no comments)."""
    if not message or support.comment:
        return []
    return [
        MutationError(
            code="UNSUPPORTED",
            message="the action was taken but its message was not posted: this forge takes "
            "no comments through its API",
            field="message",
        )
    ]


async def _act(
    info: Info,
    change: strawberry.ID,
    act: Callable[[ChangeActor, str, ActionSupport], Awaitable[T]],
) -> tuple[T | None, ActionSupport | None, list[MutationError]]:
    """Run one action; expected failures become payload errors."""
    try:
        actor, native, support = _target(info, change)
        return await act(actor, native, support), support, []
    except (UpstreamError, UserInputError) as exc:
        return None, None, [mutation_error(exc)]


def _payload(
    info: Info,
    acted: tuple[model.ChangeRecord | None, ActionSupport | None, list[MutationError]],
    message: str | None = None,
) -> ChangePayload:
    found, support, errors = acted
    if found is None or support is None:
        return ChangePayload(change=None, errors=errors)
    return ChangePayload(change=_change(info, found), errors=_message_note(support, message))


def _not_blank(value: str, field: str) -> None:
    if not value.strip():
        raise UserInputError(f"{field} must not be empty")


@strawberry.type
class ActionMutation:
    """The kind-neutral actions."""

    @strawberry.mutation(
        description="Comment on any change (Gerrit: a review message; UNSUPPORTED where the "
        "forge's API takes no comments: Patchwork, fdo, ABF)."
    )
    async def comment_on_change(
        self, info: Info, input: Annotated[CommentOnChangeInput, _INPUT]
    ) -> ChangePayload:
        async def act(actor: ChangeActor, native: str, _: Any) -> model.ChangeRecord:
            _not_blank(input.body, "body")
            return await actor.comment_on_change(native, input.body)

        return _payload(info, await _act(info, input.change, act))

    @strawberry.mutation(
        description="Record a verdict on any change: Patchwork state, Gerrit Code-Review vote "
        "(UNSUPPORTED on fdo and ABF, whose APIs have no reviews)."
    )
    async def review_change(
        self, info: Info, input: Annotated[ReviewChangeInput, _INPUT]
    ) -> ChangePayload:
        async def act(actor: ChangeActor, native: str, _: Any) -> model.ChangeRecord:
            return await actor.review_change(native, input.verdict, input.message)

        return _payload(info, await _act(info, input.change, act), input.message)

    @strawberry.mutation(
        description="Close, reopen, merge or abandon any change: Patchwork state, Gerrit "
        "abandon/restore/submit, ABF close/reopen/merge (UNSUPPORTED on fdo)."
    )
    async def set_change_state(
        self, info: Info, input: Annotated[SetChangeStateInput, _INPUT]
    ) -> ChangePayload:
        async def act(actor: ChangeActor, native: str, _: Any) -> model.ChangeRecord:
            return await actor.set_change_state(native, input.action, input.message)

        return _payload(info, await _act(info, input.change, act), input.message)

    @strawberry.mutation(
        description="Report a CI result on any change: a Patchwork check, an fdo test result "
        "on the patch's latest revision, a Gerrit Verified vote (UNSUPPORTED on ABF)."
    )
    async def report_check(
        self, info: Info, input: Annotated[ReportCheckInput, _INPUT]
    ) -> ReportCheckPayload:
        async def act(
            actor: ChangeActor, native: str, _: Any
        ) -> tuple[model.Check | None, model.ChangeRecord]:
            _not_blank(input.context, "context")
            new = model.NewCheck(
                state=input.state,
                context=input.context,
                target_url=input.target_url,
                description=input.description,
            )
            return await actor.report_check(native, new)

        found, _, errors = await _act(info, input.change, act)
        if found is None:
            return ReportCheckPayload(check=None, change=None, errors=errors)
        check, record = found
        return ReportCheckPayload(
            check=Check.of(check) if check else None, change=_change(info, record), errors=[]
        )
