"""The committed schema/schema.graphql is what the code builds (run `make schema` to update)."""

from __future__ import annotations

import graphql

from schema.build import SDL_PATH, sdl


def test_sdl_committed_schema_is_current() -> None:
    assert SDL_PATH.read_text() == sdl(), "schema/schema.graphql is stale: run `make schema`"


def test_sdl_has_the_design_core() -> None:
    text = sdl()
    for needle in (
        "interface Node",
        "interface Change implements Node",
        "type Patch implements Change & Node",
        "enum BackendKind",
    ):
        assert needle in text, needle
    # Described arguments print on lines of their own: compare the parsed signatures.
    mutation = graphql.build_schema(text).mutation_type
    assert mutation is not None
    for name, argument, payload in (
        ("updatePatch", "UpdatePatchInput!", "UpdatePatchPayload!"),
        ("createCheck", "CreateCheckInput!", "CreateCheckPayload!"),
    ):
        field = mutation.fields[name]
        assert list(field.args) == ["input"], name
        assert str(field.args["input"].type) == argument, name
        assert str(field.type) == payload, name
