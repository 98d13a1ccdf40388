"""A test double of abf-console-client (OpenMandriva's ``abf``, not on PyPI): its HTTP
behaviour and what its read commands and ``pullrequest`` print, reproduced from the
client's ``abf/api/jsn.py``, ``abf/model.py`` and ``abf.py`` (github.com/
OpenMandrivaSoftware/abf-console-client, master as of 2026).

What it keeps from the real client, because that is what breaks against a gateway:

- Basic auth with ``login:password`` on every request (a token as the login);
- ``ETag`` read from every 2xx answer, writes included (the client indexes
  ``headers.get_all('ETag')[0]`` and dies without one: ``MissingETagError`` here);
- a URL → ETag → body cache and ``If-None-Match`` on GETs, a 304 served from the cache;
- 401 → "Authorization failed" and exit; other errors → the body's ``message``/``error``
  mapped to the client's exception classes by exact text (unknown text: AbfApiException);
- the models' ``required_fields`` (a missing field is the client's traceback:
  ``MissingFieldError`` here).

Output is collected as lines (``print`` as is, log records as ``LEVEL: text``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx


class AbfApiError(Exception):
    """The client's AbfApiException (and the base of its other exceptions)."""


class AuthError(AbfApiError): ...


class RateLimitError(AbfApiError): ...


class PageNotFoundError(AbfApiError): ...


class NameTakenError(AbfApiError): ...


class InternalServerError(AbfApiError): ...


class ServerWorksError(AbfApiError): ...


class ForbiddenError(AbfApiError): ...


class BadRequestError(AbfApiError): ...


class MissingETagError(Exception):
    """A 2xx without ``ETag``: the real client's TypeError traceback."""


class MissingFieldError(Exception):
    """A model without one of its required fields: the real client's traceback."""


