"""``Context.without_checks``: when a patch's ``checks`` are ``[]`` without a read (issue 21).

Only what a presence answer proved counts: upstream Patchwork's (``CheckPresence``) change-list
patch whose "pending" the events read left unset, or a listed "pending" patch whose presence
read found none. A told state, an unknown or missing word, an unasked or failed presence
read, and a backend without presence all read."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.base import PatchFilter
from adapters.errors import Unavailable
from adapters.model import ChangeState, CheckState, Patch, Project, TrackedPatch
from schema.context import Context

PROJECT = Project(backend="pw", id="1", name="p", link_name="p")


class _Presence:
    """A source that tells presence (the port's two methods)."""

    kind = "patchwork"

    async def patches_with_checks(
        self, patches: Sequence[Patch], ahead: object | None = None
    ) -> list[bool]:
        return [False for _ in patches]

    def expect_checks(self, flt: PatchFilter) -> object:
        return None


class _NoPresence:
    kind = "patchwork-fdo"


def _patch(backend: str, state: CheckState | None, word: Any) -> Patch:
    return Patch(
        backend=backend,
        id="7",
        project=dataclasses.replace(PROJECT, backend=backend),
        title="t",
        msgid="<7@x>",
        date=datetime(2026, 1, 1, tzinfo=UTC),
        state=ChangeState.OPEN,
        raw_state="new",
        archived=False,
        submitter=None,
        delegate=None,
        check_state=state,
        raw={} if word is None else {"check": word},
    )


def _tracked(patch: Patch) -> TrackedPatch:
    values = {f.name: getattr(patch, f.name) for f in dataclasses.fields(Patch)}
    return TrackedPatch(**values, updated=None)


def _context(presence: Any = None) -> Context:
    ctx = Context(sources={"pw": _Presence(), "fdo": _NoPresence()})  # type: ignore[dict-item]
    if presence is not None:
        ctx._settled[("pw", "has-checks", "7")] = presence
    return ctx


@pytest.mark.parametrize(
    ("state", "presence", "expected"),
    [
        (CheckState.PENDING, False, True),  # the presence read found none
        (CheckState.PENDING, True, False),
        (CheckState.PENDING, None, False),  # not asked
        (CheckState.PENDING, Unavailable("pw", "down"), False),  # failed: checkState reports
        (CheckState.SUCCESS, False, False),  # a told state has checks
        (None, False, False),  # no word at all proves nothing
    ],
)
def test_a_listed_patch(state: CheckState | None, presence: Any, expected: bool) -> None:
    word = {CheckState.PENDING: "pending", CheckState.SUCCESS: "success"}.get(state)  # type: ignore[arg-type]
    assert _context(presence).without_checks(_patch("pw", state, word)) is expected


@pytest.mark.parametrize(
    ("state", "word", "expected"),
    [
        (None, "pending", True),  # the events read named no check of it
        (CheckState.PENDING, "pending", False),  # it named one, or the read did not cover it
        (None, "info", False),  # a word this version does not know
        (None, None, False),  # no word
        (CheckState.FAILURE, "fail", False),
    ],
)
def test_a_change_list_patch(state: CheckState | None, word: Any, expected: bool) -> None:
    assert _context().without_checks(_tracked(_patch("pw", state, word))) is expected


def test_a_backend_without_presence_always_reads() -> None:
    ctx = _context()
    assert not ctx.without_checks(_tracked(_patch("fdo", None, "pending")))
    assert not ctx.without_checks(_patch("fdo", CheckState.PENDING, "pending"))
