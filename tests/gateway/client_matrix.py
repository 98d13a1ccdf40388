"""The client matrix harness (issue 22): a real client from PyPI runs each command twice —
straight against a Gerrit simulator and through the gateway's compat mount on a real
socket — and the two outcomes must be the same once the base URL is normalised.

The gateway's backend and the direct side's simulator are twins with one frozen present
(``gerrit_support.gerrit_gateway(twin=True)``), so the same writes give the same answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.gateway.compat_support import serve_app
from tests.gateway.gerrit_support import ADMIN, WRITER, GerritGateway, gerrit_gateway

BASE = "<base>"  # what every server URL reads as after normalising


@dataclass
class GerritPair:
    """The two places a client is pointed at, and how to compare what it gets back."""

    gw: GerritGateway
    direct_url: str  # the twin simulator
    gateway_url: str  # the gateway's compat mount for the backend

    def normalise(self, value: Any) -> Any:
        """``value`` with each server's URL read as one placeholder: the gateway moves the
        backend's absolute URLs under its mount on purpose (passed-through answers); a
        modelled revision's ``fetch`` URLs stay the backend's (docs/compat.md)."""
        text = json.dumps(value, sort_keys=True, default=str)
        for url in (self.gateway_url, self.gw.sim.url, self.direct_url):
            text = text.replace(url, BASE)
        return json.loads(text)

    async def both(self, call: Call) -> tuple[Any, Any]:
        """``call(url, user, password)`` (a blocking client call) against the simulator as
        its admin, then the gateway with a compat token that may write (its backend user is
        that admin): each side's result, or its HTTP error as ``("HTTPError", status,
        text)``."""
        direct = await asyncio.to_thread(_outcome, call, self.direct_url, *ADMIN)
        through = await asyncio.to_thread(_outcome, call, self.gateway_url, "me", WRITER)
        return self.normalise(direct), self.normalise(through)


Call = Callable[[str, str, str], Any]


def _outcome(call: Call, url: str, user: str, password: str) -> Any:
    try:
        return call(url, user, password)
    except requests.HTTPError as exc:
        resp = exc.response
        assert resp is not None
        return ("HTTPError", resp.status_code, resp.text.strip())


@contextlib.asynccontextmanager
async def gerrit_pair() -> AsyncIterator[GerritPair]:
    """Twin Gerrit simulators, the gateway over one of them on 127.0.0.1 (stopped after)."""
    async with gerrit_gateway(twin=True) as gw, serve_app(gw.app, lifespan="off") as url:
        # The fixture opened the app's backends: uvicorn runs no lifespan for it.
        yield GerritPair(gw, gw.twin.url, f"{url}/rest/gerrit")


def git_env(home: Path) -> dict[str, str]:
    """The environment of a git (or git-review) subprocess: ``home``'s config only, never a
    prompt, no proxy for the loopback servers."""
    return {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
        "NO_PROXY": "127.0.0.1",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
    }


async def run(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """A client's command line as a subprocess: (exit status, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()
