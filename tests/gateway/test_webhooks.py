"""Outgoing webhooks: signed, retried with backoff, bounded, dead-lettered, one deliverer."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import orjson
import pytest
import redis.asyncio as aioredis
from aiohttp import web

from adapters.eventlog import EventLog, MemoryEventLog, RedisEventLog
from gateway.settings_events import WebhookSettings
from gateway.webhooks import Webhooks, WebhooksCollector
from schema.live import EventHub
from tests.redis_server import RedisServer
from tests.schema.test_live_resume import FakeReader, until

SECRET = "webhook-secret-for-tests"


@dataclass
class Receiver:
    """A bot's endpoint: answers ``plan(delivery id, attempt)``; records what it got."""

    plan: Callable[[str, int], int]
    url: str = ""
    attempts: Counter[str] = field(default_factory=Counter)
    accepted: list[dict[str, object]] = field(default_factory=list)
    bad_signatures: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers["X-Revgate-Signature"]):
            self.bad_signatures += 1
            return web.Response(status=401)
        delivery = request.headers["X-Revgate-Delivery"]
        self.attempts[delivery] += 1
        status = self.plan(delivery, self.attempts[delivery])
        if status == 200:
            self.accepted.append(orjson.loads(body))
        return web.Response(status=status)


@contextlib.asynccontextmanager
async def serve(receiver: Receiver) -> AsyncIterator[Receiver]:
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    receiver.url = f"http://127.0.0.1:{port}/hook?token=query-secret"
    try:
        yield receiver
    finally:
        await runner.cleanup()


def hooks_for(
    hub: EventHub, url: str, max_attempts: int = 5, **filters: tuple[str, ...]
) -> Webhooks:
    hook = WebhookSettings("bot", url, SECRET, max_attempts=max_attempts, **filters)
    webhooks = Webhooks(hub, [hook])
    for worker in webhooks.hooks:
        worker.retry_base = 0.01  # the backoff doubles from here (not a timed test)
    return webhooks


def samples(webhooks: Webhooks) -> dict[str, float]:
    """The collector's samples for the one webhook, by sample name."""
    return {s.name: s.value for m in WebhooksCollector(webhooks).collect() for s in m.samples}


def ids(receiver: Receiver) -> list[str]:
    return [str(body["event"]["id"]) for body in receiver.accepted]  # type: ignore[index]


async def test_every_event_delivered_signed_after_bounded_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reader = FakeReader()
    hub = EventHub(0.02, MemoryEventLog(), readers=lambda: {"pw": reader})
    # The first two attempts of every delivery fail (500, then 503): retried with backoff.
    receiver = Receiver(lambda _, attempt: {1: 500, 2: 503}.get(attempt, 200))
    async with serve(receiver):
        webhooks = hooks_for(hub, receiver.url)
        async with webhooks.running():
            await until(lambda: hub.polls["pw"] >= 1 and webhooks.hooks[0].fence is not None)
            await asyncio.sleep(0.1)  # its position is taken (from now on)
            for n in range(5):
                reader.add(n)
            # Counted once the worker has the 2xx (the receiver records it just before).
            await until(lambda: webhooks.hooks[0].delivered == 5)
        await hub.close()
    assert ids(receiver) == ["0", "1", "2", "3", "4"]  # in order, each once
    assert set(receiver.attempts.values()) == {3} and receiver.bad_signatures == 0
    body = receiver.accepted[0]
    assert body["webhook"] == "bot" and str(body["cursor"]).startswith("ev1.")
    hook = webhooks.hooks[0]
    assert (hook.delivered, hook.attempts, hook.dead_total) == (5, 15, 0)
    assert [d.attempts for d in hook.recent] == [3] * 5
    metrics = samples(webhooks)
    assert metrics["revgate_webhook_deliveries_total"] == 5
    assert metrics["revgate_webhook_attempts_total"] == 15
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("revgate")]
    assert any("delivered" in line for line in ours)
    assert not any("query-secret" in line or "127.0.0.1" in line for line in ours)  # no URL


