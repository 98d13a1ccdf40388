"""The ``abf`` kind's schema part: pull requests and groups (``schema/abf*.py``)."""

from __future__ import annotations

from schema.abf import PullRequest, PullRequestRecord
from schema.abf_mutations import AbfMutation
from schema.abf_query import AbfQuery, resolve_abf_node
from schema.context import Info
from schema.node import GlobalId
from schema.plugin import SchemaPart
from schema.types import Node


async def _node(info: Info, gid: GlobalId) -> Node | None:
    return await resolve_abf_node(info, gid.type, gid.backend, gid.native)


PART = SchemaPart(
    query=(AbfQuery,),
    mutation=(AbfMutation,),
    nodes={"PullRequest": _node, "AbfGroup": _node},
    changes={PullRequestRecord: PullRequest.of},
)
