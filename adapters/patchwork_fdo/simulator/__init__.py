"""A reference simulator of the freedesktop Patchwork REST API 1.0 (API revision 3).

Serves every documented entry point over ``FdoData`` with the fork's shapes: the
``{count, next, previous, results}`` envelope paged by ``page``/``perpage`` (20 by default,
at most 100; a page past the end is ``404 {"detail": "Invalid page."}``), the documented
filters, revision and patch mboxes with ``?link=``, and test results (POST creates, a later
POST with the same ``test_name`` updates). Errors are Django REST framework's bodies.

``python -m adapters.patchwork_fdo.simulator --port 8801 --generated 12`` serves it.
Credentials: token ``"fd" * 20`` or HTTP Basic ``ci:ci`` (a maintainer, person 21);
``"0e" * 20`` or ``guest:guest`` (no maintainer rights, person 1).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from adapters import simulator_common
from adapters.patchwork_fdo.simulator.data import (
    POST_STATES,
    TEST_STATES,
    FdoData,
    Record,
    parse_time,
)

__all__ = ["FDO_STATE", "FdoData", "RunningFdoSimulator", "create_app", "start_simulator"]

API_REVISION = 3
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100


@dataclass
class FdoSimState:
    """What a running simulator holds: its data, the request log and injected faults."""

    data: FdoData
    requests: list[tuple[str, str]] = field(default_factory=list)
    faults: dict[str, str] = field(default_factory=dict)

    def fault(self, path_prefix: str, kind: str) -> None:
        """Make requests under ``path_prefix`` fail: ``"500"`` or ``"garbage"`` (bad JSON)."""
        if kind not in ("500", "garbage"):
            raise ValueError(f"unknown fault kind {kind!r}")
        self.faults[path_prefix] = kind


FDO_STATE = web.AppKey("FDO_STATE", FdoSimState)


class ApiError(Exception):
    """An error answer with a DRF-style JSON body."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = body


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", charset=None
    )


def _not_found() -> ApiError:
    return ApiError(404, {"detail": "Not found."})


def _int(raw: str) -> int:
    if not raw.isdigit():
        raise _not_found()
    return int(raw)


