"""ABF's mutations: create, update (title, body, assignee, close/reopen) and merge a PR.

``AbfMutation`` is merged into the root ``Mutation`` by ``schema/build.py``. ABF refuses a
write with HTTP 422 and a JSON message (``"PullRequest has not been created. Title can't be
blank"``); that message comes back as a payload error with code ``BAD_REQUEST`` and the
backend named, like every expected failure (see ``schema/mutations.py``).
"""

from __future__ import annotations

import enum
from typing import Annotated

import strawberry

from adapters.abf import ports
from adapters.abf import records as abf
from adapters.errors import UpstreamError
from schema import descriptions as doc
from schema import node
from schema.abf import PullRequest
from schema.context import Info
from schema.errors import UserInputError
from schema.mutations import MutationError
from schema.mutations import _error as mutation_error


def _writer(info: Info, backend: str) -> ports.PullRequestWriter:
    return info.context.capable(backend, ports.PullRequestWriter, "pull request writes")


def _person(value: str | None, backend: str, field: str) -> str | None:
    """A user's native id from a Person ID or a native id; ``""`` stays (clears)."""
    if not value or value.isdigit():
        return value
    gid = node.decode(value, "Person")
    if gid.backend != backend:
        raise UserInputError(f"{field} belongs to backend {gid.backend!r}, not {backend!r}")
    return gid.native


def _project(value: str, backend: str | None, field: str) -> tuple[str, str]:
    """(backend, native id or owner/name) from a Project ID, or a native key and ``backend``."""
    if value.isdigit() or "/" in value:
        if not backend:
            raise UserInputError(f"{field}: a native project needs input.backend")
        return backend, value
    gid = node.decode(value, "Project")
    if backend and gid.backend != backend:
        raise UserInputError(f"{field} belongs to backend {gid.backend!r}, not {backend!r}")
    return gid.backend, gid.native


@strawberry.input(description="A pull request to open on an ABF project.")
class CreatePullRequestInput:
    project: str = strawberry.field(
        description="The target project: a Project ID, or a native id/owner/name with backend."
    )
    title: str = strawberry.field(description="The title (not empty).")
    body: str = strawberry.field(default="", description="The description (default empty).")
    to_ref: str = strawberry.field(description="The branch to merge into.")
    from_ref: str = strawberry.field(description="The branch to merge from.")
    from_project: str | None = strawberry.field(
        default=None, description="The project fromRef is in (default: the target project)."
    )
    assignee: str | None = strawberry.field(
        default=None, description="A Person ID or native user id."
    )
    backend: str | None = strawberry.field(
        default=None, description="The backend, when project is not a global ID."
    )


@strawberry.enum(description="A status change ABF can make.")
class PullRequestStatusAction(enum.Enum):
    CLOSE = "close"
    REOPEN = "reopen"


doc.describe_values(
    PullRequestStatusAction,
    CLOSE="Close it without merging.",
    REOPEN="Open a closed one again.",
)


@strawberry.input(description="Fields of a pull request to change; omitted ones stay.")
class UpdatePullRequestInput:
    id: strawberry.ID = strawberry.field(description="The PullRequest ID.")
    title: str | None = strawberry.field(default=None, description="A new title.")
    body: str | None = strawberry.field(default=None, description="A new description.")
    assignee: str | None = strawberry.field(
        default=None, description='A Person ID, a native user id, or "" to unassign.'
    )
    status: PullRequestStatusAction | None = strawberry.field(
        default=None, description="Close or reopen it."
    )


@strawberry.input(description="A pull request to merge.")
class MergePullRequestInput:
    id: strawberry.ID = strawberry.field(description="The PullRequest ID.")
    commit_message: str | None = strawberry.field(
        default=None, description="The merge commit's message (null: ABF's default)."
    )


@strawberry.type(description="What a pull request mutation did.")
class PullRequestPayload:
    pull_request: PullRequest | None = strawberry.field(
        description="The pull request afterwards (null: the write failed, see errors)."
    )
    errors: list[MutationError] = strawberry.field(description=doc.PAYLOAD_ERRORS)


def _failed(exc: Exception) -> PullRequestPayload:
    return PullRequestPayload(pull_request=None, errors=[mutation_error(exc)])


@strawberry.type
class AbfMutation:
    @strawberry.mutation(description="Open a pull request on an ABF project.")
    async def create_pull_request(
        self,
        info: Info,
        input: Annotated[
            CreatePullRequestInput, strawberry.argument(description="The pull request.")
        ],
    ) -> PullRequestPayload:
        try:
            backend, project = _project(input.project, input.backend, "project")
            writer = _writer(info, backend)
            from_project = None
            if input.from_project:
                _, from_project = _project(input.from_project, backend, "fromProject")
            if not (input.to_ref.strip() and input.from_ref.strip()):
                raise UserInputError("toRef and fromRef must not be empty")
            new = abf.NewPullRequest(
                title=input.title,
                body=input.body,
                to_ref=input.to_ref,
                from_ref=input.from_ref,
                assignee_id=_person(input.assignee, backend, "assignee"),
                from_project=from_project,
            )
            created = await writer.create_pull_request(project, new)
        except (UpstreamError, UserInputError) as exc:
            return _failed(exc)
        return PullRequestPayload(pull_request=PullRequest.of(created), errors=[])

    @strawberry.mutation(description="Change a pull request's title, body, assignee or status.")
    async def update_pull_request(
        self,
        info: Info,
        input: Annotated[
            UpdatePullRequestInput, strawberry.argument(description="What to change.")
        ],
    ) -> PullRequestPayload:
        try:
            gid = node.decode(str(input.id), "PullRequest")
            writer = _writer(info, gid.backend)
            update = abf.PullRequestUpdate(
                title=input.title,
                body=input.body,
                assignee_id=_person(input.assignee, gid.backend, "assignee"),
                status=input.status.value if input.status else None,
            )
            if update == abf.PullRequestUpdate():
                raise UserInputError("nothing to update: give title, body, assignee or status")
            updated = await writer.update_pull_request(gid.native, update)
        except (UpstreamError, UserInputError) as exc:
            return _failed(exc)
        return PullRequestPayload(pull_request=PullRequest.of(updated), errors=[])

    @strawberry.mutation(description="Merge a pull request (ABF merges only mergeable ones).")
    async def merge_pull_request(
        self,
        info: Info,
        input: Annotated[MergePullRequestInput, strawberry.argument(description="What to merge.")],
    ) -> PullRequestPayload:
        try:
            gid = node.decode(str(input.id), "PullRequest")
            merged = await _writer(info, gid.backend).merge_pull_request(
                gid.native, input.commit_message
            )
        except (UpstreamError, UserInputError) as exc:
            return _failed(exc)
        return PullRequestPayload(pull_request=PullRequest.of(merged), errors=[])
