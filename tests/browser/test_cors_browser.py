"""A dashboard page on another origin calls the API through CORS, and a page on an origin
that is not configured cannot read any answer (HTTP or websocket)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.browser.conftest import gateway_setup
from tests.reliability.harness import ServedGateway

# What a cross-origin page does: a JSON POST (preflighted), then a websocket.
SCRIPT = """async (gateway) => {
  const out = {};
  try {
    const resp = await fetch(gateway + "/graphql", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({query: "{ backends { name } }"}),
    });
    out.http = (await resp.json()).data.backends[0].name;
  } catch (e) { out.http = "refused: " + e.name; }
  out.socket = await new Promise((resolve) => {
    const ws = new WebSocket(gateway.replace("http", "ws") + "/graphql", "graphql-transport-ws");
    ws.onopen = () => ws.send(JSON.stringify({type: "connection_init"}));
    ws.onmessage = (m) => { resolve(JSON.parse(m.data).type); ws.close(); };
    ws.onerror = () => resolve("refused");
  });
  return out;
}"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html>a dashboard</html>")

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def _origin() -> Iterator[str]:
    """A page on its own loopback origin (Chromium refuses public pages calling loopback, so
    the page must be served from loopback too; ``localhost`` is another origin than the
    gateway's ``127.0.0.1``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def _from(browser: Any, origin: str, gateway: str) -> dict[str, str]:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{origin}/")
    result: dict[str, str] = await page.evaluate(SCRIPT, gateway)
    await context.close()
    return result


async def test_cors_in_a_browser(browser: Any) -> None:
    with (
        _origin() as dash,
        _origin() as evil,
        ServedGateway(gateway_setup({"cors_origins": [dash]})) as gw,
    ):
        allowed = await _from(browser, dash, gw.url)
        refused = await _from(browser, evil, gw.url)
    assert allowed == {"http": "pw", "socket": "connection_ack"}
    assert refused == {"http": "refused: TypeError", "socket": "refused"}