def _user(request: web.Request, data: FdoData) -> Record | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if not header:
        return None
    for user in data.users:
        if scheme == "Token" and value == user["token"]:
            return user
        if scheme == "Basic":
            try:
                decoded = base64.b64decode(value, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                break
            if decoded == f"{user['username']}:{user['password']}":
                return user
    raise ApiError(401, {"detail": "Invalid username/password."})


class Call:
    """One API request: its query, the data and the helpers to answer it."""

    def __init__(self, request: web.Request, data: FdoData) -> None:
        self.request = request
        self.data = data
        self.query = request.query

    def date(self, key: str) -> datetime | None:
        raw = self.query.get(key)
        if raw is None or raw == "":
            return None
        try:
            return parse_time(raw)
        except ValueError:
            raise ApiError(400, {key: ["Enter a valid date/time."]}) from None

    def person(self, key: str, user: Record | None) -> int | str | None:
        raw = self.query.get(key)
        if raw is None or raw == "":
            return "any"
        if raw == "self" and key == "submitter":
            if user is None:
                raise ApiError(403, {"detail": "'self' needs an authenticated user."})
            return int(user["person"])
        if raw == "null" and key == "reviewer":
            return None
        if not raw.isdigit():
            raise ApiError(400, {key: ["Select a valid choice."]})
        return int(raw)

    def page(self, items: list[Record]) -> web.Response:
        """The envelope around one page of ``items``."""
        try:
            per_page = int(self.query.get("perpage", DEFAULT_PER_PAGE))
        except ValueError:
            per_page = DEFAULT_PER_PAGE
        per_page = max(1, min(per_page, MAX_PER_PAGE))
        try:
            page = int(self.query.get("page", 1))
        except ValueError:
            raise ApiError(404, {"detail": "Invalid page."}) from None
        pages = max(1, -(-len(items) // per_page))
        if not 1 <= page <= pages:
            raise ApiError(404, {"detail": "Invalid page."})
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(number: int) -> str:
            return str(self.request.url.update_query(page=str(number)))

        return _json(
            {
                "count": len(items),
                "next": link(page + 1) if page < pages else None,
                "previous": link(page - 1) if page > 1 else None,
                "results": chunk,
            }
        )


def _window(items: list[Record], call: Call, time_key: str, updated_key: str) -> list[Record]:
    for key, field_name, newer in (
        ("submitted_since", time_key, True),
        ("submitted_before", time_key, False),
        ("updated_since", updated_key, True),
        ("updated_before", updated_key, False),
    ):
        when = call.date(key)
        if when is not None:
            items = [
                i
                for i in items
                if (parse_time(i[field_name]) > when if newer else parse_time(i[field_name]) < when)
            ]
    return items


def _series_list(call: Call, project: Record | None, user: Record | None) -> web.Response:
    data = call.data
    # Filtered on the stored fields before rendering (each render rolls up test results):
    # the gateway asks one (project, submitter) at a time, so most series are never rendered.
    found = sorted(data.series.values(), key=lambda s: s["id"])
    if project is not None:
        found = [s for s in found if s["project"] == project["id"]]
    if (raw := call.query.get("project")) is not None:
        found = [s for s in found if str(s["project"]) == raw]
    if (name := call.query.get("name")) is not None:
        found = [s for s in found if s["name"] == name]
    submitter = call.person("submitter", user)
    if submitter != "any":
        found = [s for s in found if s["submitter"] == submitter]
    reviewer = call.person("reviewer", user)
    if reviewer != "any":
        found = [s for s in found if s["reviewer"] == reviewer]
    rows = _window([data.render_series(s) for s in found], call, "submitted", "last_updated")
    if (raw := call.query.get("test_state")) is not None:
        wanted = raw.split(",")
        bad = [w for w in wanted if w not in TEST_STATES and w != "null"]
        if bad:
            raise ApiError(400, {"test_state": [f"Select a valid choice. {bad[0]} is not one."]})
        rows = [r for r in rows if (r["test_state"] or "null") in wanted]
    return call.page(rows)


def _patch_list(call: Call, project: Record | None, user: Record | None) -> web.Response:
    rows = sorted(call.data.patches.values(), key=lambda p: p["id"])
    if project is not None:
        rows = [p for p in rows if p["project"] == project["id"]]
    if (raw := call.query.get("project")) is not None:
        rows = [p for p in rows if str(p["project"]) == raw]
    if (name := call.query.get("name")) is not None:
        rows = [p for p in rows if p["name"] == name]
    submitter = call.person("submitter", user)
    if submitter != "any":
        rows = [p for p in rows if p["submitter"] == submitter]
    return call.page(_window(rows, call, "date", "last_updated"))


def _events(call: Call, project: Record) -> web.Response:
    rows = [e for e in call.data.events if e["project"] == project["id"]]
    since = call.date("since")
    if since is not None:
        rows = [e for e in rows if parse_time(e["event_time"]) > since]
    if (names := call.query.get("name")) is not None:
        wanted = set(names.split(","))
        rows = [e for e in rows if e["name"] in wanted]
    for key in ("series", "patch"):
        if (raw := call.query.get(key)) is not None:
            rows = [e for e in rows if str(e[key]) == raw]
    rows = sorted(rows, key=lambda e: e["event_time"])
    return call.page([call.data.render_event(e) for e in rows])


def _download(text: str, name: str) -> web.Response:
    resp = web.Response(text=text, content_type="text/plain")
    resp.headers["Content-Disposition"] = f"attachment; filename={name}"
    return resp


async def _post_result(call: Call, series: Record, revision: Record, user: Record | None) -> Any:
    if user is None:
        raise ApiError(401, {"detail": "Authentication credentials were not provided."})
    if not user["maintainer"]:
        raise ApiError(403, {"detail": "You do not have permission to perform this action."})
    try:
        body = orjson.loads(await call.request.read())
    except orjson.JSONDecodeError:
        raise ApiError(400, {"detail": "JSON parse error."}) from None
    if not isinstance(body, dict):
        raise ApiError(400, {"non_field_errors": ["Invalid data."]})
    errors: dict[str, list[str]] = {}
    name, state = body.get("test_name"), body.get("state")
    if not isinstance(name, str) or not name.strip():
        errors["test_name"] = ["This field is required."]
    if state not in POST_STATES:
        errors["state"] = [f'"{state}" is not a valid choice.']
    for key in ("url", "summary"):
        if body.get(key) is not None and not isinstance(body[key], str):
            errors[key] = ["Not a valid string."]
    if errors:
        raise ApiError(400, errors)
    results = revision.setdefault("test_results", [])
    result = next((r for r in results if r["test_name"] == name), None)
    created = result is None
    if result is None:
        result = {"test_name": name}
        results.append(result)
    result.update(
        date=call.data.now(),
        state=state,
        url=body.get("url", result.get("url")),
        summary=body.get("summary", result.get("summary")),
    )
    series["last_updated"] = result["date"]
    return _json(dict(sorted(result.items())), status=201 if created else 200)


def _only(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise ApiError(405, {"detail": f'Method "{method}" not allowed.'})


async def _api(request: web.Request, state: FdoSimState, parts: list[str]) -> web.StreamResponse:
    call = Call(request, state.data)
    user = _user(request, state.data)
    if not parts:
        _only(request.method, "GET")
        return _json({"revision": API_REVISION})
    head, rest = parts[0], parts[1:]
    if head == "projects":
        _only(request.method, "GET")
        return _projects(call, rest, user)
    if head == "series":
        return await _series(call, rest, user)
    if head == "patches":
        _only(request.method, "GET")
        return _patches(call, rest, user)
    raise _not_found()


def _projects(call: Call, rest: list[str], user: Record | None) -> web.StreamResponse:
    data = call.data
    if not rest:
        return call.page(sorted(data.projects, key=lambda p: p["id"]))
    project = data.project(rest[0])
    if project is None:
        raise _not_found()
    sub: dict[str, Callable[[], web.Response]] = {
        "": lambda: _json(project),
        "series": lambda: _series_list(call, project, user),
        "patches": lambda: _patch_list(call, project, user),
        "events": lambda: _events(call, project),
    }
    key = rest[1] if len(rest) > 1 else ""
    if len(rest) > 2 or key not in sub:
        raise _not_found()
    return sub[key]()


async def _series(call: Call, rest: list[str], user: Record | None) -> web.StreamResponse:
    data, method = call.data, call.request.method
    if not rest:
        _only(method, "GET")
        return _series_list(call, None, user)
    series = data.series.get(_int(rest[0]))
    if series is None:
        raise _not_found()
    if len(rest) == 1:
        _only(method, "GET")
        return _json(data.render_series(series))
    if rest[1] != "revisions":
        raise _not_found()
    if len(rest) == 2:
        _only(method, "GET")
        return call.page([data.render_revision(r) for r in series["revisions"]])
    return await _revision(call, series, rest[2:], user)


async def _revision(
    call: Call, series: Record, rest: list[str], user: Record | None
) -> web.StreamResponse:
    data, request, method = call.data, call.request, call.request.method
    revision = data.revision(series, _int(rest[0]))
    if revision is None:
        raise _not_found()
    what = rest[1] if len(rest) > 1 else ""
    if len(rest) > 2 or what not in ("", "mbox", "test-results"):
        raise _not_found()
    if what == "":
        _only(method, "GET")
        return _json(data.render_revision(revision))
    if what == "mbox":
        _only(method, "GET")
        base = str(request.url.origin())
        text = data.mbox(revision["patches"], request.query.get("link"), base)
        return _download(text, f"series-{series['id']}-v{revision['version']}.mbox")
    _only(method, "GET", "POST")
    if method == "POST":
        response: web.StreamResponse = await _post_result(call, series, revision, user)
        return response
    results = sorted(revision.get("test_results", []), key=lambda r: r["date"])
    return _json([dict(sorted(r.items())) for r in results])


def _patches(call: Call, rest: list[str], user: Record | None) -> web.StreamResponse:
    data, request = call.data, call.request
    if not rest:
        return _patch_list(call, None, user)
    patch = data.patches.get(_int(rest[0]))
    if patch is None or len(rest) > 2 or (len(rest) == 2 and rest[1] != "mbox"):
        raise _not_found()
    if len(rest) == 2:
        text = data.mbox([patch["id"]], request.query.get("link"), str(request.url.origin()))
        return _download(text, f"{patch['id']}.patch")
    return _json(patch)


async def _dispatch(request: web.Request) -> web.StreamResponse:
    state = request.app[FDO_STATE]
    state.requests.append((request.method, request.path_qs))
    for prefix, kind in state.faults.items():
        if request.path.startswith(prefix):
            if kind == "garbage":
                return web.Response(body=b"<html>not json", content_type="application/json")
            return web.Response(status=500, text="<h1>Server Error (500)</h1>")
    path = request.path
    if not path.startswith("/api/1.0/"):
        return web.Response(status=404, text="<h1>Not Found</h1>", content_type="text/html")
    if request.method == "GET" and not path.endswith("/"):
        location = path + "/" + (f"?{request.query_string}" if request.query_string else "")
        raise web.HTTPMovedPermanently(location)
    parts = [p for p in path[len("/api/1.0/") :].split("/") if p]
    try:
        return await _api(request, state, parts)
    except ApiError as exc:
        answer = _json(exc.body, status=exc.status)
        if exc.status == 401:  # DRF's BasicAuthentication.authenticate_header
            answer.headers["WWW-Authenticate"] = 'Basic realm="api"'
        return answer


def create_app(data: FdoData | None = None) -> web.Application:
    """The simulator as an aiohttp application; ``app[FDO_STATE]`` holds its state."""
    app = web.Application()
    app[FDO_STATE] = FdoSimState(data if data is not None else FdoData.generated())
    app.router.add_route("*", "/{tail:.*}", _dispatch)
    return app


# A running simulator of this kind (see adapters/simulator_common.py).
RunningFdoSimulator = simulator_common.RunningSimulator[FdoSimState]


async def start_simulator(
    data: FdoData | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    latency_ms: float = 0.0,
) -> RunningFdoSimulator:
    """Start the simulator on ``host:port`` (0: any free port); its URL has no trailing slash.
    ``latency_ms``: every API request is answered that late."""
    app = create_app(data)
    simulator_common.add_latency(app, latency_ms, "/api/")
    return await simulator_common.serve(app, FDO_STATE, host, port)


def main(argv: Iterable[str] | None = None) -> None:
    """``python -m adapters.patchwork_fdo.simulator [--host H] [--port P] [--generated N]
    [--latency-ms N] [--demo]``."""
    parser = simulator_common.command_line("freedesktop Patchwork API 1.0 simulator", 8801)
    parser.add_argument("--generated", type=int, default=12, help="generated series to add")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.demo:
        from adapters.patchwork_fdo.simulator.demo import demo_data

        app = create_app(demo_data(generated=args.generated))
    else:
        app = create_app(FdoData.generated(args.generated))
    simulator_common.run(app, args, "/api/")
