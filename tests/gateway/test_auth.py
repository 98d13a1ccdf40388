"""gateway.auth: key hashing and header parsing."""

from __future__ import annotations

import hashlib
import io

import pytest

from gateway import cli
from gateway.auth import Authenticator, AuthFailure, Caller, hash_key
from gateway.settings import settings_from_dict

KEY = "rgk-auth-Tapir-2047-Glade"


def _auth(anonymous: bool = True) -> Authenticator:
    settings = settings_from_dict(
        {
            "server": {"anonymous": anonymous},
            "limits": {"requests_per_minute": 7, "cost_per_minute": 1000},
            "api_keys": [{"name": "k", "sha256": hash_key(KEY), "requests_per_minute": 70}],
        },
        env={},
    )
    return Authenticator(settings)


def test_auth_hash_key_is_sha256_of_the_stripped_key() -> None:
    assert hash_key(f"  {KEY}\n") == hashlib.sha256(KEY.encode()).hexdigest()


@pytest.mark.parametrize(
    "headers",
    [
        {"authorization": f"Bearer {KEY}"},
        {"authorization": f"BEARER {KEY}"},
        {"x-api-key": KEY},
        {"authorization": f"Bearer {KEY}", "x-api-key": KEY},
    ],
)
def test_auth_valid_key(headers: dict[str, str]) -> None:
    caller = _auth().authenticate(headers, "10.0.0.1")
    assert isinstance(caller, Caller)
    assert caller.name == "k" and caller.rate_key == "key:k" and not caller.anonymous
    assert caller.requests_per_minute == 70 and caller.cost_per_minute == 1000


def test_auth_anonymous_caller_is_keyed_by_address() -> None:
    caller = _auth().authenticate({}, "10.0.0.1")
    assert isinstance(caller, Caller) and caller.anonymous
    assert caller.rate_key == "anon:10.0.0.1" and caller.requests_per_minute == 7


def test_auth_missing_key_when_anonymous_off() -> None:
    failure = _auth(anonymous=False).authenticate({}, "10.0.0.1")
    assert isinstance(failure, AuthFailure) and not failure.invalid_token


@pytest.mark.parametrize(
    "headers",
    [
        {"authorization": "Bearer nope"},
        {"authorization": f"Basic {KEY}"},
        {"authorization": "Bearer"},
        {"x-api-key": " "},
        {"authorization": f"Bearer {KEY}", "x-api-key": "other"},
    ],
)
def test_auth_bad_key(headers: dict[str, str]) -> None:
    failure = _auth().authenticate(headers, "10.0.0.1")
    assert isinstance(failure, AuthFailure) and failure.invalid_token
    assert KEY not in failure.message and "nope" not in failure.message


def test_cli_hash_key_reads_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{KEY}\n"))
    assert cli.main(["hash-key"]) == 0
    out = capsys.readouterr().out
    assert out == hash_key(KEY) + "\n" and KEY not in out
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert cli.main(["hash-key"]) == 2
