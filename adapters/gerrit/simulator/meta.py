"""The simulator's endpoints outside changes: server config, accounts, groups, project
branches and descriptions — what real clients (pygerrit2, python-gerrit-api, git-review) call
besides changes, in Gerrit 3.x's JSON shapes.

Shapes follow the Gerrit 2.x/3.x captures in ``/work/shared/recordings/gerrit-2.x-captures``
(``config/parsers/serverinfo.json``, ``accounts/``, ``groups/``, ``projects/branches.json``):
AccountInfo, AccountDetailInfo (``registered_on``), EmailInfo, GroupInfo (``url``,
``options``, ``group_id``, ``owner``, ``owner_id``), BranchInfo, ServerInfo.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web

from adapters.gerrit.simulator.api import Api, ApiError, json_body
from adapters.gerrit.simulator.data import Json, fake_sha, ts

SERVER_VERSION = "3.9.1"
SUGGEST_LIMIT = 10  # Gerrit's default ``n`` for account suggestions
REGISTERED = datetime(2013, 2, 1, 9, 59, 32, 126000, tzinfo=UTC)


def route(api: Api, parts: list[str], trailing: bool) -> web.StreamResponse | None:
    """The answer for a config/accounts/groups/branches path, ``None`` when not one."""
    if api.request.method != "GET":
        return None
    head, rest = parts[0], parts[1:]
    if head == "config":
        return _config(api, rest)
    if head == "accounts":
        if not rest:
            return _accounts_query(api)
        return _account_route(api, rest)
    if head == "groups":
        if not rest:
            return _groups_list(api)
        return _group_route(api, rest)
    if head == "projects" and len(parts) >= 3:
        return _project_route(api, parts[1], parts[2:])
    return None


def _bool_param(api: Api, name: str) -> bool:
    """A boolean option: present and not ``0``/``false`` (args4j's reading)."""
    value = api.request.query.get(name)
    return value is not None and value.lower() not in ("0", "false")


def _int_param(api: Api, *names: str, default: int = 0) -> int:
    for name in names:
        value = api.request.query.get(name)
        if value:
            try:
                return int(value)
            except ValueError:
                raise ApiError(400, f'"{value}" is not a valid value for "{name}"') from None
    return default


# -- config ------------------------------------------------------------------------------


def _config(api: Api, rest: list[str]) -> web.Response | None:
    if rest == ["server", "version"]:
        return json_body(SERVER_VERSION)  # what readiness probes ask
    if rest == ["server", "info"]:
        return json_body(server_info(api.render.base_url))
    return None


def server_info(base: str) -> Json:
    """ServerInfo as a 3.x server with HTTP auth answers (recorded ``serverinfo.json``)."""
    hook = f"curl -Lo `git rev-parse --git-dir`/hooks/commit-msg {base}/tools/hooks/commit-msg"

    def scheme(url: str, auth: bool) -> Json:
        out: Json = {"url": url}
        if auth:
            out |= {"is_auth_required": True, "is_auth_supported": True}
        clone = f'git clone "{url}"'
        out["commands"] = {}
        out["clone_commands"] = {
            "Clone with commit-msg hook": f'{clone} && (cd "${{project-base-name}}" && {hook})',
            "Clone": clone,
        }
        return out

    return {
        "accounts": {"visibility": "ALL", "default_display_name": "FULL_NAME"},
        "auth": {
            "auth_type": "HTTP",
            "editable_account_fields": ["FULL_NAME", "REGISTER_NEW_EMAIL"],
            "git_basic_auth_policy": "HTTP",
        },
        "change": {
            "allow_blame": True,
            "update_delay": 300,
            "mergeability_computation_behavior": "NEVER",
            "enable_attention_set": True,
        },
        "download": {
            "schemes": {
                "anonymous http": scheme(f"{base}/${{project}}", False),
                "http": scheme(f"{base}/a/${{project}}", True),
            },
            "archives": ["tgz", "tar", "tbz2", "txz"],
        },
        "gerrit": {"all_projects": "All-Projects", "all_users": "All-Users", "doc_search": True},
        "note_db_enabled": True,
        "sshd": {},
        "suggest": {"from": 0},
        "user": {"anonymous_coward_name": "Name of user not set"},
        "receive": {"enable_signed_push": False},
    }


# -- accounts ----------------------------------------------------------------------------


def _account(api: Api, key: str) -> Json:
    if key == "self" and api.caller is None:
        raise ApiError(403, "Authentication required")
    acct = api.data.find_account(key, api.caller)
    if acct is None:
        raise ApiError(404, "Not found")
    return acct


def _account_route(api: Api, rest: list[str]) -> web.Response | None:
    if rest[1:2] == ["capabilities"]:
        return None  # the changes router answers capabilities
    acct = _account(api, rest[0])
    aid = int(acct["_account_id"])
    what = rest[1] if len(rest) > 1 else ""
    if len(rest) > 2:
        return None
    if what == "":
        return json_body(api.data.account_info(aid))
    if what == "detail":
        registered = REGISTERED + timedelta(seconds=aid - 1000000)
        return json_body({"registered_on": ts(registered)} | api.data.account_info(aid))
    if what == "name":
        return json_body(acct.get("name", ""))
    if what == "username":
        if "username" not in acct:
            raise ApiError(404, "Not found")
        return json_body(acct["username"])
    if what == "emails":
        if api.caller != aid and not _is_admin(api):
            raise ApiError(403, "modify account not permitted")
        email = acct.get("email")
        return json_body([{"email": email, "preferred": True}] if email else [])
    if what == "groups":
        return json_body([_group_info(api, g, named=True) for g in _groups_of(api, aid)])
    return None


def _is_admin(api: Api) -> bool:
    acct = api.data.accounts.get(api.caller) if api.caller is not None else None
    return bool(acct and acct.get("admin"))


def _matches(acct: Json, term: str) -> bool:
    field, sep, value = term.partition(":")
    if not sep:
        field, value = "", term
    value = value.casefold()
    names = {
        "name": [*(acct.get("name") or "").split(), acct.get("name") or ""],
        "username": [acct.get("username") or ""],
        "email": [acct.get("email") or ""],
    }
    if field == "is":
        return value == "active"
    if field in names:
        return any(n.casefold() == value for n in names[field])
    if field:
        raise ApiError(400, f"Unsupported operator {field}:{value}")
    every = [n for ns in names.values() for n in ns]
    return any(n.casefold().startswith(value) for n in every)


def _accounts_query(api: Api) -> web.Response:
    query = api.request.query.get("q", "")
    if not query.strip():
        raise ApiError(400, "missing query field")
    suggest = "suggest" in api.request.query
    limit = _int_param(api, "n", default=SUGGEST_LIMIT if suggest else 0)
    start = _int_param(api, "S", "start")
    terms = query.split()
    found = [
        aid
        for aid, acct in sorted(api.data.accounts.items())
        if all(_matches(acct, t) for t in terms)
    ]
    window = found[start : start + limit] if limit else found[start:]
    details = suggest or "DETAILS" in [o.upper() for o in api.request.query.getall("o", [])]
    out = [api.data.account_info(a) if details else {"_account_id": a} for a in window]
    if out and len(found) > start + len(window):
        out[-1]["_more_accounts"] = True
    return json_body(out)


# -- groups ------------------------------------------------------------------------------


def _group_info(api: Api, group: Json, named: bool) -> Json:
    uuid = group["id"]
    out: Json = {"id": uuid}
    if named:
        out["name"] = group["name"]
    out |= {
        "url": f"#/admin/groups/uuid-{uuid}",
        "options": {},
        "group_id": api.data.groups.index(group) + 1,
        "owner": group["name"],
        "owner_id": uuid,
    }
    options = {o.upper() for o in api.request.query.getall("o", [])}
    if "MEMBERS" in options:
        out["members"] = [api.data.account_info(a) for a in group["members"]]
    if "INCLUDES" in options:
        out["includes"] = []
    return out


def _groups_of(api: Api, account_id: int) -> list[Json]:
    return [g for g in api.data.groups if account_id in g["members"]]


def _find_group(api: Api, key: str) -> Json:
    for n, group in enumerate(api.data.groups, 1):
        if key in (group["id"], group["name"], str(n)):
            return group
    raise ApiError(404, "Not found")


def _groups_list(api: Api) -> web.Response:
    limit = _int_param(api, "n")
    start = _int_param(api, "S", "start")
    match = api.request.query.get("m", "").casefold()
    groups = sorted(api.data.groups, key=lambda g: str(g["name"]))
    groups = [g for g in groups if match in g["name"].casefold()]
    window = groups[start : start + limit] if limit else groups[start:]
    return json_body({g["name"]: _group_info(api, g, named=False) for g in window})


def _group_route(api: Api, rest: list[str]) -> web.Response | None:
    group = _find_group(api, rest[0])
    what = rest[1:]
    if not what:
        return json_body(_group_info(api, group, named=True))
    if what == ["detail"]:
        return json_body(
            _group_info(api, group, named=True)
            | {
                "members": [api.data.account_info(a) for a in group["members"]],
                "includes": [],
            }
        )
    if what == ["name"]:
        return json_body(group["name"])
    if what == ["owner"]:
        return json_body(_group_info(api, group, named=True))
    if what == ["members"]:
        return json_body([api.data.account_info(a) for a in group["members"]])
    return None


# -- projects: branches and description ----------------------------------------------------


def branch_tip(project: str, branch: str) -> str:
    """A branch's head (the sha a rebase or cherry-pick onto the branch starts from)."""
    return fake_sha(project, branch, "tip")


def _branches(api: Api, name: str) -> list[Json]:
    out: list[Json] = [{"ref": "HEAD", "revision": "master"}]
    out.append({"ref": "refs/meta/config", "revision": fake_sha(name, "refs/meta/config")})
    for branch in sorted(api.data.branches.get(name, set())):
        out.append({"ref": f"refs/heads/{branch}", "revision": branch_tip(name, branch)})
    return out


def _project_route(api: Api, name: str, rest: list[str]) -> web.Response | None:
    if name not in api.data.projects:
        return None  # maybe an unencoded project name with a slash: the caller decides
    if rest == ["description"]:
        return json_body(api.data.projects[name].get("description", ""))
    if rest == ["HEAD"]:
        return json_body("refs/heads/master")
    if rest[0] != "branches" or len(rest) > 2:
        return None
    branches = _branches(api, name)
    if len(rest) == 1 or rest[1] == "":
        limit = _int_param(api, "n")
        start = _int_param(api, "S", "s", "start")
        return json_body(branches[start : start + limit] if limit else branches[start:])
    wanted = (
        rest[1] if rest[1].startswith("refs/") or rest[1] == "HEAD" else f"refs/heads/{rest[1]}"
    )
    for branch in branches:
        if branch["ref"] == wanted:
            return json_body(branch)
    raise ApiError(404, "Not found")
