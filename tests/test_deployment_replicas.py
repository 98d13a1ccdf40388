"""docker/compose.replicas.yaml: 3 replicas behind Debian's HAProxy, sharing one Redis."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.settings import check_config

ROOT = Path(__file__).parents[1]
DOCKER = ROOT / "docker"
REPLICAS = ("revgate-1", "revgate-2", "revgate-3")


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DOCKER / "compose.replicas.yaml").read_text())
    return data


def test_three_identical_replicas_share_redis_and_sit_behind_the_lb() -> None:
    services = _compose()["services"]
    assert set(services) == {*REPLICAS, "lb", "patchwork-sim", "gerrit-sim", "redis"}
    first = services["revgate-1"]
    assert all(services[name] == first for name in REPLICAS)  # one definition, 3 copies
    env = first["environment"]
    assert env["REVGATE_EVENTS_URL"].startswith("redis://redis:")
    assert env["REVGATE_CACHE_URL"].startswith("redis://redis:")
    assert first["depends_on"]["redis"]["condition"] == "service_healthy"
    assert int(first["stop_grace_period"].rstrip("s")) > 30
    assert "ports" not in first  # only the load balancer is published
    lb = services["lb"]
    assert lb["ports"] == ["127.0.0.1:8000:8000"] and set(lb["depends_on"]) == set(REPLICAS)
    assert "volatile-" in " ".join(services["redis"]["command"])  # never evicts the streams
    cfg = (DOCKER / "haproxy.cfg").read_text()
    assert all(f"server {name} {name}:8000 check" in cfg for name in REPLICAS)
    assert "timeout tunnel" in cfg and "httpchk GET /healthz" in cfg


def test_replica_config_is_valid_with_the_compose_environment() -> None:
    env = _compose()["services"]["revgate-1"]["environment"]
    [mount] = _compose()["services"]["revgate-1"]["volumes"]
    source, target, _ = mount.split(":")
    assert target == env["REVGATE_CONFIG"]
    assert check_config(str(DOCKER / source), {k: str(v) for k, v in env.items()}) == []


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed here")
def test_haproxy_accepts_the_config(tmp_path: Path) -> None:
    good = subprocess.run(
        ["haproxy", "-c", "-f", str(DOCKER / "haproxy.cfg")], capture_output=True, text=True
    )
    assert good.returncode == 0, good.stderr
    broken = tmp_path / "haproxy.cfg"
    broken.write_text(
        (DOCKER / "haproxy.cfg").read_text().replace("balance leastconn", "balance x")
    )
    assert subprocess.run(["haproxy", "-c", "-f", str(broken)], capture_output=True).returncode != 0


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="no docker-compose (v1) here")
def test_compose_validates_with_docker_compose_v1(tmp_path: Path) -> None:
    work = tmp_path / "docker"
    shutil.copytree(DOCKER, work)
    text = (DOCKER / "compose.replicas.yaml").read_text()
    lines = [line for line in text.splitlines() if not line.startswith("name:")]
    (work / "compose.replicas.yaml").write_text("\n".join(lines) + "\n")
    run = ["docker-compose", "-f", "compose.replicas.yaml", "config", "--quiet"]
    result = subprocess.run(run, cwd=work, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    (work / "compose.replicas.yaml").write_text(
        "\n".join(lines).replace("healthcheck:", "healthcheckk:", 1) + "\n"
    )
    assert subprocess.run(run, cwd=work, capture_output=True, check=False).returncode != 0
