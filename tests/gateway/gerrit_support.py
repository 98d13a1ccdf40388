"""Shared set-up for the Gerrit compat tests: the gateway over a Gerrit simulator, a direct
client on the simulator, and helpers that compare the two answers."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import zipfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from starlette.applications import Starlette

from adapters.gerrit.simulator import RunningSimulator, start_simulator
from adapters.simclock import SimClock, utc_now
from gateway.app import create_app
from gateway.settings import settings_from_dict

WRITER = "g1" * 20  # gateway compat tokens (the HTTP password a client sends)
READER = "g2" * 20
MAGIC = b")]}'\n"
ADMIN = ("admin", "secret")  # the simulator account the gateway uses


def sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@dataclass
class GerritGateway:
    """The gateway (in-process) over ``sim``; ``direct`` talks to ``twin`` (``sim`` itself
    unless a second, identically seeded simulator was asked for, so writes can be compared)."""

    app: Starlette
    client: httpx.AsyncClient
    direct: httpx.AsyncClient
    sim: RunningSimulator
    twin: RunningSimulator

    def writes(self, before: int) -> list[tuple[str, str]]:
        """The non-GET requests ``sim`` received since ``before``."""
        return [r for r in self.sim.state.requests[before:] if r[0] != "GET"]


@contextlib.asynccontextmanager
async def gerrit_gateway(
    twin: bool = False,
    *,
    legacy: bool = False,
    auth: str = "basic",
    backend: dict[str, Any] | None = None,
    server: dict[str, Any] | None = None,
) -> AsyncIterator[GerritGateway]:
    """The gateway in front of a fresh Gerrit simulator (and a twin for the direct client);
    ``legacy``/``auth="digest"``: a Gerrit 2.8-like server; ``backend``/``server``: more
    settings of the backend and of ``[server]``."""
    sim = await start_simulator(legacy=legacy, auth=auth)
    other = await start_simulator(legacy=legacy, auth=auth) if twin else sim
    if twin:
        # The twins answer the same writes in the same order: one frozen present for both, so
        # their clocks step alike whatever the wall clock does between the two calls.
        present = utc_now()
        for running in (sim, other):
            running.state.data.clock = SimClock(timedelta(seconds=1), wall=lambda: present)
    settings = settings_from_dict(
        {
            "backends": [
                {
                    "name": "gerrit",
                    "kind": "gerrit",
                    "url": sim.url,
                    "retries": 0,
                    "username_env": "G_USER",
                    "password_env": "G_PASSWORD",
                    **(backend or {}),
                }
            ],
            **({"server": server} if server else {}),
            "compat": {
                "tokens": [
                    {"name": "writer", "sha256": sha(WRITER)},
                    {"name": "reader", "sha256": sha(READER), "write": False},
                ]
            },
        },
        env={"G_USER": ADMIN[0], "G_PASSWORD": ADMIN[1]},
    )
    app = create_app(settings)
    await app.state.backends.open()
    try:
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://revgate") as client,
            httpx.AsyncClient(base_url=other.url) as direct,
        ):
            yield GerritGateway(app, client, direct, sim, other)
    finally:
        await app.state.backends.close()
        await sim.close()
        if twin:
            await other.close()


def decode(resp: httpx.Response) -> Any:
    """A Gerrit JSON answer without its ``)]}'`` line."""
    assert resp.content.startswith(MAGIC), resp.content[:80]
    return json.loads(resp.content[len(MAGIC) :])


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def anonymous_json(d: Any) -> Any:
    """A ChangeInfo as an anonymous user gets it: none of the signed-in user's flags, no
    draft patch sets; lists without draft and private changes."""
    if isinstance(d, list):
        shown = [anonymous_json(x) for x in d if not _draft_change(x)]
        if d and isinstance(d[-1], dict) and d[-1].get("_more_changes") and shown:
            shown[-1]["_more_changes"] = True
        return shown
    if not isinstance(d, dict) or "change_id" not in d:
        return d
    out = {k: v for k, v in d.items() if k not in ("starred", "stars", "reviewed")}
    for key, empty in (("permitted_labels", {}), ("removable_reviewers", []), ("actions", {})):
        if key in out:
            out[key] = empty
    if "revisions" in out:
        out["revisions"] = {
            sha: {k: v for k, v in rev.items() if k != "has_draft_comments"}
            for sha, rev in out["revisions"].items()
            if not rev.get("draft")
        }
    return out


def _draft_change(d: Any) -> bool:
    return isinstance(d, dict) and (d.get("status") == "DRAFT" or d.get("is_private") is True)


def same_answer(
    resp: httpx.Response,
    direct: httpx.Response,
    sims: tuple[str, ...] = (),
    expect: Callable[[Any], Any] | None = None,
) -> None:
    """The gateway's answer equals the simulator's: status, and then by kind of answer —
    JSON equal (each simulator URL in ``sims`` read as one placeholder; ``expect`` turns the
    simulator's JSON into the answer expected), a base64 download's decoded bytes and
    ``X-FYI`` headers, a zip's files, or an error's text."""
    assert resp.status_code == direct.status_code, (resp.status_code, resp.text[:300])
    ctype = direct.headers.get("content-type", "")
    if direct.status_code >= 400:
        assert resp.headers["content-type"] == "text/plain; charset=UTF-8"
        assert resp.text.strip() == direct.text.strip()
    elif direct.status_code == 204 or not direct.content:
        assert resp.content == b""
    elif ctype.startswith("application/json"):
        assert resp.headers["content-type"] == "application/json; charset=UTF-8"
        mine, theirs = resp.content.decode(), direct.content.decode()
        for url in sims:
            mine, theirs = mine.replace(url, "<sim>"), theirs.replace(url, "<sim>")
        wanted = json.loads(theirs[len(MAGIC) :])
        assert json.loads(mine[len(MAGIC) :]) == (expect(wanted) if expect else wanted)
    elif ctype.startswith("application/zip"):
        assert resp.headers["content-type"] == "application/zip"
        assert unzip(resp.content) == unzip(direct.content)
        assert resp.headers.get("content-disposition") == direct.headers.get("content-disposition")
    else:
        assert resp.headers["content-type"] == "text/plain; charset=ISO-8859-1"
        assert base64.b64decode(resp.content) == base64.b64decode(direct.content)
        for header in ("x-fyi-content-encoding", "x-fyi-content-type", "content-disposition"):
            assert resp.headers.get(header) == direct.headers.get(header), header
