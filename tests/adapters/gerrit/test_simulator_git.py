"""The Gerrit simulator's git smart HTTP (``adapters/gerrit/simulator/git.py``): refs per
patch set, a rebuild when patch sets change, receive-pack refused, the temporary
repositories removed when the simulator closes."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from adapters.gerrit.simulator import start_simulator
from adapters.gerrit.simulator.git import import_stream

ADS = "/myProject/info/refs?service=git-upload-pack"


@pytest.mark.asyncio
async def test_refs_rebuild_refusal_and_cleanup() -> None:
    sim = await start_simulator()
    try:
        async with httpx.AsyncClient(base_url=sim.url) as client:
            first = await client.get(ADS)
            assert first.status_code == 200
            assert first.headers["content-type"] == "application/x-git-upload-pack-advertisement"
            assert b"refs/changes/65/3965/2" in first.content
            assert b"refs/heads/stable" in first.content
            change = sim.state.data.changes[3965]
            change.revisions.append(replace(change.current, number=3, sha="f" * 40))
            second = await client.get(ADS)
            assert b"refs/changes/65/3965/3" in second.content  # rebuilt after the change
            for method, path in (
                ("GET", "/myProject/info/refs?service=git-receive-pack"),
                ("POST", "/myProject/git-receive-pack"),
            ):
                assert (await client.request(method, path, content=b"0000")).status_code == 403
            missing = await client.get(ADS.replace("myProject", "nope"))
            assert (missing.status_code, missing.text) == (404, "Not found")
        mirror = sim.state.mirror
        assert mirror is not None and mirror.root is not None
        root = mirror.root
        assert len(list(root.iterdir())) == 1  # the stale repository was removed
    finally:
        await sim.close()
    assert not root.exists()


def test_import_stream_skips_drafts_and_unsafe_paths() -> None:
    from adapters.gerrit.simulator.data import FileData, GerritData

    data = GerritData.from_seed()
    change = next(c for c in data.changes.values() if c.project == "myProject")
    current = change.current
    current.files = {"../x": FileData(None, ["a"]), "ok.txt": FileData(None, ["b"])}
    change.revisions.append(replace(current, number=9, draft=True))
    stream = import_stream(data, "myProject")
    assert b"M 100644 inline ok.txt" in stream
    assert b"../x" not in stream
    assert f"/{change.number}/9".encode() not in stream
    assert f"Change-Id: {change.change_id}".encode() in stream
