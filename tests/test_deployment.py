"""docker/: the compose file is coherent, its config is valid, and the image's install step works.

There is no Docker daemon on the CI machines, so the image build itself cannot run here; the
test builds the same wheel the Dockerfile builds and checks what the image relies on.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.settings import check_config

ROOT = Path(__file__).parents[1]
DOCKER = ROOT / "docker"


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    return data


def test_deployment_compose_services_and_health() -> None:
    services = _compose()["services"]
    assert set(services) == {"revgate", "patchwork-sim", "redis"}
    gateway = services["revgate"]
    assert gateway["build"]["dockerfile"] == "docker/Dockerfile"
    assert gateway["depends_on"]["redis"]["condition"] == "service_healthy"
    assert int(gateway["stop_grace_period"].rstrip("s")) > 30  # longer than uvicorn's drain
    for name in ("patchwork-sim", "redis"):
        assert services[name]["healthcheck"]["test"][0] == "CMD"


def test_deployment_compose_config_file_is_valid() -> None:
    env = _compose()["services"]["revgate"]["environment"]
    [mount] = _compose()["services"]["revgate"]["volumes"]
    source, target, _ = mount.split(":")
    assert target == env["REVGATE_CONFIG"]
    assert check_config(str(DOCKER / source), {k: str(v) for k, v in env.items()}) == []


def test_deployment_dockerfile_runs_unprivileged_with_healthcheck() -> None:
    text = (DOCKER / "Dockerfile").read_text()
    assert "USER 10001" in text and "HEALTHCHECK" in text and "/healthz" in text
    assert 'ENTRYPOINT ["revgate"]' in text  # exec form: signals reach the gateway


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker client on this machine")
def test_deployment_docker_compose_config() -> None:
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("the docker client has no compose plugin here")
    result = subprocess.run(
        ["docker", "compose", "-f", str(DOCKER / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _compose_v1(workdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker-compose", "-f", "compose.yaml", "config", "--quiet"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="no docker-compose (v1) here")
def test_deployment_compose_validates_with_docker_compose_v1(tmp_path: Path) -> None:
    """Debian's docker-compose (v1, no daemon needed) checks services, healthchecks, volumes and
    depends_on against its schema. It predates the top-level ``name`` key, so a copy without it
    is validated; a broken copy proves the validator can fail."""
    work = tmp_path / "docker"
    shutil.copytree(DOCKER, work)
    text = (DOCKER / "compose.yaml").read_text()
    lines = [line for line in text.splitlines() if not line.startswith("name:")]
    (work / "compose.yaml").write_text("\n".join(lines) + "\n")
    result = _compose_v1(work)
    assert result.returncode == 0, result.stderr
    broken = text.replace("healthcheck:", "healthcheckk:", 1)
    (work / "compose.yaml").write_text(broken.replace("name: revgate\n", ""))
    assert _compose_v1(work).returncode != 0


def test_deployment_wheel_carries_package_data(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    [wheel] = tmp_path.glob("revgate-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "schema/schema.graphql" in names
    assert "adapters/patchwork/simulator/seed/seed.json" in names
    assert any(n.startswith("adapters/patchwork/simulator/seed/mbox/") for n in names)
    assert not any(n.startswith("tests/") for n in names)
    assert "revgate.py" in names  # the console script: checks the import names first
