"""``/graphql`` over HTTP straight to the GraphQL view, past Starlette's routing (issue 21).

``GraphQLRoute`` is the innermost middleware. Every other request goes on to Starlette's
``ExceptionMiddleware`` and router; a request the router would hand to the ``/graphql`` route
(its path, a method the route takes) goes to the view directly: the same view, without the
``Request`` the exception middleware builds nor the walk over the route table. Nothing is
lost: the view answers its own refusals (``GraphQLApp.__call__``), raises none of Starlette's
``HTTPException`` (what the exception middleware is there for), and reads nothing the router
adds to the scope (no path parameters, no ``url_for``). A mounted app (a ``root_path``) and
every other method go through the router as before (405 from the route there).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

PATH = "/graphql"
METHODS = frozenset({"GET", "HEAD", "POST"})  # the route's (app.py): GET brings HEAD


class GraphQLRoute:
    """ASGI middleware: HTTP requests for ``/graphql`` to ``graphql`` (the view)."""

    def __init__(self, app: ASGIApp, graphql: ASGIApp) -> None:
        self.app = app
        self.graphql = graphql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == PATH
            and scope["method"] in METHODS
            and not scope.get("root_path")
        ):
            await self.graphql(scope, receive, send)
        else:
            await self.app(scope, receive, send)
