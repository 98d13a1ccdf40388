"""The one exception tree every adapter raises.

    UpstreamError                 something went wrong talking to a backend
    ├── NotFound                  404: the object does not exist (or is hidden from us)
    ├── Forbidden                 401/403: credentials missing, wrong, or not allowed
    ├── Conflict                  409: the backend refused the write in its current state
    ├── BadRequest                400/405/422: the backend rejected what we sent
    ├── Timeout                   no answer within the configured connect/read timeout
    ├── Unavailable               connection refused/reset, 5xx, 429 after retries
    ├── BadPayload                the backend answered something we cannot parse
    └── Unsupported               the backend's API has no such operation (nothing was sent)

Every error carries the backend *name* (never its URL with credentials, never a token) and a
stable machine-readable ``code`` that the GraphQL layer puts in ``extensions.code``.
Messages are built by the HTTP layer from the status and the backend's own short error text,
so they are safe to show to a client.
"""

from __future__ import annotations


class UpstreamError(Exception):
    """A backend call failed. ``backend`` names the configured backend instance."""

    code = "UPSTREAM_ERROR"

    def __init__(self, backend: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.backend = backend
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return f"{self.backend}: {self.message}"


class NotFound(UpstreamError):
    """The backend says the object does not exist."""

    code = "NOT_FOUND"


class Forbidden(UpstreamError):
    """The backend refused our credentials or their permissions."""

    code = "FORBIDDEN"


class SignInRequired(UpstreamError):
    """What only the backend's signed-in user has (the gateway's account), asked for an
    anonymous caller: refused before any upstream request."""

    code = "UNAUTHENTICATED"


class Conflict(UpstreamError):
    """The backend refused a write because of the object's current state."""

    code = "CONFLICT"


class BadRequest(UpstreamError):
    """The backend rejected the request's content."""

    code = "BAD_REQUEST"


class Timeout(UpstreamError):
    """The backend did not answer in time."""

    code = "UPSTREAM_TIMEOUT"


class Unavailable(UpstreamError):
    """The backend could not be reached or failed (5xx), even after retries."""

    code = "UPSTREAM_UNAVAILABLE"


class BadPayload(UpstreamError):
    """The backend answered with something that is not what its API documents."""

    code = "BAD_UPSTREAM_PAYLOAD"


class Unsupported(UpstreamError):
    """The backend's API has no such operation (a comment on Patchwork, a check on ABF):
    refused before any upstream request."""

    code = "UNSUPPORTED"
