"""The ``patchwork`` kind (upstream Patchwork, REST API 1.0–1.3) as one descriptor
(``adapters/plugin.py``), registered in ``adapters/kinds.py``."""

from __future__ import annotations

from adapters.base import Source
from adapters.compat import CompatKind
from adapters.http import HttpClient
from adapters.patchwork import rest
from adapters.patchwork.source import create_source
from adapters.patchwork_common import time_zone_problem
from adapters.plugin import AdapterKind, BackendSpec, ConfigKey, Demo, Simulator

API_VERSIONS: tuple[str, ...] = ("auto", "1.0", "1.1", "1.2", "1.3")
DEMO_TOKEN_ENV = "REVGATE_DEMO_PATCHWORK_TOKEN"
DEMO_ADMIN_TOKEN = "a0" * 20  # the recorded server's admin token; the simulator accepts it


def _factory(spec: BackendSpec, http: HttpClient) -> Source:
    return create_source(
        spec.name,
        spec.url,
        http,
        api_version=spec.api_version,
        page_size=spec.page_size,
        time_zone=spec.time_zone,
    )


def _api_version_problem(value: object) -> str | None:
    if isinstance(value, str) and value in API_VERSIONS:
        return None
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    hint = f' (quote it: "{value}")' if numeric else ""
    return f"api_version must be one of {', '.join(API_VERSIONS)}{hint}"


async def _simulator(latency_ms: float = 0.0) -> Simulator:
    from adapters.patchwork.simulator import start_simulator
    from adapters.patchwork.simulator.demo import demo_data

    return await start_simulator(demo_data(), latency_ms=latency_ms)


TIME_ZONE = ConfigKey(time_zone_problem)  # shared with patchwork-fdo (adapters/patchwork_common)

KIND = AdapterKind(
    name="patchwork",
    description="Upstream Patchwork (API 1.0–1.3).",
    factory=_factory,
    schema="schema.kinds.patchwork:PART",
    compat=CompatKind(router=rest.router, roots=rest.API_ROOTS),
    config={
        "api_version": ConfigKey(_api_version_problem, show_got=False),
        "time_zone": TIME_ZONE,
    },
    demo=Demo(
        label="Patchwork simulator",
        start=_simulator,
        module="adapters.patchwork.simulator",
        backend={"name": "patchwork", "kind": "patchwork", "token_env": DEMO_TOKEN_ENV},
        env=lambda: {DEMO_TOKEN_ENV: DEMO_ADMIN_TOKEN},
        compat="{rest}/patchwork/api/1.3/   (Authorization: Token <token>)",
        clients=(
            "git-pw:  git config pw.server {rest}/patchwork/api/1.3/ && git config pw.token "
            "{token} && git config pw.project patchwork",
            "b4:      git config b4.pw-url {rest}/patchwork/ && git config b4.pw-key {token} "
            "&& git config b4.pw-project patchwork",
        ),
    ),
)