async def test_refused_or_exhausted_deliveries_go_to_the_dead_letters() -> None:
    reader = FakeReader()
    hub = EventHub(0.02, MemoryEventLog(), readers=lambda: {"pw": reader})
    answers = {"0": 500, "1": 400, "2": 200}  # by event id: always failing, refused, fine
    memory = hub.log
    assert isinstance(memory, MemoryEventLog)

    def plan(delivery: str, attempt: int) -> int:
        return answers[order[delivery]]

    order: dict[str, str] = {}
    receiver = Receiver(plan)
    async with serve(receiver):
        webhooks = hooks_for(hub, receiver.url, max_attempts=3)
        async with webhooks.running():
            await until(lambda: hub.polls["pw"] >= 1 and webhooks.hooks[0].fence is not None)
            await asyncio.sleep(0.1)
            for n in range(3):
                reader.add(n)
            stream = memory._stream("pw")
            await until(lambda: len(stream.entries) == 3)
            for _, entry_id, event in stream.entries:
                order[f"pw:{entry_id}"] = event.id
            await until(lambda: webhooks.hooks[0].delivered == 1)
        await hub.close()
    hook = webhooks.hooks[0]
    assert ids(receiver) == ["2"]  # the worker went on past the dead letters
    assert sorted(receiver.attempts.values()) == [1, 1, 3]  # 400: no retry; 500: 3 attempts
    assert [(d.status, d.attempts) for d in hook.dead] == [(500, 3), (400, 1)]
    metrics = samples(webhooks)
    assert metrics["revgate_webhook_dead_letters_total"] == 2
    assert metrics["revgate_webhook_dead_letters_kept"] == 2


async def test_one_deliverer_across_replicas_and_take_over(redis_server: RedisServer) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    logs: list[EventLog] = [
        RedisEventLog(aioredis.Redis.from_url(redis_server.url), prefix=prefix) for _ in range(2)
    ]
    reader = FakeReader()
    hubs = [
        # A lease comfortably longer than a loaded event loop's stalls.
        EventHub(0.02, log, lease=2.0, readers=lambda: {"pw": reader}, owner=f"r{i}")
        for i, log in enumerate(logs)
    ]
    receiver = Receiver(lambda _, __: 200)
    async with serve(receiver), contextlib.AsyncExitStack() as stack:
        webhooks = [hooks_for(hub, receiver.url) for hub in hubs]
        for w in webhooks:
            await stack.enter_async_context(w.running())
        workers = [w.hooks[0] for w in webhooks]
        await until(lambda: sum(w.fence is not None for w in workers) == 1)
        await until(lambda: sum(h.polls["pw"] for h in hubs) >= 1)
        await asyncio.sleep(0.2)
        for n in range(3):
            reader.add(n)
        await until(lambda: sum(w.delivered for w in workers) == 3)
        leader = next(w for w in workers if w.fence is not None)
        other = next(w for w in workers if w is not leader)
        assert leader.delivered == 3 and other.delivered == 0
        # The deliverer dies without handing over; the other takes over from its position.
        assert leader.task is not None
        leader.task.cancel()
        for n in range(3, 6):
            reader.add(n)
        await until(lambda: other.delivered == 3, seconds=20)
        assert other.delivered == 3
    for hub in hubs:
        await hub.close()
    assert ids(receiver) == [str(n) for n in range(6)]  # none lost, none twice


async def test_retries_longer_than_the_lease_keep_one_sender(redis_server: RedisServer) -> None:
    """Backoff outlasting the lease: the deliverer renews it meanwhile, so the other replica
    never sends the same event concurrently."""
    prefix = f"test:{uuid.uuid4().hex}:"
    logs: list[EventLog] = [
        RedisEventLog(aioredis.Redis.from_url(redis_server.url), prefix=prefix) for _ in range(2)
    ]
    reader = FakeReader()
    hubs = [
        EventHub(0.02, log, lease=1.0, readers=lambda: {"pw": reader}, owner=f"r{i}")
        for i, log in enumerate(logs)
    ]
    receiver = Receiver(lambda _, attempt: 500 if attempt <= 3 else 200)
    async with serve(receiver), contextlib.AsyncExitStack() as stack:
        webhooks = [hooks_for(hub, receiver.url) for hub in hubs]
        for w in webhooks:
            w.hooks[0].retry_base = 0.4  # 0.4 + 0.8 + 1.6 s of backoff: > the 1 s lease
            await stack.enter_async_context(w.running())
        workers = [w.hooks[0] for w in webhooks]
        await until(lambda: sum(w.fence is not None for w in workers) == 1)
        await until(lambda: sum(h.polls["pw"] for h in hubs) >= 1)
        await asyncio.sleep(0.2)
        reader.add(0)
        await until(lambda: sum(w.delivered for w in workers) == 1)
    for hub in hubs:
        await hub.close()
    assert list(receiver.attempts.values()) == [4]  # 3 failures, then delivered; once
    assert sorted(w.attempts for w in workers) == [0, 4]  # all by one replica
