"""The ``patchwork-fdo`` kind (the freedesktop.org Patchwork fork: series revisions, test
results) as one descriptor (``adapters/plugin.py``), registered in ``adapters/kinds.py``."""

from __future__ import annotations

from adapters.base import Source
from adapters.compat import CompatKind
from adapters.http import HttpClient
from adapters.patchwork_common import time_zone_problem
from adapters.patchwork_fdo import rest
from adapters.patchwork_fdo.source import create_source
from adapters.plugin import AdapterKind, BackendSpec, ConfigKey, Demo, Simulator

DEMO_TOKEN_ENV = "REVGATE_DEMO_FDO_TOKEN"
DEMO_CI_TOKEN = "fd" * 20  # the fdo simulator's CI user (may report test results)


def _factory(spec: BackendSpec, http: HttpClient) -> Source:
    return create_source(
        spec.name, spec.url, http, page_size=spec.page_size, time_zone=spec.time_zone
    )


async def _simulator(latency_ms: float = 0.0) -> Simulator:
    from adapters.patchwork_fdo.simulator import start_simulator
    from adapters.patchwork_fdo.simulator.demo import demo_data

    return await start_simulator(demo_data(), latency_ms=latency_ms)


KIND = AdapterKind(
    name="patchwork-fdo",
    description="The freedesktop.org Patchwork fork (series revisions, tests).",
    factory=_factory,
    schema="schema.kinds.patchwork_fdo:PART",
    compat=CompatKind(router=rest.router, presented=rest.presented, roots=rest.API_ROOTS),
    config={"time_zone": ConfigKey(time_zone_problem)},
    demo=Demo(
        label="freedesktop Patchwork simulator",
        start=_simulator,
        module="adapters.patchwork_fdo.simulator",
        backend={"name": "fdo", "kind": "patchwork-fdo", "token_env": DEMO_TOKEN_ENV},
        env=lambda: {DEMO_TOKEN_ENV: DEMO_CI_TOKEN},
        compat="{rest}/fdo/api/1.0/projects/   (Token <token>, or Basic: it as password)",
    ),
)
