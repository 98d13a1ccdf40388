"""POST /graphql with bodies that are JSON but not a GraphQL request: a 400, never a 500.

Found by tests/reliability/test_fuzz.py: strawberry calls ``.get()`` on any decoded body that
is not a list, and ``json.loads`` raises ``UnicodeDecodeError`` on undecodable bytes.
"""

from __future__ import annotations

import pytest

from tests.conftest import Gateway


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"null", "must be a JSON object"),
        (b"1", "must be a JSON object"),
        (b'"{ backends { name } }"', "must be a JSON object"),
        (b"true", "must be a JSON object"),
        (b"\xff\xfe{}", "Unable to parse request body as JSON"),
        (b'{"query": "\xc3"}', "Unable to parse request body as JSON"),
        (b"[]", "a non-empty list of JSON objects"),
        (b"[1, 2]", "a non-empty list of JSON objects"),
        (b'[{"query": "{ backends { name } }"}]', "Batching is not enabled"),
    ],
)
async def test_app_non_object_json_body_is_400(gateway: Gateway, body: bytes, message: str) -> None:
    resp = await gateway.client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 400
    assert message in resp.text
    assert "Traceback" not in resp.text


async def test_app_object_body_still_works(gateway: Gateway) -> None:
    resp = await gateway.client.post(
        "/graphql",
        content=b'{"query": "{ backends { name } }"}',
        headers={"Content-Type": "application/json"},
    )
    assert resp.json()["data"] == {"backends": [{"name": "pw"}]}
