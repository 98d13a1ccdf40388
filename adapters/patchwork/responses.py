"""Patchwork's answers on the wire: JSON with Patchwork's headers, its HTML 404 page, and
DRF's refusal texts — shared by the API (``rest.py``) and the web routes (``rest_web.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from adapters import native

NOT_AUTHENTICATED = native.DRF_NOT_AUTHENTICATED
NO_PERMISSION = native.DRF_NO_PERMISSION


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


def html_404(path: str) -> Response:
    """Patchwork's own 404 page (adapters/native.py ``patchwork_404_page``)."""
    return native.patchwork_404_page(path).response()


def credential_text(request: Request) -> str:
    """DRF's text for the credential this request presented and the gateway refused."""
    return native.drf_credential_text("patchwork", request.headers.get("authorization", ""))
