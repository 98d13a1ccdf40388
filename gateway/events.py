"""Live events in /metrics (and, below, outgoing webhooks): read from the hub when scraped."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from schema.live import EventHub


class EventsCollector(Collector):
    """Per backend: whether this replica holds the poller lease, its polls, the events it
    published and its publications refused by the fence; the live feeds it serves."""

    def __init__(self, hub: EventHub) -> None:
        self.hub = hub

    def describe(self) -> Iterator[Metric]:
        yield from self.collect()

    def collect(self) -> Iterator[Metric]:
        hub = self.hub
        leader = GaugeMetricFamily(
            "revgate_events_leader",
            "1 while this replica holds the backend's poller lease (it polls the backend).",
            labels=["backend"],
        )
        leading = set(hub.leading())
        for name in sorted(set(hub.pollers) | set(hub.polls)):
            leader.add_metric([name], 1 if name in leading else 0)
        yield leader
        for attr, name, text in (
            ("polls", "revgate_events_polls_total", "Event polls of the backend by this replica."),
            (
                "published",
                "revgate_events_published_total",
                "Events this replica appended to the backend's stream.",
            ),
            (
                "fenced",
                "revgate_events_fenced_total",
                "Polls discarded because the lease was lost before publishing.",
            ),
        ):
            family = CounterMetricFamily(name, text, labels=["backend"])
            for backend, value in sorted(getattr(hub, attr).items()):
                family.add_metric([backend], value)
            yield family
        yield GaugeMetricFamily(
            "revgate_events_feeds", "Live event subscriptions on this replica.", value=hub.feeds()
        )
