"""Descriptions shared by fields and arguments that mean the same on many types.

Every type, field, argument and enum value of the schema carries a description written for a
frontend developer (``tests/schema/test_descriptions.py`` fails on a missing one). Those that
recur — IDs, backends, URLs, pagination — live here so that they read the same everywhere;
the rest are written next to their field.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types.enum import StrawberryEnumDefinition

ID = "Global ID: opaque and stable; `node(id:)` fetches the object again."
BACKEND = "The configured backend this object comes from (no upstream request)."
WEB_URL = "The object's page in the backend's web UI (null: the backend gives none)."
MBOX_URL = "Where the backend serves it as an mbox (null: the backend gives none)."
ARCHIVE_URL = "The mail in the mailing list's archive (null: the backend gives none)."
MSGID = "The mail's Message-ID header, with its angle brackets."
RAW_STATE = "The state exactly as the backend names it (state is its normalized form)."
TITLE = "The change's title: patch subject, Gerrit subject or pull request title."
STATE = "The state normalized across kinds (rawState keeps the backend's own)."
CREATED = "When it was created (ISO 8601, UTC)."
UPDATED = "When it last changed (ISO 8601, UTC)."
DATE = "When it was sent or made (ISO 8601, UTC)."
SINCE = "Only items dated at or after this time (ISO 8601; no offset means UTC)."
BEFORE = "Only items dated before this time (ISO 8601; no offset means UTC)."
FILTER_BACKEND = "Backend name (see `backends`); needed when several backends serve this list."
PAYLOAD_ERRORS = "Why the mutation did not (fully) happen; empty on success."
CHECK_STATE = (
    "The rollup of the change's checks: any failure, else pending, else warning, else "
    "success (null: no checks)."
)
RAW_CHECK_STATE = (
    "The backend's own word for the change's check rollup, as it sends it (upstream Patchwork's "
    "`check`: pending also when there are no checks; ABF's mergeability status of an open pull "
    "request); null: the backend has no such word (fdo, Gerrit)."
)
EDGES = "The page's items, each with its cursor."
NODES = "The page's items (the same as edges' nodes, without cursors)."
PAGE_INFO = "Where this page sits in the list, and the cursors to ask for the next one."
TOTAL_COUNT = "The list's size where the backend tells it without extra requests, else null."
CURSOR = "Opaque cursor of this item: pass it as `after` to get the items that follow."
NODE = "The item."
CONNECTION = (
    "One page of a list (Relay style): ask for the next with `after: pageInfo.endCursor`. "
    "Costs one upstream request per parent object (a root list: one per backend it spans)."
)
EDGE = "One item of a page and the cursor that points at it."

FIRST = "How many items (1..100, default 30; otherwise a BAD_PAGE_SIZE error)."
AFTER = "Start after this cursor (`pageInfo.endCursor` of the previous page); null: the start."

First = Annotated[int | None, strawberry.argument(description=FIRST)]
After = Annotated[str | None, strawberry.argument(description=AFTER)]


def describe_values(enum: type[Enum], **descriptions: str) -> None:
    """Give each value of the strawberry enum ``enum`` its description (every value, by name).

    Used rather than ``strawberry.enum_value``: that works only for enums defined in the schema
    (not ``adapters.model``'s), and mypy then types a member's ``.value`` as its wrapper.
    """
    definition: StrawberryEnumDefinition = enum.__strawberry_definition__  # type: ignore[attr-defined]
    names = {v.name for v in definition.values}
    if names != set(descriptions):
        raise ValueError(f"{definition.name}: describe exactly {sorted(names)}")
    for value in definition.values:
        value.description = descriptions[value.name]
