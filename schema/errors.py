"""Errors that reach GraphQL clients, and the masking rule for everything else.

Only deliberate errors are shown: ``UserInputError`` (a client's mistake: bad global ID, page
size out of range, unknown backend) and ``adapters.errors.UpstreamError`` (a backend failed;
``extensions.backend`` names it). Both carry ``extensions.code``. Any other exception is
masked by ``MaskErrors`` into a generic message, so no traceback or internal detail leaks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension

from adapters.errors import UpstreamError

INTERNAL_MESSAGE = "Internal server error"


class UserInputError(Exception):
    """The client asked for something invalid; the message says what and how to fix it."""

    def __init__(self, message: str, code: str = "BAD_USER_INPUT", **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.extensions = extensions


def error_extensions(error: BaseException) -> dict[str, Any] | None:
    """``extensions`` for a deliberate error; ``None`` for anything that must be masked."""
    if isinstance(error, UpstreamError):
        ext: dict[str, Any] = {"code": error.code, "backend": error.backend}
        if error.status is not None:
            ext["upstreamStatus"] = error.status
        return ext
    if isinstance(error, UserInputError):
        return {"code": error.code, **error.extensions}
    return None


def _should_mask(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False  # parse, validation and variable-coercion errors: the client's, and safe
    ext = error_extensions(original)
    if ext is None:
        return True
    # Attach the code here so that every deliberate error carries it however it was raised,
    # and name the backend in the message (graphql-core takes ``.message`` alone).
    error.extensions = {**(error.extensions or {}), **ext}
    error.message = str(original)
    return False


class PartialErrors(SchemaExtension):
    """Adds the backend failures a resolver reported without failing (``Context.report``)."""

    def on_execute(self) -> Iterator[None]:
        yield
        ctx = self.execution_context
        reported = getattr(ctx.context, "partial_errors", None)
        if not reported or ctx.result is None:
            return
        extra = [
            GraphQLError(str(err), path=path, extensions=error_extensions(err))
            for path, err in reported
        ]
        ctx.result.errors = [*(ctx.result.errors or []), *extra]


def mask_errors() -> MaskErrors:
    """The strawberry extension that hides every error that was not raised on purpose."""
    return MaskErrors(should_mask_error=_should_mask, error_message=INTERNAL_MESSAGE)
