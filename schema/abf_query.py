"""ABF's root query fields: one pull request, ABF's four pull request lists, groups, viewer.

``AbfQuery`` is merged into the root ``Query`` by ``schema/build.py``. Every list filter maps
onto one of ABF's own query parameters; which list is read follows ``scope``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, ClassVar

import strawberry

from adapters.abf import ports
from adapters.abf import records as abf
from schema import descriptions as doc
from schema import node
from schema.abf import PullRequest, group, pull_request, reader
from schema.context import Info, pick_backend
from schema.descriptions import After, First
from schema.errors import UserInputError
from schema.pagination import Connection, connection, page_request
from schema.types import Backend, Node, Person, backend_of
from schema.unified import unified


@strawberry.enum(description="Which of ABF's pull request lists to read.")
class PullRequestScope(enum.Enum):
    ALL = "all"
    USER = "user"
    GROUP = "group"
    PROJECT = "project"


doc.describe_values(
    PullRequestScope,
    ALL="Every project the credentials can see.",
    USER="The projects the credentials' user owns or is a member of.",
    GROUP="One group's projects (filter.group).",
    PROJECT="One project (filter.project).",
)


@strawberry.enum(description="ABF's filter of the user-wide lists.")
class PullRequestInvolvement(enum.Enum):
    ASSIGNED = "assigned"
    CREATED = "created"
    ALL = "all"


doc.describe_values(
    PullRequestInvolvement,
    ASSIGNED="Assigned to the user.",
    CREATED="Opened by the user.",
    ALL="Either.",
)


@strawberry.enum(description="ABF's list status: open (open, ready, already, blocked) or closed.")
class PullRequestListStatus(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


doc.describe_values(
    PullRequestListStatus,
    OPEN="Not merged or closed yet.",
    CLOSED="Merged or closed.",
)


@strawberry.enum(description="ABF's list order.")
class PullRequestSort(enum.Enum):
    SUBMITTED = "submitted"
    UPDATED = "updated"


doc.describe_values(
    PullRequestSort,
    SUBMITTED="By when they were opened.",
    UPDATED="By their last update.",
)


@strawberry.enum(description="ABF's sort direction.")
class PullRequestDirection(enum.Enum):
    ASC = "asc"
    DESC = "desc"


doc.describe_values(
    PullRequestDirection,
    ASC="Oldest first.",
    DESC="Newest first.",
)


@strawberry.input(description="ABF pull request list filters; each maps onto ABF's own.")
class PullRequestFilterInput:
    backend: str | None = strawberry.field(
        default=None, description="Backend name; needed when several ABF backends are set up."
    )
    scope: PullRequestScope = strawberry.field(
        default=PullRequestScope.ALL, description="Which list to read (default ALL)."
    )
    group: str | None = strawberry.field(
        default=None, description="An AbfGroup ID or native group id (scope GROUP)."
    )
    project: str | None = strawberry.field(
        default=None, description="A Project ID, native id or owner/name (scope PROJECT)."
    )
    involvement: PullRequestInvolvement | None = strawberry.field(
        default=None,
        description="ABF's filter (not PROJECT): assigned (its default), created, all.",
    )
    status: PullRequestListStatus | None = strawberry.field(
        default=None, description="Open or closed ones; null: ABF's default."
    )
    assignee: str | None = strawberry.field(
        default=None, description='PROJECT only: a nickname, "none" or "*".'
    )
    creator: str | None = strawberry.field(default=None, description="PROJECT only: a nickname.")
    sort: PullRequestSort | None = strawberry.field(
        default=None, description="The order; null: ABF's default."
    )
    direction: PullRequestDirection | None = strawberry.field(
        default=None, description="Which way; null: ABF's default."
    )
    since: datetime | None = strawberry.field(
        default=None, description="Only those updated since this time (ISO 8601, UTC)."
    )

    def to_filter(self) -> abf.PullRequestFilter:
        """The adapter-level filter (IDs decoded to native ids)."""
        if self.scope is PullRequestScope.GROUP and not self.group:
            raise UserInputError("scope GROUP needs filter.group")
        if self.scope is PullRequestScope.PROJECT and not self.project:
            raise UserInputError("scope PROJECT needs filter.project")
        if self.scope is not PullRequestScope.PROJECT and (self.assignee or self.creator):
            raise UserInputError("assignee and creator filter scope PROJECT lists only")
        return abf.PullRequestFilter(
            scope=abf.Scope(self.scope.value),
            group=_native(self.group, "AbfGroup"),
            project=_native(self.project, "Project"),
            filter=self.involvement.value if self.involvement else None,
            status=self.status.value if self.status else None,
            assignee=self.assignee,
            creator=self.creator,
            sort=self.sort.value if self.sort else None,
            direction=self.direction.value if self.direction else None,
            since=self.since,
        )


def _native(value: str | None, type_name: str) -> str | None:
    """A native id from a global ID of ``type_name``, or ``value`` itself."""
    if not value or value.isdigit() or "/" in value:
        return value
    try:
        return node.decode(value, type_name).native
    except UserInputError:
        return value


_GIVE = "give backend"  # ABF's lists take the backend as an argument


def split_id(value: str, type_name: str) -> tuple[str, str]:
    """(backend, native id) of a global ID of ``type_name``."""
    gid = node.decode(value, type_name)
    return gid.backend, gid.native


@unified(abf.Group, node_kind="AbfGroup", resolvers=("backend",))
@strawberry.type(description="An ABF group: an organisation owning projects.")
class AbfGroup(Node):
    uname: str = strawberry.field(description="The group's unique name (owner part of owner/name).")
    description: str | None = strawberry.field(description="The group's description (null: none).")
    own_projects_count: int | None = strawberry.field(
        description="How many projects it owns (null: ABF did not say)."
    )
    owner: Person | None = strawberry.field(description="The group's owner (null: not given).")
    created_at: datetime | None = strawberry.field(
        description="When it was created (ISO 8601, UTC; null: not given)."
    )
    web_url: str | None = strawberry.field(description=doc.WEB_URL)
    avatar_url: str | None = strawberry.field(description="The group's picture (null: none).")
    _r: strawberry.Private[abf.Group]

    @strawberry.field(description=doc.BACKEND)
    def backend(self, info: Info) -> Backend:
        return backend_of(info, self._r.backend)

    @strawberry.field(
        description="Pull requests of the group's projects (ABF's group list; one upstream "
        "request per group)."
    )
    async def pull_requests(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        involvement: Annotated[
            PullRequestInvolvement | None,
            strawberry.argument(description="The user's part in them; null: ABF's default."),
        ] = None,
        status: Annotated[
            PullRequestListStatus | None,
            strawberry.argument(description="Open or closed ones; null: ABF's default."),
        ] = None,
    ) -> Connection[PullRequest]:
        flt = abf.PullRequestFilter(
            scope=abf.Scope.GROUP,
            group=self._r.id,
            filter=involvement.value if involvement else None,
            status=status.value if status else None,
        )
        src = reader(info, self._r.backend)
        page = await src.list_pull_requests(flt, page_request(first, after))
        return connection(page, PullRequest.of)

    of: ClassVar[Callable[[abf.Group], AbfGroup]]  # built by @unified


async def resolve_abf_node(info: Info, type_name: str, backend: str, native: str) -> Node | None:
    """``node(id:)`` for ABF's types."""
    if type_name == "PullRequest":
        found = await pull_request(info, backend, native)
        return PullRequest.of(found) if found else None
    found_group = await group(info, backend, native)
    return AbfGroup.of(found_group) if found_group else None


