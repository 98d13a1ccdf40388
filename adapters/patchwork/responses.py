"""Patchwork's answers on the wire: JSON with Patchwork's headers, its HTML 404 page, and
DRF's refusal texts — shared by the API (``rest.py``) and the web routes (``rest_web.py``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import orjson
from starlette.responses import Response

NOT_AUTHENTICATED = "Authentication credentials were not provided."
NO_PERMISSION = "You do not have permission to perform this action."
INVALID_TOKEN = "Invalid token."


class PatchworkResponse(Response):
    """A response whose headers keep Patchwork's spelling on the wire (``Link``, ``Allow``).

    Starlette lower-cases header names given to ``Response``; some clients match ``Link``
    case-sensitively, so the headers are appended to ``raw_headers`` as written.
    """

    def __init__(
        self,
        body: bytes,
        status: int = 200,
        headers: Sequence[tuple[str, str]] = (),
        *,
        head: bool = False,
    ) -> None:
        super().__init__(b"" if head else body, status_code=status)
        self.raw_headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers)


def json_response(
    body: Any,
    status: int = 200,
    allow: str | None = None,
    link: str | None = None,
    head: bool = False,
) -> PatchworkResponse:
    return json_bytes(orjson.dumps(body), status, allow, link, head)


def json_bytes(
    body: bytes,
    status: int = 200,
    allow: str | None = None,
    link: str | None = None,
    head: bool = False,
) -> PatchworkResponse:
    headers = [("Content-Type", "application/json"), ("Vary", "Accept, Cookie")]
    if allow is not None:
        headers.append(("Allow", allow))
    if link is not None:
        headers.append(("Link", link))
    return PatchworkResponse(body, status, headers, head=head)


def html_404(path: str) -> PatchworkResponse:
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
    return PatchworkResponse(body.encode(), 404, [("Content-Type", "text/html; charset=utf-8")])
