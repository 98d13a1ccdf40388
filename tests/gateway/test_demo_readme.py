"""The demo shows one review model across forges (issue 16, part 6): README's first query
returns every kind in its first 20 nodes, and GraphiQL's cross-forge tab finds the demo
person's open changes on all four forges.

The gateway runs over the demo's four simulators as ``revgate demo`` starts them (each kind's
``Demo.start``, its ``simulator/demo.py`` timeline: ``bench.waves.demo_gateway``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from adapters.gerrit.simulator.demo import ADA as GERRIT_ADA
from bench.waves import demo_gateway
from gateway.cli import DEMO_PEOPLE
from gateway.ide import EXAMPLES
from schema import node
from schema.build import SDL_PATH

README = Path(__file__).resolve().parents[2] / "README.md"
ALL_KINDS = {"PATCHWORK", "PATCHWORK_FDO", "GERRIT", "ABF"}
MERGED_16 = "\n  people(" in SDL_PATH.read_text()  # issue 16's people/links fields


def readme_first_query() -> str:
    """The first ```graphql block of README's "Try it" section."""
    section = README.read_text().split("## Try it", 1)[1]
    found = re.search(r"```graphql\n(.*?)```", section, re.S)
    assert found, "README's Try it section has no graphql block"
    return found.group(1)


async def _ask(query: str) -> dict[str, Any]:
    async with demo_gateway() as (client, _):
        body: dict[str, Any] = (await client.post("/graphql", json={"query": query})).json()
    return body


async def test_readme_first_query_returns_all_four_kinds_in_its_first_20_nodes() -> None:
    query = readme_first_query()
    assert "changes(first: 20)" in query
    body = await _ask(query)
    assert "errors" not in body, body
    changes = body["data"]["changes"]
    assert changes["missingBackends"] == []
    nodes = changes["nodes"]
    assert len(nodes) == 20
    assert {n["backend"]["kind"] for n in nodes} == ALL_KINDS
    stamps = [n["updatedAt"] for n in nodes]
    assert stamps == sorted(stamps, reverse=True)  # newest activity first
    # The demo person's twin series is there, on every forge.
    ada = {n["backend"]["kind"] for n in nodes if (n["author"] or {}).get("name") == "Ada Lovelace"}
    assert ada >= {"PATCHWORK", "GERRIT", "ABF"}  # fdo's API names no authors (issue 16: people)


def test_the_cross_forge_tab_names_the_demo_person() -> None:
    (query,) = [q for n, q in EXAMPLES if n == "person"]
    assert node.encode("Person", "gerrit", str(GERRIT_ADA)) in query


def test_demo_people_entry_names_accounts_of_every_demo_backend() -> None:
    (ada,) = DEMO_PEOPLE
    assert ada["name"] == "Ada Lovelace" and ada["emails"] == ["ada@example.org"]
    accounts = ada["accounts"]
    assert isinstance(accounts, dict)
    assert set(accounts) == {"patchwork", "fdo", "gerrit", "abf"}
    assert accounts["abf"] == "ada" and "ada" in accounts["gerrit"]


async def test_the_demo_person_and_others_author_the_newest_changes() -> None:
    # What the [[people]] entry joins exists, among other people's recent work.
    query = "{ changes(first: 20) { nodes { backend { name } author { name email } } } }"
    body = await _ask(query)
    assert "errors" not in body, body
    authors: dict[str, set[tuple[str | None, str | None]]] = {}
    for n in body["data"]["changes"]["nodes"]:
        authors.setdefault(n["backend"]["name"], set()).add(
            (n["author"]["name"], n["author"]["email"])
        )
    assert ("Ada Lovelace", "ada@example.org") in authors["gerrit"] | authors["patchwork"]
    assert ("Ada Lovelace", None) in authors["abf"]  # ABF shows no emails
    assert ("Jane Roe", "jane.roe@example.com") in authors["gerrit"]
    assert ("Grace Hopper", "grace@example.org") in authors["patchwork"]


@pytest.mark.skipif(not MERGED_16, reason="needs issue 16's people/related fields (merge)")
async def test_cross_forge_tab_lists_the_person_open_changes_on_all_four_forges() -> None:
    (query,) = [q for n, q in EXAMPLES if n == "person"]
    body = await _ask(query)
    assert "errors" not in body, body
    nodes = body["data"]["changes"]["nodes"]
    assert {n["backend"]["kind"] for n in nodes} == ALL_KINDS
    assert {n["state"] for n in nodes} == {"OPEN"}
    assert {n["author"]["identity"]["displayName"] for n in nodes} == {"Ada Lovelace"}
    stamps = [n["updatedAt"] for n in nodes]
    assert stamps == sorted(stamps, reverse=True)
    assert all(n["related"] for n in nodes)  # each twin finds the others
