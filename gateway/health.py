"""Liveness and readiness.

``/healthz`` says the process serves requests and touches no backend, so an orchestrator
never restarts a healthy gateway because a backend is down. ``/readyz`` probes every backend
concurrently within a short budget (one cheap request: every kind's source is a ``Pinger``)
and reports each one; it answers 503 only when *no* backend answered, because revgate
serves partial data when some do: then ``status`` is ``degraded`` and ``down`` names the
backends that did not answer. A backend that cannot be probed counts as not up: it can no
longer make a gateway whose every backend is down look ready.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from adapters.base import Pinger, Source
from adapters.errors import UpstreamError

PROBE_SECONDS = 3.0
log = logging.getLogger("revgate")

_HOW = {
    "UPSTREAM_TIMEOUT": "timed out",
    "FORBIDDEN": "credentials refused",
    "NOT_FOUND": "API not found",
    "BAD_UPSTREAM_PAYLOAD": "bad answer",
    "BAD_REQUEST": "request rejected",
    "CONFLICT": "request rejected",
}


def how(exc: UpstreamError) -> str:
    """A fixed phrase for how a backend failed (and its HTTP status), for public bodies."""
    if exc.code == "UPSTREAM_UNAVAILABLE":
        phrase = "upstream error" if exc.status is not None else "unreachable"
    else:
        phrase = _HOW.get(exc.code, "failed")
    return f"{phrase} (HTTP {exc.status})" if exc.status is not None else phrase


async def _probe(source: Source, budget: float) -> dict[str, Any]:
    if not isinstance(source, Pinger):
        return {"status": "unknown", "kind": source.kind}
    start = time.perf_counter()
    try:
        async with asyncio.timeout(budget):
            await source.ping()
    except UpstreamError as exc:
        # /readyz is unauthenticated: say how the backend failed, never where it lives or
        # what it said (the full message is logged).
        log.info("readiness: %s is down: %s", source.name, exc)
        return {"status": "down", "kind": source.kind, "code": exc.code, "error": how(exc)}
    except TimeoutError:
        return {"status": "down", "kind": source.kind, "code": "UPSTREAM_TIMEOUT"}
    except Exception:  # a probe must answer, never turn /readyz into a 500
        return {"status": "down", "kind": source.kind, "code": "PROBE_FAILED"}
    millis = round((time.perf_counter() - start) * 1000, 1)
    return {"status": "up", "kind": source.kind, "ms": millis}


async def readiness(
    sources: Mapping[str, Source], budget: float = PROBE_SECONDS
) -> tuple[bool, dict[str, Any]]:
    """Whether the gateway is ready, and a per-backend report."""
    names = list(sources)
    results = await asyncio.gather(*(_probe(sources[n], budget) for n in names))
    report = dict(zip(names, results, strict=True))
    down = [n for n in names if report[n]["status"] != "up"]
    ready = len(down) < len(names) or not names
    status = "unavailable" if not ready else "degraded" if down else "ready"
    answer: dict[str, Any] = {"status": status, "backends": report}
    if down:
        answer["down"] = down
    return ready, answer
