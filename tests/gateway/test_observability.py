"""/metrics, /healthz, /readyz and JSON logs."""

from __future__ import annotations

import json
import logging

import pytest

from gateway.logs import configure_logging
from gateway.metrics import MAX_OPERATION_NAMES, Metrics
from tests.conftest import Gateway


async def test_metrics_count_operations_http_and_upstream(gateway: Gateway) -> None:
    body = await gateway.query("query Dashboard { patches(first: 3) { nodes { id } } }")
    assert "errors" not in body
    await gateway.query("query Broken { patches(first: 0) { nodes { id } } }")
    resp = await gateway.client.get("/metrics")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    text = resp.text
    assert (
        'revgate_graphql_operations_total{name="Dashboard",outcome="ok",type="query"} 1.0' in text
    )
    assert (
        'revgate_graphql_operations_total{name="Broken",outcome="error",type="query"} 1.0' in text
    )
    assert 'revgate_http_requests_total{route="/graphql",status="200"} 2.0' in text
    assert 'revgate_upstream_requests_total{backend="pw",method="GET",status="200"}' in text
    assert "revgate_upstream_request_seconds_bucket" in text


async def test_metrics_unknown_paths_share_one_label(gateway: Gateway) -> None:
    for path in ("/nope", "/secret/../x", "/a/b/c"):
        assert (await gateway.client.get(path)).status_code == 404
    text = (await gateway.client.get("/metrics")).text
    assert 'revgate_http_requests_total{route="other",status="404"} 3.0' in text


def test_upstream_hook_counts_each_method_and_status_apart() -> None:
    metrics = Metrics()
    hook = metrics.upstream_hook("pw")
    for method, status in [("GET", 200), ("GET", 200), ("GET", 404), ("POST", 200), ("GET", None)]:
        hook(method, "http://pw/api/", status, 0.01)
    text = metrics.render().decode()
    for labels, count in [
        ('method="GET",status="200"', 2),
        ('method="GET",status="404"', 1),
        ('method="POST",status="200"', 1),
        ('method="GET",status="error"', 1),
    ]:
        assert f'revgate_upstream_requests_total{{backend="pw",{labels}}} {count}.0' in text
    assert 'revgate_backend_up{backend="pw"} 0.0' in text  # the last attempt failed


def test_metrics_operation_names_are_bounded() -> None:
    metrics = Metrics()
    assert metrics.operation_name(None) == "anonymous"
    assert metrics.operation_name("bad name!") == "other"
    names = {metrics.operation_name(f"Op{i}") for i in range(MAX_OPERATION_NAMES + 50)}
    assert len(names) == MAX_OPERATION_NAMES + 1 and "other" in names


async def test_healthz_touches_no_backend(gateway: Gateway) -> None:
    before = gateway.upstream_requests()
    resp = await gateway.client.get("/healthz")
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}
    assert gateway.upstream_requests() == before


async def test_readyz_reports_each_backend(gateway: Gateway) -> None:
    resp = await gateway.client.get("/readyz")
    assert resp.status_code == 200
    report = resp.json()
    assert report["status"] == "ready" and report["backends"]["pw"]["status"] == "up"
    gateway.sim.state.fault("/api/", "500")
    resp = await gateway.client.get("/readyz")
    assert resp.status_code == 503
    down = resp.json()["backends"]["pw"]
    assert down["status"] == "down" and down["code"] == "UPSTREAM_UNAVAILABLE"
    text = (await gateway.client.get("/metrics")).text
    assert 'revgate_backend_up{backend="pw"} 0.0' in text


def test_logs_json_one_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("json")
        logging.getLogger("revgate.test").info("hello %s", "world", extra={"request_id": "r-1"})
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["message"] == "hello world" and record["level"] == "INFO"
    assert record["logger"] == "revgate.test" and record["request_id"] == "r-1"


def test_log_records_skip_lookups_neither_format_shows(capsys: pytest.CaptureFixture[str]) -> None:
    """uvicorn logs a line per request: configure_logging turns off the thread, process and
    source-line lookups no format shows, and the line still reads as before."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    switches = logging.logThreads, logging.logProcesses, logging._srcfile
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    try:
        configure_logging("text")
        root.addHandler(Keep())
        logging.getLogger("revgate.test").info("hello %s", "world")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.logThreads, logging.logProcesses, logging._srcfile = switches
    (record,) = seen
    assert record.thread is None and record.process is None
    assert record.funcName == "(unknown function)" and record.lineno == 0
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.endswith(" INFO revgate.test [-] hello world")


def test_logs_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="text, json"):
        configure_logging("xml")


async def test_logs_carry_the_request_id_of_the_request_they_serve(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every line logged while serving a request (here: the upstream call's) carries that
    request's id, the one the client got in X-Request-Id; lines outside a request carry '-'."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("json", level=logging.DEBUG)
        capsys.readouterr()
        ids = []
        for _ in range(2):
            resp = await gateway.client.post(
                "/graphql", json={"query": "{ projects(first: 1) { nodes { name } } }"}
            )
            assert resp.status_code == 200 and "errors" not in resp.json()
            ids.append(resp.headers["x-request-id"])
        logging.getLogger("revgate.test").info("outside")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    records = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    upstream = [r for r in records if r["logger"] == "revgate.upstream"]
    # The first query also detects the API version: every upstream line is its query's.
    assert [r["request_id"] for r in upstream][-1] == ids[1]
    assert {r["request_id"] for r in upstream} == set(ids) and ids[0] != ids[1]
    assert [r["request_id"] for r in records if r["message"] == "outside"] == ["-"]
