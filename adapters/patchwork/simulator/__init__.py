"""A reference simulator of the upstream Patchwork 3.2.1 REST API over in-memory data.

Serves API versions 1.0-1.3 and the unversioned ``/api/`` with the real server's shapes,
pagination (``Link`` header), filters, auth and error bodies (see
``tests/fixtures/patchwork-3.2.1/README.md``), plus the mbox/raw download routes.

``python -m adapters.patchwork.simulator --port 8800`` serves the recorded data.
Credentials: tokens ``"a0" * 20`` (admin, maintainer of every project) and ``"b0" * 20`` (bot);
HTTP Basic ``admin:admin`` (recorded) and ``bot:bot``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from aiohttp import web

from adapters import simulator_common
from adapters.patchwork.simulator.api import handle_api
from adapters.patchwork.simulator.calls import (
    NO_PERMISSION,
    VERSIONS,
    ApiError,
    html_404,
    json_response,
    not_found_html,
)
from adapters.patchwork.simulator.data import PatchworkData, Record, filename, strip_msgid

__all__ = [
    "SIM_STATE",
    "PatchworkData",
    "RunningSimulator",
    "SimulatorState",
    "create_app",
    "main",
    "start_simulator",
]

API_PREFIX = "/api/"  # what --latency-ms delays (the web downloads answer at once)
FAULT_KINDS = frozenset({"500", "404", "403", "hang", "garbage", "slow"})


@dataclass
class SimulatorState:
    """What a running simulator holds: its data, the request log and injected faults."""

    data: PatchworkData
    requests: list[tuple[str, str]] = field(default_factory=list)
    faults: dict[str, str] = field(default_factory=dict)
    hang_seconds: float = 60.0
    slow_seconds: float = 1.0

    def fault(self, path_prefix: str, kind: str) -> None:
        """Make requests whose path starts with ``path_prefix`` fail in the way ``kind`` names."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        self.faults[path_prefix] = kind

    def clear_faults(self) -> None:
        self.faults.clear()


SIM_STATE = web.AppKey("SIM_STATE", SimulatorState)


# -- non-API downloads -----------------------------------------------------------------------


def _download(body: bytes, name: str, content_type: str) -> web.Response:
    resp = web.Response(body=body)
    resp.headers["Content-Type"] = content_type
    resp.headers["Content-Disposition"] = f"attachment; filename={name}"
    return resp


def _by_id(table: dict[int, Record], raw: str, path: str) -> Record:
    try:
        return table[int(raw)]
    except (ValueError, KeyError):
        raise not_found_html(path) from None


def _by_msgid(data: PatchworkData, table: dict[int, Record], parts: list[str], path: str) -> Record:
    """``/project/<link>/<kind>/<msgid>/…``'s item."""
    link, msgid = parts[1], parts[3]
    project = next((p for p in data.projects.values() if p["link_name"] == link), None)
    for item in table.values():
        if project and item["project"] == project["id"] and strip_msgid(item["msgid"]) == msgid:
            return item
    raise not_found_html(path)


def _web_routes(
    request: web.Request, state: SimulatorState, parts: list[str]
) -> web.StreamResponse:
    data = state.data
    path = request.path
    # /patch/<id>/[mbox|raw/], /cover/<id>/[mbox/]  -> 302 to the msgid URL
    if len(parts) in (2, 3) and parts[0] in ("patch", "cover"):
        item = _by_id(data.patches if parts[0] == "patch" else data.covers, parts[1], path)
        suffix = "" if len(parts) == 2 else f"{parts[2]}/"
        if suffix not in ("", "mbox/", "raw/") or (parts[0] == "cover" and suffix == "raw/"):
            raise not_found_html(path)
        link = data.projects[item["project"]]["link_name"]
        location = f"/project/{link}/{parts[0]}/{strip_msgid(item['msgid'])}/{suffix}"
        if request.query_string:
            location += f"?{request.query_string}"
        raise web.HTTPFound(location, content_type="text/html", text="")
    # /project/<link>/{patch,cover}/<msgid>/{mbox,raw}/
    if len(parts) == 5 and parts[0] == "project" and parts[2] in ("patch", "cover"):
        return _msgid_download(request, data, parts)
    if len(parts) == 3 and parts[0] == "series" and parts[2] == "mbox":
        series = _by_id(data.series, parts[1], path)
        name = filename(series["name"] or f"series-{series['id']}", ".patch")
        return _download(data.series_mbox(series["id"]), name, "text/plain")
    if len(parts) == 4 and parts[0] == "bundle" and parts[3] == "mbox":
        for bundle in data.bundles.values():
            if data.users[bundle["owner"]]["username"] == parts[1] and bundle["name"] == parts[2]:
                name = f"bundle-{bundle['id']}-{bundle['name']}.mbox"
                resp = _download(data.bundle_mbox(bundle["id"]), name, "text/plain")
                resp.headers["Vary"] = "Cookie"
                return resp
    raise not_found_html(path)


