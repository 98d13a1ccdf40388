"""The review dashboard served by the gateway at ``/`` (browsers) and ``/dashboard``.

A client of the public GraphQL API only (docs/dashboard.md): a page, its ES modules and
Preact + htm vendored in ``gateway/static/dashboard`` (versions and licences: its README), so
nothing is loaded from another host. Its operations are ``operations.graphql``; each one that
validates against the running schema is registered as a trusted document (so the page works
with ``persisted_only = true``) and handed to the page as ``{name: sha256}``: the page sends
hashes only, and hides a feature whose operation this build's schema cannot run.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from importlib import resources

import orjson
from graphql import GraphQLSchema, parse, validate
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from gateway.persisted import Manifest, sha256, split_operations

PAGE_PATH = "/dashboard"
ASSETS_PATH = "/dashboard/assets"  # open, like the page: they hold no data


def _static() -> resources.abc.Traversable:
    return resources.files("gateway") / "static" / "dashboard"


def operations(schema: GraphQLSchema) -> dict[str, str]:
    """The dashboard's operations the schema can run: name → document text."""
    text = (_static() / "operations.graphql").read_text()
    runnable: dict[str, str] = {}
    for name, body in split_operations(text):
        if not validate(schema, parse(body)):
            runnable[name] = body
    return runnable


def with_operations(manifest: Manifest, documents: Mapping[str, str]) -> Manifest:
    """``manifest`` plus the dashboard's documents (trusted: they ship with the gateway)."""
    return Manifest({**manifest.documents, **{sha256(body): body for body in documents.values()}})


def is_dashboard_page(path: str, headers: Mapping[str, str]) -> bool:
    """The page and its files, open to anyone (the Guard's rule): they hold no data, and the
    API calls they make are guarded like any other. ``/`` only for a browser navigating."""
    if path == "/":
        return "text/html" in headers.get("accept", "")
    return path == PAGE_PATH or path.startswith(ASSETS_PATH + "/")


def wants_page(request: Request) -> bool:
    """A browser navigating (``Accept: text/html``), not an API client reading the index."""
    return request.method in ("GET", "HEAD") and "text/html" in request.headers.get("accept", "")


class Dashboard:
    """The page (rendered once per request from the template) and its assets."""

    def __init__(self, documents: Mapping[str, str], poll_interval: float) -> None:
        self._hashes = {name: sha256(body) for name, body in documents.items()}
        self._poll_interval = poll_interval

    def page(self, request: Request) -> Response:
        root = request.scope.get("root_path", "")
        template = (_static() / "index.html").read_text()
        config = orjson.dumps(
            {
                "endpoint": root + "/graphql",
                "operations": self._hashes,
                "pollInterval": self._poll_interval,
            }
        ).decode()
        # JSON inside <script type="application/json">: only "</" could end the element early.
        config = config.replace("</", "<\\/")
        base = html.escape(root + ASSETS_PATH, quote=True)
        body = template.replace("{{ base }}", base).replace("{{ config }}", config)
        # The page runs only its own modules: a strict policy costs nothing.
        policy = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        )
        return HTMLResponse(body, headers={"Content-Security-Policy": policy})

    def routes(self) -> list[Route | Mount]:
        async def page(request: Request) -> Response:
            return self.page(request)

        return [
            Route(PAGE_PATH, page, methods=["GET", "HEAD"]),
            Mount(ASSETS_PATH, StaticFiles(directory=str(_static()))),
        ]
