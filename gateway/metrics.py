"""Prometheus metrics: GraphQL operations, HTTP requests, upstream calls, the response cache.

prometheus_client (the reference client library) renders the text format and keeps the
histograms; each app owns its own ``CollectorRegistry`` so that several apps in one process
(tests, reloads) never share or double-register series.

Label cardinality is bounded on purpose: operation names are client-chosen, so only names
that look like identifiers are used, and after ``MAX_OPERATION_NAMES`` distinct ones the rest
are counted as ``other``; upstream calls are labelled by backend, method and status — never
by URL.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from adapters.cache import Cache

MAX_OPERATION_NAMES = 200
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

UpstreamHook = Callable[[str, str, int | None, float], None]


class Metrics:
    """The gateway's metric families, in one registry."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.operations = Counter(
            "revgate_graphql_operations_total",
            "GraphQL operations by type, name and outcome.",
            ["type", "name", "outcome"],
            registry=self.registry,
        )
        self.operation_seconds = Histogram(
            "revgate_graphql_operation_seconds",
            "GraphQL operation latency.",
            ["type", "name"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.http_requests = Counter(
            "revgate_http_requests_total",
            "HTTP requests by route and status.",
            ["route", "status"],
            registry=self.registry,
        )
        self.upstream_requests = Counter(
            "revgate_upstream_requests_total",
            "Upstream requests (attempts, retries included) by backend, method and status.",
            ["backend", "method", "status"],
            registry=self.registry,
        )
        self.upstream_seconds = Histogram(
            "revgate_upstream_request_seconds",
            "Upstream request latency by backend.",
            ["backend"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.backend_up = Gauge(
            "revgate_backend_up",
            "1 if the backend's last answer (readiness probe or real traffic) came back, "
            "0 if it did not (no answer, timeout, 5xx).",
            ["backend"],
            registry=self.registry,
        )
        self.breaker_open = Gauge(
            "revgate_circuit_open",
            "1 while a backend's circuit breaker is open or half-open, else 0.",
            ["backend"],
            registry=self.registry,
        )
        self._names: set[str] = set()
        # Labelled children by (metric, label values): ``labels()`` takes a lock and builds
        # tuples on every call; every label here is bounded, so this dict is too.
        self._children: dict[tuple[Any, tuple[str, ...]], Any] = {}

    def child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, looked up once per distinct label values."""
        key = (metric, labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    def operation_name(self, name: str | None) -> str:
        """A bounded label value for a client-chosen operation name."""
        if name in self._names:  # matched _NAME when it was added
            return name
        if not name or not _NAME.match(name):
            return "anonymous" if not name else "other"
        if len(self._names) >= MAX_OPERATION_NAMES:
            return "other"
        self._names.add(name)
        return name

    def upstream_hook(self, backend: str) -> UpstreamHook:
        """The ``on_request`` hook counting one backend's upstream attempts."""
        counter = self.upstream_requests
        histogram = self.upstream_seconds.labels(backend)
        child = self.child
        up = self.backend_up
        counters: dict[tuple[str, int | None], Any] = {}  # (method, status) → labelled child

        def hook(method: str, url: str, status: int | None, seconds: float) -> None:
            count = counters.get((method, status))
            if count is None:
                label = str(status) if status else "error"
                count = counters[method, status] = child(counter, backend, method, label)
            count.inc()
            histogram.observe(seconds)
            # Real traffic keeps revgate_backend_up current between probes (else it reads 0
            # for backends nobody probed); set on first use, not at start-up,
            # so that a backend never asked shows no sample rather than a false 0.
            child(up, backend).set(0 if status is None or status >= 500 else 1)

        return hook

    def watch_stamps(self, sources: Callable[[], Mapping[str, Any]]) -> None:
        """Export the content stamps' counters of the current ``sources`` (read at scrape
        time; a reload starts them afresh, which counters may do)."""
        self.registry.register(StampsCollector(sources))

    def watch_shared_runs(self, joined: Callable[[], int]) -> None:
        """Export how many planned queries were answered by an identical one's run in
        flight (``schema/shared_runs.py``; read at scrape time)."""
        family = ("revgate_shared_runs", "Planned queries answered by an identical one's run.")
        self.registry.register(CountCollector(*family, joined))

    def watch_cache(self, cache: Cache) -> None:
        """Export the response cache's counters (read from its ``stats`` at scrape time)."""
        self.registry.register(CacheCollector(cache))

    def render(self) -> bytes:
        """The exposition text."""
        return generate_latest(self.registry)

    def extension(self) -> Callable[[], SchemaExtension]:
        """A strawberry extension factory observing every operation."""
        metrics = self

        class OperationMetrics(SchemaExtension):
            def on_operation(self) -> Iterator[None]:
                start = time.perf_counter()
                yield
                ctx = self.execution_context
                kind = _operation_type(ctx)
                metrics.observe_operation(kind, ctx.operation_name, ctx.result, start)

        return OperationMetrics

    def observe_operation(self, kind: str, name: str | None, result: Any, start: float) -> None:
        """Count an operation of type ``kind`` named ``name`` whose result is ``result``,
        begun at ``start`` (``time.perf_counter``), by type, name and outcome, and observe
        its duration."""
        name = self.operation_name(name)
        outcome = "error" if result is None or getattr(result, "errors", None) else "ok"
        self.child(self.operations, kind, name, outcome).inc()
        seconds = time.perf_counter() - start
        self.child(self.operation_seconds, kind, name).observe(seconds)


KNOWN_ROUTES = frozenset({"/", "/graphql", "/healthz", "/readyz", "/metrics"})


class CountRequests:
    """ASGI middleware counting HTTP requests by route and status (unknown paths: ``other``)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        route = path if path in KNOWN_ROUTES else "other"
        status = 500

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            self.metrics.child(self.metrics.http_requests, route, str(status)).inc()


# (stats counter, metric name without _total, help): per backend …
_CACHE_BACKEND_COUNTERS = (
    ("hits", "revgate_cache_hits", "Upstream GETs answered from a fresh cache entry."),
    ("misses", "revgate_cache_misses", "Cacheable upstream GETs that needed a full request."),
    ("revalidated", "revgate_cache_revalidated", "Stale entries confirmed by 304 Not Modified."),
    ("coalesced", "revgate_cache_coalesced", "GETs that joined an identical one in flight."),
    ("invalidations", "revgate_cache_invalidations", "Cache invalidations (one per write)."),
)
# … and for the store as a whole.
_CACHE_STORE_COUNTERS = (
    ("evictions", "revgate_cache_evictions", "Entries evicted to stay within memory bounds."),
    ("errors", "revgate_cache_errors", "Cache store operations that failed (Redis down …)."),
)


class CacheCollector(Collector):
    """The response cache's ``CacheStats`` as Prometheus counters, read when scraped."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def describe(self) -> Iterator[Metric]:
        """The families without samples (so registering reads no stats)."""
        for _, name, text in _CACHE_BACKEND_COUNTERS:
            yield CounterMetricFamily(name, text, labels=["backend"])
        for _, name, text in _CACHE_STORE_COUNTERS:
            yield CounterMetricFamily(name, text)

    def collect(self) -> Iterator[Metric]:
        """One family per counter; per-backend ones have a sample per backend seen so far."""
        stats = self.cache.stats
        for what, name, text in _CACHE_BACKEND_COUNTERS:
            family = CounterMetricFamily(name, text, labels=["backend"])
            for (backend, counter), value in sorted(stats.by_backend.items()):
                if counter == what:
                    family.add_metric([backend], value)
            yield family
        for what, name, text in _CACHE_STORE_COUNTERS:
            yield CounterMetricFamily(name, text, value=getattr(stats, what))


class StampsCollector(Collector):
    """Per backend: uncached 200 answers stamped by content, and how many were unchanged
    (their parsed pages, records and renderings reused, ``adapters/stamps.py``). Counts
    the backend's own client; callers with their own backend token have their own."""

    _FAMILIES = (
        ("stamped", "revgate_content_answers", "Uncached 200 upstream answers compared."),
        ("reused", "revgate_content_unchanged", "Answers identical to the previous one."),
    )
    # without a response cache, GETs that joined an identical one in flight (adapters/http.py)
    _COALESCED = (
        "revgate_coalesced_reads",
        "Uncached GETs that joined an identical one in flight.",
    )

    def __init__(self, sources: Callable[[], Mapping[str, Any]]) -> None:
        self.sources = sources

    def describe(self) -> Iterator[Metric]:
        """The families without samples."""
        for _, name, text in self._FAMILIES:
            yield CounterMetricFamily(name, text, labels=["backend"])
        yield CounterMetricFamily(*self._COALESCED, labels=["backend"])

    def collect(self) -> Iterator[Metric]:
        """One sample per backend whose client stamps answers."""
        stamps = {
            name: found
            for name, source in sorted(self.sources().items())
            if (found := getattr(getattr(source, "http", None), "stamps", None)) is not None
        }
        for what, name, text in self._FAMILIES:
            family = CounterMetricFamily(name, text, labels=["backend"])
            for backend, found in stamps.items():
                family.add_metric([backend], getattr(found, what))
            yield family
        family = CounterMetricFamily(*self._COALESCED, labels=["backend"])
        for backend, source in sorted(self.sources().items()):
            flights = getattr(getattr(source, "http", None), "flights", None)
            joined = getattr(flights, "joined", None)
            if isinstance(joined, int):
                family.add_metric([backend], joined)
        yield family


class CountCollector(Collector):
    """One unlabelled counter read from ``read`` at scrape time."""

    def __init__(self, name: str, text: str, read: Callable[[], int]) -> None:
        self.name, self.text, self.read = name, text, read

    def describe(self) -> Iterator[Metric]:
        """The family without samples."""
        yield CounterMetricFamily(self.name, self.text)

    def collect(self) -> Iterator[Metric]:
        """Its one sample."""
        family = CounterMetricFamily(self.name, self.text)
        family.add_metric([], self.read())
        yield family


def _operation_type(ctx: Any) -> str:
    try:
        return str(ctx.operation_type.value)
    except Exception:  # no valid operation (parse or validation error)
        return "invalid"
