"""Synchronous resolvers of every signature, and dates, answer the same on the fast path.

A plan calls a resolver with the object first by position where its signature allows, else
by name, and passes ``info`` second by position where it may (``compiler._bind_reader``);
``info.context`` is read without building graphql-core's resolve info
(``runtime.LazyInfo``). A test-only schema with a resolver per signature shape (root or self,
info first, second or keyword-only, info's context and its path read) answers normally and
through plans (generated builders and the generic walk): the answers must be identical.
A record resolver with a shortcut (``projection.shortcut``) is called only where the
shortcut says ``RESOLVE``. Generated builders format a UTC ``datetime`` once
(``codegen.DateTexts``, per builder); other zones, naive values and subclasses are coerced
as strawberry's ``DateTime`` does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar

import pytest
import strawberry
from graphql.pyutils import Path

from schema.execution import FastPath, RecordList, runtime
from schema.execution.codegen import DateTexts
from schema.execution.projection import RESOLVE, shortcut
from schema.unified import unified


def _by_root(root: Item, info: strawberry.Info) -> str:
    return f"{info.context['tag']}:{root.n}"


def _info_first(info: strawberry.Info, root: Item) -> str:
    return f"{info.context['tag']}:{root.n}:{info.field_name}"


def _keyword_only(*, root: Item, info: strawberry.Info) -> str:
    return f"{info.context['tag']}:{root.n}:{info.path.as_list()}"


def _root_only(root: Item) -> int:
    return root.n * 2


class Stamp(datetime):
    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        return "a stamp"


# per item: an aware UTC date, the same instant elsewhere, a naive one, a subclass
WHEN = [
    datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    datetime(2024, 1, 2, 5, 4, 5, 6, tzinfo=timezone(timedelta(hours=2))),
    datetime(2024, 1, 2, 3, 4, 5),
    Stamp(2024, 1, 2, tzinfo=UTC),
]


@strawberry.type
class Item:
    n: int
    when: datetime
    by_root: str = strawberry.field(resolver=_by_root)
    info_first: str = strawberry.field(resolver=_info_first)
    keyword_only: str = strawberry.field(resolver=_keyword_only)
    root_only: int = strawberry.field(resolver=_root_only)

    @strawberry.field
    def by_self(self, info: strawberry.Info) -> str:
        return f"{info.context['tag']}:{self.n}:{info.path.as_list()}"

    @strawberry.field
    def self_only(self) -> int:
        return self.n + 1


@dataclass(frozen=True, slots=True)
class _Tag:
    n: int
    told: bool  # the shortcut answers


CALLED: list[int] = []


def _label(root: Any, info: strawberry.Info) -> str:
    CALLED.append(root._r.n)
    return f"{info.context['tag']}:{root._r.n}:{root._r.told}"


@unified(_Tag, resolvers=("label",))
@strawberry.type
class Tag:
    n: int
    label: str = strawberry.field(resolver=_label)
    _r: strawberry.Private[_Tag]
    of: ClassVar[Callable[[_Tag], Tag]]


shortcut(Tag, label=lambda r: f"t:{r.n}:True" if r.told else RESOLVE)


@strawberry.type
class Query:
    @strawberry.field
    def tags(self, info: strawberry.Info) -> list[Tag]:
        records = [_Tag(n, n % 2 == 0) for n in range(info.context["count"])]
        return RecordList(records, Tag.of)  # type: ignore[return-value]

    @strawberry.field
    def items(self, info: strawberry.Info) -> list[Item]:
        return [Item(n=n, when=WHEN[n % len(WHEN)]) for n in range(info.context["count"])]


FAST = FastPath()
SCHEMA = strawberry.Schema(query=Query, extensions=[FAST.extension()])
FIELDS = "n when byRoot infoFirst keywordOnly rootOnly bySelf selfOnly"


def _answer(query: str, fast: bool, codegen: bool = True) -> Any:
    FAST.enabled = fast
    FAST.set_codegen(codegen)
    FAST.clear()
    hits = FAST.hits
    result = asyncio.run(SCHEMA.execute(query, context_value={"tag": "t", "count": 5}))
    assert result.errors is None, result.errors
    assert FAST.hits == hits + fast  # planned, not replayed
    return result.data


@pytest.mark.parametrize("field", FIELDS.split())
def test_each_resolver_signature_answers_as_normal_execution(field: str) -> None:
    query = f"{{ items {{ {field} }} }}"
    slow = _answer(query, fast=False)
    assert _answer(query, fast=True) == slow
    assert _answer(query, fast=True, codegen=False) == slow


def test_every_resolver_signature_together() -> None:
    query = f"{{ items {{ {FIELDS} }} }}"
    slow = _answer(query, fast=False)
    assert slow["items"][2]["keywordOnly"] == "t:2:['items', 2, 'keywordOnly']"
    assert slow["items"][1]["infoFirst"] == "t:1:infoFirst"
    assert [i["when"] for i in slow["items"]] == [
        "2024-01-02T03:04:05.000006+00:00",
        "2024-01-02T05:04:05.000006+02:00",
        "2024-01-02T03:04:05",
        "a stamp",
        "2024-01-02T03:04:05.000006+00:00",
    ]
    assert _answer(query, fast=True) == slow
    assert _answer(query, fast=True, codegen=False) == slow


def test_a_shortcut_leaves_the_resolver_to_what_it_cannot_tell() -> None:
    query = "{ tags { n label } }"
    slow = _answer(query, fast=False)
    assert [t["label"] for t in slow["tags"]] == [f"t:{n}:{n % 2 == 0}" for n in range(5)]
    CALLED.clear()
    assert _answer(query, fast=True) == slow
    assert CALLED == [1, 3]  # the records the shortcut did not answer
    assert _answer(query, fast=True, codegen=False) == slow


def test_paths_made_per_item_are_graphql_cores() -> None:
    """Plans make paths with ``tuple.__new__`` (``runtime._new``): the very object that
    ``Path(...)`` makes (this fails if graphql-core's ``Path`` comes to construct otherwise)."""
    root = Path(None, "items", None)
    made = runtime._new(Path, (root, 2, "Item"))
    assert type(made) is Path and made == Path(root, 2, "Item")
    assert made.as_list() == ["items", 2] and made.typename == "Item"


def test_date_texts_are_isoformat_and_bounded() -> None:
    texts = DateTexts(entries=2)
    days = [datetime(2024, 1, d, tzinfo=UTC) for d in (1, 2, 3)]
    assert [texts.get(d) or texts.new(d) for d in days] == [d.isoformat() for d in days]
    assert texts.get(days[2]) == days[2].isoformat()  # kept: the newest
    assert texts.get(days[0]) is None  # dropped when the third came
