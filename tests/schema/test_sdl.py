"""The committed schema/schema.graphql is what the code builds (run `make schema` to update)."""

from __future__ import annotations

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
        "updatePatch(input: UpdatePatchInput!): UpdatePatchPayload!",
        "createCheck(input: CreateCheckInput!): CreateCheckPayload!",
    ):
        assert needle in text, needle