@strawberry.type
class AbfQuery:
    @strawberry.field(
        description="An ABF pull request by global ID, or by backend, project and number "
        "(null: no such pull request)."
    )
    async def pull_request(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID | None, strawberry.argument(description="A PullRequest ID.")
        ] = None,
        backend: Annotated[
            str | None,
            strawberry.argument(description="Backend name; needed with several ABF backends."),
        ] = None,
        project: Annotated[
            str | None, strawberry.argument(description="Native project id or owner/name.")
        ] = None,
        number: Annotated[
            int | None, strawberry.argument(description="The pull request's number (with project).")
        ] = None,
    ) -> PullRequest | None:
        if id is not None:
            name, native = split_id(str(id), "PullRequest")
        elif project and number is not None:
            name = pick_backend(info, backend, ports.PullRequestReader, "pull requests", _GIVE)
            src = reader(info, name)
            native = f"{await src.project_id(project)}/{number}"
        else:
            raise UserInputError("give either id, or project and number")
        found = await pull_request(info, name, native)
        return PullRequest.of(found) if found else None

    @strawberry.field(
        description="One of ABF's pull request lists, with ABF's own filters (kind abf)."
    )
    async def pull_requests(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        filter: Annotated[
            PullRequestFilterInput | None,
            strawberry.argument(description="Which list and how; null: scope ALL."),
        ] = None,
    ) -> Connection[PullRequest]:
        flt = filter or PullRequestFilterInput()
        name = pick_backend(info, flt.backend, ports.PullRequestReader, "pull requests", _GIVE)
        page = await reader(info, name).list_pull_requests(
            flt.to_filter(), page_request(first, after)
        )
        return connection(page, PullRequest.of)

    @strawberry.field(
        description="An ABF group by global ID, or by backend and native id (null: no such group)."
    )
    async def abf_group(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="An AbfGroup ID, or a native id with backend."),
        ] = None,
        backend: Annotated[
            str | None, strawberry.argument(description="Backend name, when id is native.")
        ] = None,
    ) -> AbfGroup | None:
        if id is None or backend is not None:
            if not (id and backend):
                raise UserInputError("give id (a global ID), or backend and id (a native id)")
            name, native = backend, str(id)
        else:
            name, native = split_id(str(id), "AbfGroup")
        found = await group(info, name, native)
        return AbfGroup.of(found) if found else None

    @strawberry.field(
        description="The user an ABF backend's credentials belong to (one upstream request)."
    )
    async def abf_viewer(
        self,
        info: Info,
        backend: Annotated[
            str | None,
            strawberry.argument(description="Backend name; needed with several ABF backends."),
        ] = None,
    ) -> Person | None:
        name = pick_backend(info, backend, ports.GroupReader, "the authenticated user", _GIVE)
        src = info.context.capable(name, ports.GroupReader, "the authenticated user")
        return Person.of(await src.viewer())
