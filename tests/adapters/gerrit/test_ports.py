"""Gerrit states its capabilities through ports (``adapters/gerrit/ports.py``) like every kind:
``GerritSource`` and its views implement them, and the schema reaches a Gerrit backend only
through them (no schema module imports a concrete source or client)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from adapters import base
from adapters.gerrit.ports import (
    GerritChangeReader,
    GerritChangeWriter,
    GerritReviewWriter,
    GerritRevisionReader,
    GerritWriter,
)
from adapters.gerrit.source import GerritSource
from adapters.http import Credentials
from adapters.registry import BackendSpec, build_source

PORTS = (GerritChangeReader, GerritRevisionReader, GerritChangeWriter, GerritReviewWriter)
SCHEMA = Path(__file__).resolve().parents[3] / "schema"


def _writer(source: GerritSource) -> GerritWriter:
    return source  # mypy --strict checks every port's signatures against the source's


def test_gerrit_source_and_its_views_provide_every_port() -> None:
    spec = BackendSpec(name="g", kind="gerrit", url="http://gerrit.invalid")
    source = build_source(spec)
    assert isinstance(source, GerritSource)
    keyed = build_source(
        BackendSpec(
            name="g",
            kind="gerrit",
            url="http://gerrit.invalid",
            credentials=Credentials(username="u", password="p"),
        )
    )
    assert isinstance(keyed, GerritSource)
    for view in (source, source.anonymous_view(), keyed.with_token("u:t")):
        for port in (*PORTS, GerritWriter):
            assert base.provides(view, port), (view, port)
        assert _writer(view) is view


@pytest.mark.parametrize("port", PORTS)
def test_other_kinds_provide_no_gerrit_port(port: type) -> None:
    for kind in ("patchwork", "patchwork-fdo", "abf"):
        source = build_source(BackendSpec(name="x", kind=kind, url="http://x.invalid"))
        assert not base.provides(source, port), (kind, port)


def test_schema_imports_no_concrete_source_or_client() -> None:
    concrete: list[str] = []
    for path in sorted(SCHEMA.rglob("*.py")):
        for found in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(found, ast.ImportFrom) and found.module:
                names = [found.module, *(f"{found.module}.{a.name}" for a in found.names)]
            elif isinstance(found, ast.Import):
                names = [a.name for a in found.names]
            else:
                continue
            parts = [n.split(".") for n in names]
            if any(p[0] == "adapters" and p[-1] in ("source", "client") for p in parts):
                concrete.append(f"{path.name}: {names[0]}")
    assert concrete == []
