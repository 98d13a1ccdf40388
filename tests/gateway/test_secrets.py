"""No API key, key hash or backend credential in any response body or header, or log line."""

from __future__ import annotations

import logging

import httpx
import pytest

from gateway.auth import hash_key
from gateway.settings import settings_from_dict
from schema import node
from tests.gateway.guarded import (
    ADMIN_TOKEN,
    ALICE_KEY,
    BOT_KEY,
    BOT_TOKEN,
    ENV,
    KEYS,
    bearer,
    guarded,
)

WRONG_KEY = "rgk-wrong-Marmoset-3318-Flint"
SECRETS = [ALICE_KEY, BOT_KEY, WRONG_KEY, ADMIN_TOKEN, BOT_TOKEN, hash_key(ALICE_KEY)]
UPDATE = """mutation($input: UpdatePatchInput!) { updatePatch(input: $input) {
    patch { rawState } errors { code message backend } } }"""


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


async def test_secrets_never_in_responses_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    responses: list[httpx.Response] = []
    patch3 = node.encode("Patch", "pw", "3")
    async with guarded(limits={"requests_per_minute": 12}) as gw:
        for headers in (
            bearer(WRONG_KEY),
            {"X-Api-Key": WRONG_KEY},
            {"Authorization": f"Token {ALICE_KEY}"},
            {"Authorization": f"Bearer {ALICE_KEY}", "X-Api-Key": BOT_KEY},
        ):
            responses.append(await gw.post("{ backends { name } }", headers=headers))
        for key in (ALICE_KEY, BOT_KEY):
            responses.append(
                await gw.post(
                    UPDATE, {"input": {"id": patch3, "state": "rfc"}}, headers=bearer(key)
                )
            )
            responses.append(
                await gw.post("{ patches(first: 2) { nodes { id } } }", headers=bearer(key))
            )
            responses.append(await gw.post("{ __typename }", headers=bearer(key)))
        while (
            resp := await gw.post("{ __typename }", headers=bearer(ALICE_KEY))
        ).status_code < 400:
            responses.append(resp)
        responses.append(resp)
    statuses = {r.status_code for r in responses}
    assert {200, 401, 429} <= statuses
    assert any("FORBIDDEN" in r.text for r in responses)  # the bot's refused write
    for resp in responses:
        assert not _leaks(resp.text), resp.text
        assert not _leaks(str(resp.headers.items())), resp.headers
    assert caplog.records
    for record in caplog.records:
        line = record.getMessage() + (str(record.exc_info) if record.exc_info else "")
        assert not _leaks(line), line


def test_secrets_not_in_settings_repr() -> None:
    settings = settings_from_dict(
        {
            "api_keys": KEYS,
            "backends": [
                {"name": "pw", "kind": "patchwork", "url": "http://127.0.0.1:1"},
            ],
        },
        env=ENV,
    )
    assert not _leaks(repr(settings))
    assert "alice" in repr(settings)
