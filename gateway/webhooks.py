"""Outgoing webhooks (``[[webhooks]]``): live events POSTed to bots, HMAC-signed, at least once.

One worker per webhook per replica; like a backend's poller, the workers of a webhook
contend for a lease in the event log (``webhook.<name>``) and only the holder delivers. The
holder reads the backends' streams from the webhook's stored position, POSTs each matching
event and then stores the position past it — fenced, like a poller's state — so after a
crash or a take-over delivery resumes right after the last acknowledged event: at least
once (a receiver may see an event again if the deliverer died between its 2xx and the
position write; ``X-Revgate-Delivery`` is the same on every attempt, for de-duplication).

Each request: ``POST <url>`` with a JSON body ``{"webhook", "cursor", "event": {...}}`` and
headers ``X-Revgate-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>``,
``X-Revgate-Delivery`` (``<backend>:<stream id>``), ``X-Revgate-Event`` (the category).
2xx is delivered; 5xx, 408, 429 and network errors are retried with exponential backoff
(``RETRY_BASE`` doubling, at most ``RETRY_CAP`` apart) up to the webhook's ``max_attempts``;
other answers, or the last failed attempt, put the delivery on the dead-letter list
(bounded, per replica, counted in ``/metrics``) and the worker goes on with the next event.
The delivery log is ``revgate.webhooks`` (one line per delivery: webhook name, delivery id,
status, attempts — never the URL, which may carry a token) and the last ``LOG_SIZE``
deliveries kept in ``Webhook.recent``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import hmac
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field

import aiohttp
import orjson
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from adapters.eventlog import (
    Entry,
    EventLogError,
    Fence,
    Fenced,
    encode_cursor,
    parse_id,
    stop_if_cancelled,
)
from gateway.settings_events import WebhookSettings
from schema.live import EventHub

log = logging.getLogger("revgate.webhooks")

RETRY_BASE = 1.0  # seconds before the first retry
RETRY_CAP = 60.0  # seconds between retries at most
TIMEOUT = 10.0  # seconds per attempt (at most half the lease)
IDLE = 0.5  # seconds between reads when nothing is new
DEAD_LETTERS = 1000  # kept per webhook (the oldest are dropped, still counted)
LOG_SIZE = 100
BATCH = 100


def signature(secret: str, body: bytes) -> str:
    """``X-Revgate-Signature``: what a receiver recomputes (and compares in constant time)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(name: str, entry: Entry, cursor: str) -> bytes:
    e = entry.event
    event = {
        "backend": e.backend,
        "id": e.id,
        "category": e.category,
        "date": e.date.isoformat(),
        "project": e.project.link_name if e.project else None,
        "actor": (e.actor.username or e.actor.email or e.actor.name) if e.actor else None,
        "patch": e.patch_id,
        "series": e.series_id,
        "cover": e.cover_id,
        "check": e.check_id,
        "comment": e.comment_id,
        "previousState": e.previous_state,
        "currentState": e.current_state,
    }
    return orjson.dumps({"webhook": name, "cursor": cursor, "event": event})


@dataclass(frozen=True, slots=True)
class Delivery:
    """One line of the delivery log."""

    delivery: str
    status: int | None  # the last answer's HTTP status (None: no answer)
    attempts: int
    outcome: str  # delivered | dead


