"""Mutations: updatePatch and createCheck, their payload errors, and no retries on writes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from schema import node
from tests.conftest import Gateway, _gateway

PATCH3 = node.encode("Patch", "pw", "3")
UPDATE = """mutation($input: UpdatePatchInput!) { updatePatch(input: $input) {
    patch { id rawState state archived commitRef delegate { username } }
    errors { code message backend field } } }"""
CREATE_CHECK = """mutation($input: CreateCheckInput!) { createCheck(input: $input) {
    check { id context state targetUrl description } errors { code message backend } } }"""


@pytest.fixture
async def anonymous_gateway() -> AsyncIterator[Gateway]:
    """The gateway with no backend credentials."""
    async for gw in _gateway(None, token=False):
        yield gw


def _payload(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    payload: dict[str, Any] = body["data"][name]
    return payload


async def test_mutation_update_patch_state(gateway: Gateway) -> None:
    body = await gateway.query(
        UPDATE, {"input": {"id": PATCH3, "state": "accepted", "archived": True}}
    )
    payload = _payload(body, "updatePatch")
    assert payload["errors"] == []
    assert payload["patch"]["rawState"] == "accepted" and payload["patch"]["state"] == "MERGED"
    assert payload["patch"]["archived"] is True
    again = await gateway.query(
        "query($id: ID!) { node(id: $id) { ... on Patch { rawState } } }", {"id": PATCH3}
    )
    assert again["data"]["node"]["rawState"] == "accepted"


async def test_mutation_update_patch_nothing_to_update(gateway: Gateway) -> None:
    before = gateway.upstream_requests()
    payload = _payload(await gateway.query(UPDATE, {"input": {"id": PATCH3}}), "updatePatch")
    assert payload["patch"] is None
    assert payload["errors"][0]["code"] == "BAD_USER_INPUT"
    assert gateway.upstream_requests() == before


async def test_mutation_update_patch_bad_id(gateway: Gateway) -> None:
    series_id = node.encode("Series", "pw", "2")
    payload = _payload(
        await gateway.query(UPDATE, {"input": {"id": series_id, "state": "new"}}), "updatePatch"
    )
    assert payload["errors"][0]["code"] == "BAD_ID"


async def test_mutation_update_patch_forbidden_without_credentials(
    anonymous_gateway: Gateway,
) -> None:
    body = await anonymous_gateway.query(UPDATE, {"input": {"id": PATCH3, "state": "accepted"}})
    payload = _payload(body, "updatePatch")
    [error] = payload["errors"]
    assert error["code"] == "FORBIDDEN" and error["backend"] == "pw"


async def test_mutation_update_missing_patch(gateway: Gateway) -> None:
    missing = node.encode("Patch", "pw", "99999")
    payload = _payload(
        await gateway.query(UPDATE, {"input": {"id": missing, "state": "new"}}), "updatePatch"
    )
    assert payload["errors"][0]["code"] == "NOT_FOUND"


async def test_mutation_write_is_not_retried(gateway: Gateway) -> None:
    await gateway.query("{ backends { apiVersion } }")
    gateway.sim.state.fault("/api/1.3/patches/3/", "500")
    before = gateway.upstream_requests()
    payload = _payload(
        await gateway.query(UPDATE, {"input": {"id": PATCH3, "state": "new"}}), "updatePatch"
    )
    assert payload["errors"][0]["code"] == "UPSTREAM_UNAVAILABLE"
    assert gateway.upstream_requests() - before == 1


async def test_mutation_create_check(gateway: Gateway) -> None:
    new = {
        "patchId": PATCH3,
        "state": "FAILURE",
        "context": "revgate-ci",
        "targetUrl": "https://ci.example.org/42",
        "description": "2 tests failed",
    }
    payload = _payload(await gateway.query(CREATE_CHECK, {"input": new}), "createCheck")
    assert payload["errors"] == []
    assert payload["check"]["context"] == "revgate-ci" and payload["check"]["state"] == "FAILURE"
    body = await gateway.query(
        """query($id: ID!) { node(id: $id) {
            ... on Patch { checkState checks { context state } } } }""",
        {"id": PATCH3},
    )
    patch = body["data"]["node"]
    assert {"context": "revgate-ci", "state": "FAILURE"} in patch["checks"]
    assert patch["checkState"] == "FAILURE"


async def test_mutation_create_check_empty_context(gateway: Gateway) -> None:
    new = {"patchId": PATCH3, "state": "SUCCESS", "context": "  "}
    payload = _payload(await gateway.query(CREATE_CHECK, {"input": new}), "createCheck")
    assert payload["check"] is None and payload["errors"][0]["code"] == "BAD_USER_INPUT"


async def test_mutation_create_check_bad_state_is_validation_error(gateway: Gateway) -> None:
    new = {"patchId": PATCH3, "state": "EXPLODED", "context": "ci"}
    body = await gateway.query(CREATE_CHECK, {"input": new})
    assert body["errors"] and "EXPLODED" in body["errors"][0]["message"]
