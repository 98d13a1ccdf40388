"""gateway.callers (per-caller backend tokens, hidden backends) and the per-backend upstream
body cap reaching the HTTP client."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.patchwork.source import PatchworkSource
from gateway.callers import CallerSources, build_caller_sources, hidden_backends
from gateway.lifespan import build_sources
from gateway.settings import settings_from_dict
from schema import node
from schema.errors import UserInputError
from tests.gateway.guarded import (
    ADMIN_TOKEN,
    ALICE_KEY,
    BOT_KEY,
    BOT_TOKEN,
    ENV,
    Guarded,
    guarded,
)

SETTINGS = settings_from_dict(
    {
        "api_keys": [
            {"name": "alice", "sha256": "1" * 64, "backend_tokens": {"b": "ALICE_B"}},
            {"name": "bob", "sha256": "2" * 64},
        ],
        "backends": [
            {"name": "a", "kind": "patchwork", "url": "http://127.0.0.1:1", "anonymous": False},
            {"name": "b", "kind": "patchwork", "url": "http://127.0.0.1:2", "token_env": "B"},
            {"name": "c", "kind": "patchwork", "url": "http://127.0.0.1:3", "max_body_bytes": 99},
        ],
    },
    env={"ALICE_B": "alice-token-Gecko-55", "B": "server-token-Heron-66"},
)


def test_callers_own_sources_use_their_token() -> None:
    own = build_caller_sources(SETTINGS)
    assert list(own) == ["alice"] and list(own["alice"]) == ["b"]
    source = own["alice"]["b"]
    assert isinstance(source, PatchworkSource)
    assert source.http.config.credentials.token == "alice-token-Gecko-55"
    assert source.http.config.base_url == "http://127.0.0.1:2"


def test_callers_backend_body_cap_is_configurable() -> None:
    sources = build_sources(SETTINGS)
    caps = {n: s.http.config.max_body_bytes for n, s in sources.items()}  # type: ignore[attr-defined]
    assert caps == {"a": 50 * 1024 * 1024, "b": 50 * 1024 * 1024, "c": 99}


def test_callers_view_hides_and_substitutes() -> None:
    sources = build_sources(SETTINGS)
    own = {"b": build_caller_sources(SETTINGS)["alice"]["b"]}
    hidden = hidden_backends(SETTINGS)
    anon = CallerSources(sources, {}, hidden)
    assert list(anon) == ["b", "c"] and len(anon) == 2 and "a" not in anon and "b" in anon
    with pytest.raises(UserInputError) as info:
        _ = anon["a"]
    assert info.value.code == "UNAUTHENTICATED"
    with pytest.raises(KeyError):
        _ = anon["zzz"]
    alice = CallerSources(sources, own, frozenset())
    assert alice["b"] is own["b"] and alice["a"] is sources["a"] and len(alice) == 3


# -- end to end: whose token a write is made with ---------------------------------------------

UPDATE = """mutation($input: UpdatePatchInput!) { updatePatch(input: $input) {
    patch { rawState } errors { code } } }"""


def _last_state_change(gw: Guarded) -> dict[str, Any]:
    data = gw.sim.state.data
    changes = [e for e in data.events.values() if e["category"] == "patch-state-changed"]
    return changes[-1]


async def test_callers_write_reaches_the_backend_as_the_caller() -> None:
    # The gateway's own token is the bot's; alice's own token is the maintainer's (admin).
    async with guarded() as gw:
        tokens = gw.sim.state.data.tokens
        variables = {"input": {"id": node.encode("Patch", "pw", "3"), "state": "accepted"}}
        alice = await gw.data(UPDATE, variables, key=ALICE_KEY)
        assert alice["data"]["updatePatch"] == {"patch": {"rawState": "accepted"}, "errors": []}
        # The simulator recorded the write as made by the owner of alice's token.
        actor = _last_state_change(gw)["actor"]
        assert actor == tokens[ENV["ALICE_PW_TOKEN"]] and actor != tokens[ENV["PW_TOKEN"]]


async def test_callers_write_never_borrows_the_gateway_token() -> None:
    # Now the gateway's token is the maintainer's and alice's the bot's: her write is refused
    # by the backend, as the bot's would be; a key without its own token uses the gateway's.
    env = {"PW_TOKEN": ADMIN_TOKEN, "ALICE_PW_TOKEN": BOT_TOKEN}
    async with guarded(env=env) as gw:
        variables = {"input": {"id": node.encode("Patch", "pw", "4"), "state": "rejected"}}
        alice = await gw.data(UPDATE, variables, key=ALICE_KEY)
        assert alice["data"]["updatePatch"]["errors"] == [{"code": "FORBIDDEN"}]
        bot = await gw.data(UPDATE, variables, key=BOT_KEY)
        assert bot["data"]["updatePatch"]["errors"] == []
        assert _last_state_change(gw)["actor"] == gw.sim.state.data.tokens[ADMIN_TOKEN]
