"""The secret each compat kind reads from a request (``presented``), over every shape of
``Authorization``: the three kinds share ``adapters.compat.basic_key`` and keep their own rules
(Gerrit only under ``/a/``, fdo's ``Token`` first, ABF's login when the password is empty)."""

from __future__ import annotations

import base64

import pytest
from starlette.requests import Request

from adapters.abf import rest as abf_rest
from adapters.gerrit import rest as gerrit_rest
from adapters.patchwork_fdo import rest as fdo_rest


def _request(authorization: str | None) -> Request:
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


def _basic(raw: str) -> str:
    return "Basic " + base64.b64encode(raw.encode()).decode()


# (Authorization, what ABF, fdo and Gerrit under /a/ read from it)
CASES: list[tuple[str | None, str | None, str | None, str | None]] = [
    (None, None, None, None),
    ("Bearer abc", None, None, None),
    ("Token abc", None, "abc", None),
    (_basic("user:secret"), "secret", "secret", "secret"),
    (_basic("tok:"), "tok", "", ""),
    (_basic(":"), None, "", ""),
    (_basic("user:pa:ss"), "pa:ss", "pa:ss", "pa:ss"),
    ("basic " + base64.b64encode(b"u:p").decode(), "p", "p", "p"),
    ("Basic !!not-base64!!", "", "", ""),
    ("Basic " + base64.b64encode(b"\xff:\xfe").decode(), "", "", ""),
]


@pytest.mark.parametrize(("authorization", "abf", "fdo", "gerrit"), CASES)
def test_presented_per_kind(
    authorization: str | None, abf: str | None, fdo: str | None, gerrit: str | None
) -> None:
    request = _request(authorization)
    assert abf_rest.presented(request, "api/v1/user.json") == abf
    assert fdo_rest.presented(request, "api/1.0/") == fdo
    assert gerrit_rest.presented(request, "a/changes/") == gerrit
    # Gerrit reads no credential outside /a/: every such path is an anonymous user's.
    assert gerrit_rest.presented(request, "changes/") is None
