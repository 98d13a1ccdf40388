"""Gerrit's change query language: parsed to a small tree, validated before anything is sent.

    query    := or
    or       := and ("OR" and)*
    and      := unary (["AND"] unary)*
    unary    := ("-" | "NOT") unary | "(" or ")" | term
    term     := operator ":" value | bare word (a number, Change-Id, sha or free text)
    value    := word | "quoted words" | {braced words}

``parse`` raises ``QueryError`` with a message a client can act on: unbalanced parentheses, an
unterminated quote, a dangling ``OR``, an operator without a value, an unknown operator.
The simulator evaluates the same tree, so both sides agree on what a query means.

``about_caller`` finds the terms that name the signed-in user (``owner:self``, ``is:starred``,
``has:draft``, ``label:…,user=self`` …): upstream they would run as the gateway's account, so
they are refused to anonymous callers (GraphQL ``UNAUTHENTICATED``, compat Gerrit's own 400).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_QUERY = 2000
MAX_NESTING = 50  # parentheses and negations; the parser recurses once per level

# Operators Gerrit has understood from 2.x to today; a typo is better caught here than
# answered by the server with an empty list or a 400.
OPERATORS = frozenset(
    """
    added after age assignee attention author before branch bug cc cherrypickof comment
    commentby commit committer conflicts deleted delta destination dir directory ext extension
    file footer from hashtag has inhashtag intopic is label limit mergedafter mergedbefore
    mergedin message onlyexts onlyextensions owner ownerin parentof parentproject path
    project projects query ref repo repository reviewedby reviewer reviewerin revertof rule
    since size star starredby status submissionid submittable topic tr unresolved until
    uploader uploaderin visibleto watchedby change prefix draftby
    """.split()  # noqa: SIM905 - a word list reads better than 75 quoted strings
)

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<open>\()|(?P<close>\))|
        (?P<term>-?[A-Za-z_][\w.-]*:(?:"[^"]*"|\{[^}]*\}|[^\s()"]*))|
        (?P<quoted>-?"[^"]*")|
        (?P<bad_quote>-?["{].*)|
        (?P<word>[^\s()]+)
    )""",
    re.X,
)


class QueryError(ValueError):
    """A query Gerrit would reject or misread."""


@dataclass(frozen=True, slots=True)
class Term:
    """``operator:value``; ``operator`` is ``""`` for a bare word."""

    operator: str
    value: str


@dataclass(frozen=True, slots=True)
class Not:
    """A negated expression (``-x`` or ``NOT x``)."""

    inner: Expr


