"""The ``gerrit`` kind (Gerrit Code Review) as one descriptor (``adapters/plugin.py``),
registered in ``adapters/kinds.py``."""

from __future__ import annotations

from adapters.base import Source
from adapters.compat import CompatKind
from adapters.gerrit import rest
from adapters.gerrit.source import create_source
from adapters.http import HttpClient
from adapters.plugin import AdapterKind, BackendSpec, Demo, Simulator

DEMO_USER_ENV = "REVGATE_DEMO_GERRIT_USER"
DEMO_PASSWORD_ENV = "REVGATE_DEMO_GERRIT_PASSWORD"


def _factory(spec: BackendSpec, http: HttpClient) -> Source:
    return create_source(spec.name, spec.url, http, page_size=spec.page_size)


async def _simulator(latency_ms: float = 0.0) -> Simulator:
    from adapters.gerrit.simulator import start_simulator
    from adapters.gerrit.simulator.demo import demo_data

    # the seed, generated changes with patch sets, and the demo timeline
    return await start_simulator(demo_data(), latency_ms=latency_ms)


KIND = AdapterKind(
    name="gerrit",
    description="Gerrit Code Review.",
    factory=_factory,
    schema="schema.kinds.gerrit:PART",
    compat=CompatKind(
        router=rest.router,
        presented=rest.presented,
        roots=rest.PASSTHROUGH_ROOTS,
        auth_prefix=rest.AUTH_PREFIX,
    ),
    demo=Demo(
        label="Gerrit simulator",
        start=_simulator,
        module="adapters.gerrit.simulator",
        backend={
            "name": "gerrit",
            "kind": "gerrit",
            "username_env": DEMO_USER_ENV,
            "password_env": DEMO_PASSWORD_ENV,
        },
        # the simulator's seeded account
        env=lambda: {DEMO_USER_ENV: "admin", DEMO_PASSWORD_ENV: "secret"},
        note="(admin / secret)",
        compat="{rest}/gerrit/a/changes/?q=status:open&n=5   "
        "(HTTP Basic: any user, the token as password)",
    ),
)
