"""``[[people]]``: the identity map's format (docs/operations.md "People across forges"),
every mistake reported at once with its line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.people import IdentityEntry
from gateway.settings import ConfigError, load_settings, settings_from_dict

BACKENDS = [
    {"name": "kernel", "kind": "patchwork", "url": "http://127.0.0.1:1"},
    {"name": "abf", "kind": "abf", "url": "http://127.0.0.1:2"},
]


def load(people: Any) -> Any:
    return settings_from_dict({"backends": BACKENDS, "people": people}, env={})


def problems(people: Any) -> str:
    with pytest.raises(ConfigError) as info:
        load(people)
    return str(info.value)


def test_the_contract_format_from_a_file(tmp_path: Path) -> None:
    config = tmp_path / "revgate.toml"
    config.write_text(
        """
[[backends]]
name = "kernel"
kind = "patchwork"
url = "http://127.0.0.1:1"

[[backends]]
name = "abf"
kind = "abf"
url = "http://127.0.0.1:2"

[[people]]
name = "Ada Lovelace"
emails = ["ada@example.org", "Ada@Work.example"]
[people.accounts]
abf = "ada"
kernel = ["ada", "ada@example.org"]
""",
        encoding="utf-8",
    )
    settings = load_settings(str(config), env={})
    assert settings.people == (
        IdentityEntry(
            name="Ada Lovelace",
            emails=("ada@example.org", "ada@work.example"),
            accounts={"abf": ("ada",), "kernel": ("ada", "ada@example.org")},
        ),
    )
    assert settings.people[0].slug == "ada-lovelace"


def test_no_people_is_an_empty_map() -> None:
    assert load(None).people == ()


def test_an_unknown_backend_in_the_map_is_an_error() -> None:
    text = problems([{"name": "Ada", "accounts": {"gerrit": "ada"}}])
    assert "accounts names unknown backend 'gerrit' (configured: kernel, abf)" in text


def test_every_mistake_at_once() -> None:
    text = problems(
        [
            {"name": "Ada Lovelace", "emails": ["ada@example.org"]},
            {"name": "ada  lovelace", "emails": ["ADA@example.org", "not-an-email"]},
            {"emails": ["x@example.org"], "acounts": {}},
            {"name": "Bob", "accounts": {"abf": []}},
            {"name": "Eve", "accounts": "eve"},
            "just a string",
        ]
    )
    assert "people entry 'ada  lovelace': another entry has the same name ('ada-lovelace')" in text
    assert "emails must be an array of email addresses" in text
    assert "people entry #3: name is required" in text
    assert "people entry #3: unknown key 'acounts'; did you mean 'accounts'?" in text
    assert "accounts.abf must be a non-empty string or list of them" in text
    assert "people entry 'Eve': accounts must be a table" in text
    assert "people entry 6 must be a table" in text


def test_an_email_in_two_entries_is_an_error() -> None:
    text = problems(
        [
            {"name": "Ada", "emails": ["ada@example.org"]},
            {"name": "Ada Two", "emails": ["Ada@Example.org"]},
        ]
    )
    assert "'Ada@Example.org' is listed by another entry" in text


def test_people_must_be_an_array_of_tables() -> None:
    assert "people must be an array of tables ([[people]])" in problems({"name": "Ada"})
