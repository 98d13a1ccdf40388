"""``Change.viewerCan``: which kind-neutral actions (``schema/actions.py``) the caller may take
on a change, for a UI to know which buttons to show.

Answered from the backend's ``ChangeActor.action_support()`` (its kind and the credential the
caller's writes would use) and the gateway's access policy (``Context.may_write``): no
upstream read. A backend whose kind does not implement the port can do none of them.
"""

from __future__ import annotations

from typing import Any

import strawberry

from adapters import base
from adapters.actions import ChangeActor
from schema.context import Info


@strawberry.type(
    description="Which kind-neutral actions the caller may take on a change: its forge's "
    "API, the credential used for the caller and the gateway's access policy (no upstream "
    "request). True does not promise success: the forge still checks its own permissions."
)
class ViewerCan:
    comment: bool = strawberry.field(description="commentOnChange can post a comment here.")
    review: bool = strawberry.field(description="reviewChange can record a verdict here.")
    close: bool = strawberry.field(
        description="setChangeState can close, reopen or abandon it (per kind: docs/actions.md)."
    )
    merge: bool = strawberry.field(description="setChangeState can merge it.")
    report_check: bool = strawberry.field(description="reportCheck can report a CI result here.")


NOTHING = ViewerCan(comment=False, review=False, close=False, merge=False, report_check=False)


def viewer_can(info: Info, backend: str) -> ViewerCan:
    """What the caller may do to a change of ``backend``."""
    ctx = info.context
    src = ctx.source(backend)
    if not base.provides(src, ChangeActor) or not ctx.may_write(backend):
        return NOTHING
    s = src.action_support()
    return ViewerCan(
        comment=s.comment,
        review=s.review,
        close=s.close,
        merge=s.merge,
        report_check=s.report_check,
    )


def resolve_viewer_can(root: Any, info: Info) -> ViewerCan:
    """The ``Change.viewerCan`` resolver: every change type keeps its record in ``_r``."""
    return viewer_can(info, root._r.backend)
