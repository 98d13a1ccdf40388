"""``adapters.gerrit.query``: which terms name the signed-in user, and nesting is bounded."""

from __future__ import annotations

import pytest

from adapters.gerrit.query import MAX_NESTING, QueryError, about_caller, parse


@pytest.mark.parametrize(
    "text",
    [
        "owner:self",
        "OWNER:Me",
        "status:open -reviewer:self",
        "a OR (b AND NOT is:Starred)",
        'cc:"self"',
        "label:Code-Review=-1,user=me",
        "label:Verified+1,self",
        "has:DRAFT",
        "star:ignore",
        "query:mine",
        "query:user=self,name=mine",
        "project:self",  # any operator given "self" is read as the caller
    ],
)
def test_terms_naming_the_caller_are_found(text: str) -> None:
    assert about_caller(parse(text)) is not None, text


@pytest.mark.parametrize(
    "text",
    [
        "status:open",
        "owner:jdoe",
        "owner:selfish",
        "label:Code-Review=+2,owner",
        "label:Code-Review=+2,user=jdoe",
        "query:mine,user=jdoe",
        "topic:me",  # "me" means the caller for account operators only
        "self",  # a bare word is free text
        "is:open is:merged has:unresolved",
    ],
)
def test_other_terms_are_not(text: str) -> None:
    assert about_caller(parse(text)) is None, text


@pytest.mark.parametrize("opener", ["(", "- ", "NOT "])
def test_nesting_is_bounded_with_a_clear_error(opener: str) -> None:
    # Deeper nesting used to end in a RecursionError (a masked internal error).
    closer = ")" if opener == "(" else ""
    parse(opener * MAX_NESTING + "x" + closer * MAX_NESTING)
    with pytest.raises(QueryError, match="nests deeper"):
        parse(opener * 400 + "x" + closer * 400)