@dataclass(eq=False)
class Webhook:
    """One webhook's worker on this replica."""

    settings: WebhookSettings
    hub: EventHub
    retry_base: float = RETRY_BASE
    fence: Fence | None = None
    delivered: int = 0
    attempts: int = 0
    dead: deque[Delivery] = field(default_factory=lambda: deque(maxlen=DEAD_LETTERS))
    dead_total: int = 0
    recent: deque[Delivery] = field(default_factory=lambda: deque(maxlen=LOG_SIZE))
    task: asyncio.Task[None] | None = None

    @property
    def lease_name(self) -> str:
        return f"webhook.{self.settings.name}"

    def wants(self, entry: Entry) -> bool:
        s, e = self.settings, entry.event
        if s.categories and e.category not in s.categories:
            return False
        return not s.projects or (e.project is not None and e.project.link_name in s.projects)

    async def run(self, http: aiohttp.ClientSession, backends: Sequence[str]) -> None:
        hub = self.hub
        positions: dict[str, str] | None = None
        while True:
            stop_if_cancelled()
            try:
                if self.fence is None:
                    self.fence = await hub.log.acquire(self.lease_name, hub.owner, hub.lease)
                    positions = None  # another replica may have moved it: reload
                elif not await hub.log.renew(self.fence, hub.lease):
                    log.warning("webhook %s: lease lost, another replica delivers", self.name)
                    self.fence = None
                if self.fence is None:
                    await asyncio.sleep(hub.lease / 5)
                    continue
                if positions is None:
                    positions = await self._positions(self.fence, backends)
                if not await self._deliver_some(http, self.fence, positions):
                    await asyncio.sleep(IDLE)
            except Fenced:
                log.warning("webhook %s: lease lost before saving its position", self.name)
                self.fence = None
            except EventLogError as exc:
                log.warning("webhook %s: %s", self.name, exc)
                await asyncio.sleep(1.0)
            except Exception as exc:  # never stop delivering for good (the type only: no URL)
                log.error("webhook %s: %s", self.name, type(exc).__name__)
                await asyncio.sleep(1.0)

    @property
    def name(self) -> str:
        return self.settings.name

    async def _positions(self, fence: Fence, backends: Sequence[str]) -> dict[str, str]:
        log_ = self.hub.log
        stored = await log_.state(self.lease_name)
        try:
            positions = dict(orjson.loads(stored)) if stored else {}
        except (ValueError, TypeError):
            positions = {}
        for name in backends:
            if name not in positions:  # a new webhook or backend: from now on
                positions[name] = await log_.tail(name)
        await log_.append(fence, [], orjson.dumps(positions))
        return positions

    async def _deliver_some(
        self, http: aiohttp.ClientSession, fence: Fence, positions: dict[str, str]
    ) -> bool:
        """Deliver what is new (at most ``BATCH`` per backend); whether anything was."""
        entries: list[Entry] = []
        for backend, position in positions.items():
            entries += await self.hub.log.read(backend, position, BATCH, 0)
        entries.sort(key=lambda e: parse_id(e.id))
        for entry in entries:
            stop_if_cancelled()
            if self.fence is not fence:
                return True
            if self.wants(entry):
                cursor = encode_cursor(await self.hub.log.epoch(), {entry.backend: entry.id})
                await self._deliver(http, fence, entry, cursor)
            positions[entry.backend] = entry.id
            # Saved after each delivery: a take-over repeats at most this one.
            await self.hub.log.append(fence, [], orjson.dumps(positions))
            if not await self.hub.log.renew(fence, self.hub.lease):
                raise Fenced(self.lease_name)
        return bool(entries)

    async def _keep(self, fence: Fence) -> None:
        """Renew the lease (between attempts): ``Fenced`` when another replica took over."""
        if not await self.hub.log.renew(fence, self.hub.lease):
            raise Fenced(self.lease_name)

    async def _pause(self, fence: Fence, seconds: float) -> None:
        """Back off, renewing the lease meanwhile: retries may outlast it (1+2+…+60 s)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            await asyncio.sleep(min(left, self.hub.lease / 3))
            await self._keep(fence)

    async def _deliver(
        self, http: aiohttp.ClientSession, fence: Fence, entry: Entry, cursor: str
    ) -> None:
        s = self.settings
        body = payload(s.name, entry, cursor)
        delivery = f"{entry.backend}:{entry.id}"
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "revgate-webhook",
            "X-Revgate-Delivery": delivery,
            "X-Revgate-Event": entry.event.category,
            "X-Revgate-Signature": signature(s.secret, body),
        }
        status: int | None = None
        for attempt in range(1, s.max_attempts + 1):
            await self._keep(fence)  # only the lease holder sends
            self.attempts += 1
            try:
                async with http.post(s.url, data=body, headers=headers) as resp:
                    status = resp.status
                    await resp.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                stop_if_cancelled()  # aiohttp may report a cancellation as a client error
                status = None
                log.info(
                    "webhook %s: %s attempt %d failed (%s)",
                    s.name,
                    delivery,
                    attempt,
                    type(exc).__name__,
                )
            if status is not None and 200 <= status < 300:
                self.delivered += 1
                self._record(Delivery(delivery, status, attempt, "delivered"))
                log.info(
                    "webhook %s: %s delivered (%d, attempt %d)", s.name, delivery, status, attempt
                )
                return
            if status is not None and status < 500 and status not in (408, 429):
                break  # the receiver refuses it: retrying would not help
            if attempt < s.max_attempts:
                await self._pause(fence, min(self.retry_base * 2 ** (attempt - 1), RETRY_CAP))
        dead = Delivery(delivery, status, attempt, "dead")
        self.dead.append(dead)
        self.dead_total += 1
        self._record(dead)
        log.warning(
            "webhook %s: %s dead-lettered (status %s after %d attempts)",
            s.name,
            delivery,
            status,
            attempt,
        )

    def _record(self, delivery: Delivery) -> None:
        self.recent.append(delivery)


class Webhooks:
    """Every configured webhook's worker on this replica."""

    def __init__(self, hub: EventHub, settings: Sequence[WebhookSettings]) -> None:
        self.hub = hub
        self.hooks = [Webhook(s, hub) for s in settings]
        self._http: aiohttp.ClientSession | None = None
        self._held: list[tuple[Webhook, list[object]]] = []

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Webhooks]:
        """Workers (and the backends' pollers they need) run inside the block."""
        if not self.hooks:
            yield self
            return
        # An attempt ends well within the lease renewed just before it: no other replica can
        # start sending the same event while this one still may.
        timeout = aiohttp.ClientTimeout(total=min(TIMEOUT, self.hub.lease / 2))
        self._http = aiohttp.ClientSession(timeout=timeout)
        held = []
        try:
            for hook in self.hooks:
                readers = self.hub.event_readers()
                if hook.settings.backends:
                    readers = {n: r for n, r in readers.items() if n in hook.settings.backends}
                held.append(self.hub.hold(readers, hook))
                hook.task = asyncio.create_task(
                    hook.run(self._http, sorted(readers)),
                    name=f"webhook-{hook.name}",
                    context=contextvars.Context(),
                )
            yield self
        finally:
            for hook, pollers in zip(self.hooks, held, strict=False):
                if hook.task is not None:
                    hook.task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await hook.task
                if hook.fence is not None:
                    with contextlib.suppress(EventLogError):
                        await self.hub.log.release(hook.fence)
                    hook.fence = None
                await self.hub.release(pollers, hook)
            await self._http.close()


