"""Identical planned queries in flight share one run of their plan (issue 21).

A dashboard open in many browsers, or a burst of bots, sends the same query at the same
moment. A planned query (``schema/lean.py``) that arrives while an identical one is running —
the same plan, variables and extensions, from the same caller through the same view of the
backends — waits for that run's answer instead of running the plan again: one walk, one
set of upstream reads, one built page. Everything around the run stays the request's own:
its cost charge and rate bucket before it, its errors logged, its metrics and masking after.

Freshness is kept as for shared upstream reads (``adapters/http_flights.py``): a request joins
only a run still under way, never a finished one, and not one that began before a write
through any backend client (``writes``), so nothing joins what may have read before a
change; and only where every backend of the view shares its reads (``coalesce_reads``).
Only an answer without errors is shared (an error's objects belong to their request): when
the run fails, is cancelled or reports errors, each joiner runs on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import ExecutionResult
from strawberry.types import ExecutionContext

from adapters.http_flights import writes
from schema.execution.fastpath import Planned

Run = Callable[[Any, ExecutionContext], Awaitable[ExecutionResult | None]]
_Answer = tuple[ExecutionResult, list[dict[str, Any]]]  # the result and the run's notices


@dataclass(slots=True)
class _Running:
    answer: asyncio.Future[_Answer | None]  # None: the joiners run on their own
    writes: int


class SharedRuns:
    """The planned runs in flight of one schema. ``enabled`` False: every request runs."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._running: dict[Hashable, _Running] = {}
        self.joined = 0  # requests answered by an identical one's run

    async def run(
        self, planned: Planned, ctx: ExecutionContext, run: Run
    ) -> ExecutionResult | None:
        """``run(planned.plan, ctx)``, or the answer of an identical run under way."""
        key = _key(planned, ctx) if self.enabled else None
        if key is None:
            return await run(planned.plan, ctx)
        running = self._running.get(key)
        if running is not None and running.writes == writes() and not running.answer.done():
            answer = await asyncio.shield(running.answer)
            if answer is not None:
                self.joined += 1
                done, notices = answer
                ctx.context.notices.extend(dict(n) for n in notices)
                return ExecutionResult(done.data, None, dict(done.extensions or {}) or None)
            return await run(planned.plan, ctx)
        mine = _Running(asyncio.get_running_loop().create_future(), writes())
        self._running[key] = mine
        shared: _Answer | None = None
        try:
            result = await run(planned.plan, ctx)
            context = ctx.context
            if result is not None and not result.errors and not context.partial_errors:
                shared = (result, [dict(n) for n in context.notices])
            return result
        finally:
            if self._running.get(key) is mine:
                del self._running[key]
            mine.answer.set_result(shared)


def _key(planned: Planned, ctx: ExecutionContext) -> Hashable | None:
    """What makes two requests' answers the same: plan, variables, extensions, the caller
    and its view of the backends (None: not shareable)."""
    context = ctx.context
    meta = getattr(context, "meta", None)  # a request's ``schema.context.Context``
    if meta is None:
        return None
    try:
        variables = orjson.dumps(ctx.variables, option=orjson.OPT_SORT_KEYS)
        extensions = orjson.dumps(ctx.operation_extensions, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    sources = context.sources  # a caller's view: by what it shows (CallerSources.identity)
    if not all(getattr(s, "shares_reads", False) for s in sources.values()):
        return None  # a backend whose every read is its own (``coalesce_reads = false``)
    view = getattr(sources, "identity", None) or id(sources)
    return (planned.key, variables, extensions, meta.caller, meta.anonymous, view)
