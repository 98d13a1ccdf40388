"""Builds the per-request ``schema.context.Context`` from the app's configured backends."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket

from adapters.base import Source
from adapters.breaker import Breakers
from adapters.people import Directory
from schema.context import Context
from schema.live import EventHub
from schema.request import RequestMeta


def request_context(
    sources: Mapping[str, Source],
    public_url: str | None,
    budget: float = 10.0,
    breakers: Breakers | None = None,
    hub: EventHub | None = None,
    meta: RequestMeta | None = None,
    people: Directory | None = None,
) -> Context:
    """A fresh context — and so fresh loaders — for one GraphQL request."""
    return Context(
        sources=sources,
        public_url=public_url,
        budget=budget,
        breakers=breakers,
        hub=hub,
        meta=meta or RequestMeta(),
        people=people or Directory(),
    )


@dataclass
class SocketContext(Context):
    """The context of one websocket connection (strawberry builds one per connection).

    strawberry fills ``connection_params`` from the ``connection_init`` payload before calling
    ``on_ws_connect``, where ``gateway.guard.Access.admit_socket`` may authenticate the
    connection by the API key found there and replace ``sources`` and ``meta`` accordingly.
    """

    pinned: Mapping[str, Source] = field(default_factory=dict)  # the generation, unfiltered
    client: WebSocket | None = None
    connection_params: dict[str, Any] | None = None
