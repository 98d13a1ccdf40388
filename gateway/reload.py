"""Configuration reload without dropping requests.

``Backends`` holds the current *generation* of backend sources. Each HTTP request pins the
generation that was current when it started (``pin``) and releases it when its response is
done; ``replace`` installs a new generation for every later request and closes the old one's
pooled sessions once its last pinned request has finished (or after ``drain_seconds``, so a
stuck request cannot keep old connections forever).

``revgate serve`` calls ``reload`` on SIGHUP: the config file is read again and validated in
full first — a config with any problem is rejected, logged, and the running generation stays.
Only ``[[backends]]`` take effect on reload; server host/port need a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.base import Source

log = logging.getLogger("revgate.reload")


@dataclass(eq=False)
class Generation:
    """One set of opened sources and the requests still using it."""

    sources: Mapping[str, Source]
    number: int
    in_flight: int = 0
    drained: asyncio.Event = field(default_factory=asyncio.Event)


class Backends:
    """The current backend generation, swappable at run time."""

    def __init__(self, sources: Mapping[str, Source], drain_seconds: float = 60.0) -> None:
        self.current = Generation(sources, 1)
        self.drain_seconds = drain_seconds
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def sources(self) -> Mapping[str, Source]:
        """The sources new requests use."""
        return self.current.sources

    @contextlib.contextmanager
    def pin(self) -> Iterator[Generation]:
        """Hold the current generation open for the duration of one request."""
        gen = self.current
        gen.in_flight += 1
        try:
            yield gen
        finally:
            gen.in_flight -= 1
            if gen.in_flight == 0:
                gen.drained.set()

    async def open(self) -> None:
        """Open the first generation's sessions."""
        await _open_all(self.current.sources)

    async def replace(self, sources: Mapping[str, Source]) -> None:
        """Open ``sources`` and make them current; retire the old generation in the background."""
        await _open_all(sources)
        old = self.current
        self.current = Generation(sources, old.number + 1)
        log.info("backends reloaded (generation %d): %s", self.current.number, ", ".join(sources))
        task = asyncio.create_task(self._retire(old))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _retire(self, gen: Generation) -> None:
        if gen.in_flight:
            gen.drained.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(gen.drained.wait(), self.drain_seconds)
        await _close_all(gen.sources)

    async def close(self) -> None:
        """Close the current generation and wait for retiring ones."""
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        await _close_all(self.current.sources)


async def _open_all(sources: Mapping[str, Source]) -> None:
    opened: list[Source] = []
    try:
        for source in sources.values():
            await source.open()
            opened.append(source)
    except BaseException:
        await _close_all({s.name: s for s in opened})
        raise


async def _close_all(sources: Mapping[str, Source]) -> None:
    for source in sources.values():
        with contextlib.suppress(Exception):
            await source.close()


class PinGeneration:
    """ASGI middleware: each HTTP request uses (and pins) the generation current at its start."""

    def __init__(self, app: ASGIApp, backends: Backends) -> None:
        self.app = app
        self.backends = backends

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        with self.backends.pin() as gen:
            scope.setdefault("state", {})["revgate_sources"] = gen.sources
            await self.app(scope, receive, send)


@contextlib.asynccontextmanager
async def sighup_reload(
    backends: Backends, load: Callable[[], Mapping[str, Source]] | None
) -> AsyncIterator[None]:
    """While inside, SIGHUP rebuilds the backends from ``load()`` (a no-op without ``load``)."""
    import signal

    loop = asyncio.get_running_loop()
    if load is None or not hasattr(signal, "SIGHUP"):
        yield
        return
    pending: set[asyncio.Task[None]] = set()

    async def reload() -> None:
        try:
            sources = load()
        except Exception as exc:  # a bad config must never take the running gateway down
            log.error("reload rejected, keeping the running configuration: %s", exc)
            return
        await backends.replace(sources)

    def on_hup() -> None:
        task = loop.create_task(reload())
        pending.add(task)
        task.add_done_callback(pending.discard)

    loop.add_signal_handler(signal.SIGHUP, on_hup)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
        for task in pending:
            task.cancel()
