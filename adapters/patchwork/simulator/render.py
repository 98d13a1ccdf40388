"""Rendering of simulator records as Patchwork 3.2.1 REST objects, per API version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.patchwork.simulator.data import PatchworkData, Record, strip_msgid

Json = dict[str, Any]
_PLURAL = {"patch": "patches", "cover": "covers"}


@dataclass(frozen=True)
class Ctx:
    """One request's rendering context: origin, API version (10..13) and its URL prefix."""

    origin: str  # scheme://host:port of the request
    version: int  # 10, 11, 12 or 13 (unversioned /api/ behaves as 13)
    api: str  # "/api/1.3" or "/api"
    user: int | None  # authenticated user id
    fmt: str = ""  # "?format=json" when the request named a format (DRF echoes it)

    def u(self, path: str) -> str:
        """An absolute API URL at this request's version."""
        return f"{self.origin}{self.api}/{path}{self.fmt}"


class Renderer:
    """Turns records of a :class:`PatchworkData` into API JSON for one request."""

    def __init__(self, data: PatchworkData, ctx: Ctx) -> None:
        self.d = data
        self.c = ctx

    def _archive(self, project: Record, msgid: str) -> str | None:
        fmt = project.get("list_archive_url_format")
        return fmt.format(strip_msgid(msgid)) if fmt else None

    def _web(self, project: Record, kind: str, msgid: str) -> str:
        return f"{self.c.origin}/project/{project['link_name']}/{kind}/{strip_msgid(msgid)}/"

    # -- embedded objects ---------------------------------------------------------------

    def project_embed(self, pid: int) -> Json:
        p = self.d.projects[pid]
        out: Json = {"id": pid, "url": self.c.u(f"projects/{pid}/")}
        for key in ("name", "link_name", "list_id", "list_email", "web_url", "scm_url"):
            out[key] = p[key]
        out["webscm_url"] = p["webscm_url"]
        if self.c.version >= 12:
            for key in ("list_archive_url", "list_archive_url_format", "commit_url_format"):
                out[key] = p[key]
        return out

    def project(self, pid: int) -> Json:
        p = self.d.projects[pid]
        out = self.project_embed(pid)
        for key in ("list_archive_url", "list_archive_url_format", "commit_url_format"):
            out.pop(key, None)
        out["maintainers"] = [self.user_embed(u) for u in p["maintainers"]]
        if self.c.version >= 11:
            out["subject_match"] = p["subject_match"]
        if self.c.version >= 12:
            for key in ("list_archive_url", "list_archive_url_format", "commit_url_format"):
                out[key] = p[key]
        return out

    def person_embed(self, pid: int) -> Json:
        p = self.d.people[pid]
        return {
            "id": pid,
            "url": self.c.u(f"people/{pid}/"),
            "name": p["name"],
            "email": p["email"],
        }

    def person(self, pid: int) -> Json:
        out = self.person_embed(pid)
        user = self.d.people[pid]["user"]
        out["user"] = None if user is None else self.user_embed(user)
        return out

    def user_embed(self, uid: int | None) -> Json | None:
        if uid is None:
            return None
        u = self.d.users[uid]
        return {
            "id": uid,
            "url": self.c.u(f"users/{uid}/"),
            "username": u["username"],
            "first_name": u["first_name"],
            "last_name": u["last_name"],
            "email": u["email"],
        }

    def user_item(self, uid: int) -> Json:
        out = self.user_embed(uid)
        assert out is not None
        return out

    def user(self, uid: int) -> Json:
        out = self.user_embed(uid)
        assert out is not None
        if self.c.version >= 12 and uid == self.c.user:
            out["settings"] = dict(self.d.users[uid]["settings"])
        return out

    def patch_embed(self, pid: int) -> Json:
        p = self.d.patches[pid]
        project = self.d.projects[p["project"]]
        out: Json = {"id": pid, "url": self.c.u(f"patches/{pid}/")}
        if self.c.version >= 11:
            out["web_url"] = self._web(project, "patch", p["msgid"])
        out["msgid"] = p["msgid"]
        if self.c.version >= 12:
            out["list_archive_url"] = self._archive(project, p["msgid"])
        out["date"] = p["date"]
        out["name"] = p["name"]
        out["mbox"] = self._web(project, "patch", p["msgid"]) + "mbox/"
        return out

    def cover_embed(self, cid: int) -> Json:
        c = self.d.covers[cid]
        project = self.d.projects[c["project"]]
        out: Json = {"id": cid, "url": self.c.u(f"covers/{cid}/")}
        if self.c.version >= 11:
            out["web_url"] = self._web(project, "cover", c["msgid"])
        out["msgid"] = c["msgid"]
        if self.c.version >= 12:
            out["list_archive_url"] = self._archive(project, c["msgid"])
        out["date"] = c["date"]
        out["name"] = c["name"]
        if self.c.version >= 11:
            out["mbox"] = self._web(project, "cover", c["msgid"]) + "mbox/"
        return out

    def series_embed(self, sid: int) -> Json:
        s = self.d.series[sid]
        project = self.d.projects[s["project"]]
        out: Json = {"id": sid, "url": self.c.u(f"series/{sid}/")}
        if self.c.version >= 11:
            out["web_url"] = f"{self.c.origin}/project/{project['link_name']}/list/?series={sid}"
        out["date"] = s["date"]
        out["name"] = s["name"]
        out["version"] = s["version"]
        out["mbox"] = f"{self.c.origin}/series/{sid}/mbox/"
        return out

    def comment_embed(self, kind: str, cid: int) -> Json:
        c = (self.d.patch_comments if kind == "patch" else self.d.cover_comments)[cid]
        parent = (self.d.patches if kind == "patch" else self.d.covers)[c["parent"]]
        project = self.d.projects[parent["project"]]
        return {
            "id": cid,
            "url": self.c.u(f"{_PLURAL[kind]}/{c['parent']}/comments/{cid}/"),
            "web_url": f"{self.c.origin}/comment/{cid}/",
            "msgid": c["msgid"],
            "list_archive_url": self._archive(project, c["msgid"]),
            "date": c["date"],
        }

    def check_embed(self, chid: int) -> Json:
        ch = self.d.checks[chid]
        return {
            "id": chid,
            "url": self.c.u(f"patches/{ch['patch']}/checks/{chid}/"),
            "date": ch["date"],
            "state": ch["state"],
            "target_url": ch["target_url"],
            "context": ch["context"],
        }

    # -- top-level objects ----------------------------------------------------------------

    def patch(self, pid: int, detail: bool = False) -> Json:
        p = self.d.patches[pid]
        project = self.d.projects[p["project"]]
        out: Json = {"id": pid, "url": self.c.u(f"patches/{pid}/")}
        if self.c.version >= 11:
            out["web_url"] = self._web(project, "patch", p["msgid"])
        out["project"] = self.project_embed(p["project"])
        out["msgid"] = p["msgid"]
        if self.c.version >= 12:
            out["list_archive_url"] = self._archive(project, p["msgid"])
        for key in ("date", "name", "commit_ref", "pull_url", "state", "archived", "hash"):
            out[key] = p[key]
        out["submitter"] = self.person_embed(p["submitter"])
        out["delegate"] = self.user_embed(p["delegate"])
        out["mbox"] = self._web(project, "patch", p["msgid"]) + "mbox/"
        out["series"] = [self.series_embed(s) for s in p["series"]]
        if self.c.version >= 11:
            out["comments"] = f"{self.c.origin}/api/patches/{pid}/comments/"
        out["check"] = self.d.combined_check(pid)
        out["checks"] = f"{self.c.origin}/api/patches/{pid}/checks/"
        out["tags"] = {}
        if self.c.version >= 12:
            out["related"] = [self.patch_embed(r) for r in p["related"]]
        if detail:
            for key in ("headers", "content", "diff", "prefixes"):
                out[key] = p[key]
        return out

    def cover(self, cid: int, detail: bool = False) -> Json:
        c = self.d.covers[cid]
        project = self.d.projects[c["project"]]
        out: Json = {"id": cid, "url": self.c.u(f"covers/{cid}/")}
        if self.c.version >= 11:
            out["web_url"] = self._web(project, "cover", c["msgid"])
        out["project"] = self.project_embed(c["project"])
        out["msgid"] = c["msgid"]
        if self.c.version >= 12:
            out["list_archive_url"] = self._archive(project, c["msgid"])
        out["date"] = c["date"]
        out["name"] = c["name"]
        out["submitter"] = self.person_embed(c["submitter"])
        if self.c.version >= 11:
            out["mbox"] = self._web(project, "cover", c["msgid"]) + "mbox/"
        out["series"] = [self.series_embed(s) for s in c["series"]]
        if self.c.version >= 11:
            out["comments"] = f"{self.c.origin}/api/covers/{cid}/comments/"
        if detail:
            out["headers"] = c["headers"]
            out["content"] = c["content"]
        return out

    def series(self, sid: int) -> Json:
        s = self.d.series[sid]
        project = self.d.projects[s["project"]]
        out: Json = {"id": sid, "url": self.c.u(f"series/{sid}/")}
        if self.c.version >= 11:
            out["web_url"] = f"{self.c.origin}/project/{project['link_name']}/list/?series={sid}"
        out["project"] = self.project_embed(s["project"])
        out["name"] = s["name"]
        out["date"] = s["date"]
        out["submitter"] = self.person_embed(s["submitter"])
        for key in ("version", "total", "received_total", "received_all"):
            out[key] = s[key]
        out["mbox"] = f"{self.c.origin}/series/{sid}/mbox/"
        cover = s["cover_letter"]
        out["cover_letter"] = None if cover is None else self.cover_embed(cover)
        out["patches"] = [self.patch_embed(p) for p in s["patches"]]
        return out

    def comment(self, kind: str, cid: int) -> Json:
        c = (self.d.patch_comments if kind == "patch" else self.d.cover_comments)[cid]
        parent = (self.d.patches if kind == "patch" else self.d.covers)[c["parent"]]
        project = self.d.projects[parent["project"]]
        out: Json = {"id": cid}
        if self.c.version >= 13:
            out["url"] = self.c.u(f"{_PLURAL[kind]}/{c['parent']}/comments/{cid}/")
        if self.c.version >= 11:
            out["web_url"] = f"{self.c.origin}/comment/{cid}/"
        out["msgid"] = c["msgid"]
        if self.c.version >= 12:
            out["list_archive_url"] = self._archive(project, c["msgid"])
        out["date"] = c["date"]
        out["subject"] = c["subject"]
        out["submitter"] = self.person_embed(c["submitter"])
        out["content"] = c["content"]
        out["headers"] = c["headers"]
        if self.c.version >= 13:
            out["addressed"] = c["addressed"]
        return out

    def check(self, chid: int) -> Json:
        ch = self.d.checks[chid]
        return {
            "id": chid,
            "url": self.c.u(f"patches/{ch['patch']}/checks/{chid}/"),
            "user": self.user_embed(ch["user"]),
            "date": ch["date"],
            "state": ch["state"],
            "target_url": ch["target_url"],
            "context": ch["context"],
            "description": ch["description"],
        }

    def event(self, eid: int) -> Json:
        e = self.d.events[eid]
        payload: Json = {}
        kind = "patch" if "patch" in e else "cover"
        for key in e:
            if key == "patch":
                payload["patch"] = self.patch_embed(e["patch"])
            elif key == "series":
                payload["series"] = self.series_embed(e["series"])
            elif key == "cover":
                payload["cover"] = self.cover_embed(e["cover"])
            elif key == "comment":
                payload["comment"] = self.comment_embed(kind, e["comment"])
            elif key == "check":
                payload["check"] = self.check_embed(e["check"])
            elif key in ("previous_state", "current_state"):
                payload[key] = e[key]
            elif key in ("previous_delegate", "current_delegate"):
                payload[key] = self.user_embed(e[key])
        return {
            "id": eid,
            "category": e["category"],
            "project": self.project_embed(e["project"]),
            "date": e["date"],
            "actor": self.user_embed(e["actor"]),
            "payload": payload,
        }

    def bundle(self, bid: int) -> Json:
        b = self.d.bundles[bid]
        owner = self.d.users[b["owner"]]["username"]
        web = f"{self.c.origin}/bundle/{owner}/{b['name']}/"
        out: Json = {"id": bid, "url": self.c.u(f"bundles/{bid}/")}
        if self.c.version >= 11:
            out["web_url"] = web
        out["project"] = self.project_embed(b["project"])
        out["name"] = b["name"]
        out["owner"] = self.user_embed(b["owner"])
        out["patches"] = [self.patch_embed(p) for p in b["patches"]]
        out["public"] = b["public"]
        out["mbox"] = web + "mbox/"
        return out

    def index(self) -> Json:
        names = ("projects", "users", "people", "patches", "covers", "series", "events", "bundles")
        return {name: self.c.u(f"{name}/") for name in names}