def _msgid_download(
    request: web.Request, data: PatchworkData, parts: list[str]
) -> web.StreamResponse:
    kind, what, path = parts[2], parts[4], request.path
    if kind == "patch":
        patch = _by_msgid(data, data.patches, parts, path)
        if what == "mbox":
            with_series = request.query.get("series") is not None
            return _download(
                data.patch_mbox(patch["id"], with_series),
                filename(patch["name"], ".patch"),
                "text/plain; charset=utf-8",
            )
        if what == "raw":
            return _download(
                data.patch_raw(patch["id"]), filename(patch["name"], ".diff"), "text/x-patch"
            )
    elif what == "mbox":
        cover = _by_msgid(data, data.covers, parts, path)
        return _download(
            data.cover_mbox(cover["id"]), filename(cover["name"], ".mbox"), "text/plain"
        )
    raise not_found_html(path)


# -- dispatch --------------------------------------------------------------------------------


async def _dispatch(request: web.Request) -> web.StreamResponse:
    state = request.app[SIM_STATE]
    state.requests.append((request.method, request.path_qs))
    for prefix, kind in list(state.faults.items()):
        if request.path.startswith(prefix):
            if kind == "hang":
                await asyncio.sleep(state.hang_seconds)
                return web.Response(status=504, text="hang fault")
            if kind == "slow":
                await asyncio.sleep(state.slow_seconds)
                break
            if kind == "garbage":
                return web.Response(body=b"<html>not json", content_type="application/json")
            if kind == "500":
                return web.Response(
                    status=500, text="<h1>Server Error (500)</h1>", content_type="text/html"
                )
            if kind == "404":
                return json_response({"detail": "Not found."}, status=404)
            return json_response({"detail": NO_PERMISSION}, status=403)
    path = request.path
    try:
        if request.method in ("GET", "HEAD") and not path.endswith("/"):
            location = path + "/" + (f"?{request.query_string}" if request.query_string else "")
            raise web.HTTPMovedPermanently(location, content_type="text/html", text="")
        if path == "/api" or path.startswith("/api/"):
            rest = path[len("/api/") :]
            head, _, tail = rest.partition("/")
            if head in VERSIONS:
                return await handle_api(request, state.data, tail, VERSIONS[head], f"/api/{head}")
            if head and head[0].isdigit():
                raise not_found_html(path)
            return await handle_api(request, state.data, rest, 13, "/api")
        return _web_routes(request, state, [p for p in path.split("/") if p])
    except ApiError as exc:
        if exc.html:
            return html_404(path)
        if exc.status == 500:
            return web.Response(
                status=500, text="<h1>Server Error (500)</h1>", content_type="text/html"
            )
        body = dict(exc.body) if isinstance(exc.body, dict) else exc.body
        headers = {}
        if isinstance(body, dict) and "_allow" in body:
            headers["Allow"] = body.pop("_allow")
        return json_response(body, status=exc.status, headers=headers)


def create_app(data: PatchworkData | None = None) -> web.Application:
    """The simulator as an aiohttp application; ``app[SIM_STATE]`` holds its state."""
    app = web.Application()
    app[SIM_STATE] = SimulatorState(data if data is not None else PatchworkData.from_seed())
    app.router.add_route("*", "/{tail:.*}", _dispatch)
    return app


# A running simulator of this kind (see adapters/simulator_common.py).
RunningSimulator = simulator_common.RunningSimulator[SimulatorState]


async def start_simulator(
    data: PatchworkData | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    latency_ms: float = 0.0,
) -> RunningSimulator:
    """Start the simulator on ``host:port`` (0: any free port); its URL has no trailing slash.
    ``latency_ms``: every API request is answered that late."""
    app = create_app(data)
    simulator_common.add_latency(app, latency_ms, API_PREFIX)
    return await simulator_common.serve(app, SIM_STATE, host, port)


def main(argv: Iterable[str] | None = None) -> None:
    """``python -m adapters.patchwork.simulator [--host H] [--port P] [--generated N]
    [--latency-ms N] [--demo]``."""
    parser = simulator_common.command_line("Patchwork 3.2.1 REST API simulator", 8800)
    parser.add_argument("--generated", type=int, default=0, help="add N generated patches")
    args = parser.parse_args(list(argv) if argv is not None else None)
    data = PatchworkData.generated(args.generated) if args.generated else PatchworkData.from_seed()
    if args.demo:
        from adapters.patchwork.simulator.demo import demo_data

        data = demo_data()
    app = create_app(data)
    simulator_common.run(app, args, API_PREFIX)
