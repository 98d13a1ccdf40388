"""Builds the per-request ``schema.context.Context`` from the app's configured backends."""

from __future__ import annotations

from collections.abc import Mapping

from adapters.base import Source
from adapters.breaker import Breakers
from schema.context import Context
from schema.live import EventHub


def request_context(
    sources: Mapping[str, Source],
    public_url: str | None,
    budget: float = 10.0,
    breakers: Breakers | None = None,
    hub: EventHub | None = None,
) -> Context:
    """A fresh context — and so fresh loaders — for one GraphQL request."""
    return Context(
        sources=sources, public_url=public_url, budget=budget, breakers=breakers, hub=hub
    )
