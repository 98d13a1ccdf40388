"""gateway.callers and the per-backend upstream body cap reaching the HTTP client."""

from __future__ import annotations

import pytest

from adapters.patchwork.source import PatchworkSource
from gateway.callers import CallerSources, build_caller_sources, hidden_backends
from gateway.lifespan import build_sources
from gateway.settings import settings_from_dict
from schema.errors import UserInputError

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
