"""``kind_router``: the frame every kind's compat router is built on — the type check, and an
upstream failure handed to the kind's own answer (adapters/native.py maps it to 503/504/502,
``tests/gateway/test_compat_native.py``), never raised."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.responses import Response

from adapters.compat import Caller, CompatCall, kind_router
from adapters.errors import NotFound, Timeout, Unavailable, UpstreamError


class _Kind:
    kind = "toy"
    url = "http://toy.invalid"

    def __init__(self, name: str) -> None:
        self.name = name

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    @property
    def request_count(self) -> int:
        return 0


class _Other(_Kind):
    kind = "other"


def _call() -> CompatCall:
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})
    return CompatCall(request, "http://gw/rest/t", "x", Caller())


def _failed(call: CompatCall, exc: UpstreamError) -> Response:
    return Response(f"toy says: {type(exc).__name__}: {exc}", 599)


@pytest.mark.parametrize(
    "raised",
    [
        Timeout("t", "backend 't' did not answer in time"),
        Unavailable("t", "backend 't' is unavailable"),
        NotFound("t", "backend 't': no such thing"),
    ],
)
async def test_kind_router_answers_upstream_failures_in_the_kinds_format(
    raised: UpstreamError,
) -> None:
    async def serve(call: CompatCall, source: _Kind) -> Response:
        raise raised

    route = kind_router(_Kind("t"), _Kind, serve, _failed)
    resp = await route(_call())
    assert resp.status_code == 599
    assert bytes(resp.body) == f"toy says: {type(raised).__name__}: {raised}".encode()


async def test_kind_router_serves_with_its_own_source() -> None:
    seen: list[_Kind] = []

    async def serve(call: CompatCall, source: _Kind) -> Response:
        seen.append(source)
        return Response(b"ok", 200)

    source = _Kind("t")
    resp = await kind_router(source, _Kind, serve, _failed)(_call())
    assert resp.status_code == 200 and seen == [source]


def test_kind_router_refuses_another_kinds_source() -> None:
    async def serve(call: CompatCall, source: _Other) -> Response:
        return Response(b"", 200)

    with pytest.raises(TypeError, match="'t'"):
        kind_router(_Kind("t"), _Other, serve, _failed)
