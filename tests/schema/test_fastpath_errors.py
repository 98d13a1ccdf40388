"""The fast path fails exactly as normal execution does, on records that break every rule.

The patch list of the simulator is replaced by records with wrong values — null in non-null
fields, strings where enums and dates belong, numbers where strings
belong (coerced, not errors), a missing project (its resolver raises) — mixed with good
ones, and generated queries over them run three ways: normally, through plans walked
generically, and through plans with generated builders (``schema/execution/codegen.py``).
Data (with ``null`` propagated to the same parents), errors (messages, paths) and upstream
request counts must be identical.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import PatchFilter
from adapters.model import Page, PageRequest, Patch
from adapters.patchwork.presence import Presence
from tests.schema.test_fastpath import Harness


def _normalised(body: dict[str, Any]) -> dict[str, Any]:
    """Data and errors, without the request id masked errors carry (one per request)."""
    errors = []
    for error in body.get("errors") or []:
        ext = {k: v for k, v in (error.get("extensions") or {}).items() if k != "requestId"}
        errors.append({**error, "extensions": ext})
    errors.sort(key=lambda e: (str(e.get("path")), e["message"]))
    return {"data": body.get("data"), "errors": errors}


BREAKAGES: list[dict[str, Any]] = [
    {},  # a good record
    {"title": None},  # non-null String: null propagates to the list item
    {"state": "bogus"},  # enum field given a string
    {"check_state": "weird"},  # nullable enum through a resolver
    {"date": "yesterday"},  # DateTime scalar given a string
    {"archived": None},  # non-null Boolean
    {"web_url": 12345},  # String coerces an int: no error
    {"id": 77},  # the ID is built from it: coerced too
    {"submitter": None},  # a nullable object: null, no error
    {"project": None},  # Patch.project's resolver raises (non-null Project)
    {"raw_state": ["a", "list"]},  # String given a list
]

FIELDS = [
    "id",
    "title",
    "state",
    "rawState",
    "createdAt",
    "webUrl",
    "checkState",
    "archived",
    "msgid",
    "author { name email __typename }",
    "submitter { displayName }",
    "project { name linkName }",
    "__typename",
]


@pytest.fixture(scope="module")
def broken() -> Iterator[Harness]:
    h = Harness()
    source: Any = h.app.state.backends.sources["pw"]
    real = source.list_patches
    chosen: list[int] = []

    async def list_patches(flt: PatchFilter, page: PageRequest) -> Page[Patch]:
        good = await real(flt, PageRequest(0, len(chosen)))
        items = tuple(
            dataclasses.replace(record, **BREAKAGES[k])
            for record, k in zip(good.items, chosen, strict=True)
        )
        return Page(items=items, offset=0, has_next=False, total=len(items))

    source.list_patches = list_patches
    h.chosen = chosen  # type: ignore[attr-defined]
    try:
        h.query("{ backends { apiVersion } }", None, fast=False)  # version detection once
        yield h
    finally:
        h.close()


def _forget_check_presence(h: Harness) -> None:
    """Each run reads the same check-created events: none covered by an earlier run
    (``adapters/patchwork/presence.py``), so the upstream counts compare."""
    source: Any = h.app.state.backends.sources["pw"]
    source.presence = Presence()


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    chosen=st.lists(st.integers(0, len(BREAKAGES) - 1), min_size=1, max_size=6),
    fields=st.lists(st.sampled_from(FIELDS), min_size=1, max_size=len(FIELDS), unique=True),
    shape=st.sampled_from(["nodes", "edges"]),
)
def test_broken_records_fail_the_same_way(
    broken: Harness, chosen: list[int], fields: list[str], shape: str
) -> None:
    broken.chosen[:] = chosen  # type: ignore[attr-defined]
    body = " ".join(fields)
    inner = f"nodes {{ {body} }}" if shape == "nodes" else f"edges {{ cursor node {{ {body} }} }}"
    query = f'{{ patches(first: 10, filter: {{project: "generated"}}) {{ {inner} }} }}'
    _forget_check_presence(broken)
    slow, slow_upstream = broken.query(query, None, fast=False)
    for codegen in (True, False):
        _forget_check_presence(broken)
        hits = broken.fast.hits
        fast, fast_upstream = broken.query(query, None, fast=True, codegen=codegen)
        assert broken.fast.hits == hits + 1, query  # really planned
        assert _normalised(fast) == _normalised(slow), (query, chosen, codegen)
        assert fast_upstream == slow_upstream, query


def test_every_breakage_is_an_error_somewhere(broken: Harness) -> None:
    # the comparison above is not vacuous: the broken records do produce errors
    broken.chosen[:] = list(range(len(BREAKAGES)))  # type: ignore[attr-defined]
    fields = " ".join(FIELDS)
    query = '{ patches(first: 10, filter: {project: "generated"}) { edges { node { %s } } } }'
    query %= fields
    body, _ = broken.query(query, None, fast=True)
    assert body["data"] is None  # non-null items: null propagates to the root
    assert len(body["errors"]) >= 1
    broken.chosen[:] = [0, 6, 7]  # type: ignore[attr-defined]
    body, _ = broken.query(query, None, fast=True)
    nodes = [e["node"] for e in body["data"]["patches"]["edges"]]
    assert nodes[1]["webUrl"] == "12345"
