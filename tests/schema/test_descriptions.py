"""Every type, field, argument and enum value of the schema has a description (issue 17 item 7).

GraphiQL's Docs panel and generated client code show them to frontend developers; one missing
is listed by name so that whoever adds a field sees what to write.
"""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    graphql_sync,
)

from schema.build import SCHEMA_DESCRIPTION, build_schema
from tests.gateway.guarded import BOT_KEY, guarded


def undescribed(schema: GraphQLSchema) -> list[str]:
    """Every type, field, argument and enum value without a (non-blank) description."""
    missing: list[str] = []

    def check(what: str, description: str | None) -> None:
        if not (description or "").strip():
            missing.append(what)

    for name, type_ in sorted(schema.type_map.items()):
        if name.startswith("__"):  # introspection types: graphql-core's own
            continue
        check(f"type {name}", type_.description)
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in type_.fields.items():
                check(f"field {name}.{field_name}", field.description)
                for arg_name, arg in getattr(field, "args", {}).items():
                    check(f"argument {name}.{field_name}({arg_name})", arg.description)
        if isinstance(type_, GraphQLEnumType):
            for value_name, value in type_.values.items():
                check(f"enum value {name}.{value_name}", value.description)
    return missing


def test_everything_is_described() -> None:
    missing = undescribed(build_schema()._schema)
    assert not missing, f"{len(missing)} without a description:\n" + "\n".join(missing)


def test_the_walk_finds_a_missing_description() -> None:
    # The check itself must be able to fail: strip one argument's description.
    schema = build_schema()._schema
    query = schema.query_type
    assert query is not None
    query.fields["node"].args["id"].description = None
    query.fields["node"].description = ""
    assert undescribed(schema) == ["field Query.node", "argument Query.node(id)"]


def test_the_schema_has_a_description() -> None:
    # What GraphiQL's Docs panel asks for (its page sets schemaDescription: true).
    result = graphql_sync(build_schema()._schema, "{ __schema { description } }")
    assert result.errors is None
    assert result.data == {"__schema": {"description": SCHEMA_DESCRIPTION}}


async def test_graphiql_gets_the_descriptions_over_http() -> None:
    # The introspection GraphiQL sends (schemaDescription on), through the whole gateway.
    query = (
        "{ __schema { description queryType { description } } "
        '__type(name: "Patch") { fields { name description args { name description } } } }'
    )
    async with guarded() as gw:
        body = await gw.data(query, key=BOT_KEY)
    assert "errors" not in body, body["errors"]
    data = body["data"]
    assert data["__schema"]["description"] == SCHEMA_DESCRIPTION
    assert data["__schema"]["queryType"]["description"]
    fields = {f["name"]: f for f in data["__type"]["fields"]}
    assert "1..100" in {a["name"]: a for a in fields["comments"]["args"]}["first"]["description"]
    assert all(f["description"] for f in fields.values())
