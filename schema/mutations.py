"""Mutations: ``verbNoun(input) → VerbNounPayload { …, errors }``.

A mutation's expected failures — a bad ID, a backend refusing the write, a backend down — come
back in ``errors`` with a code, the backend and the input field, so a client can show them;
the top-level ``errors`` list is left for malformed requests and unexpected faults.
Writes are never retried (``adapters/http.py``).
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from adapters import base, model
from adapters.errors import UpstreamError
from schema import descriptions as doc
from schema import node
from schema.context import Info
from schema.errors import UserInputError
from schema.types import Check, CheckState, Patch


@strawberry.type(description="Why a mutation did not (fully) happen.")
class MutationError:
    code: str = strawberry.field(
        description="Stable, machine-readable: BAD_ID, BAD_USER_INPUT, UNSUPPORTED, "
        "FORBIDDEN, NOT_FOUND, UPSTREAM_UNAVAILABLE …"
    )
    message: str = strawberry.field(description="What went wrong, for people.")
    field: str | None = strawberry.field(
        default=None, description="The input field at fault (null: not one field)."
    )
    backend: str | None = strawberry.field(
        default=None, description="The backend that refused or failed (null: none did)."
    )


def _error(exc: Exception, field: str | None = None) -> MutationError:
    if isinstance(exc, UpstreamError):
        return MutationError(code=exc.code, message=exc.message, backend=exc.backend, field=field)
    if isinstance(exc, UserInputError):
        return MutationError(code=exc.code, message=exc.message, field=field)
    raise exc


@strawberry.input(description="Fields of a patch to change; omitted fields stay as they are.")
class UpdatePatchInput:
    id: strawberry.ID = strawberry.field(description="The Patch ID.")
    state: str | None = strawberry.field(
        default=None, description="A state slug of the backend, e.g. accepted, under-review."
    )
    delegate: str | None = strawberry.field(
        default=None,
        description='A Person ID, a username, or "" to clear the delegate.',
    )
    archived: bool | None = strawberry.field(
        default=None, description="Archive (true) or unarchive (false)."
    )
    commit_ref: str | None = strawberry.field(
        default=None, description="The commit the patch was applied as."
    )


@strawberry.type(description="What updatePatch did.")
class UpdatePatchPayload:
    patch: Patch | None = strawberry.field(
        description="The patch after the update (null: not updated, see errors)."
    )
    errors: list[MutationError] = strawberry.field(description=doc.PAYLOAD_ERRORS)


@strawberry.input(description="A CI result to attach to a patch.")
class CreateCheckInput:
    patch_id: strawberry.ID = strawberry.field(description="The Patch ID.")
    state: CheckState = strawberry.field(description="The outcome.")  # type: ignore[valid-type]
    context: str = strawberry.field(description="The CI job's name (not empty).")
    target_url: str | None = strawberry.field(
        default=None, description="Where the job's details are."
    )
    description: str | None = strawberry.field(default=None, description="A one-line summary.")


@strawberry.type(description="What createCheck did.")
class CreateCheckPayload:
    check: Check | None = strawberry.field(
        description="The check as created (null: not created, see errors)."
    )
    errors: list[MutationError] = strawberry.field(description=doc.PAYLOAD_ERRORS)


def _delegate(value: str | None, backend: str) -> tuple[str | None, str | None]:
    """``(native person id, username)``: a Person ID or else a username; ``""`` clears."""
    if not value:
        return value, None
    try:
        gid = node.decode(value, "Person")
    except UserInputError:
        return None, value
    if gid.backend != backend:
        raise UserInputError(f"delegate belongs to backend {gid.backend!r}, not {backend!r}")
    return gid.native, None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Change a patch's state, delegate, archived flag or commit (Patchwork "
        "kinds; needs a maintainer's credentials)."
    )
    async def update_patch(
        self,
        info: Info,
        input: Annotated[UpdatePatchInput, strawberry.argument(description="What to change.")],
    ) -> UpdatePatchPayload:
        try:
            gid = node.decode(str(input.id), "Patch")
            src = info.context.capable(gid.backend, base.PatchWriter, "patch updates")
            delegate, username = _delegate(input.delegate, gid.backend)
            update = model.PatchUpdate(
                state=input.state,
                delegate=delegate,
                delegate_username=username,
                archived=input.archived,
                commit_ref=input.commit_ref,
            )
            if update == model.PatchUpdate():
                raise UserInputError(
                    "nothing to update: give state, delegate, archived or commitRef"
                )
            updated = await src.update_patch(gid.native, update)
        except (UpstreamError, UserInputError) as exc:
            return UpdatePatchPayload(patch=None, errors=[_error(exc)])
        return UpdatePatchPayload(patch=Patch.of(updated), errors=[])

    @strawberry.mutation(description="Attach a CI result to a patch (Patchwork kinds).")
    async def create_check(
        self,
        info: Info,
        input: Annotated[CreateCheckInput, strawberry.argument(description="The check.")],
    ) -> CreateCheckPayload:
        try:
            gid = node.decode(str(input.patch_id), "Patch")
            src = info.context.capable(gid.backend, base.PatchWriter, "checks")
            if not input.context.strip():
                raise UserInputError("context must not be empty")
            new = model.NewCheck(
                state=input.state,
                context=input.context,
                target_url=input.target_url,
                description=input.description,
            )
            created = await src.create_check(gid.native, new)
        except (UpstreamError, UserInputError) as exc:
            return CreateCheckPayload(check=None, errors=[_error(exc)])
        return CreateCheckPayload(check=Check.of(created), errors=[])
