"""Leaf GraphQL types of the unified model: kinds and states, ``Node``, ``Backend``, ``Person``,
``Check`` and ``Comment``.

They reference no other object type of the model, so ``schema/types.py`` (projects, changes,
patches), ``schema/types_series.py`` and ``schema/types_events.py`` build on them; re-exported
from ``schema/types.py``. Each is declared once with ``@unified`` (``schema/unified.py``).
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, TypeVar, cast

import strawberry

from adapters import base, model
from adapters.errors import UpstreamError
from adapters.kinds import KINDS
from schema import descriptions as doc
from schema import node
from schema.context import UNKNOWN, Info
from schema.execution.projection import RESOLVE, shortcut
from schema.unified import unified

T = TypeVar("T")

if TYPE_CHECKING:
    from schema.identity import Identity

    class BackendKind(enum.Enum):
        """One value per registered kind (``adapters/kinds.py``)."""

else:  # derived from the kind descriptors; a schema's own kinds: schema/build.py
    BackendKind = strawberry.enum(
        enum.Enum("BackendKind", [(k.enum_name, k.name) for k in KINDS]),
        description="The kind of code-review system behind a backend.",
    )
    doc.describe_values(BackendKind, **{k.enum_name: k.description for k in KINDS})


ChangeState = strawberry.enum(model.ChangeState, description="A change's normalized state.")
CheckState = strawberry.enum(model.CheckState, description="A check's (or rollup's) outcome.")
doc.describe_values(
    ChangeState,
    OPEN="Waiting for review or merge (Patchwork new/under-review, Gerrit NEW, ABF open).",
    CHANGES_REQUESTED="The reviewers asked for a new version (Patchwork changes-requested).",
    DEFERRED="Put aside for later (Patchwork deferred).",
    DRAFT="Not ready for review: Patchwork rfc, a Gerrit draft.",
    MERGED="Applied or merged (Patchwork accepted).",
    CLOSED="Dropped without merging: Patchwork rejected/not-applicable, Gerrit abandoned.",
    SUPERSEDED="Replaced by a newer version (Patchwork superseded).",
)
doc.describe_values(
    CheckState,
    PENDING="Not finished yet.",
    SUCCESS="Passed.",
    WARNING="Passed with warnings.",
    FAILURE="Failed.",
)


@strawberry.interface(description="An object with a global, opaque ID.")
class Node:
    id: strawberry.ID = strawberry.field(description=doc.ID)


@strawberry.type(description="A configured backend instance.")
class Backend(Node):
    name: str = strawberry.field(
        description="The backend's name in the gateway's configuration (used in filters)."
    )
    kind: BackendKind = strawberry.field(description="Which code-review system it is.")
    url: str = strawberry.field(description="The backend's base URL, as configured.")
    _source: strawberry.Private[base.Source]

    @strawberry.field(
        description="The API version in use (Patchwork: detected or configured; one upstream "
        "request the first time); null: the kind has no versions or detection failed."
    )
    async def api_version(self) -> str | None:
        client = getattr(self._source, "client", None)
        version = getattr(client, "version", None)
        if version is None:
            return None
        result: str = await version()
        return result

    @staticmethod
    def of(source: base.Source) -> Backend:
        """The GraphQL view of a configured backend."""
        return Backend(
            id=strawberry.ID(node.encode("Backend", source.name, source.name)),
            name=source.name,
            # the value: each schema's BackendKind type maps it (it may list a plugin kind)
            kind=cast(BackendKind, source.kind),
            url=source.url,
            _source=source,
        )


def backend_of(info: Info, name: str) -> Backend:
    """The ``Backend`` object for a record's backend name."""
    return Backend.of(info.context.source(name))


def _record_backend(root: Any, info: Info) -> Backend:
    return backend_of(info, root._r.backend)


def backend_field() -> Any:
    """``backend`` of a type that keeps its record in ``_r`` (record-only: the fast path
    calls it with the record, ``schema/unified.py`` ``resolvers=``)."""
    return strawberry.field(resolver=_record_backend, description=doc.BACKEND)


def _of_person(read: Callable[[model.Person], T]) -> Callable[[Any, Info], Any]:
    """A record-only resolver of a ``Person`` field: ``read`` of the record, or — for a
    ``partial`` record (an fdo submitter known by id) — of the person its backend names,
    through the request's loader (graphql-core awaits it; a failed read keeps the id)."""

    def resolve(root: Any, info: Info) -> Any:
        r: model.Person = root._r
        return _named(info, r, read) if r.partial else read(r)

    return resolve


def _named(info: Info, r: model.Person, read: Callable[[model.Person], T]) -> Any:
    """``read`` of the person a partial record names: at once when a change list prefetched
    it (``schema/changes.py``), else through the loader (graphql-core awaits it)."""
    try:
        found = info.context.known(r.backend, "person", r.id)
    except UpstreamError as exc:
        info.context.report(info, exc)
        return read(r)
    if found is UNKNOWN:
        return _load_named(info, r, read)
    return read(found or r)


