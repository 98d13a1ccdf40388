"""A reference simulator of ABF's ``/api/v1`` pull request, project, user and group API.

Serves the documented shapes (``real=False``) or the real server's (``real=True``, the
default), switchable at run time through ``state.real``. Both modes share rosa-build's
behaviour: HTTP basic auth (a token as the login), ``{"<things>": […], "url": …}`` lists
paged by ``page``/``per_page`` (default 20, at most 100), an ``ETag`` on every 2xx and
``304`` for a matching ``If-None-Match``, write answers with 200 or 422, Devise's 401 body
and the API's 403 body. The group list is served at ``/groups/:id/pull_requests`` in real
mode and at the documented ``/group/:id/pull_requests`` in documented mode.

``python -m adapters.abf.simulator --port 8900 [--documented]``.
Credentials: see ``adapters/abf/simulator/seed/README.md``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from adapters import simulator_common
from adapters.abf.simulator import render
from adapters.abf.simulator.data import TOKEN, AbfData, Project, Pull, User

__all__ = ["SIM_STATE", "TOKEN", "AbfData", "RunningSimulator", "SimulatorState", "create_app"]

UNAUTHORIZED = "You need to sign in or sign up before continuing."
FORBIDDEN = "Access violation to this page!"
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100


@dataclass
class SimulatorState:
    """What a running simulator holds: its data, its mode, the request log and faults."""

    data: AbfData
    real: bool = True
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    faults: dict[str, int] = field(default_factory=dict)

    def fault(self, path_prefix: str, status: int) -> None:
        """Answer requests whose path starts with ``path_prefix`` with ``status``."""
        self.faults[path_prefix] = status


SIM_STATE = web.AppKey("SIM_STATE", SimulatorState)


class ApiError(Exception):
    """An error answer."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


NOT_FOUND = {"status": 404, "message": "Error 404. Resource not found!"}  # rosa-build's


def _not_found() -> ApiError:
    return ApiError(404, NOT_FOUND)


def _json(body: Any, status: int = 200, request: web.Request | None = None) -> web.Response:
    raw = orjson.dumps(body)
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if 200 <= status < 300:
        etag = 'W/"' + hashlib.md5(raw, usedforsecurity=False).hexdigest() + '"'
        headers["ETag"] = etag
        wanted = request.headers.get("If-None-Match", "") if request is not None else ""
        if etag in [t.strip() for t in wanted.split(",")]:
            return web.Response(status=304, headers={"ETag": etag})
    return web.Response(status=status, body=raw, headers=headers)


def _user(request: web.Request, data: AbfData) -> User:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            login, _, password = base64.b64decode(value).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            login = password = ""
        user = data.authenticate(login, password)
        if user is not None:
            return user
    raise ApiError(401, {"error": UNAUTHORIZED})


def _int(value: str) -> int:
    if not value.isdigit():
        raise _not_found()
    return int(value)


def _page(request: web.Request, items: list[Any]) -> list[Any]:
    page = request.query.get("page", "1")
    per = request.query.get("per_page", str(DEFAULT_PER_PAGE))
    page_n = max(1, int(page)) if page.isdigit() else 1
    per_n = min(MAX_PER_PAGE, max(1, int(per))) if per.isdigit() else DEFAULT_PER_PAGE
    return items[(page_n - 1) * per_n : page_n * per_n]


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, {"message": "Bad request"}) from None
    inner = body.get("pull_request") if isinstance(body, dict) else None
    return inner if isinstance(inner, dict) else {}


