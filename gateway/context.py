"""Builds the per-request ``schema.context.Context`` from the app's configured backends."""

from __future__ import annotations

from collections.abc import Mapping

from adapters.base import Source
from schema.context import Context
from schema.request import RequestMeta


def request_context(
    sources: Mapping[str, Source], public_url: str | None, meta: RequestMeta | None = None
) -> Context:
    """A fresh context — and so fresh loaders — for one GraphQL request."""
    return Context(sources=sources, public_url=public_url, meta=meta or RequestMeta())
