"""The ``abf`` kind (ABF, the Automated Build Farm's forge) as one descriptor
(``adapters/plugin.py``), registered in ``adapters/kinds.py``."""

from __future__ import annotations

from adapters.abf import rest
from adapters.abf.source import create_source
from adapters.base import Source
from adapters.compat import CompatKind
from adapters.http import HttpClient
from adapters.plugin import AdapterKind, BackendSpec, Demo, Simulator

DEMO_TOKEN_ENV = "REVGATE_DEMO_ABF_TOKEN"


def _factory(spec: BackendSpec, http: HttpClient) -> Source:
    return create_source(spec.name, spec.url, http)


def _demo_env() -> dict[str, str]:
    from adapters.abf.simulator import TOKEN  # user 1's API token

    return {DEMO_TOKEN_ENV: TOKEN}


async def _simulator(latency_ms: float = 0.0) -> Simulator:
    from adapters.abf.simulator import start_simulator
    from adapters.abf.simulator.demo import demo_data

    return await start_simulator(demo_data(), latency_ms=latency_ms)


KIND = AdapterKind(
    name="abf",
    description="ABF, the Automated Build Farm's forge (OpenMandriva, ROSA).",
    factory=_factory,
    schema="schema.kinds.abf:PART",
    compat=CompatKind(router=rest.router, presented=rest.presented, roots=rest.API_ROOTS),
    demo=Demo(
        label="ABF simulator",
        start=_simulator,
        module="adapters.abf.simulator",
        backend={"name": "abf", "kind": "abf", "token_env": DEMO_TOKEN_ENV},
        env=_demo_env,
        compat="{rest}/abf/api/v1/user.json   (HTTP Basic: the token as user)",
    ),
)
