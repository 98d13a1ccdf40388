"""Errors that reach GraphQL clients, and the masking rule for everything else.

Only deliberate errors are shown: ``UserInputError`` (a client's mistake: bad global ID, page
size out of range, unknown backend) and ``adapters.errors.UpstreamError`` (a backend failed;
``extensions.backend`` names it). Both carry ``extensions.code``. Any other exception is
masked by ``MaskErrors`` into a generic message, so no traceback or internal detail leaks.

A masked error carries ``extensions.code = INTERNAL_SERVER_ERROR`` and ``extensions.requestId``
— the id of the ``X-Request-Id`` response header — and ``LoggingSchema`` logs it once, with
its traceback and that id, on the ``revgate.errors`` logger (deliberate errors get one line
without a traceback). Strawberry's own per-error ERROR logging is replaced by this.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from adapters.errors import UpstreamError
from schema.execution.hooks import HookCachingSchema
from schema.execution.strawberry_private import MaskErrorsByAttribute
from schema.request import RequestMeta

INTERNAL_MESSAGE = "Internal server error"
INTERNAL_CODE = "INTERNAL_SERVER_ERROR"

log = logging.getLogger("revgate.errors")


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


def request_id_of(execution_context: ExecutionContext | None) -> str | None:
    """The request id the gateway put in the context (``schema.request.RequestMeta``)."""
    context = execution_context.context if execution_context is not None else None
    meta = getattr(context, "meta", None)  # duck-typed: schema.context imports this module
    return meta.request_id if isinstance(meta, RequestMeta) else None


class _RequestMaskErrors(MaskErrorsByAttribute):
    """``MaskErrors`` whose generic error names the request (``extensions.requestId``)."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": INTERNAL_CODE}
        if (request_id := request_id_of(self.execution_context)) is not None:
            masked.extensions["requestId"] = request_id
        return masked


class PartialErrors(SchemaExtension):
    """Adds the backend failures a resolver reported without failing (``Context.report``),
    and the notices it left (``Context.notice``)."""

    def on_execute(self) -> Iterator[None]:
        yield
        add_partial_errors(self.execution_context)

    def get_results(self) -> dict[str, Any]:
        """``extensions.notices``: what resolvers said about an answer that is not an error
        (``Context.notice``: e.g. why a Gerrit project's ``patches`` is empty)."""
        return notices_of(self.execution_context)


def add_partial_errors(ctx: ExecutionContext) -> None:
    """``ctx.result``'s errors and those its resolvers reported without failing."""
    reported = getattr(ctx.context, "partial_errors", None)
    if not reported or ctx.result is None:
        return
    extra = [
        GraphQLError(str(err), path=path, extensions=error_extensions(err))
        for path, err in reported
    ]
    ctx.result.errors = [*(ctx.result.errors or []), *extra]


def notices_of(ctx: ExecutionContext) -> dict[str, Any]:
    """The ``notices`` entry of ``extensions``, or nothing."""
    notices = getattr(ctx.context, "notices", None)
    return {"notices": list(notices)} if notices else {}


def mask_errors() -> MaskErrorsByAttribute:
    """The strawberry extension that hides every error that was not raised on purpose."""
    return _RequestMaskErrors(should_mask_error=_should_mask, error_message=INTERNAL_MESSAGE)


def default_code(error: GraphQLError, code: str) -> None:
    """Set ``extensions.code`` on ``error`` unless it has one."""
    if not (error.extensions or {}).get("code"):
        error.extensions = {**(error.extensions or {}), "code": code}


class LoggingSchema(HookCachingSchema):
    """A schema that logs each error once: unexpected ones with traceback and request id.

    It also codes syntax errors (``GRAPHQL_PARSE_FAILED``, or ``TOO_MANY_TOKENS`` when
    ``MaxTokensLimiter`` stopped the parser): they escape every extension hook.
    """

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        # ``execute`` answers once: a subscription there would be a masked 500. strawberry
        # then raises InvalidOperationTypeError, which the HTTP view answers with a 400
        # (coded by ``http_error_body``); subscriptions go over the websocket.
        allowed = kwargs.get("allowed_operation_types") or DEFAULT_ALLOWED_OPERATION_TYPES
        kwargs["allowed_operation_types"] = set(allowed) - {OperationType.SUBSCRIPTION}
        result = await super().execute(*args, **kwargs)
        for error in result.errors or ():
            if isinstance(error, GraphQLSyntaxError):
                tokens = "tokens. Parsing aborted" in error.message
                default_code(error, "TOO_MANY_TOKENS" if tokens else "GRAPHQL_PARSE_FAILED")
        return result

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        request_id = request_id_of(execution_context) or "-"
        for error in errors:
            original = error.original_error
            path = ".".join(str(p) for p in error.path or ()) or "-"
            if original is None or isinstance(original, GraphQLError):
                log.info("request %s: rejected: %s", request_id, error.message)
            elif isinstance(original, UpstreamError):
                log.warning("request %s: %s at %s: %s", request_id, original.code, path, original)
            elif isinstance(original, UserInputError):
                log.info("request %s: %s at %s: %s", request_id, original.code, path, original)
            else:
                log.error(
                    "request %s: unexpected %s at %s",
                    request_id,
                    type(original).__name__,
                    path,
                    exc_info=(type(original), original, original.__traceback__),
                )


_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}


def http_error_body(status: int, reason: str, cause: BaseException | None) -> dict[str, Any]:
    """The GraphQL-shaped body of a request strawberry refuses before executing it (bad JSON,
    no query, unknown operation name, an operation type the method does not allow …), so
    that these errors are coded like every other: strawberry answers them in plain text."""
    if isinstance(cause, CannotGetOperationTypeError):
        code = "OPERATION_RESOLUTION_FAILURE"
    elif isinstance(cause, InvalidOperationTypeError):
        code = "OPERATION_NOT_ALLOWED"
        if cause.operation_type is OperationType.SUBSCRIPTION:
            reason += (
                " (subscribe over the websocket, graphql-transport-ws on this URL, or over HTTP"
                " with Accept: text/event-stream)"
            )
    elif isinstance(cause, MissingQueryError):
        code = "BAD_REQUEST"
    else:
        code = _HTTP_CODES.get(status, "BAD_REQUEST")
    return {"data": None, "errors": [{"message": reason, "extensions": {"code": code}}]}
