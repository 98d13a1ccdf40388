"""The toy kind's part of the GraphQL schema: ``ToyChange`` (a ``Change``), its node loader,
its change conversion and a root field of its own (``toyGreeting``)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema import node
from schema.context import Info
from schema.descriptions import After, First
from schema.node import GlobalId
from schema.pagination import Connection
from schema.plugin import SchemaPart
from schema.types import (
    Backend,
    Change,
    ChangeRevision,
    Check,
    Comment,
    Node,
    Person,
    Project,
    backend_of,
)
from tests.plugins.toy.source import Toy, ToyReader

TOYS = "toys"


@strawberry.type(description="A toy change (tests/plugins/toy).")
class ToyChange(Change):
    number: int = strawberry.field(description="The toy's number.")
    _r: strawberry.Private[Toy]

    @strawberry.field(description="Its backend.")
    def backend(self, info: Info) -> Backend:
        return backend_of(info, self._r.backend)

    @strawberry.field(description="Its project.")
    def project(self) -> Project:
        assert self._r.project is not None
        return Project.of(self._r.project)

    @strawberry.field(description="None: toys are not checked.")
    async def checks(self, info: Info) -> list[Check] | None:
        return []

    @strawberry.field(description="None: toys have no versions.")
    async def current_revision(self, info: Info) -> ChangeRevision | None:
        return None

    @strawberry.field(description="None: toys take no comments.")
    async def comments(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Comment] | None:
        return None

    @staticmethod
    def of(r: Toy) -> ToyChange:
        return ToyChange(
            id=strawberry.ID(node.encode("ToyChange", r.backend, r.id)),
            title=r.title,
            state=r.state,
            raw_state=r.state.value.lower(),
            created_at=r.updated_at,
            updated_at=r.updated_at,
            web_url=None,
            check_state=None,
            raw_check_state=None,
            author=Person.of(r.author),
            number=int(r.id),
            _r=r,
        )


async def _load(info: Info, gid: GlobalId) -> Node | None:
    found = (await info.context.capable(gid.backend, ToyReader, TOYS).get_toys([gid.native]))[0]
    return None if found is None else ToyChange.of(found)


@strawberry.type
class ToyQuery:
    @strawberry.field(description="A toy backend's greeting (its `greeting` setting).")
    def toy_greeting(
        self, info: Info, backend: Annotated[str, strawberry.argument(description="Its name.")]
    ) -> str:
        source = info.context.capable(backend, ToyReader, TOYS)
        return str(getattr(source, "greeting", ""))


PART = SchemaPart(
    query=(ToyQuery,),
    types=(ToyChange,),
    nodes={"ToyChange": _load},
    changes={Toy: ToyChange.of},
)
