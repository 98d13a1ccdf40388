"""Custom scalar definitions: client input converted once, safely, at the schema's edge.

``DateTime`` is strawberry's own (same name, description and ISO 8601 parser, so the SDL
is unchanged; ISO 8601 as Python 3.11's ``datetime.fromisoformat`` reads it) with two
guarantees every resolver and adapter relies on:

- the value is **timezone-aware, in UTC**: a time without an offset is taken as UTC
  (comparing a naive time with a backend's aware one raises ``TypeError``);
- it lies **a day inside** ``datetime.min``/``datetime.max`` once in UTC, so the
  conversions and the ±1 µs arithmetic of the adapters cannot overflow
  (``0001-01-01T00:00:00+14:00`` is year 0 in UTC: ``OverflowError``, a masked 500).

Anything else is the coercion error graphql-core reports for any bad scalar (coded
``BAD_USER_INPUT`` for a variable, ``GRAPHQL_VALIDATION_FAILED`` for a literal).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from strawberry.schema.types.base_scalars import DateTimeDefinition, wrap_parser
from strawberry.types.scalar import ScalarDefinition

EARLIEST = (datetime.min + timedelta(days=1)).replace(tzinfo=UTC)
LATEST = (datetime.max - timedelta(days=1)).replace(tzinfo=UTC)
RANGE = f"out of range: must lie between {EARLIEST.date()} and {LATEST.date()} in UTC"


def parse_datetime(text: str) -> datetime:
    """``text`` (ISO 8601) as an aware UTC datetime within ``EARLIEST``..``LATEST``."""
    value = datetime.fromisoformat(text)  # Python 3.11: ISO 8601, with `Z`
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise ValueError(RANGE) from None
    if not EARLIEST <= value <= LATEST:
        raise ValueError(RANGE)
    return value


DATETIME = ScalarDefinition(
    name=DateTimeDefinition.name,
    description=DateTimeDefinition.description,
    specified_by_url=DateTimeDefinition.specified_by_url,
    serialize=DateTimeDefinition.serialize,
    # Out-of-range fields may raise OverflowError as well: both are the client's mistake.
    parse_value=wrap_parser(parse_datetime, "DateTime", exceptions=(ValueError, OverflowError)),
    parse_literal=None,
    origin=datetime,
)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {datetime: DATETIME}
