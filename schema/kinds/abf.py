"""The ``abf`` kind's schema part: pull requests and groups (``schema/abf*.py``)."""

from __future__ import annotations

from schema.abf import PullRequest, PullRequestRecord, PullRequestRevision, pull_request
from schema.abf_mutations import AbfMutation
from schema.abf_query import AbfQuery, resolve_abf_node
from schema.context import Info
from schema.node import GlobalId
from schema.plugin import SchemaPart
from schema.types import Node


async def _node(info: Info, gid: GlobalId) -> Node | None:
    return await resolve_abf_node(info, gid.type, gid.backend, gid.native)


async def _revision(info: Info, gid: GlobalId) -> Node | None:
    # ``<pull request>@<head sha>``: found while that sha is still the head (ABF keeps no
    # earlier heads).
    number, _, sha = gid.native.rpartition("@")
    found = await pull_request(info, gid.backend, number) if number else None
    if found is None or (found.from_ref.sha or "") != sha:
        return None
    return PullRequestRevision.of(found)


PART = SchemaPart(
    query=(AbfQuery,),
    mutation=(AbfMutation,),
    nodes={"PullRequest": _node, "AbfGroup": _node, "PullRequestRevision": _revision},
    changes={PullRequestRecord: PullRequest.of},
)
