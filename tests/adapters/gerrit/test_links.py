"""Gerrit's link search (``adapters/gerrit/links.py``): the keys as query terms, long ones in
several queries of one request, values Gerrit cannot quote left out."""

from __future__ import annotations

from adapters.gerrit import links
from adapters.gerrit.query import validate
from adapters.links import LinkQuery

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