class WebhooksCollector(Collector):
    """Deliveries, attempts and dead letters per webhook (this replica's)."""

    def __init__(self, webhooks: Webhooks) -> None:
        self.webhooks = webhooks

    def describe(self) -> Iterator[Metric]:
        yield from self.collect()

    def collect(self) -> Iterator[Metric]:
        delivered = CounterMetricFamily(
            "revgate_webhook_deliveries_total", "Events delivered (2xx).", labels=["webhook"]
        )
        attempts = CounterMetricFamily(
            "revgate_webhook_attempts_total", "HTTP attempts, retries included.", labels=["webhook"]
        )
        dead = CounterMetricFamily(
            "revgate_webhook_dead_letters_total",
            "Deliveries given up (refused, or out of attempts).",
            labels=["webhook"],
        )
        kept = GaugeMetricFamily(
            "revgate_webhook_dead_letters_kept",
            "Dead letters kept on this replica.",
            labels=["webhook"],
        )
        leader = GaugeMetricFamily(
            "revgate_webhook_leader",
            "1 while this replica delivers the webhook.",
            labels=["webhook"],
        )
        for hook in self.webhooks.hooks:
            delivered.add_metric([hook.name], hook.delivered)
            attempts.add_metric([hook.name], hook.attempts)
            dead.add_metric([hook.name], hook.dead_total)
            kept.add_metric([hook.name], len(hook.dead))
            leader.add_metric([hook.name], 1 if hook.fence is not None else 0)
        yield from (delivered, attempts, dead, kept, leader)