class Api:
    """One request's handling."""

    def __init__(self, request: web.Request, state: SimulatorState) -> None:
        self.request = request
        self.data = state.data
        self.real = state.real
        self._user: User | None = None

    @property
    def user(self) -> User:
        """The caller (Devise's 401 without one): asked only by routes that exist, so an
        unknown route is a 404 for anyone, as Rails routes before authenticating."""
        if self._user is None:
            self._user = _user(self.request, self.data)
        return self._user

    def project(self, raw: str) -> Project:
        p = self.data.projects.get(_int(raw))
        if p is None:
            raise _not_found()
        if not self.data.can_read(self.user, p):
            raise ApiError(403, {"message": FORBIDDEN})
        return p

    def pull(self, p: Project, raw: str) -> Pull:
        pull = self.data.pulls.get((p.id, _int(raw)))
        if pull is None:
            raise _not_found()
        return pull

    def pull_list(
        self, projects: set[int], url: str, *, user_wide: bool, authored: bool = False
    ) -> web.Response:
        query = dict(self.request.query)
        pulls = self.data.pull_list(
            self.user, projects, query, user_wide=user_wide, real=self.real, authored=authored
        )
        items = [render.pull_item(self.data, p, self.real) for p in _page(self.request, pulls)]
        return self.ok({"pull_requests": items, "url": url})

    def ok(self, body: Any, status: int = 200) -> web.Response:
        return _json(body, status, self.request)

    def route(self, method: str, parts: list[str]) -> web.Response:
        listed = self.catalogue(parts)
        if listed is not None:
            return listed
        data = self.data
        match (method, parts):
            case ("GET", ["pull_requests"]):
                scope = data.scoped_projects(self.user, "all")
                url = "/api/v1/pull_requests.json"
                return self.pull_list(scope, url, user_wide=True, authored=True)
            case ("GET", ["user", "pull_requests"]):
                scope = data.scoped_projects(self.user, "user")
                return self.pull_list(scope, "/api/v1/user/pull_requests.json", user_wide=True)
            case ("GET", [spelling, gid, "pull_requests"]) if spelling in ("groups", "group"):
                if (spelling == "groups") != self.real or _int(gid) not in data.groups:
                    raise _not_found()
                scope = data.scoped_projects(self.user, "group", int(gid))
                url = f"/api/v1/{spelling}/{gid}/pull_requests.json"
                return self.pull_list(scope, url, user_wide=True)
            case ("GET", ["user"]):
                return self.ok(render.user_detail(self.user))
            case ("GET", ["users", uid]):
                self.user  # noqa: B018 - authenticates
                found = data.users.get(_int(uid))
                if found is None:
                    raise _not_found()
                return self.ok(render.user_detail(found))
            case ("GET", ["groups", gid]):
                self.user  # noqa: B018 - authenticates
                if _int(gid) not in data.groups:
                    raise _not_found()
                return self.ok(render.group_detail(data, int(gid)))
            case ("GET", ["projects"]):
                visible = [p for p in data.projects.values() if data.can_read(self.user, p)]
                items = [render.project_inline(data, p, True) for p in _page(self.request, visible)]
                return self.ok({"projects": items, "url": "/api/v1/projects.json"})
            case ("GET", ["projects", "get_id"]):
                q = self.request.query
                found_p = data.find_project(q.get("name", ""), q.get("owner", ""))
                if found_p is None:
                    raise _not_found()
                return self.ok(render.project_get_id(data, self.project(str(found_p.id))))
            case ("GET", ["projects", pid]):
                return self.ok(render.project_detail(data, self.project(pid)))
            case ("GET", ["projects", pid, "pull_requests"]):
                p = self.project(pid)
                url = f"/api/v1/projects/{p.id}/pull_requests.json"
                return self.pull_list({p.id}, url, user_wide=False)
            case ("GET", ["projects", pid, "pull_requests", num]):
                p = self.project(pid)
                return self.ok(render.pull_detail(data, self.pull(p, num), self.real))
            case ("GET", ["projects", pid, "pull_requests", num, "commits"]):
                pull = self.pull(self.project(pid), num)
                items = [render.commit(c, self.real) for c in _page(self.request, pull.commits)]
                return self.ok({"commits": items, "url": self.request.path})
            case ("GET", ["projects", pid, "pull_requests", num, "files"]):
                pull = self.pull(self.project(pid), num)
                items = [render.file_change(f, self.real) for f in _page(self.request, pull.files)]
                return self.ok({"files": items, "url": self.request.path})
        raise _not_found()

    def catalogue(self, parts: list[str]) -> web.Response | None:
        """rosa-build's search, platforms, arches, repositories and build lists (what
        abf-console-client reads)."""
        data = self.data
        match parts:
            case ["search"]:
                self.user  # noqa: B018 - authenticates
                kind, query = self.request.query.get("type", "all"), self.request.query
                return self.ok(render.search(data, kind, query.get("query", ""), self.real))
            case ["platforms"]:
                self.user  # noqa: B018 - authenticates
                return self.ok(render.platform_list(data))
            case ["platforms", "platforms_for_build"]:
                self.user  # noqa: B018 - authenticates
                return self.ok(render.platforms_for_build())
            case ["platforms", pid]:
                self.user  # noqa: B018 - authenticates
                found = render.platform_detail(data, _int(pid))
                if found is None:
                    raise _not_found()
                return self.ok(found)
            case ["arches"]:
                self.user  # noqa: B018 - authenticates
                return self.ok(render.arches())
            case ["repositories", rid]:
                self.user  # noqa: B018 - authenticates
                repo = render.repository_detail(_int(rid))
                if repo is None:
                    raise _not_found()
                return self.ok(repo)
            case ["repositories", rid, "projects"]:
                if render.repository_detail(_int(rid)) is None:
                    raise _not_found()
                listed = [
                    p
                    for p in data.projects.values()
                    if int(rid) in render.project_repositories(p) and data.can_read(self.user, p)
                ]
                page = _page(self.request, listed)
                return self.ok(render.repository_projects(data, int(rid), page))
            case ["build_lists"]:
                return self.build_lists(None)
            case ["projects", pid, "build_lists"]:
                return self.build_lists(self.project(pid).id)
            case ["build_lists", bid]:
                bl = data.build_lists.get(_int(bid))
                if bl is None:
                    raise _not_found()
                self.project(str(bl.project))  # a hidden project's builds: 403
                return self.ok(render.build_list_detail(data, bl))
        return None

    def build_lists(self, project: int | None) -> web.Response:
        """rosa-build's ``BuildListsController#index``: build lists of readable projects,
        newest update first, filtered by ``filter[project_id|status|arch_id|ownership]``."""
        q, user = self.request.query, self.user
        found = [
            b
            for b in self.data.build_lists.values()
            if self.data.can_read(user, self.data.projects[b.project])
            and (project is None or b.project == project)
        ]
        for key, attr in (("project_id", "project"), ("status", "status"), ("arch_id", "arch_id")):
            wanted = q.get(f"filter[{key}]", "")
            if wanted:
                # A non-numeric filter matches nothing, as the SQL comparison does.
                found = [b for b in found if str(getattr(b, attr)) == wanted]
        if q.get("filter[ownership]") == "owned":
            found = [b for b in found if b.user == user.id]
        found.sort(key=lambda b: (b.updated_at, b.id), reverse=True)
        filters = {k[7:-1]: v for k, v in q.items() if k.startswith("filter[") and k[-1] == "]"}
        return self.ok(render.build_list_index(_page(self.request, found), filters))

    async def write(self, method: str, parts: list[str]) -> web.Response:
        data, user = self.data, self.user
        match (method, parts):
            case ("POST", ["projects", pid, "pull_requests"]):
                p = self.project(pid)
                created, message = data.create_pull(user, p, await _body(self.request))
                status = 200 if created else 422
                return self.ok(render.write_answer(created, message, self.real), status)
            case ("PUT", ["projects", pid, "pull_requests", num]):
                p = self.project(pid)
                pull = self.pull(p, num)
                if pull.owner != user.id and not data.is_member(user, p):
                    raise ApiError(403, {"message": FORBIDDEN})
                problem = data.update_pull(user, pull, await _body(self.request), real=self.real)
                if problem:
                    return self.ok(render.write_answer(None, problem, self.real), 422)
                message = "PullRequest has been updated successfully"
                return self.ok(render.write_answer(pull, message, self.real))
            case ("PUT", ["projects", pid, "pull_requests", num, "merge"]):
                p = self.project(pid)
                pull = self.pull(p, num)
                if not data.is_member(user, p):
                    raise ApiError(403, {"message": FORBIDDEN})
                await _body(self.request)
                if not data.merge_pull(user, pull):
                    answer = render.write_answer(None, "PullRequest has not been merged", self.real)
                    return self.ok(answer, 422)
                message = "PullRequest has been merged successfully"
                return self.ok(render.write_answer(pull, message, self.real))
        raise _not_found()


