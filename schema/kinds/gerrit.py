"""The ``gerrit`` kind's schema part: changes, patch sets and their reviews
(``schema/gerrit*.py``)."""

from __future__ import annotations

from adapters.gerrit.records import GerritChange as GerritChangeRecord
from schema.context import Info
from schema.gerrit import GERRIT_TYPES, GerritChange, GerritQuery, resolve_gerrit_node
from schema.gerrit_mutations import GerritMutation
from schema.node import GlobalId
from schema.plugin import SchemaPart
from schema.types import Node


async def _node(info: Info, gid: GlobalId) -> Node | None:
    return await resolve_gerrit_node(info, gid.backend, gid.type, gid.native)


PART = SchemaPart(
    query=(GerritQuery,),
    mutation=(GerritMutation,),
    types=tuple(GERRIT_TYPES),
    nodes={"GerritChange": _node, "GerritRevision": _node},
    changes={GerritChangeRecord: GerritChange.of},
)