async def _load_named(info: Info, r: model.Person, read: Callable[[model.Person], T]) -> T:
    try:
        found = await info.context.person(r.backend, r.id)
    except UpstreamError as exc:
        info.context.report(info, exc)
        found = None
    return read(found or r)


# name and email spelled out (not _of_person): one call per field on every list of people
def _person_name(root: Any, info: Info) -> Any:
    r: model.Person = root._r
    return _named(info, r, _NAME) if r.partial else r.name


def _person_email(root: Any, info: Info) -> Any:
    r: model.Person = root._r
    return _named(info, r, _EMAIL) if r.partial else r.email


_NAME, _EMAIL = operator.attrgetter("name"), operator.attrgetter("email")


def _person_identity(root: Any, info: Info) -> Any:
    from schema.identity import identity_of

    return _of_person(lambda r: identity_of(info.context.people, r))(root, info)


@unified(
    model.Person,
    node_kind="Person",
    resolvers=("name", "email", "display_name", "identity", "backend"),
    nullable=True,
)
@strawberry.type(description="A person: a mail sender, an account, a reviewer.")
class Person(Node):
    name: str | None = strawberry.field(
        resolver=_person_name,
        description="Full name (null: the backend gives none).",
    )
    email: str | None = strawberry.field(
        resolver=_person_email,
        description="Email address (null: the backend does not show it to this caller).",
    )
    username: str | None = strawberry.field(
        description="Account name (null: a mail sender without an account)."
    )
    _r: strawberry.Private[model.Person]

    display_name: str = strawberry.field(
        resolver=_of_person(lambda r: r.display_name),
        description="What to show: the name, else the username, else the email.",
    )

    @strawberry.field(description=doc.BACKEND)
    def backend(self, info: Info) -> Backend:
        return backend_of(info, self._r.backend)

    identity: Annotated[Identity, strawberry.lazy("schema.identity")] = strawberry.field(
        resolver=_person_identity,
        description="The human behind this account across forges (joined by email and the "
        "[[people]] map; a singleton when nothing joins it). No upstream read, but for an fdo "
        "submitter, who is named first (as for name and email).",
    )

    @strawberry.field(
        description="Every account of this account's human (identity.accounts, this one "
        "included): searching the other backends costs one request per backend and term."
    )
    async def accounts(self, info: Info) -> list[Person]:
        from schema.identity import converted_accounts, identity_of

        r = (await info.context.person(self._r.backend, self._r.id)) if self._r.partial else None
        found = identity_of(info.context.people, r or self._r)
        return await converted_accounts(info, found._key, found._known)

    of: ClassVar[Callable[[model.Person | None], Person | None]]


# A person the backend named in full (all but fdo submitters) answers from its record.
shortcut(
    Person,
    name=lambda r: RESOLVE if r.partial else r.name,
    email=lambda r: RESOLVE if r.partial else r.email,
    display_name=lambda r: RESOLVE if r.partial else r.display_name,
)


@unified(model.Check, node_kind="Check", native=lambda r: f"{r.change_id}/{r.id}", keep=None)
@strawberry.type(description="A CI result attached to a change.")
class Check(Node):
    context: str = strawberry.field(
        description="What was checked: the CI job's name (a re-report of a context replaces it)."
    )
    state: CheckState = strawberry.field(  # type: ignore[valid-type]
        description="The outcome, normalized across kinds."
    )
    raw_state: str = strawberry.field(description=doc.RAW_STATE)
    date: datetime = strawberry.field(description="When it was reported (ISO 8601, UTC).")
    target_url: str | None = strawberry.field(
        description="Where the CI job's details are (null: none given)."
    )
    description: str | None = strawberry.field(
        description="A one-line summary from the CI job (null: none given)."
    )
    user: Person | None = strawberry.field(
        description="Who reported it (null: unknown or not shown by the backend)."
    )

    of: ClassVar[Callable[[model.Check], Check]]


@unified(
    model.Comment,
    node_kind="Comment",
    native=lambda r: f"{r.parent_id}/{r.id}",
    rename={"author": "submitter"},
    keep=None,
)
@strawberry.type(description="A reply to a change or cover letter.")
class Comment(Node):
    subject: str | None = strawberry.field(
        description="The mail's subject (null: the backend gives none)."
    )
    content: str | None = strawberry.field(description="The comment's text (plain text).")
    date: datetime = strawberry.field(description=doc.DATE)
    msgid: str | None = strawberry.field(description=doc.MSGID + " Null: not a mail.")
    web_url: str | None = strawberry.field(description=doc.WEB_URL)
    list_archive_url: str | None = strawberry.field(description=doc.ARCHIVE_URL)
    addressed: bool | None = strawberry.field(
        description="Whether it was marked as addressed (Patchwork 1.3; null elsewhere)."
    )
    author: Person | None = strawberry.field(description="Who wrote it (null: unknown).")

    of: ClassVar[Callable[[model.Comment], Comment]]
