"""The ABF simulator's JSON bodies, in the documented shapes or the real server's.

``real=False`` renders what ABF's document shows (numbers and timestamps as strings,
``"true"``, ``null`` for empty optional fields, rich inline projects, write answers with
``number``); ``real=True`` renders what rosa-build's jbuilder views send (integers and
booleans, empty optional fields left out, ``type`` on people, write answers with the database
``id``). See ``adapters/abf/mapping.py`` for the table.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from adapters.abf.simulator.data import (
    BASE_TIME,
    CLOSED_STATES,
    AbfData,
    BuildList,
    Project,
    Pull,
    User,
    sha,
)


def _n(value: int | None, real: bool) -> int | str | None:
    if value is None:
        return None
    return value if real else str(value)


def member(data: AbfData, user: User, real: bool, email: bool = False) -> dict[str, Any]:
    """A person inline (owner, assignee, maintainer)."""
    out: dict[str, Any] = {"id": user.id, "name": user.name, "uname": user.uname}
    if real:
        out["type"] = "User"
    out["url"] = f"/api/v1/users/{user.id}.json"
    if email:
        out["email"] = user.email
    return out


def project_inline(data: AbfData, p: Project, real: bool) -> dict[str, Any]:
    """A project inside a ref (``api/v1/projects/_project`` on the real server)."""
    fullname = data.fullname(p)
    out: dict[str, Any] = {
        "id": p.id,
        "name": p.name,
        "fullname": fullname,
        "url": f"/api/v1/projects/{p.id}.json",
        "git_url": f"https://abf.example/{fullname}.git",
    }
    if not real:
        out["visibility"] = p.visibility
        out["ssh_url"] = f"git@abf.example:{fullname}.git"
        out["maintainer"] = member(data, data.users[p.maintainer], real, email=True)
    return out


def pull_item(data: AbfData, pull: Pull, real: bool) -> dict[str, Any]:
    """A list item (``api/v1/pull_requests/_pull``)."""
    to_p, from_p = data.projects[pull.project], data.projects[pull.from_project]
    out: dict[str, Any] = {
        "number": _n(pull.number, real),
        "title": pull.title,
        "to_ref": {
            "ref": pull.to_ref,
            "sha": to_p.refs.get(pull.to_ref),
            "project": project_inline(data, to_p, real),
        },
        "from_ref": {
            "ref": pull.from_ref,
            "sha": from_p.refs.get(pull.from_ref),
            "project": project_inline(data, from_p, real),
        },
        "status": pull.status,
        "owner": member(data, data.users[pull.owner], real),
    }
    if pull.assignee is not None:
        out["assignee"] = member(data, data.users[pull.assignee], real)
    elif not real:
        out["assignee"] = None
    mergeable = pull.status == "ready"
    out["mergeable"] = mergeable if real else str(mergeable).lower()
    merged_at = pull.closed_at if pull.status == "merged" else None
    if merged_at is not None or not real:
        out["merged_at"] = _n(merged_at, real)
    # The real server builds this URL from the database id, not the number.
    out["url"] = f"/api/v1/projects/{pull.project}/pull_requests/" + (
        f"{pull.db_id}.json" if real else f"{pull.number}.json"
    )
    return out


def pull_detail(data: AbfData, pull: Pull, real: bool) -> dict[str, Any]:
    """``GET /projects/:id/pull_requests/:number``."""
    out = pull_item(data, pull, real)
    out["body"] = pull.body
    closed = pull.status in CLOSED_STATES
    if closed or not real:
        out["closed_at"] = _n(pull.closed_at if closed else None, real)
    closer = data.users[pull.closer] if pull.closer else None
    short = {"id": closer.id, "name": closer.name, "uname": closer.uname} if closer else None
    if not real:
        short = {**short, "url": f"/api/v1/users/{closer.id}.json"} if short and closer else None
    if short is not None or not real:
        out["closed_by"] = short
    merged_by = short if pull.status == "merged" else None
    if merged_by is not None or not real:
        out["merged_by"] = merged_by
    out["created_at"] = _n(pull.created_at, real)
    out["updated_at"] = _n(pull.updated_at, real)
    return {"pull_request": out}


def commit(item: dict[str, Any], real: bool) -> dict[str, Any]:
    """A commit; stored in the documented shape, dates become integers for ``real``."""
    if not real:
        return item
    out = dict(item)
    for who in ("author", "committer"):
        out[who] = {**item[who], "date": int(item[who]["date"])}
    return out


def file_change(item: dict[str, Any], real: bool) -> dict[str, Any]:
    """A changed file; counts become integers for ``real``."""
    if not real:
        return item
    return {**item, **{k: int(item[k]) for k in ("additions", "deletions", "changes")}}


def write_answer(pull: Pull | None, message: str, real: bool) -> dict[str, Any]:
    """A create/update/merge answer."""
    if real:
        return {"pull_request": {"id": pull.db_id if pull else None, "message": message}}
    return {"pull_request": {"number": pull.number if pull else None, "message": message}}


def project_detail(data: AbfData, p: Project) -> dict[str, Any]:
    """``GET /projects/:id`` (``api/v1/projects/show``)."""
    out = project_inline(data, p, real=True)
    owner: dict[str, Any]
    if p.owner_type == "User":
        u = data.users[p.owner_id]
        owner = {"id": u.id, "name": u.name, "uname": u.uname, "type": "User"}
        owner["url"] = f"/api/v1/users/{u.id}.json"
    else:
        g = data.groups[p.owner_id]
        owner = {"id": g.id, "name": g.uname, "uname": g.uname, "type": "Group"}
        owner["url"] = f"/api/v1/groups/{g.id}.json"
    out.update(
        {
            "visibility": p.visibility,
            "description": p.description,
            "ancestry": None,
            "has_issues": True,
            "has_wiki": False,
            "default_branch": "master",
            "is_package": True,
            "average_build_time": 0,
            "publish_i686_into_x86_64": False,
            "created_at": p.created_at,
            "updated_at": p.created_at,
            "owner": owner,
            "maintainer": member(data, data.users[p.maintainer], real=True),
            "repositories": [
                {**_repository_short(r), "platform": _platform_short(r // 10)}
                for r in project_repositories(p)
            ],
            # per arch (api/v1/projects/show.json.jbuilder); abf-console-client reads it
            "project_statistics": [
                {"arch_id": a["id"], "average_build_time": 0, "build_count": 0} for a in ARCHES
            ],
        }
    )
    return {"project": out}


def project_get_id(data: AbfData, p: Project) -> dict[str, Any]:
    """``GET /projects/get_id?name=&owner=``."""
    owner_name = data.fullname(p).split("/")[0]
    return {
        "project": {
            "id": p.id,
            "name": p.name,
            "visibility": p.visibility,
            "owner": {
                "id": p.owner_id,
                "name": owner_name,
                "type": p.owner_type,
                "url": f"/{owner_name}",
            },
            "url": f"/api/v1/projects/{p.id}.json",
        }
    }


def user_detail(u: User) -> dict[str, Any]:
    """``GET /users/:id`` and ``GET /user``."""
    return {
        "user": {
            "id": u.id,
            "name": u.name,
            "email": u.email,
            "uname": u.uname,
            "language": "en",
            "own_projects_count": 0,
            "professional_experience": None,
            "site": None,
            "company": None,
            "location": None,
            "build_priority": 50,
            "created_at": u.created_at,
            "updated_at": u.created_at,
            "avatar_url": f"https://abf.example/avatars/{u.id}.png",
            "url": f"/api/v1/users/{u.id}.json",
            "html_url": f"/{u.uname}",
        }
    }


def group_detail(data: AbfData, group_id: int) -> dict[str, Any]:
    """``GET /groups/:id``."""
    g = data.groups[group_id]
    count = sum(1 for p in data.projects.values() if p.owner_type == "Group" and p.owner_id == g.id)
    return {
        "group": {
            "id": g.id,
            "uname": g.uname,
            "own_projects_count": count,
            "description": g.description,
            "created_at": g.created_at,
            "updated_at": g.created_at,
            "owner": member(data, data.users[g.owner], real=True),
            "avatar_url": f"https://abf.example/avatars/g{g.id}.png",
            "url": f"/api/v1/groups/{g.id}.json",
            "html_url": f"/groups/{g.uname}",
        }
    }


# The build targets a small ABF instance has (static: the simulator builds nothing).
ARCHES = [{"id": 1, "name": "i686"}, {"id": 2, "name": "x86_64"}, {"id": 3, "name": "aarch64"}]
PLATFORMS = [
    (1, "cooker", "main", "Development tree", ("main", "contrib", "non-free")),
    (2, "rock", "main", "Stable release", ("main", "contrib")),
    (3, "personal", "personal", "Personal repositories", ("main",)),
]


def _platform(platform_id: int) -> dict[str, Any]:
    pid, name, kind, description, repos = next(p for p in PLATFORMS if p[0] == platform_id)
    return {
        "id": pid,
        "name": name,
        "platform_type": kind,
        "visibility": "open",
        "description": description,
        "repositories": [
            {"id": pid * 10 + i, "name": r, "url": f"/api/v1/repositories/{pid * 10 + i}.json"}
            for i, r in enumerate(repos)
        ],
        "url": f"/api/v1/platforms/{pid}.json",
    }


def platform_list(data: AbfData) -> dict[str, Any]:
    """``GET /platforms`` (``api/v1/platforms/index``)."""
    return {"platforms": [_platform(p[0]) for p in PLATFORMS], "url": "/api/v1/platforms.json"}


def platform_detail(data: AbfData, platform_id: int) -> dict[str, Any] | None:
    """``GET /platforms/:id`` (``api/v1/platforms/show``: the fields abf-console-client's
    Platform model requires); None when there is none."""
    if not any(p[0] == platform_id for p in PLATFORMS):
        return None
    out = _platform(platform_id)
    owner = data.groups[3]
    out.update(
        {
            "parent_platform_id": None,
            "created_at": BASE_TIME - 86400 * 500,
            "updated_at": BASE_TIME - 86400 * 500,
            "released": out["platform_type"] == "main" and out["name"] != "cooker",
            "distrib_type": "mdv",
            "owner": {
                "id": owner.id,
                "name": owner.uname,
                "type": "Group",
                "url": f"/api/v1/groups/{owner.id}.json",
            },
        }
    )
    return {"platform": out}


def platforms_for_build() -> dict[str, Any]:
    """``GET /platforms/platforms_for_build`` (main platforms: what one may build for)."""
    found = [_platform(p[0]) for p in PLATFORMS if p[2] == "main"]
    return {"platforms": found, "url": "/api/v1/platforms/platforms_for_build.json"}


def _repository_ref(repo_id: int) -> tuple[int, str] | None:
    """(platform id, repository name) of a repository id, or None."""
    for pid, _name, _kind, _description, repos in PLATFORMS:
        if pid * 10 <= repo_id < pid * 10 + len(repos):
            return pid, repos[repo_id - pid * 10]
    return None


def _platform_short(platform_id: int) -> dict[str, Any]:
    name = next(p[1] for p in PLATFORMS if p[0] == platform_id)
    return {"id": platform_id, "name": name, "url": f"/api/v1/platforms/{platform_id}.json"}


def _repository_short(repo_id: int) -> dict[str, Any]:
    ref = _repository_ref(repo_id)
    assert ref is not None
    return {"id": repo_id, "name": ref[1], "url": f"/api/v1/repositories/{repo_id}.json"}


def repository_detail(repo_id: int) -> dict[str, Any] | None:
    """``GET /repositories/:id`` (``api/v1/repositories/show``); None when there is none."""
    ref = _repository_ref(repo_id)
    if ref is None:
        return None
    pid, name = ref
    out = _repository_short(repo_id)
    out.update(
        {
            "description": f"{name} of {_platform_short(pid)['name']}",
            "publish_without_qa": name != "main",
            "created_at": BASE_TIME - 86400 * 500,
            "updated_at": BASE_TIME - 86400 * 500,
            "platform": _platform_short(pid),
        }
    )
    return {"repository": out}


def project_repositories(p: Project) -> list[int]:
    """The repositories a project is in: open packages in both main platforms' ``main``,
    the kernel in cooker's ``contrib``, a hidden project in its owner's personal one."""
    if p.visibility != "open":
        return [30]
    return [11] if p.name == "kernel" else [10, 20]


def repository_projects(data: AbfData, repo_id: int, page: list[Project]) -> Any:
    """``GET /repositories/:id/projects`` (``api/v1/repositories/projects``)."""
    return {
        "repository": {
            **_repository_short(repo_id),
            "projects": [project_inline(data, p, real=True) for p in page],
        },
        "url": f"/api/v1/repositories/{repo_id}/projects.json",
    }


def build_list_item(bl: BuildList) -> dict[str, Any]:
    """A list item (``api/v1/build_lists/index``)."""
    return {"id": bl.id, "status": bl.status, "url": f"/api/v1/build_lists/{bl.id}.json"}


def build_list_index(items: list[BuildList], filters: dict[str, str]) -> dict[str, Any]:
    """``GET /build_lists`` and ``/projects/:id/build_lists``; rosa-build's list URL keeps
    only the ``filter[…]`` parameters (Rails' ``to_query``: sorted, brackets escaped)."""
    query = urlencode(sorted((f"filter[{k}]", v) for k, v in filters.items()))
    url = "/api/v1/build_lists.json" + (f"?{query}" if query else "")
    return {"build_lists": [build_list_item(b) for b in items], "url": url}


def build_list_detail(data: AbfData, bl: BuildList) -> dict[str, Any]:
    """``GET /build_lists/:id`` (``api/v1/build_lists/show``, new core)."""
    p = data.projects[bl.project]
    published = bl.status == 6000
    arch = next(a for a in ARCHES if a["id"] == bl.arch_id)
    repo = _repository_short(bl.repository_id)
    repo["platform"] = _platform_short(bl.platform_id)
    logs = []
    if bl.status not in (2000, 3000):
        logs = [
            {
                "file_name": name,
                "size": 1024 + 17 * bl.id,
                "url": f"https://file-store.abf.example/api/v1/file_stores/{sha(bl.id, name)}",
            }
            for name in ("build.log", "chroot-tree.log")
        ]
    return {
        "build_list": {
            "id": bl.id,
            "container_status": 6000 if published else 4000,
            "status": bl.status,
            "duration": bl.duration,
            "update_type": bl.update_type,
            "priority": bl.priority,
            "new_core": True,
            "advisory": None,
            "mass_build": None,
            "auto_publish": True,
            "package_version": f"{p.name}-1.0-{bl.id}",
            "commit_hash": bl.commit_hash,
            "last_published_commit_hash": None,
            "auto_create_container": False,
            "build_log_url": f"/build_lists/{bl.id}/log",
            "container_path": f"/{data.fullname(p)}/container/{bl.id}" if published else "",
            "arch": dict(arch),
            "created_at": bl.created_at,
            "updated_at": bl.updated_at,
            "project": project_inline(data, p, real=True),
            "save_to_repository": repo,
            "build_for_platform": _platform_short(bl.platform_id),
            "user": member(data, data.users[bl.user], real=True),
            "include_repos": [
                {**_repository_short(r), "platform": _platform_short(bl.platform_id)}
                for r in bl.include_repos
            ],
            "extra_repositories": [],
            "extra_build_lists": [],
            "extra_params": {},
            "logs": logs,
            "packages": [],
            "url": f"/api/v1/build_lists/{bl.id}.json",
        }
    }


def arches() -> dict[str, Any]:
    """``GET /arches`` (``api/v1/arches/index``)."""
    return {"architectures": ARCHES, "url": "/api/v1/arches.json"}


def search(data: AbfData, kind: str, query: str, real: bool) -> dict[str, Any]:
    """``GET /search?type=&query=`` (``api/v1/search``): names containing ``query``."""
    q = query.lower()
    results: dict[str, Any] = {}
    if kind in ("all", "users"):
        users = [u for u in data.users.values() if q in u.uname.lower() or q in u.name.lower()]
        results["users"] = [member(data, u, real) for u in users]
    if kind in ("all", "groups"):
        results["groups"] = [
            {"id": g.id, "uname": g.uname, "url": f"/api/v1/groups/{g.id}.json"}
            for g in data.groups.values()
            if q in g.uname.lower()
        ]
    if kind in ("all", "projects"):
        found = [p for p in data.projects.values() if p.visibility == "open"]
        results["projects"] = [project_inline(data, p, real) for p in found if q in p.name.lower()]
    if kind in ("all", "platforms"):
        results["platforms"] = [_platform(p[0]) for p in PLATFORMS if q in p[1]]
    return {"results": results, "url": "/api/v1/search.json"}
