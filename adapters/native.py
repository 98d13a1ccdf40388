"""The answers the gateway gives *itself* on a compat mount, in each kind's own form.

A legacy client pointed at ``/rest/<backend>/`` must not be able to tell the gateway's own
refusals from its server's: it maps error texts to exceptions (abf-console-client), reads
``detail`` (git-pw, pwclient) or expects Gerrit's plain text. So every answer the gateway
produces without the backend — a missing or wrong credential, a write it may not make, a
path outside the allow-list, a method, a body too large, the Guard's rate limit and body
timeout, an unreachable or slow backend — comes from one table here, per kind and
``Reason``, and is what that kind's server sends (docs/compat.md "Answers the gateway
gives itself"):

- Patchwork 3.2.1 (DRF): ``{"detail": …}`` with DRF's texts, ``application/json``; its
  first authenticator is the session one, so a missing or bad credential is **403**, never
  401; paths outside ``/api/`` get its HTML 404 page; DRF's throttle text and
  ``Retry-After`` on 429;
- freedesktop Patchwork (DRF, HTTP basic first): ``{"detail": …}``, 401 with
  ``WWW-Authenticate: Basic realm="api"``; Django's ``<h1>Not Found</h1>`` outside the API;
- Gerrit: RestApiServlet's ``text/plain; charset=UTF-8`` bodies ending in a newline, and
  for the 401 of its auth filter Jetty's error handler (the reason phrase, ISO-8859-1, no
  newline) with ``WWW-Authenticate: Basic realm="Gerrit Code Review"``; ``Quota limit
  reached`` on 429 (its QuotaException);
- ABF (rosa-build, Rails + Devise): JSON ``application/json; charset=utf-8``: Devise's
  ``{"error": …}`` 401 with ``WWW-Authenticate: Basic realm="Application"``, rosa-build's
  ``{"status":404,"message":"Error 404. Resource not found!"}`` (also for a method Rails
  has no route for: Rails answers no 405), its throttle's 403 ``403 Forbidden | Rate Limit
  Exceeded`` (the text abf-console-client maps to its RateLimitError) with ``Retry-After``,
  and ``{"status": N, "message": …}`` (its ``render_error`` shape) for the rest.

Header names are written as those servers write them (``raw_headers``: Starlette would
lower-case them). Messages the gateway composes (a size, a backend's name) never hold a
credential; ``gateway/scrub.py`` scrubs every answer besides.
"""

from __future__ import annotations

import base64
import binascii
import html
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from urllib.parse import quote

import orjson
from starlette.responses import Response

from adapters.errors import Timeout, Unavailable


class Reason(Enum):
    """Why the gateway answers without the backend."""

    NO_CREDENTIALS = "no_credentials"  # a credential is required and none was sent
    BAD_CREDENTIALS = "bad_credentials"  # the credential sent is no gateway token or key
    ANONYMOUS_WRITE = "anonymous_write"  # a write from a caller without a credential
    READ_ONLY = "read_only"  # a write from a caller who may only read
    NOT_FOUND = "not_found"  # not modelled and outside the pass-through allow-list
    METHOD = "method"  # a method the route does not take
    BAD_PATH = "bad_path"  # a path the gateway cannot pass on (adapters/paths.py)
    TOO_LARGE = "too_large"  # request body over [server] max_body_bytes (the Guard)
    BODY_TIMEOUT = "body_timeout"  # request body not received in time (the Guard)
    RATE_LIMITED = "rate_limited"  # the caller's request bucket is empty (the Guard)
    NOT_IMPLEMENTED = "not_implemented"  # a per-token credential this kind cannot act with
    BAD_GATEWAY = "bad_gateway"  # the backend failed (5xx, garbage)
    UNAVAILABLE = "unavailable"  # the backend cannot be reached
    TIMEOUT = "timeout"  # the backend did not answer in time


KINDS = ("patchwork", "patchwork-fdo", "gerrit", "abf")


@dataclass(frozen=True, slots=True)
class Native:
    """One answer: status, body and headers (names as the kind's server writes them)."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]

    def response(self, *, head: bool = False) -> Response:
        """As a Starlette response (no body for HEAD, the same headers)."""
        response = Response(b"" if head else self.body, self.status)
        response.raw_headers.extend(self.raw_headers())
        return response

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers as ASGI pairs, names as written."""
        return [(n.encode("latin-1"), v.encode("latin-1", "replace")) for n, v in self.headers]


