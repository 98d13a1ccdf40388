"""Gerrit's link search (``adapters/gerrit/links.py``): the keys as query terms, long ones in
several queries of one request, values Gerrit cannot quote left out."""

from __future__ import annotations

from adapters.gerrit import links, mapping
from adapters.gerrit.query import validate
from adapters.links import LinkQuery
from tests.adapters.gerrit.test_mapping import load

CID = "I" + "ab" * 20
SHA = "cd" * 20


def test_every_key_kind_becomes_a_term() -> None:
    query = LinkQuery(
        message_ids=frozenset({"m.1@example.org"}),
        change_ids=frozenset({CID}),
        shas=frozenset({SHA}),
        titles=frozenset({"[PATCH v2 1/2] net: fix it"}),
    )
    assert links.search_terms(query) == [
        f"change:{CID}",
        f"commit:{SHA}",
        'message:"m.1@example.org"',
        'message:"net: fix it"',
    ]
    (only,) = links._batches(links.search_terms(query))
    assert validate(only) == only  # the client's own validator accepts it
    assert only.endswith("(status:open OR status:closed)")


def test_unquotable_values_are_left_out() -> None:
    query = LinkQuery(titles=frozenset({'say "hi"', "back\\slash"}))
    assert links.search_terms(query) == []
    assert links._batches([]) == []


def test_long_searches_are_split_into_valid_queries() -> None:
    terms = [f"commit:{n:040x}" for n in range(100)]
    queries = links._batches(terms)
    assert len(queries) > 1
    assert all(len(q) <= 2000 for q in queries)
    for q in queries:
        validate(q)
    joined = " ".join(queries)
    assert all(t in joined for t in terms)


def test_keys_of_the_documented_change_with_its_current_commit() -> None:
    """Gerrit's own example of ``o=CURRENT_REVISION&o=CURRENT_COMMIT`` (the docs' change 97):
    its Change-Id and current sha count; its (abridged) message has no trailers."""
    (change,) = mapping.changes("gerrit", load("changes-L97-"), "https://review.example.org")
    (keys,) = [links._keys(change, None)]
    assert keys.change_ids == {"I7ea46d2e2ee5c64c0d807677859cfb7d90b8966a"}
    assert keys.shas == {"184ebe53805e102605d11f6b143486d15c23a09c"}
    assert keys.link_msgids == frozenset() and keys.patch_id is None
    assert links._message(change) is not None  # no second query for it
