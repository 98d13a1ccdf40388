"""GraphiQL served from the gateway itself: the page, its assets and the example tabs.

The assets (React, GraphiQL, the explorer plugin) are the npm packages' own builds, shipped
in ``gateway/static/graphiql`` (versions, licences and how they are fetched: its README), so
the page loads with no network beyond the gateway. The page's first tabs are ``EXAMPLES``:
queries that work against any configuration (tests run each against the demo).
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable, Collection, Mapping
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.staticfiles import StaticFiles

ASSETS_PATH = "/graphiql"  # where the assets are mounted (open, like the page itself)
_WELCOME = """\
# Welcome to revgate: one GraphQL API over
# Patchwork, Gerrit and ABF.
#
# Ctrl-Enter (or ▶) runs the query; Ctrl-Space
# completes a field. The Docs panel (left bar)
# describes every type and field; the Explorer
# builds a query by ticking fields. Each tab
# holds an example.
#
# Every forge's changes in one list, newest
# activity first, with their checks:
"""
EXAMPLES: tuple[tuple[str, str], ...] = (
    (
        "changes",
        _WELCOME
        + """query Changes {
  changes(first: 20) {
    missingBackends
    nodes {
      __typename title state updatedAt checkState
      author { name email } project { name } backend { name kind }
      checks { context state }
      currentRevision { number sha }
    }
  }
}
""",
    ),
    # The person ID is the demo's Ada Lovelace's Gerrit account, ``Person:gerrit:1000400``
    # (adapters/gerrit/simulator/demo.py; tests/gateway/test_demo_readme.py checks it).
    (
        "person",
        """# One person's open changes on every forge, newest
# activity first, with their check state and where
# else each change was posted (its twins: linked by
# Message-Id, Change-Id, commit sha or patch-id).
# The person here is the demo's Ada Lovelace, named
# by her Gerrit account (it stands for all of her
# accounts); find another with
#   { people(search: "name") { nodes { id accounts { backend { name } } } } }
query PersonAcrossForges {
  changes(first: 20, filter: {
    people: ["UGVyc29uOmdlcnJpdDoxMDAwNDAw"], states: [OPEN]
  }) {
    missingBackends
    nodes {
      __typename title state updatedAt checkState webUrl
      backend { name kind }
      author { name identity { displayName } }
      related {
        evidence confidence
        change { __typename title backend { name } webUrl }
      }
    }
  }
}
""",
    ),
    (
        "series",
        """# Patch series from every Patchwork backend,
# with their revisions and test results
query Series {
  series(first: 10) {
    nodes {
      name version testState backend { name kind }
      revisions { version testResults { context state } }
    }
  }
}
""",
    ),
    (
        "projects",
        """# The projects of every backend you can see
query Projects {
  projects(first: 20) {
    nodes { name backend { name kind } }
  }
}
""",
    ),
)


def is_page_request(method: str, accept: str, params: Callable[[], Collection[str]]) -> bool:
    """Whether a request to the GraphQL endpoint asks for the GraphiQL page (open to anyone,
    holds no data) rather than for the API (behind the Guard): a browser navigating there,
    ``?query=`` links included; not a stream (SSE, multipart) nor a GET query. ``params``
    gives the query string's names, parsed only when the ``Accept`` leaves it open."""
    if method not in ("GET", "HEAD"):
        return False
    if "text/event-stream" in accept or "multipart/mixed" in accept:
        return False
    if "text/html" in accept:
        return True
    if "*/*" not in accept:
        return False
    names = params()
    return "query" not in names and "extensions" not in names


def is_page_scope(scope: Mapping[str, Any], headers: Mapping[str, str]) -> bool:
    """``is_page_request`` for an ASGI request (the Guard's rule: the page is open, the API
    behind it)."""
    query = scope.get("query_string", b"")
    return is_page_request(
        scope.get("method", ""), headers.get("accept", ""), lambda: _query_names(query)
    )


@functools.lru_cache(maxsize=256)  # a GET query's string repeats; bounded: the caller's text
def _query_names(query: bytes) -> frozenset[str]:
    return frozenset(parse_qs(query.decode("latin-1")))


def _static_dir() -> str:
    return str(resources.files("gateway") / "static" / "graphiql")


def assets() -> StaticFiles:
    """The ASGI app serving the shipped GraphiQL files under ``ASSETS_PATH``."""
    return StaticFiles(directory=_static_dir())


def page(endpoint: str, root_path: str = "") -> str:
    """The GraphiQL page for ``endpoint`` (a path or URL), assets under ``root_path``."""
    template = (resources.files("gateway") / "static" / "graphiql" / "index.html").read_text()
    config = orjson.dumps(
        {"endpoint": endpoint, "tabs": [{"name": n, "query": q} for n, q in EXAMPLES]}
    ).decode()
    # JSON inside <script type="application/json">: only "</" could end the element early.
    config = config.replace("</", "<\\/")
    base = html.escape(root_path + ASSETS_PATH, quote=True)
    return template.replace("{{ base }}", base).replace("{{ config }}", config)
