"""Configuration reload without dropping requests.

``Backends`` holds the current *generation* of backend sources. Each HTTP request pins the
generation that was current when it started (``pin``) and releases it when its response is
done; ``replace`` installs a new generation for every later request and closes the old one's
pooled sessions once its last pinned request has finished (or after ``drain_seconds``, so a
stuck request cannot keep old connections forever).

A generation also carries the access ``Policy`` of its configuration (``gateway/callers.py``:
API keys, hidden backends, anonymous writes, per-key ``backend_tokens`` sources), so a request
authenticates, sees backends and writes under one configuration from start to end, and the
per-key sources of a retired generation are closed with its backend sources.

``revgate serve`` calls ``reload`` on SIGHUP: the config file is read again and validated in
full first — a config with any problem is rejected, logged, and the running generation stays.
``[[backends]]``, ``[[api_keys]]``, ``[compat]``, ``[server] anonymous``, ``max_body_bytes``,
``body_timeout`` and ``[limits]`` rates take effect; what is fixed at start-up (listening
address, schema limits, stores, the header and websocket timeouts: ``RESTART_ONLY``) keeps
its running value, and a reload that changes it says so in one WARNING line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.base import Source
from gateway import settings_browser
from gateway.settings import Settings

if TYPE_CHECKING:  # at run time it would pull the schema into the compat mount's imports
    from gateway.callers import Policy

log = logging.getLogger("revgate.reload")


@dataclass(eq=False)
class Generation:
    """One set of opened sources and the requests still using it."""

    sources: Mapping[str, Source]
    number: int
    policy: Policy | None = None  # None: no gateway access policy (tests of this module)
    in_flight: int = 0
    drained: asyncio.Event = field(default_factory=asyncio.Event)


class Backends:
    """The current backend generation, swappable at run time."""

    def __init__(
        self,
        sources: Mapping[str, Source],
        drain_seconds: float = 60.0,
        policy: Policy | None = None,
    ) -> None:
        self.current = Generation(sources, 1, policy)
        self.drain_seconds = drain_seconds
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def sources(self) -> Mapping[str, Source]:
        """The sources new requests use."""
        return self.current.sources

    @contextlib.contextmanager
    def pin(self) -> Iterator[Generation]:
        """Hold the current generation open for the duration of one request."""
        gen = self.hold()
        try:
            yield gen
        finally:
            release(gen)

    def hold(self) -> Generation:
        """The current generation, held open until ``release``: ``pin`` without a context
        manager, for the per-request middleware."""
        gen = self.current
        gen.in_flight += 1
        return gen

    async def open(self, backends: bool = True) -> None:
        """Open the first generation's sessions (``backends=False``: only the per-key ones,
        when the backend sources were injected already opened)."""
        await _open_all(_owned(self.current, backends))

    async def replace(self, sources: Mapping[str, Source], policy: Policy | None = None) -> None:
        """Open ``sources`` (and ``policy``'s per-key sources) and make them current; retire
        the old generation in the background."""
        new = Generation(sources, self.current.number + 1, policy)
        await _open_all(_owned(new, True))
        old = self.current
        self.current = new
        log.info("backends reloaded (generation %d): %s", self.current.number, ", ".join(sources))
        task = asyncio.create_task(self._retire(old))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _retire(self, gen: Generation) -> None:
        if gen.in_flight:
            gen.drained.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(gen.drained.wait(), self.drain_seconds)
        await _close_all(_owned(gen, True))

    async def close(self, backends: bool = True) -> None:
        """Close the current generation and wait for retiring ones (``backends=False``: leave
        the current backend sources open, their owner closes them)."""
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        await _close_all(_owned(self.current, backends))


def release(gen: Generation) -> None:
    """One request less on ``gen`` (held by ``Backends.hold``); drained at none."""
    gen.in_flight -= 1
    if gen.in_flight == 0:
        gen.drained.set()


def _owned(gen: Generation, backends: bool) -> dict[str, Source]:
    """The sources a generation opens and closes: its backends (unless injected) and the
    per-key sources of its policy."""
    owned = dict(gen.sources) if backends else {}
    if gen.policy is not None:
        owned.update(gen.policy.all_caller_sources())
    return owned


async def _open_all(sources: Mapping[str, Source]) -> None:
    opened: list[Source] = []
    try:
        for source in sources.values():
            await source.open()
            opened.append(source)
    except BaseException:
        # A list, not a name map: per-key sources share their backend's name.
        await _close_all(opened)
        raise


async def _close_all(sources: Mapping[str, Source] | list[Source]) -> None:
    for source in sources.values() if isinstance(sources, Mapping) else sources:
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
        gen = self.backends.hold()  # not ``pin()``: a generator context manager per request
        try:
            state = scope.setdefault("state", {})
            state["revgate_sources"] = gen.sources
            state["revgate_policy"] = gen.policy
            await self.app(scope, receive, send)
        finally:
            release(gen)


# Settings read once at start-up (listening socket, schema, stores, uvicorn and strawberry
# options): a reload keeps their running value. ``(section, attribute)`` of ``Settings``.
RESTART_ONLY: tuple[tuple[str, str], ...] = (
    *(
        ("server", key)
        for key in (
            "host",
            "port",
            "graphiql",
            "public_url",
            "backend_budget",
            "poll_interval",
            "introspection",
            "header_timeout",
            "socket_init_timeout",
            # browsers (gateway/settings_browser.py): read by the app at start-up
            *settings_browser.SERVER_KEYS,
        )
    ),
    *(("limits", key) for key in ("max_depth", "max_aliases", "max_tokens", "max_cost", "store")),
    ("cache", ""),
    ("events", ""),  # [events] and [[webhooks]]: the event log and workers start with the app
)

Load = Callable[[], "tuple[Mapping[str, Source], Policy | None]"]


def restart_only_changes(old: Settings, new: Settings) -> list[str]:
    """The settings that differ between ``old`` and ``new`` but need a restart (names only,
    never values: a store URL may hold a password)."""
    changed: list[str] = []
    for section, key in RESTART_ONLY:
        before, after = getattr(old, section), getattr(new, section)
        if key:
            before, after = getattr(before, key), getattr(after, key)
        if before != after:
            changed.append(f"[{section}] {key}".strip())
    return changed


async def reload_now(backends: Backends, load: Load) -> bool:
    """Rebuild the generation from ``load()``; ``False`` (logged) when the config is refused."""
    try:
        sources, policy = load()
    except Exception as exc:  # a bad config must never take the running gateway down
        log.error("reload rejected, keeping the running configuration: %s", exc)
        return False
    await backends.replace(sources, policy)
    return True


@contextlib.asynccontextmanager
async def sighup_reload(backends: Backends, load: Load | None) -> AsyncIterator[None]:
    """While inside, SIGHUP rebuilds the backends from ``load()`` (a no-op without ``load``)."""
    import signal

    loop = asyncio.get_running_loop()
    if load is None or not hasattr(signal, "SIGHUP"):
        yield
        return
    pending: set[asyncio.Task[None]] = set()

    async def reload() -> None:
        await reload_now(backends, load)

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
