"""How the Gerrit part of the schema reaches a backend: through the Gerrit ports
(``adapters/gerrit/ports.py``), never the concrete source; the request's batching change
loaders; the check of a native query before anything is sent upstream."""

from __future__ import annotations

from typing import Any

from adapters.gerrit import records as gr
from adapters.gerrit.ports import (
    REVISION_OPTIONS,
    GerritChangeReader,
    GerritRevisionReader,
    GerritWriter,
)
from adapters.gerrit.query import QueryError, about_caller, parse
from schema.context import Info
from schema.errors import UserInputError

GERRIT = "gerrit changes"
MAX_NUMBERS = 500


def change_reader(info: Info, backend: str) -> GerritChangeReader:
    """Backend ``backend`` as a reader of Gerrit changes, or a clear UNSUPPORTED error."""
    return info.context.capable(backend, GerritChangeReader, GERRIT)


def revision_reader(info: Info, backend: str) -> GerritRevisionReader:
    """Backend ``backend`` as a reader of Gerrit patch sets, or a clear UNSUPPORTED error."""
    return info.context.capable(backend, GerritRevisionReader, GERRIT)


def writer(info: Info, backend: str) -> GerritWriter:
    """Backend ``backend`` as a Gerrit writer, or a clear UNSUPPORTED error."""
    return info.context.capable(backend, GerritWriter, GERRIT)


async def load_change(
    info: Info, backend: str, native: str, full: bool = False
) -> gr.GerritChange | None:
    """One change through the request's batching loader (``full``: with every patch set)."""
    src = change_reader(info, backend)
    if full:

        async def batch(ids: Any) -> list[gr.GerritChange | None]:
            return await src.get_changes(ids, REVISION_OPTIONS)

        loader = info.context._loader(backend, "gerrit-change-full", batch)
    else:
        loader = info.context._loader(backend, "gerrit-change", src.get_changes)
    result: gr.GerritChange | None = await loader.load(native)
    return result


def check_query(info: Info, text: str) -> str:
    """A native Gerrit query, validated before anything is sent upstream. A term naming the
    signed-in user (``owner:self``, ``is:starred`` …) would run as the gateway's account:
    an anonymous caller gets ``UNAUTHENTICATED`` instead."""
    try:
        tree = parse(text)
    except QueryError as exc:
        raise UserInputError(f"invalid gerritQuery: {exc}", "BAD_USER_INPUT") from None
    if info.context.meta.anonymous and (term := about_caller(tree)) is not None:
        raise UserInputError(
            f"gerritQuery: {term.operator}:{term.value} names the signed-in user; "
            "send an API key to use it",
            "UNAUTHENTICATED",
        )
    return text
