"""The toy kind's source: a few changes in memory, offered through ports like a real kind's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from adapters.base import ChangeFilter
from adapters.model import ChangeState, Page, PageRequest, Person, Project

KIND = "toy"
COUNT = 5
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Toy:
    """One toy change (a ``ChangeRecord``)."""

    backend: str
    id: str
    title: str
    state: ChangeState
    updated_at: datetime
    project: Project | None
    author: Person | None


@runtime_checkable
class ToyReader(Protocol):
    """The toy kind's own port: toys by id."""

    async def get_toys(self, ids: Sequence[str]) -> list[Toy | None]:
        """Toys by id (``None``: no such toy)."""
        ...


class ToySource:
    """Implements ``Source``, ``Pinger``, ``ChangeLister`` and ``ToyReader``."""

    kind = KIND

    def __init__(self, name: str, url: str, *, greeting: str) -> None:
        self.name = name
        self.url = url
        self.greeting = greeting
        project = Project(backend=name, id="1", name="Toys", link_name="toys")
        author = Person(backend=name, id="7", name="Toy Maker", email=None, username="maker")
        self.toys = {
            str(n): Toy(
                backend=name,
                id=str(n),
                title=f"{greeting} #{n}",
                state=ChangeState.OPEN if n % 2 else ChangeState.MERGED,
                updated_at=_EPOCH + timedelta(days=n),
                project=project,
                author=author,
            )
            for n in range(1, COUNT + 1)
        }
        self.requests = 0

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    @property
    def request_count(self) -> int:
        return self.requests

    async def ping(self) -> None:
        """``Pinger``: what ``/readyz`` asks every backend (always up, in memory)."""
        return None

    async def list_changes(
        self, flt: ChangeFilter, page: PageRequest, descending: bool
    ) -> Page[Toy]:
        self.requests += 1
        ordered = sorted(self.toys.values(), key=lambda t: t.updated_at, reverse=descending)
        window = ordered[page.offset : page.offset + page.count]
        return Page(tuple(window), page.offset, page.offset + page.count < len(ordered))

    async def get_toys(self, ids: Sequence[str]) -> list[Toy | None]:
        self.requests += 1
        return [self.toys.get(i) for i in ids]
