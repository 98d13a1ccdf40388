"""The presence read issued with the list (``presence.expect``): a list whose last presence
read was "the events since the covered end" issues that read together with the list read,
one round trip instead of two; it is used only when it is exactly the read the listed
patches need, and the answers are those of a read made after the list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from adapters.base import PatchFilter
from adapters.errors import UpstreamError
from adapters.model import Patch
from adapters.patchwork import presence
from adapters.patchwork.presence import Presence
from tests.adapters.patchwork.test_activity import T0, _patch
from tests.adapters.patchwork.test_presence import _Asked, _Client, _read, _since

LISTED = PatchFilter(project="one")


async def _ask_listed(
    client: _Client, state: Presence, patches: Sequence[Patch], listed: PatchFilter = LISTED
) -> tuple[list[bool], int]:
    """Expect, as the schema does before the list read, then ask; also how many reads went
    out at ``expect`` (before the list's patches were known)."""
    before = len(client.reads)
    ahead = presence.expect(client, "pw", state, listed)  # type: ignore[arg-type]
    await _settle()
    issued = len(client.reads) - before
    found = await presence.patches_with_checks(
        client,  # type: ignore[arg-type]
        "pw",
        state,
        patches,
        _Asked(client),
        ahead,
    )
    return found, issued


async def _settle() -> None:
    import asyncio

    for _ in range(3):
        await asyncio.sleep(0)


async def test_the_second_read_goes_out_with_the_list_and_answers_it() -> None:
    client, state = _Client(), Presence()
    client.check(1, 10)
    patches = [_patch(1, 0), _patch(2, 5), _patch(3, 30)]
    assert await _ask_listed(client, state, patches) == ([True, False, False], 0)
    client.check(3, 40)  # before the next list: its read sees it
    assert await _ask_listed(client, state, patches) == ([True, False, True], 1)
    assert client.reads == [_read(_since(-60)), _read(_since(10 - 60))]  # nothing else
    assert state.coverage("1") is not None and state.checked("3")


async def test_a_read_that_does_not_fit_the_patches_is_not_used() -> None:
    client, state = _Client(), Presence()
    client.check(1, 10)
    client.check(7, -300)
    assert (await _ask_listed(client, state, [_patch(1, 0), _patch(2, 5)]))[0] == [True, False]
    # the list now holds a patch older than the covered interval: the read issued ahead
    # (since the covered end) cannot vouch for it, so the wide read is made as before
    older = [_patch(7, -240), _patch(2, 5)]
    assert await _ask_listed(client, state, older) == ([True, False], 1)
    assert client.reads[-2:] == [_read(_since(10 - 60)), _read(_since(-240 - 60))]


async def test_a_list_that_needed_no_read_issues_none_ahead() -> None:
    client, state = _Client(), Presence()
    client.check(1, 10)
    assert (await _ask_listed(client, state, [_patch(1, 0), _patch(2, 0)]))[0] == [True, False]
    # every patch now known to have a check: the read issued ahead is not needed...
    client.check(2, 20)
    known = [_patch(1, 0)]
    assert await _ask_listed(client, state, known) == ([True], 1)
    reads = len(client.reads)
    # ...and the next list of that filter issues none
    assert await _ask_listed(client, state, known) == ([True], 0)
    assert len(client.reads) == reads
    # the empty ask the schema makes when no patch is pending says the same
    await presence.patches_with_checks(
        client,  # type: ignore[arg-type]
        "pw",
        state,
        [],
        _Asked(client),
        presence.expect(client, "pw", state, LISTED),  # type: ignore[arg-type]
    )
    assert state.last_read(LISTED) is presence.UNREAD


async def test_lists_are_told_apart_by_their_filter() -> None:
    client, state = _Client(), Presence()
    client.check(1, 10)
    await _ask_listed(client, state, [_patch(1, 0), _patch(2, 0)])
    other = PatchFilter(project="one", states=("new",))
    assert (await _ask_listed(client, state, [_patch(2, 0)], other))[1] == 0  # never read
    assert (await _ask_listed(client, state, [_patch(2, 0)]))[1] == 1


async def test_a_failed_read_ahead_fails_as_a_read_after_the_list_would() -> None:
    client, state = _Client(), Presence()
    client.check(1, 10)
    patches = [_patch(1, 0), _patch(2, 5)]
    await _ask_listed(client, state, patches)
    covered = state.coverage("1")
    client.fail = UpstreamError("pw", "boom", status=502)
    with pytest.raises(UpstreamError):
        await _ask_listed(client, state, patches)
    assert state.coverage("1") == covered
    client.fail = None
    client.check(2, 120)
    assert await _ask_listed(client, state, patches) == ([True, True], 1)
    assert state.coverage("1").until == T0 + timedelta(minutes=120)  # type: ignore[union-attr]


async def test_an_unneeded_failed_read_ahead_is_never_reported() -> None:
    client, state = _Client(), Presence()
    client.check(1, 10)
    await _ask_listed(client, state, [_patch(1, 0), _patch(2, 0)])
    client.fail = UpstreamError("pw", "boom", status=502)
    ahead = presence.expect(client, "pw", state, LISTED)  # type: ignore[arg-type]
    await _settle()
    assert ahead.read is not None and ahead.read.done()
    # the list turned out to need nothing: the failure is dropped, not raised or logged
    assert (
        await presence.patches_with_checks(
            client,  # type: ignore[arg-type]
            "pw",
            state,
            [],
            _Asked(client),
            ahead,
        )
        == []
    )


async def test_over_the_demo_a_check_state_list_is_one_round_trip() -> None:
    from bench.waves import demo_gateway, recording

    query = '{ patches(first: 20, filter: {backend: "patchwork"}) { nodes { id checkState } } }'
    with recording() as log:
        async with demo_gateway(latency_ms=20) as (client, _):
            answers, reads = [], []
            for _ in range(3):
                log.clear()
                answers.append(
                    (await client.post("/graphql", json={"query": query})).json()["data"]
                )
                reads.append((log.requests("patchwork"), log.waves("patchwork")))
    assert answers[1:] == [answers[0]] * 2
    states = [n["checkState"] for n in answers[0]["patches"]["nodes"]]
    assert None in states  # patches whose "pending" is no check at all: presence was asked
    # the list and its events read together, once the first read covered the log
    assert reads[1:] == [(2, 1), (2, 1)]