# -- the kinds' texts ---------------------------------------------------------------------------

DRF_NOT_AUTHENTICATED = "Authentication credentials were not provided."
DRF_NO_PERMISSION = "You do not have permission to perform this action."
DRF_NOT_FOUND = "Not found."
PW_INVALID_TOKEN = "Invalid token."
FDO_BAD_CREDENTIALS = "Invalid username/password."
FDO_CHALLENGE = 'Basic realm="api"'  # DRF's BasicAuthentication.www_authenticate_realm
GERRIT_CHALLENGE = 'Basic realm="Gerrit Code Review"'
ABF_UNAUTHORIZED = "You need to sign in or sign up before continuing."  # Devise
ABF_CHALLENGE = 'Basic realm="Application"'  # Devise's default realm (rosa-build keeps it)
ABF_FORBIDDEN = "Access violation to this page!"
ABF_NOT_FOUND_TEXT = "Error 404. Resource not found!"
ABF_RATE_LIMITED = "403 Forbidden | Rate Limit Exceeded"

PW_JSON = "application/json"
PW_VARY = "Accept, Cookie"  # DRF behind Patchwork's session middleware
FDO_VARY = "Accept"
GERRIT_TEXT = "text/plain; charset=UTF-8"
JETTY_TEXT = "text/plain; charset=ISO-8859-1"
ABF_JSON = "application/json; charset=utf-8"

# The status each reason has where the kind does not say otherwise.
_STATUS = {
    Reason.NO_CREDENTIALS: 401,
    Reason.BAD_CREDENTIALS: 401,
    Reason.ANONYMOUS_WRITE: 403,
    Reason.READ_ONLY: 403,
    Reason.NOT_FOUND: 404,
    Reason.METHOD: 405,
    Reason.BAD_PATH: 400,
    Reason.TOO_LARGE: 413,
    Reason.BODY_TIMEOUT: 408,
    Reason.RATE_LIMITED: 429,
    Reason.NOT_IMPLEMENTED: 501,
    Reason.BAD_GATEWAY: 502,
    Reason.UNAVAILABLE: 503,
    Reason.TIMEOUT: 504,
}


@dataclass(frozen=True, slots=True)
class Detail:
    """What an answer may say beyond its reason (all optional)."""

    message: str = ""  # the gateway's own text, for reasons the server has no text for
    method: str = "GET"
    path: str = ""  # the request path as the client sent it (Patchwork's 404 page)
    allow: str = ""  # the route's methods (405)
    retry_after: str = ""  # seconds (429)
    api: bool = True  # under the kind's API root (else its web 404 page)


NO_DETAIL = Detail()


def answer(kind: str, reason: Reason, detail: Detail = NO_DETAIL) -> Native:
    """The answer ``kind``'s server gives for ``reason`` (an unknown kind: Patchwork's form,
    the DRF shape most compat clients read)."""
    if kind == "gerrit":
        return _gerrit(reason, detail)
    if kind == "abf":
        return _abf(reason, detail)
    if kind == "patchwork-fdo":
        return _drf_kind(kind, reason, detail)
    return _drf_kind("patchwork", reason, detail)


def _message(reason: Reason, detail: Detail) -> str:
    """The gateway's text for a reason the server has no words for."""
    if detail.message:
        return detail.message
    return {
        Reason.BAD_PATH: "Invalid path.",
        Reason.TOO_LARGE: "Request body too large.",
        Reason.BODY_TIMEOUT: "Request body not received in time.",
        Reason.NOT_IMPLEMENTED: "Not implemented.",
        Reason.BAD_GATEWAY: "Bad gateway.",
        Reason.UNAVAILABLE: "Backend unavailable.",
        Reason.TIMEOUT: "Backend timed out.",
    }.get(reason, "Error.")


def _drf_throttled(retry: str) -> str:
    wait = retry or "1"
    return (
        f"Request was throttled. Expected available in {wait} second{'' if wait == '1' else 's'}."
    )