@dataclass(frozen=True, slots=True)
class And:
    """All of ``parts``."""

    parts: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Any of ``parts``."""

    parts: tuple[Expr, ...]


Expr = Term | Not | And | Or


def _unquote(value: str) -> str:
    if len(value) >= 2 and (value[0], value[-1]) in (('"', '"'), ("{", "}")):
        return value[1:-1]
    return value


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:  # pragma: no cover - the word alternative matches anything else
            raise QueryError(f"cannot read the query at {text[pos : pos + 20]!r}")
        if match.group("bad_quote"):
            raise QueryError("unterminated quote in the query")
        token = next(v for v in match.groupdict().values() if v is not None)
        if token.startswith("-") and len(token) > 1 and token[1] not in "-":
            out.extend(["-", token[1:]])
        else:
            out.append(token)
        pos = match.end()
    return out


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse_or(self) -> Expr:
        parts = [self.parse_and()]
        while self.peek() == "OR":
            self.take()
            if self.peek() in (None, ")", "OR", "AND"):
                raise QueryError("OR must be followed by a search term")
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def parse_and(self) -> Expr:
        parts = [self.parse_unary()]
        while (token := self.peek()) is not None and token not in (")", "OR"):
            if token == "AND":
                self.take()
                if self.peek() in (None, ")", "OR", "AND"):
                    raise QueryError("AND must be followed by a search term")
            parts.append(self.parse_unary())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def parse_unary(self) -> Expr:
        token = self.peek()
        if token is None:
            raise QueryError("the query ends where a search term was expected")
        if token in ("OR", "AND"):
            raise QueryError(f"{token} needs a search term before it")
        if token == ")":
            raise QueryError("unbalanced parentheses: unexpected ')'")
        self.take()
        if token not in ("-", "NOT", "("):
            return _term(token)
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise QueryError(f"the query nests deeper than {MAX_NESTING} levels")
        try:
            if token != "(":
                return Not(self.parse_unary())
            if self.peek() == ")":
                raise QueryError("empty parentheses in the query")
            inner = self.parse_or()
            if self.peek() != ")":
                raise QueryError("unbalanced parentheses: missing ')'")
            self.take()
            return inner
        finally:
            self.depth -= 1


def _term(token: str) -> Term:
    if token.startswith('"'):
        return Term("", _unquote(token))
    operator, sep, value = token.partition(":")
    if not sep or not re.fullmatch(r"[A-Za-z_][\w.-]*", operator):
        return Term("", token)
    operator = operator.lower()
    if operator not in OPERATORS:
        raise QueryError(f"unknown search operator {operator!r}")
    value = _unquote(value)
    if not value:
        raise QueryError(f"operator {operator!r} needs a value")
    return Term(operator, value)


def parse(text: str) -> Expr:
    """The tree of a Gerrit change query; ``QueryError`` when it is malformed."""
    if not text or not text.strip():
        raise QueryError("empty query")
    if len(text) > MAX_QUERY:
        raise QueryError(f"query longer than {MAX_QUERY} characters")
    parser = _Parser(_tokens(text))
    tree = parser.parse_or()
    if parser.peek() is not None:
        raise QueryError("unbalanced parentheses: unexpected ')'")
    return tree


def terms(tree: Expr) -> list[Term]:
    """Every term of a tree, left to right."""
    if isinstance(tree, Term):
        return [tree]
    if isinstance(tree, Not):
        return terms(tree.inner)
    return [t for part in tree.parts for t in terms(part)]


# Operators taking an account, where Gerrit reads "self" and "me" as the signed-in user.
ACCOUNT_OPERATORS = frozenset(
    """
    assignee attention author cc commentby committer draftby from owner reviewedby reviewer
    starredby uploader visibleto watchedby
    """.split()  # noqa: SIM905
)
SELF = frozenset({"self", "me"})
# ``is:``/``has:`` values relative to the signed-in user (its changes, stars, drafts, edits …).
CALLER_IS = frozenset(
    {"owner", "reviewer", "uploader", "author", "committer", "starred", "watched", "mine"}
    | {"attention", "cc", "ignored", "visible"}
)
CALLER_HAS = frozenset({"draft", "star", "stars", "edit"})
SIGNED_IN_ONLY = "Must be signed-in to use this operator"  # Gerrit's own text (400)


def _names_caller(t: Term) -> bool:
    op, value = t.operator, t.value.strip().lower()
    if not op:
        return False  # a bare word is free text, not an account
    if op == "is":
        return value in CALLER_IS
    if op == "has":
        return value in CALLER_HAS
    if op == "star":
        return True  # star:<label> is "starred by me with that label"
    args = [a.strip() for a in value.split(",")]
    if op == "query":
        # A named query of one user: without user=, the signed-in user's.
        users = [a.partition("=")[2] for a in args if a.startswith("user=")]
        return not users or any(u in SELF for u in users)
    if op == "label":
        # label:Name=value,user=self (or ",self"): votes of the signed-in user.
        return any(a in SELF or (a.startswith("user=") and a[5:] in SELF) for a in args[1:])
    if op in ACCOUNT_OPERATORS:
        return value in SELF
    return value == "self"  # any other operator given "self" is read as naming the caller


def about_caller(tree: Expr) -> Term | None:
    """The first term of ``tree`` relative to the signed-in user, or ``None``."""
    return next((t for t in terms(tree) if _names_caller(t)), None)


def validate(text: str) -> str:
    """``text`` unchanged when it parses (else ``QueryError``)."""
    parse(text)
    return text