class Exit(Exception):
    """The client's exit(code)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


# abf/api/jsn.py AbfJson.errors: exact texts → exceptions.
ERRORS: dict[str, type[AbfApiError]] = {
    "Invalid email or password.": AuthError,
    "403 Forbidden | Rate Limit Exceeded": RateLimitError,
    "Page not found": PageNotFoundError,
    "Project has not been forked. Name has already been taken": NameTakenError,
    "Error 404. Resource not found!": PageNotFoundError,
    "Something went wrong. We've been notified about this issue and we'll take a look at it "
    "shortly.": InternalServerError,
    "Requires authentication": AuthError,
    "Forbidden. Sorry, you don't have enough rights for this action!": ForbiddenError,
    "Access violation to this page!": ForbiddenError,
    "Bad Request": BadRequestError,
}
GOOD_MESSAGES = ("Errors during build publishing!", "Build is queued for publishing")
FATAL = (AuthError, RateLimitError, InternalServerError, ServerWorksError)

# abf/model.py
STATUS_BY_ID = {
    0: "build complete",
    1: "platform not found",
    2: "platform pending",
    3: "project not found",
    4: "project version not found",
    666: "build error",
    2000: "build pending",
    3000: "build started",
    4000: "waiting for response",
    5000: "build canceled",
    6000: "build has been published",
    7000: "build is being published",
    8000: "publishing error",
    9000: "publishing rejected",
    10000: "build is canceling",
    11000: "tests failed",
    12000: "[testing] Build has been published",
    13000: "[testing] Build is being published",
    14000: "[testing] Publishing error",
}
CONTAINER_STATUS_BY_ID = {
    4000: "waiting for request for publishing container",
    6000: "container has been published",
    7000: "container is being published",
    8000: "publishing error",
}
PROJECT_FIELDS = [
    "id", "name", "fullname", "git_url", "created_at", "updated_at", "visibility", "ancestry",
    "default_branch", "is_package", "owner", "repositories", "owner_type", "maintainer",
    "project_statistics",
]  # fmt: skip
BUILD_LIST_JSON_FIELDS = [
    "id", "container_path", "status", "package_version", "project", "created_at",
    "updated_at", "build_for_platform", "save_to_repository", "arch", "extra_repositories",
    "commit_hash", "duration", "include_repos", "priority", "build_log_url", "mass_build",
    "logs", "container_status",
]  # fmt: skip
REPOSITORY_FIELDS = ["id", "name", "created_at", "updated_at", "description"]
REPOSITORY_FIELDS += ["publish_without_qa", "platform"]


def _require(kind: str, data: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    missing = [f for f in fields if f not in data]
    if missing:
        raise MissingFieldError(f"{kind}: {missing}")
    return data


def _when(stamp: Any) -> str:
    return str(datetime.fromtimestamp(float(stamp)))


def _repo(repo: dict[str, Any]) -> str:
    """Repository.__repr__: ``platform/name``."""
    return f"{repo['platform']['name']}/{repo['name']}"


class AbfConsole:
    """One configured client (``~/.abfcfg``: the API URL, login and password)."""

    def __init__(self, http: httpx.AsyncClient, abf_url: str, login: str, password: str = ""):
        self.http, self.abf_url = http, abf_url.rstrip("/")
        self.auth = httpx.BasicAuth(login, password)
        self.etags: dict[str, str] = {}  # url → ETag (beaker's abf_etags)
        self.bodies: dict[str, bytes] = {}  # ETag → body (beaker's abf_etag_data)
        self.revalidated = 0  # 304s served from the cache
        self.out: list[str] = []

    # -- abf/api/jsn.py ---------------------------------------------------------------

    async def get_url_contents(
        self, path: str, get: dict[str, Any] | None = None, post: Any = None, put: Any = None
    ) -> Any:
        url = self.abf_url + path
        if get:
            url += ("&" if "?" in url else "?") + urlencode(get)
        headers: dict[str, str] = {}
        etag = None
        if post is not None or put is not None:
            method, content = ("POST", post) if post is not None else ("PUT", put)
            headers["Content-Type"] = "application/json"
            body = json.dumps(content).encode()
        else:
            method, body = "GET", b""
            if url in self.etags and self.etags[url] in self.bodies:
                etag = self.etags[url]
                headers["If-None-Match"] = etag
        resp = await self.http.request(method, url, content=body, headers=headers, auth=self.auth)
        etag_new = None
        if 200 <= resp.status_code < 300:
            res = resp.content
            if "ETag" not in resp.headers:
                raise MissingETagError(f"{method} {url}: {resp.status_code} without ETag")
            etag_new = resp.headers["ETag"]
        elif resp.status_code == 304 and etag is not None:
            res = self.bodies[etag]
            self.revalidated += 1
        else:
            if resp.status_code == 401:
                self.log("ERROR", "Authorization failed. Incorrect username or password")
                raise Exit(0)
            if etag is not None:
                self.etags.pop(url, None)
                self.bodies.pop(etag, None)
            res = resp.content
        if etag_new:
            self.etags[url], self.bodies[etag_new] = etag_new, res
        return self.process_response(res)

    def process_response(self, raw: bytes) -> Any:
        try:
            res = json.loads(raw)
        except ValueError:
            self.log("ERROR", "Internal server error: it has returned non-json data. ")
            raise Exit(1) from None
        m = None
        if "message" in res and res["message"] not in GOOD_MESSAGES:
            m = res["message"]
        elif "repository" in res:
            inner = res["repository"]
            if "message" in inner and "error" in inner["message"]:
                m = inner["message"]
        elif "project" in res:
            inner = res["project"]
            if "message" in inner and (
                "error" in inner["message"] or "has not been" in inner["message"]
            ):
                m = inner["message"]
        if "error" in res:
            m = res["error"]
        if "Error" in res:
            m = res["Error"]
        if m:
            exception = ERRORS.get(m)
            if exception is None:
                self.log("ERROR", "Unknown server error: " + m)
                exception = AbfApiError
            if exception is BadRequestError:
                raise Exit(1)
            if exception in FATAL:
                raise Exit(2)
            raise exception(m)
        return res

    # -- output -----------------------------------------------------------------------

    def print(self, line: str) -> None:
        self.out.append(line)

    def log(self, level: str, text: str) -> None:
        self.out.append(f"{level}: {text}")

    async def run(self, command: str, *args: str) -> list[str]:
        """Run one command as ``abf <command> <args>``; its output lines, ``exit N`` last
        when it exits."""
        start = len(self.out)
        try:
            await getattr(self, "cmd_" + command.replace("-", "_"))(*args)
        except Exit as done:
            self.out.append(f"exit {done.code}")
        return self.out[start:]

    # -- abf/model.py -----------------------------------------------------------------

    async def project(self, key: str) -> dict[str, Any]:
        """Project.get_by_name through get_project()'s error handling."""
        owner, name = key.split("/")
        try:
            found = await self.get_url_contents(
                "/api/v1/projects/get_id.json", {"name": name, "owner": owner}
            )
            pid = int(found["project"]["id"])
            shown = await self.get_url_contents(f"/api/v1/projects/{pid}.json")
        except PageNotFoundError:
            self.log("ERROR", f"The project {owner}/{name} does not exist!")
            raise Exit(1) from None
        except ForbiddenError:
            self.log("ERROR", f"You do not have acces to the project {owner}/{name}!")
            raise Exit(1) from None
        project = dict(shown["project"])
        if "owner" in project:
            project["owner_type"] = project["owner"]["type"]
        return _require("Project", project, PROJECT_FIELDS)

    async def build_list(self, bid: int) -> dict[str, Any]:
        shown = await self.get_url_contents(f"/api/v1/build_lists/{bid}.json")
        bl = dict(_require("BuildList", shown["build_list"], BUILD_LIST_JSON_FIELDS))
        logs = bl["logs"]
        bl["log_url"] = logs[0]["url"] + ".log?show=True" if logs else ""
        bl["chroot_tree"] = ""
        for item in logs:
            if item["file_name"] == "chroot-tree.log":
                bl["chroot_tree"] = item["url"] + ".log?show=True"
        bl["status_string"] = STATUS_BY_ID[bl["status"]]
        bl["container_status_string"] = CONTAINER_STATUS_BY_ID[bl["container_status"]]
        return bl

    async def platforms_page(self) -> list[dict[str, Any]]:
        res = await self.get_url_contents("/api/v1/platforms.json", {"page": "1", "per_page": 100})
        return list(res["platforms"])

    async def repositories(self) -> list[dict[str, Any]]:
        """Repository.info: every listed platform's repositories, each read by id."""
        out = []
        for platform in await self.platforms_page():
            for repo in platform["repositories"]:
                shown = await self.get_url_contents(f"/api/v1/repositories/{int(repo['id'])}.json")
                out.append(_require("Repository", shown["repository"], REPOSITORY_FIELDS))
        return out

    # -- abf.py commands ---------------------------------------------------------------

    async def cmd_search(self, kind: str, query: str) -> None:
        res = await self.get_url_contents(
            "/api/v1/search.json", {"type": kind, "query": query, "per_page": 100}
        )
        for item in res["results"][kind]:
            if kind in ("users", "groups"):
                self.print(item["uname"])
            elif kind == "platforms":
                self.print(item["name"])
            else:  # Project.__repr__ of a search hit (no owner): its fullname
                self.print(item["fullname"])

    async def cmd_info(self, kind: str) -> None:
        """``abf info <type>`` with the default output field (``name``)."""
        if kind == "platforms":
            found = await self.platforms_page()
        elif kind == "repositories":
            found = await self.repositories()
        else:
            found = []
            for repo in await self.repositories():
                res = await self.get_url_contents(
                    f"/api/v1/repositories/{int(repo['id'])}/projects.json",
                    {"page": "1", "per_page": 100},
                )
                found += res["repository"]["projects"]
        for inst in found:
            self.print("name:\t" + str(inst["name"]))

    async def cmd_status(self, raw_id: str) -> None:
        """``abf status <id>`` (_print_build_status, long form)."""
        try:
            bl = await self.build_list(int(raw_id))
        except AbfApiError as ex:
            self.log("ERROR", f"Can not read buildlist {raw_id}: {ex}")
            raise Exit(3) from None
        rows = [
            ("Buildlist ID:", bl["id"]),
            ("Project:", bl["project"]["fullname"]),
            ("Status:", bl["status_string"]),
            ("Container path:", bl["container_path"]),
            ("Container status:", bl["container_status_string"]),
            ("Build for platform:", bl["build_for_platform"]["name"]),
            ("Save to repository:", _repo(bl["save_to_repository"])),
            ("Build repositories:", "[" + ", ".join(map(_repo, bl["include_repos"])) + "]"),
            ("Extra repositories:", "[" + ", ".join(map(_repo, bl["extra_repositories"])) + "]"),
            ("Architecture:", bl["arch"]["name"]),
            ("Created at:", _when(bl["created_at"])),
            ("Updated at:", _when(bl["updated_at"])),
            ("LOG Url:", bl["log_url"]),
        ]
        if bl["chroot_tree"]:
            rows.append(("Chroot Tree:", bl["chroot_tree"]))
        for label, value in rows:
            self.print(f"{label:<20}{value}")
        self.print("")

    async def cmd_show(self, kind: str, project: str = "") -> None:
        if kind == "project":
            p = await self.project(project)
            for name in PROJECT_FIELDS:
                value = p[name]
                if name in ("created_at", "updated_at"):
                    value = _when(value)
                elif name == "owner":
                    value = value["uname"]
                elif name == "repositories":
                    value = "[" + ", ".join(map(_repo, value)) + "]"
                self.print(f"{name}: {value}")
        elif kind == "buildlists":
            p = await self.project(project)
            res = await self.get_url_contents(
                f"/api/v1/projects/{int(p['id'])}/build_lists.json", {"page": 1, "per_page": 10}
            )
            for item in res["build_lists"]:
                bl = await self.build_list(int(item["id"]))
                arch, status = bl["arch"]["name"], bl["status_string"]
                self.print(f"{bl['id']} ({bl['project']['fullname']}:{arch} - {status})")
        elif kind in ("build-platforms", "build-repos"):
            res = await self.get_url_contents("/api/v1/platforms/platforms_for_build.json")
            names, repos = [], []
            for platform in res["platforms"]:
                if platform["repositories"]:
                    names.append(platform["name"])
                for repo in platform["repositories"]:
                    repos.append(f"{platform['name']}/{repo['name']}")
            self.print(" ".join(names if kind == "build-platforms" else repos))

    async def cmd_pullrequest(
        self, project: str, dest: str, title: str, body: str, to_ref: str, from_ref: str
    ) -> None:
        proj = await self.project(project)
        dest_proj = await self.project(dest)
        data = {"from_project_id": proj["id"], "title": title, "body": body}
        data |= {"to_ref": to_ref, "from_ref": from_ref}
        await self.get_url_contents(
            f"/api/v1/projects/{int(dest_proj['id'])}/pull_requests.json",
            post={"pull_request": data},
        )
        # The client logs success whatever the answer (a 422's message is nested in
        # `pull_request`, which process_response does not look at).
        self.log(
            "INFO", f"Pull request from {project}/{from_ref} to {dest}/{to_ref} has been sent."
        )