def _drf(status: int, detail: str, vary: str, extra: Sequence[tuple[str, str]] = ()) -> Native:
    body = orjson.dumps({"detail": detail})
    return Native(status, body, (("Content-Type", PW_JSON), ("Vary", vary), *extra))


# DRF texts both Patchworks share; the authentication ones differ (see _DRF_AUTH).
_DRF_TEXTS = {
    Reason.READ_ONLY: (403, DRF_NO_PERMISSION),
    Reason.NOT_FOUND: (404, DRF_NOT_FOUND),
}
_DRF_AUTH = {
    # Patchwork: SessionAuthentication comes first, it has no challenge, so DRF answers 403.
    "patchwork": {
        Reason.NO_CREDENTIALS: (403, DRF_NOT_AUTHENTICATED),
        Reason.BAD_CREDENTIALS: (403, PW_INVALID_TOKEN),
        Reason.ANONYMOUS_WRITE: (403, DRF_NOT_AUTHENTICATED),
    },
    # The fork authenticates with HTTP basic first: 401 with its challenge.
    "patchwork-fdo": {
        Reason.NO_CREDENTIALS: (401, DRF_NOT_AUTHENTICATED),
        Reason.BAD_CREDENTIALS: (401, FDO_BAD_CREDENTIALS),
        Reason.ANONYMOUS_WRITE: (401, DRF_NOT_AUTHENTICATED),
    },
}


