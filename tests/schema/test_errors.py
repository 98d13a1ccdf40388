"""Unhappy paths: every client mistake and backend failure is a clear, coded GraphQL error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from schema import node
from tests.conftest import ADMIN_TOKEN, Gateway, _gateway

PATCH3 = node.encode("Patch", "pw", "3")
NODE_QUERY = "query($id: ID!) { node(id: $id) { id ... on Patch { title } } }"
LIST_QUERY = "query($n: Int) { patches(first: $n) { nodes { id } } }"


def _error(body: dict[str, Any]) -> dict[str, Any]:
    errors = body.get("errors")
    assert errors, body
    first: dict[str, Any] = errors[0]
    assert "Traceback" not in str(body) and ADMIN_TOKEN not in str(body)
    return first


@pytest.fixture
async def fast_gateway() -> AsyncIterator[Gateway]:
    """Short read timeout, so that a hanging backend fails fast."""
    async for gw in _gateway(None, timeout=0.5):
        yield gw


@pytest.mark.parametrize("bad", ["", "!!!", "bm9wZQ", node.encode("Patch", "pw", "3")[:-3]])
async def test_error_bad_global_id(gateway: Gateway, bad: str) -> None:
    err = _error(await gateway.query(NODE_QUERY, {"id": bad}))
    assert err["extensions"]["code"] in ("BAD_ID", "BACKEND_NOT_FOUND")


async def test_error_id_of_unknown_backend(gateway: Gateway) -> None:
    err = _error(await gateway.query(NODE_QUERY, {"id": node.encode("Patch", "elsewhere", "3")}))
    assert err["extensions"]["code"] == "BACKEND_NOT_FOUND"
    assert "elsewhere" in err["message"] and "pw" in err["message"]


@pytest.mark.parametrize("size", [0, -1, 101, 1000])
async def test_error_page_size_out_of_range(gateway: Gateway, size: int) -> None:
    before = gateway.upstream_requests()
    err = _error(await gateway.query(LIST_QUERY, {"n": size}))
    assert err["extensions"]["code"] == "BAD_PAGE_SIZE"
    assert "between 1 and 100" in err["message"]
    assert gateway.upstream_requests() == before


async def test_error_page_size_bounds_are_accepted(gateway: Gateway) -> None:
    for size, expected in ((1, 1), (100, 43)):
        body = await gateway.query(LIST_QUERY, {"n": size})
        assert "errors" not in body and len(body["data"]["patches"]["nodes"]) == expected


async def test_error_bad_cursor(gateway: Gateway) -> None:
    body = await gateway.query('{ patches(after: "garbage!") { nodes { id } } }')
    assert _error(body)["extensions"]["code"] == "BAD_CURSOR"


async def test_error_syntax_is_reported_not_masked(gateway: Gateway) -> None:
    resp = await gateway.client.post("/graphql", json={"query": "{ patches { nodes { id } "})
    assert resp.status_code == 200 or resp.status_code == 400
    assert "Syntax Error" in resp.text


async def test_error_unknown_backend_in_filter(gateway: Gateway) -> None:
    body = await gateway.query('{ patches(filter: {backend: "nope"}) { nodes { id } } }')
    assert _error(body)["extensions"]["code"] == "BACKEND_NOT_FOUND"


@pytest.mark.parametrize(
    "fault, code, status",
    [
        ("500", "UPSTREAM_UNAVAILABLE", 500),
        ("403", "FORBIDDEN", 403),
        ("404", "NOT_FOUND", 404),
        ("garbage", "BAD_UPSTREAM_PAYLOAD", None),
    ],
)
async def test_error_backend_failure_is_named(
    gateway: Gateway, fault: str, code: str, status: int | None
) -> None:
    await gateway.query("{ backends { apiVersion } }")  # detect the version first
    gateway.sim.state.fault("/api/1.3/patches/", fault)
    body = await gateway.query(LIST_QUERY, {"n": 5})
    err = _error(body)
    assert err["extensions"]["code"] == code and err["extensions"]["backend"] == "pw"
    assert err["message"].startswith("pw: ") or "pw" in err["message"]
    if status is not None:
        assert err["extensions"]["upstreamStatus"] == status
    assert body["data"] is None


async def test_error_backend_timeout(fast_gateway: Gateway) -> None:
    await fast_gateway.query("{ backends { apiVersion } }")
    fast_gateway.sim.state.fault("/api/1.3/patches/", "hang")
    err = _error(await fast_gateway.query(LIST_QUERY, {"n": 5}))
    assert err["extensions"] == {"code": "UPSTREAM_TIMEOUT", "backend": "pw"}


async def test_error_partial_data_when_one_field_fails(gateway: Gateway) -> None:
    await gateway.query("{ backends { apiVersion } }")
    gateway.sim.state.fault("/api/1.3/patches/3/checks/", "500")
    body = await gateway.query(
        """query($m: String) { patches(first: 3, filter: {msgid: $m})
             { nodes { title checkState checks { context } } } }""",
        {"m": "1473632795-9971-2-git-send-email-stephenfinucane@gmail.com"},
    )
    err = _error(body)
    assert err["path"][-1] == "checks" and err["extensions"]["backend"] == "pw"
    assert body["data"]["patches"]["nodes"][0]["title"].startswith("[v2,1/2]")


async def test_error_unexpected_exception_is_masked(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = gateway.sources["pw"]

    async def boom(*args: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(source, "list_patches", boom)
    body = await gateway.query(LIST_QUERY, {"n": 5})
    err = _error(body)
    assert err["message"] == "Internal server error"
    assert "secret internal detail" not in str(body)


def test_masking_overrides_strawberrys_result_check() -> None:
    # MaskErrorsByAttribute replaces MaskErrors' protocol check by the method's name: an
    # upgrade that renames it would bring the per-request check back unnoticed
    from graphql import ExecutionResult, GraphQLError
    from strawberry.extensions import MaskErrors

    from schema.errors import mask_errors

    assert "_process_result" in vars(MaskErrors)
    ext = mask_errors()
    ext.execution_context = None  # type: ignore[assignment]  # no request: no request id
    assert type(ext)._process_result is not MaskErrors._process_result
    hidden = GraphQLError("secret", original_error=RuntimeError("secret"))
    result = ExecutionResult(data=None, errors=[hidden])
    ext._process_result(result)
    assert result.errors and result.errors[0].message == "Internal server error"
    ext._process_result(object())  # no errors attribute: nothing to mask, no failure
