"""ABF records → ABF's ``/api/v1`` JSON (for the REST compat layer).

Each ``*_json`` function writes a record in a canonical shape (values from the record);
``conform`` then gives it the form the backend itself used for that object (``record.raw``),
since ABF's documents and the real server (rosa-build) differ — see the table in
``mapping``:

- **keys**: the object has the keys the backend sent, in its order (the real server leaves
  empty optional fields out, the documents send ``null``); a key the records do not model
  (``type`` on people, a project's ``has_wiki`` …) keeps the backend's value;
- **spelling**: a number or timestamp is a string where the backend wrote a string (``"11"``,
  ``"1348170705"``), a flag is ``"true"`` where it wrote one; ``null`` vs ``""`` as sent.

API paths inside answers (``url``: ``/api/v1/…``) are moved under the gateway's mount by
``move_urls``; web URLs on the ABF host (``https_url`` of commits) are left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from adapters.abf import mapping
from adapters.abf.records import Commit, FileChange, GitActor, Group, PullRequest, Ref
from adapters.model import Person, Project

Json = dict[str, Any]


def _id(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def person_json(p: Person | None) -> Json | None:
    """A user inline, or the ``user`` of ``/users/:id``."""
    if p is None:
        return None
    return {
        "id": _id(p.id),
        "name": p.name,
        "uname": p.username,
        "email": p.email,
        "url": p.raw.get("url"),
    }


def project_json(p: Project | None) -> Json | None:
    """A project inline, in a list, or the ``project`` of ``/projects/:id``."""
    if p is None:
        return None
    return {
        "id": _id(p.id),
        "name": p.name,
        "fullname": p.link_name,
        "url": p.raw.get("url"),
        "git_url": p.scm_url,
    }


def _ref(r: Ref) -> Json:
    return {"ref": r.ref, "sha": r.sha, "project": project_json(r.project)}


def pull_json(pr: PullRequest) -> Json:
    """A pull request (list item, or the ``pull_request`` of a detail)."""
    return {
        "number": pr.number,
        "title": pr.title,
        "to_ref": _ref(pr.to_ref),
        "from_ref": _ref(pr.from_ref),
        "status": pr.raw_state,
        "owner": person_json(pr.owner),
        "assignee": person_json(pr.assignee),
        "mergeable": pr.mergeable,
        "merged_at": pr.merged_at,
        "url": pr.api_url,
        "body": pr.body,
        "closed_at": pr.closed_at,
        "closed_by": person_json(pr.closed_by),
        "merged_by": person_json(pr.merged_by),
        "created_at": pr.created_at,
        "updated_at": pr.modified_at,
    }


def _actor(a: GitActor | None) -> Json | None:
    return None if a is None else {"name": a.name, "email": a.email, "date": a.date}


def commit_json(c: Commit) -> Json:
    """An item of ``…/pull_requests/:number/commits``."""
    return {
        "sha": c.sha,
        "https_url": c.web_url,
        "author": _actor(c.author),
        "committer": _actor(c.committer),
        "message": c.message,
        "tree": {"sha": c.tree_sha},
        "parents": [{"sha": sha} for sha in c.parents],
    }


def file_json(f: FileChange) -> Json:
    """An item of ``…/pull_requests/:number/files``."""
    return {
        "filename": f.filename,
        "status": f.status,
        "additions": f.additions,
        "deletions": f.deletions,
        "changes": f.changes,
        "sha": f.sha,
        "blob_https_url": f.blob_url,
        "raw_https_url": f.raw_url,
    }


def group_json(g: Group) -> Json:
    """The ``group`` of ``/groups/:id``."""
    return {
        "id": _id(g.id),
        "uname": g.uname,
        "own_projects_count": g.own_projects_count,
        "description": g.description,
        "created_at": g.created_at,
        "updated_at": g.updated_at,
        "owner": person_json(g.owner),
        "avatar_url": g.avatar_url,
        "html_url": g.web_url,
    }


def write_json(number: int | None, message: str) -> Json:
    """A create/update/merge answer (``number`` or the real server's ``id``)."""
    return {"pull_request": {"number": number, "id": number, "message": message}}


# -- the backend's form ----------------------------------------------------------------------


def conform(value: Any, raw: Any) -> Any:
    """``value`` (canonical, from a record) in the form of ``raw`` (the backend's own)."""
    if isinstance(raw, Mapping):
        if not isinstance(value, Mapping):
            return raw if value is None and not raw else _scalar(value, raw)
        return {k: conform(value[k], rv) if k in value else rv for k, rv in raw.items()}
    if isinstance(raw, list) and isinstance(value, list) and len(raw) == len(value):
        return [conform(v, r) for v, r in zip(value, raw, strict=True)]
    return _scalar(value, raw)


def _scalar(value: Any, raw: Any) -> Any:
    if value is None:
        return raw if raw in (None, "") else None
    if isinstance(value, datetime):
        if isinstance(raw, str) and not raw.strip().lstrip("-").isdigit():
            try:
                if mapping.timestamp(raw) == value:
                    return raw  # an ISO 8601 spelling, kept as sent
            except ValueError:
                pass
        seconds = mapping.unix(value)
        return str(seconds) if isinstance(raw, str) else seconds
    if isinstance(value, bool):
        return str(value).lower() if isinstance(raw, str) else value
    if isinstance(value, int):
        return str(value) if isinstance(raw, str) else value
    if isinstance(value, str) and isinstance(raw, str) and value.strip() == raw.strip():
        return raw  # e.g. an email with the backend's trailing space
    return value


def move_urls(value: Any, prefix: str, upstream: str) -> Any:
    """Every ``url`` naming an API path (``/api/v1/…``, or absolute on the backend) moved
    under ``prefix`` (the gateway's ``/rest/<backend>`` path or URL)."""
    upstream = upstream.rstrip("/")

    def move(url: str) -> str:
        if url.startswith("/api/v1/"):
            return prefix + url
        if url.startswith(upstream + "/api/v1/"):
            return prefix + url[len(upstream) :]
        return url

    def walk(v: Any, key: str | None) -> Any:
        if isinstance(v, Mapping):
            return {k: walk(x, k) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x, key) for x in v]
        if key == "url" and isinstance(v, str):
            return move(v)
        return v

    return walk(value, None)


Render = Callable[[Any], Json | None]