def drf_credential_text(kind: str, authorization: str) -> str:
    """DRF's words for the credential in ``authorization`` that did not authenticate
    (rest_framework/authentication.py: TokenAuthentication, BasicAuthentication)."""
    scheme, _, rest = authorization.strip().partition(" ")
    words = rest.split()
    if scheme.lower() == "token" and kind == "patchwork-fdo":
        # The fork authenticates with basic (its CI clients): Token is the gateway's
        # extension there, refused with the fork's one text.
        return FDO_BAD_CREDENTIALS
    if scheme.lower() == "token":
        if not words:
            return "Invalid token header. No credentials provided."
        if len(words) > 1:
            return "Invalid token header. Token string should not contain spaces."
        return PW_INVALID_TOKEN
    if scheme.lower() == "basic":
        if not words:
            return "Invalid basic header. No credentials provided."
        if len(words) > 1:
            return "Invalid basic header. Credentials string should not contain spaces."
        try:
            base64.b64decode(words[0], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return "Invalid basic header. Credentials not correctly base64 encoded."
        return FDO_BAD_CREDENTIALS  # "Invalid username/password."
    return PW_INVALID_TOKEN if kind == "patchwork" else FDO_BAD_CREDENTIALS


def _drf_kind(kind: str, reason: Reason, d: Detail) -> Native:
    """Patchwork's or its fork's answer (both DRF: ``{"detail": …}``)."""
    fdo = kind == "patchwork-fdo"
    if reason is Reason.NOT_FOUND and not d.api:
        if fdo:  # Django's own 404 page
            html_404 = b"<h1>Not Found</h1>"
            return Native(404, html_404, (("Content-Type", "text/html; charset=utf-8"),))
        return patchwork_404_page(d.path)
    if reason is Reason.METHOD:
        text = (405, f'Method "{d.method}" not allowed.')
    elif reason is Reason.RATE_LIMITED:
        text = (429, _drf_throttled(d.retry_after))
    elif reason is Reason.BAD_CREDENTIALS and d.message:  # drf_credential_text's words
        text = (_DRF_AUTH[kind][reason][0], d.message)
    else:
        text = (
            _DRF_AUTH[kind].get(reason)
            or _DRF_TEXTS.get(reason)
            or (_STATUS[reason], _message(reason, d))
        )
    extra = list(_extra(reason, d))
    if text[0] == 401:  # DRF's BasicAuthentication.authenticate_header
        extra.append(("WWW-Authenticate", FDO_CHALLENGE))
    body = orjson.dumps({"detail": text[1]})
    headers = (("Content-Type", PW_JSON), ("Vary", FDO_VARY if fdo else PW_VARY), *extra)
    return Native(text[0], body, headers)


def _gerrit(reason: Reason, d: Detail) -> Native:
    if reason is Reason.BAD_PATH:
        reason = Reason.NOT_FOUND  # Gerrit answers a path it cannot route "Not found"
    if reason in (Reason.NO_CREDENTIALS, Reason.BAD_CREDENTIALS):
        # Its auth filter's sendError(401), written by Jetty's (hidden) error handler.
        headers = (("Content-Type", JETTY_TEXT), ("WWW-Authenticate", GERRIT_CHALLENGE))
        return Native(401, b"Unauthorized", headers)
    text = {
        Reason.ANONYMOUS_WRITE: "Authentication required",
        Reason.READ_ONLY: "not permitted",
        Reason.NOT_FOUND: "Not found",
        Reason.METHOD: "Method Not Allowed",
        Reason.RATE_LIMITED: "Quota limit reached",
    }.get(reason) or _message(reason, d)
    body = (text.rstrip("\n") + "\n").encode()
    return Native(_STATUS[reason], body, (("Content-Type", GERRIT_TEXT), *_extra(reason, d)))


def _abf(reason: Reason, d: Detail) -> Native:
    body: dict[str, object]
    headers: list[tuple[str, str]] = [("Content-Type", ABF_JSON)]
    status = _STATUS[reason]
    if reason in (Reason.NO_CREDENTIALS, Reason.BAD_CREDENTIALS, Reason.ANONYMOUS_WRITE):
        status, body = 401, {"error": ABF_UNAUTHORIZED}
        headers.append(("WWW-Authenticate", ABF_CHALLENGE))
    elif reason is Reason.READ_ONLY:
        body = {"message": ABF_FORBIDDEN}
    elif reason in (Reason.NOT_FOUND, Reason.METHOD):
        # Rails routes by method too: a method without a route is its routing 404.
        status, body = 404, {"status": 404, "message": ABF_NOT_FOUND_TEXT}
    elif reason is Reason.RATE_LIMITED:
        # rosa-build's throttle answers 403 with this text: the one its client recognises.
        status, body = 403, {"message": ABF_RATE_LIMITED}
        headers.extend(_extra(reason, d))
    else:
        body = {"status": status, "message": _message(reason, d)}
    return Native(status, orjson.dumps(body), tuple(headers))


def _extra(reason: Reason, d: Detail) -> tuple[tuple[str, str], ...]:
    if reason is Reason.RATE_LIMITED and d.retry_after:
        return (("Retry-After", d.retry_after),)
    if reason is Reason.METHOD and d.allow:
        return (("Allow", d.allow),)
    return ()


def patchwork_404_page(path: str) -> Native:
    """Patchwork's own 404 page (DEBUG off: templates/404.html) says, in its title and body,
    "404: File not found" and "The page URL requested (<code>path</code>) does not exist.",
    the path quoted as Django's ``page_not_found`` does, then HTML-escaped. Only those words
    are kept: the site's navigation, styles and version (templates/base.html, GPL) are not
    copied into the gateway (docs/compat.md)."""
    shown = html.escape(quote(path, safe="/:@!$&'()*+,;=~"))
    body = (
        '<!DOCTYPE html>\n<html lang="en">\n  <head>\n    <meta http-equiv="Content-Type" '
        'content="text/html; charset=UTF-8"/>\n    <title>404: File not found - Patchwork</title>\n'
        "  </head>\n  <body>\n    <h1>404: File not found</h1>\n"
        f"<p>The page URL requested (<code>{shown}</code>) does not exist.</p>\n"
        "  </body>\n</html>\n"
    )
    return Native(404, body.encode(), (("Content-Type", "text/html; charset=utf-8"),))


def upstream_reason(exc: Exception) -> Reason:
    """The reason of an upstream failure: a timeout, an unreachable backend (no status) or a
    backend that failed."""
    if isinstance(exc, Timeout):
        return Reason.TIMEOUT
    if isinstance(exc, Unavailable) and exc.status is None:
        return Reason.UNAVAILABLE
    return Reason.BAD_GATEWAY


def upstream_failure(kind: str, exc: Exception, *, head: bool = False) -> Response:
    """``kind``'s answer to an upstream failure, naming the backend (its message holds no
    credential: adapters/http.py scrubs the backend's words and location)."""
    return answer(kind, upstream_reason(exc), Detail(message=str(exc))).response(head=head)
