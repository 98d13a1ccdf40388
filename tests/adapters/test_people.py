"""``adapters/people.py``: identity keys, the map's joins, author matching, the key cache."""

from __future__ import annotations

from unittest import mock

from adapters.model import Person
from adapters.people import Directory, IdentityEntry, KeyCache, author_matches, identity_key

ADA = IdentityEntry(
    name="Ada Lovelace",
    emails=("ada@example.org",),
    accounts={"abf": ("ada",), "fdo": ("42",)},
)
MAP = Directory((ADA,))


def person(backend: str, pid: str, email: str | None = None, username: str | None = None) -> Person:
    return Person(backend=backend, id=pid, name=None, email=email, username=username)


def test_keys_by_map_then_email_then_account() -> None:
    assert identity_key(person("pw", "1", "ADA@Example.org"), MAP) == "map:ada-lovelace"
    assert identity_key(person("abf", "7", username="Ada"), MAP) == "map:ada-lovelace"
    assert identity_key(person("fdo", "42"), MAP) == "map:ada-lovelace"
    # the map names "ada" on abf only: the same username elsewhere is someone else
    assert identity_key(person("gerrit", "9", username="ada"), MAP) == "account:gerrit:9"
    assert identity_key(person("gerrit", "9", "Bob@Example.org"), MAP) == "email:bob@example.org"


def test_search_and_lookups() -> None:
    assert MAP.search("LOVE") == [ADA] and MAP.search("ada@") == [ADA] and MAP.search("42") == [ADA]
    assert MAP.search("bob") == []
    assert MAP.by_slug("ada-lovelace") is ADA and MAP.by_slug("ada") is None
    assert MAP.entry_of_email("Ada@Example.ORG") is ADA


def test_author_matches_any_key_case_insensitively() -> None:
    author = person("gerrit", "1000096", "Jane@Example.com", "jroe")
    assert author_matches(author, ("jane@example.com",))
    assert author_matches(author, ("JROE",)) and author_matches(author, ("1000096",))
    assert not author_matches(author, ("john",)) and not author_matches(None, ("jroe",))


def test_key_cache_keeps_found_ids_and_forgets_unknown_ones() -> None:
    cache = KeyCache()
    assert cache.get("a@x") is None
    cache.put("A@x", ("1",))
    cache.put("b@x", ())
    assert cache.get("a@X") == ("1",) and cache.get("b@x") == ()
    later = mock.patch("adapters.people.time.monotonic", return_value=1e12)
    with later:
        assert cache.get("a@x") == ("1",)  # an id never changes
        assert cache.get("b@x") is None  # "unknown" is asked again after a while
