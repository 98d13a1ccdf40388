"""A toy backend kind defined entirely here, to prove that a kind is a plugin.

``KIND`` is its adapter descriptor (``adapters/plugin.py``); its GraphQL part is
``tests.plugins.toy.schema:PART``. Nothing outside this folder names it: the test passes
``(*KINDS, KIND)`` where the gateway takes its kinds (settings, hence the app and its schema).
``docs/adding-a-kind.md`` is written from it.
"""

from __future__ import annotations

from adapters.http import HttpClient
from adapters.plugin import AdapterKind, BackendSpec, ConfigKey
from tests.plugins.toy.source import ToySource


def _factory(spec: BackendSpec, http: HttpClient) -> ToySource:
    # In memory: the HTTP client the registry built is never opened.
    return ToySource(spec.name, spec.url, greeting=spec.option("greeting", "hello"))


def _greeting_problem(value: object) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= 20:
        return None
    return "greeting must be a string of 1..20 characters"


KIND = AdapterKind(
    name="toy",
    description="A toy kind (tests/plugins/toy).",
    factory=_factory,
    schema="tests.plugins.toy.schema:PART",
    config={"greeting": ConfigKey(_greeting_problem)},
)
