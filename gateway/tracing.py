"""Optional OpenTelemetry tracing: off unless configured.

Configuration is the environment, OpenTelemetry's own variables plus one switch:

``REVGATE_TRACING``
    unset, empty or ``off``: no tracing (nothing of OpenTelemetry is imported);
    ``otlp``: export over OTLP/HTTP (``OTEL_EXPORTER_OTLP_ENDPOINT``,
    ``OTEL_EXPORTER_OTLP_HEADERS``… as OpenTelemetry documents them);
    ``console``: print finished spans to stdout (debugging).
``OTEL_SERVICE_NAME``
    the service name (default ``revgate``); other ``OTEL_RESOURCE_ATTRIBUTES`` apply too.

The packages come with the optional extra: ``pip install 'revgate[tracing]'``.

What is traced: one span per GraphQL operation (``graphql.<type> <name>``, with the operation
type and name; ERROR status when the result has errors) and, as its children, one span per
upstream HTTP attempt (``upstream <METHOD>``, with ``revgate.backend``, the method, the URL
*path* — never the query string, never headers, so never a credential — the status and the
attempt's duration). Upstream attempts are recorded when they finish, with their real start
time, through the same ``on_request`` hook the metrics use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from strawberry.extensions import SchemaExtension
from yarl import URL

from adapters.registry import RequestHook

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

MODES = ("off", "otlp", "console")
TRACER_NAME = "revgate"


class TracingError(RuntimeError):
    """Tracing is misconfigured, or asked for without OpenTelemetry installed."""


class Tracing:
    """The gateway's spans over one OpenTelemetry ``TracerProvider``."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer(TRACER_NAME)

    def extension(self) -> Callable[[], SchemaExtension]:
        """A strawberry extension opening the operation span (current while it executes)."""
        from opentelemetry import trace

        tracer = self.tracer

        class OperationSpan(SchemaExtension):
            def on_operation(self) -> Iterator[None]:
                with tracer.start_as_current_span("graphql.operation") as span:
                    yield
                    ctx = self.execution_context
                    kind = ctx.operation_type.value if ctx.operation_type else "query"
                    name = ctx.operation_name or "anonymous"
                    span.update_name(f"graphql.{kind} {name}")
                    span.set_attribute("graphql.operation.type", kind)
                    span.set_attribute("graphql.operation.name", name)
                    errors = getattr(ctx.result, "errors", None) if ctx.result else None
                    if errors:
                        span.set_attribute("revgate.errors", len(errors))
                        span.set_status(trace.Status(trace.StatusCode.ERROR))

        return OperationSpan

    def upstream_hook(self, backend: str) -> RequestHook:
        """The ``on_request`` hook recording one span per upstream attempt of ``backend``."""
        from opentelemetry import trace

        tracer = self.tracer

        def hook(method: str, url: str, status: int | None, seconds: float) -> None:
            end = time.time_ns()
            span = tracer.start_span(
                f"upstream {method}",
                kind=trace.SpanKind.CLIENT,
                start_time=end - int(seconds * 1e9),
                attributes={
                    "revgate.backend": backend,
                    "http.request.method": method,
                    "url.path": URL(url).path,  # no query string, no user info
                },
            )
            if status is not None:
                span.set_attribute("http.response.status_code", status)
            if status is None or status >= 500:
                span.set_status(trace.Status(trace.StatusCode.ERROR))
            span.end(end_time=end)

        return hook

    def shutdown(self) -> None:
        """Flush and stop the exporters."""
        self.provider.shutdown()


def tracing_from_env(env: Mapping[str, str]) -> Tracing | None:
    """The configured tracing, or ``None`` when ``REVGATE_TRACING`` is off (the default)."""
    mode = env.get("REVGATE_TRACING", "").strip().lower() or "off"
    if mode not in MODES:
        raise TracingError(f"REVGATE_TRACING must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "off":
        return None
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

        exporter: Any
        if mode == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()  # endpoint, headers… from the OTEL_* variables
        else:
            exporter = ConsoleSpanExporter()
    except ImportError as exc:
        raise TracingError(
            f"REVGATE_TRACING={mode} needs OpenTelemetry: pip install 'revgate[tracing]' ({exc})"
        ) from None
    service = env.get("OTEL_SERVICE_NAME") or "revgate"
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return Tracing(provider)
