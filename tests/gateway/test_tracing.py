"""Optional OpenTelemetry tracing: off by default; an operation span with upstream children."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from adapters.patchwork.simulator import start_simulator
from gateway import cli
from gateway.app import create_app
from gateway.settings import settings_from_dict
from gateway.tracing import Tracing, TracingError, tracing_from_env
from tests.conftest import ADMIN_TOKEN

DASHBOARD = """query Dashboard { changes(first: 5) { nodes { id title } missingBackends }
  pw: backend(name: "pw") { name } }"""


@dataclass
class Traced:
    client: httpx.AsyncClient
    exporter: InMemorySpanExporter

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())


@pytest.fixture
async def traced() -> AsyncIterator[Traced]:
    sim = await start_simulator()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    backends = [
        {"name": name, "kind": "patchwork", "url": sim.url, "token_env": "TOKEN"}
        for name in ("pw", "pw2")
    ]
    settings = settings_from_dict({"backends": backends}, env={"TOKEN": ADMIN_TOKEN})
    app = create_app(settings, tracing=Tracing(provider))
    try:
        await app.state.backends.open()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as client:
            yield Traced(client, exporter)
    finally:
        await app.state.backends.close()
        provider.shutdown()
        await sim.close()


async def test_tracing_operation_span_with_upstream_children(traced: Traced) -> None:
    resp = await traced.client.post("/graphql", json={"query": DASHBOARD})
    assert resp.status_code == 200 and "errors" not in resp.json()
    spans = traced.spans()
    [operation] = [s for s in spans if s.name.startswith("graphql.")]
    assert operation.name == "graphql.query Dashboard"
    assert operation.attributes is not None
    assert operation.attributes["graphql.operation.name"] == "Dashboard"
    upstream = [s for s in spans if s.name.startswith("upstream ")]
    assert upstream, [s.name for s in spans]
    assert operation.context is not None
    for span in upstream:
        assert span.parent is not None and span.parent.span_id == operation.context.span_id
        assert span.context is not None
        assert span.context.trace_id == operation.context.trace_id
        assert span.start_time is not None and operation.start_time is not None
        assert span.start_time >= operation.start_time  # recorded with its real start time
    backends = {s.attributes["revgate.backend"] for s in upstream if s.attributes}
    assert backends == {"pw", "pw2"}
    paths = {str(s.attributes["url.path"]) for s in upstream if s.attributes}
    assert "/api/1.3/patches/" in paths  # the path only: no query string
    # No credential anywhere in what an exporter would ship.
    shipped = json.dumps([json.loads(s.to_json()) for s in spans])
    assert ADMIN_TOKEN not in shipped and "Authorization" not in shipped
    assert "?" not in "".join(paths)


async def test_tracing_failed_upstream_marks_the_span(traced: Traced) -> None:
    query = '{ node(id: "UGF0Y2g6cHc6OTk5OTk") { id } }'  # Patch:pw:99999, a 404 upstream
    resp = await traced.client.post("/graphql", json={"query": query})
    assert resp.status_code == 200
    spans = traced.spans()
    [operation] = [s for s in spans if s.name.startswith("graphql.")]
    assert operation.name == "graphql.query anonymous"
    statuses = [s.attributes.get("http.response.status_code") for s in spans if s.attributes]
    assert 404 in statuses


def test_tracing_off_unless_configured() -> None:
    assert tracing_from_env({}) is None
    assert tracing_from_env({"REVGATE_TRACING": "off"}) is None
    with pytest.raises(TracingError, match="must be one of off, otlp, console"):
        tracing_from_env({"REVGATE_TRACING": "jaeger"})


@pytest.mark.parametrize("mode", ["console", "otlp"])
def test_tracing_configured_from_env(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The exporter is built (no span is exported, so nothing is sent anywhere).
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    tracing = tracing_from_env({"REVGATE_TRACING": mode, "OTEL_SERVICE_NAME": "rg-test"})
    assert tracing is not None
    assert tracing.provider.resource.attributes["service.name"] == "rg-test"
    tracing.shutdown()


def test_tracing_bad_mode_is_a_clear_cli_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "revgate.toml"
    config.write_text('[[backends]]\nname = "pw"\nkind = "patchwork"\nurl = "http://127.0.0.1:9"\n')
    monkeypatch.setenv("REVGATE_TRACING", "zipkin")
    assert cli.main(["serve", "--config", str(config)]) == 1
    assert "REVGATE_TRACING must be one of" in capsys.readouterr().err