async def _dispatch(request: web.Request) -> web.StreamResponse:
    state = request.app[SIM_STATE]
    resp = await _handle(request, state)
    state.requests.append((request.method, request.path_qs, resp.status))
    return resp


async def _handle(request: web.Request, state: SimulatorState) -> web.StreamResponse:
    path = request.path
    for prefix, status in state.faults.items():
        if path.startswith(prefix):
            return web.Response(status=status, text="<h1>fault</h1>", content_type="text/html")
    if not (path.startswith("/api/v1/") and path.endswith(".json")):
        return web.Response(status=404, text="<h1>Not Found</h1>", content_type="text/html")
    parts = path[len("/api/v1/") : -len(".json")].split("/")
    try:
        api = Api(request, state)
        if request.method in ("GET", "HEAD"):
            return api.route("GET", parts)
        return await api.write(request.method, parts)
    except ApiError as exc:
        answer = _json(exc.body, exc.status)
        if exc.status == 401:  # Devise's HTTP basic challenge (its default realm)
            answer.headers["WWW-Authenticate"] = 'Basic realm="Application"'
        return answer
    # (unknown non-API paths keep the HTML page above; API 404s are rosa-build's JSON)


def create_app(data: AbfData | None = None, *, real: bool = True) -> web.Application:
    """The simulator as an aiohttp application; ``app[SIM_STATE]`` holds its state."""
    app = web.Application()
    app[SIM_STATE] = SimulatorState(data if data is not None else AbfData.from_seed(), real=real)
    app.router.add_route("*", "/{tail:.*}", _dispatch)
    return app


# A running simulator of this kind (see adapters/simulator_common.py).
RunningSimulator = simulator_common.RunningSimulator[SimulatorState]


async def start_simulator(
    data: AbfData | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    real: bool = True,
    latency_ms: float = 0.0,
) -> RunningSimulator:
    """Start the simulator on ``host:port`` (0: any free port); its URL has no trailing slash.
    ``latency_ms``: every API request is answered that late."""
    app = create_app(data, real=real)
    simulator_common.add_latency(app, latency_ms, "/api/")
    return await simulator_common.serve(app, SIM_STATE, host, port)


def main(argv: Iterable[str] | None = None) -> None:
    """``python -m adapters.abf.simulator [--host H] [--port P] [--documented]
    [--latency-ms N] [--demo]``."""
    parser = simulator_common.command_line("ABF /api/v1 simulator", 8900)
    parser.add_argument("--documented", action="store_true", help="the documented shapes")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.demo:
        from adapters.abf.simulator.demo import demo_data

        app = create_app(demo_data(), real=not args.documented)
    else:
        app = create_app(real=not args.documented)
    simulator_common.run(app, args, "/api/")
