"""The simulator's request context and read endpoints of the changes and overview documents
(writes: ``writes.py``; accounts, groups, config, branches: ``meta.py``).

Answers are like Gerrit's: JSON with the ``)]}'`` prefix, ``204 No Content`` for deletions,
and ``ApiError`` (a text/plain body) for 400/403/404/409 with the documented messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from adapters.gerrit.query import QueryError, parse
from adapters.gerrit.simulator.data import (
    ChangeData,
    FileData,
    GerritData,
    Json,
    RevisionData,
    fake_sha,
    ts,
)
from adapters.gerrit.simulator.render import (
    Renderer,
    Unsupported,
    b64,
    file_diff,
    formatted_patch,
    query_limit,
    run_query,
    zipped,
)

# The @DefaultInput fields of the inputs (RuleInput, TopicInput, ReviewerInput, AbandonInput…):
# what a text/plain request body sets.
DEFAULT_INPUTS = frozenset({"rule", "topic", "reviewer", "message"})


class ApiError(Exception):
    """An error answer: status and Gerrit's plain-text message."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def json_body(value: Any) -> web.Response:
    """A Gerrit JSON answer: the ``)]}'`` line, then compact JSON."""
    resp = web.Response(body=b")]}'\n" + orjson.dumps(value) + b"\n")
    resp.content_type = "application/json"
    resp.charset = "UTF-8"
    resp.headers["Content-Disposition"] = "attachment"
    return resp


_json = json_body


def no_content() -> web.Response:
    """204 No Content (deletions, publish, an emptied topic)."""
    return web.Response(status=204)


def _flag(request: web.Request, name: str) -> bool:
    return name in request.query


class Api:
    """One request's view of the data."""

    def __init__(
        self, request: web.Request, data: GerritData, caller: int | None, legacy: bool, base: str
    ) -> None:
        self.request = request
        self.data = data
        self.caller = caller
        self.legacy = legacy
        self.render = Renderer(data, caller, legacy, base)
        self.body: Any = None

    async def read_body(self) -> None:
        raw = await self.request.read()
        if not raw.strip():
            self.body = None
            return
        if self.request.content_type == "text/plain":
            # Gerrit fills an input's @DefaultInput field from a text/plain body.
            self.body = raw.decode("utf-8", "replace")
            return
        try:
            self.body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ApiError(400, "Invalid JSON in request") from None

    def field(self, name: str) -> Any:
        if isinstance(self.body, str):
            return self.body if name in DEFAULT_INPUTS else None
        return self.body.get(name) if isinstance(self.body, dict) else None

    def need_auth(self) -> int:
        if self.caller is None:
            raise ApiError(403, "Authentication required")
        return self.caller

    # -- lookups ----------------------------------------------------------------------------

    def change(self, key: str) -> ChangeData:
        found = [
            c
            for c in self.data.find_changes(key)
            if c.status != "DRAFT" or c.owner == self.caller or self.caller in c.reviewers
        ]
        if len(found) != 1:
            raise ApiError(404, "Not found")
        return found[0]

    def revision(self, c: ChangeData, key: str) -> RevisionData:
        if key == "current":
            return c.current
        found: list[RevisionData] = []
        if key.isdigit():
            found = [r for r in c.revisions if r.number == int(key)]
        if not found and len(key) >= 4:
            found = [r for r in c.revisions if r.sha.startswith(key.lower())]
        if len(found) != 1:
            raise ApiError(404, "Not found")
        return found[0]

    def file(self, r: RevisionData, path: str) -> FileData:
        if path not in r.files:
            raise ApiError(404, "Not found")
        return r.files[path]

    def touch(self, c: ChangeData) -> datetime:
        c.updated = self.data.now()
        return c.updated

    def add_message(self, c: ChangeData, text: str, revision: int | None = None) -> None:
        when = self.touch(c)
        c.messages.append(
            {
                "id": fake_sha("msg", c.number, len(c.messages))[:8],
                "author": self.caller,
                "date": ts(when),
                "message": text,
                "_revision_number": revision if revision is not None else c.current.number,
            }
        )

    # -- reads ------------------------------------------------------------------------------

    def projects(self, prefix: str) -> web.Response:
        query = self.request.query
        prefix = prefix or query.get("p", "")
        match = query.get("m", "").casefold()
        # args4j reads a boolean option's value: ``d=0`` (python-gerrit-api) is false.
        described = query.get("d", "x").lower() not in ("0", "false") if "d" in query else False
        try:
            limit, start = int(query.get("n", "0") or 0), int(query.get("S", "0") or 0)
        except ValueError:
            raise ApiError(400, "n and S must be numbers") from None
        names = [
            n for n in sorted(self.data.projects) if n.startswith(prefix) and match in n.casefold()
        ]
        out: Json = {}
        for name in names[start : start + limit] if limit else names[start:]:
            info = self.data.projects[name]
            entry: Json = {"kind": "gerritcodereview#project"} if self.legacy else {}
            entry["id"] = name.replace("/", "%2F")
            if described and info.get("description"):
                entry["description"] = info["description"]
            out[name] = entry
        return _json(out)

    def capabilities(self) -> web.Response:
        acct = self.data.accounts.get(self.caller) if self.caller else None
        caps: Json = {}
        if acct and acct.get("admin"):
            for name in (
                "administrateServer",
                "createAccount",
                "createGroup",
                "createProject",
                "killTask",
                "viewCaches",
                "flushCaches",
                "viewConnections",
                "viewQueue",
                "startReplication",
            ):
                caps[name] = True
        caps["queryLimit"] = {"min": 0, "max": self.data.query_limit}
        wanted = self.request.query.getall("q", [])
        if wanted:
            caps = {k: v for k, v in caps.items() if k in wanted}
        return _json(caps)

    def query(self) -> web.Response:
        queries = self.request.query.getall("q", [])
        if not queries:
            raise ApiError(400, "missing query field")
        options = [o.upper() for o in self.request.query.getall("o", [])]
        try:
            n = int(self.request.query.get("n", "0") or 0)
            start = int(self.request.query.get("S", self.request.query.get("start", "0")) or 0)
        except ValueError:
            raise ApiError(400, "n and S must be numbers") from None
        if self.legacy and ("S" in self.request.query or "start" in self.request.query):
            raise ApiError(400, '"S" is not a valid option')
        results = [self._one_query(q, n, start, options) for q in queries]
        return _json(results[0] if len(results) == 1 else results)

    def _one_query(self, text: str, n: int, start: int, options: list[str]) -> list[Json]:
        try:
            expr = parse(text)
            limit = query_limit(expr)
            found = run_query(self.data, expr, self.caller)
        except (QueryError, Unsupported) as exc:
            raise ApiError(400, str(exc)) from None
        after, before = self.request.query.get("N"), self.request.query.get("P")
        if after:
            found = [c for c in found if c.sortkey() < after]
        elif before:
            found = [c for c in found if c.sortkey() > before]
        caps = [x for x in (n or None, limit, self.data.query_limit) if x]
        size = min(caps)
        if before:
            window = found[max(0, len(found) - size) :]
            more = len(found) > size
        else:
            window = found[start : start + size]
            more = len(found) > start + size
        out = [self.render.change(c, options) for c in window]
        if more and out:
            out[0 if before else -1]["_more_changes"] = True
        return out

    def reviewers(self, c: ChangeData) -> web.Response:
        return _json([self.render.reviewer(c, a) for a in c.reviewers])

    def reviewer(self, c: ChangeData, key: str) -> web.Response:
        acct = self.data.find_account(key, self.caller)
        if acct is None or acct["_account_id"] not in c.reviewers:
            raise ApiError(404, "Not found")
        return _json(self.render.reviewer(c, acct["_account_id"]))

    def suggest(self, c: ChangeData) -> web.Response:
        q = self.request.query.get("q", "").lower()
        if not q:
            raise ApiError(400, "missing query field")
        n = int(self.request.query.get("n", "10") or 10)
        out: list[Json] = []
        for acct in self.data.accounts.values():
            fields = [acct.get(k, "") or "" for k in ("name", "username", "email")]
            if any(f.lower().startswith(q) for f in fields):
                entry: Json = {"kind": "gerritcodereview#suggestedreviewer"} if self.legacy else {}
                out.append(entry | {"account": self.render.account(acct["_account_id"])})
        for group in self.data.groups:
            if group["name"].lower().startswith(q):
                entry = {"kind": "gerritcodereview#suggestedreviewer"} if self.legacy else {}
                out.append(entry | {"group": {"id": group["id"], "name": group["name"]}})
        return _json(out[:n])

    def diff(self, c: ChangeData, r: RevisionData, path: str) -> web.Response:
        f = self.file(r, path)
        old = f.a
        base = self.request.query.get("base")
        if base:
            other = self.revision(c, base)
            old = other.files[path].b if path in other.files else None
        context_arg = self.request.query.get("context", "ALL")
        if context_arg != "ALL" and not context_arg.isdigit():
            raise ApiError(400, "context must be ALL or a number")
        whitespace = self.request.query.get("ignore-whitespace", "NONE")
        if whitespace not in ("NONE", "TRAILING", "CHANGED", "ALL"):
            raise ApiError(400, f"{whitespace!r} is not a valid ignore-whitespace value")
        return _json(
            file_diff(
                path,
                old,
                f.b,
                intraline=_flag(self.request, "intraline"),
                context=None if context_arg == "ALL" else int(context_arg),
                whitespace=whitespace,
            )
        )

    def content(self, r: RevisionData, path: str) -> web.Response:
        if path == "/COMMIT_MSG":
            data = r.message.encode()
        else:
            f = self.file(r, path)
            if f.b is None:
                raise ApiError(404, "Not found")
            data = ("\n".join(f.b) + "\n").encode()
        resp = web.Response(body=b64(data), content_type="text/plain", charset="ISO-8859-1")
        resp.headers["X-FYI-Content-Encoding"] = "base64"
        resp.headers["X-FYI-Content-Type"] = "text/plain"
        return resp

    def patch(self, c: ChangeData, r: RevisionData) -> web.Response:
        author = self.render.commit(c, r)["author"]
        text = formatted_patch(c, r, author).encode()
        if _flag(self.request, "zip"):
            resp = web.Response(body=zipped(f"{r.sha[:8]}.diff", text))
            resp.content_type = "application/zip"
            resp.headers["Content-Disposition"] = f'attachment; filename="{r.sha[:8]}.diff.zip"'
            return resp
        resp = web.Response(body=b64(text), content_type="text/plain", charset="ISO-8859-1")
        resp.headers["X-FYI-Content-Encoding"] = "base64"
        resp.headers["X-FYI-Content-Type"] = "application/mbox"
        if _flag(self.request, "download"):
            resp.headers["Content-Disposition"] = f'attachment; filename="{r.sha}.diff.base64"'
        return resp

    def comments(self, r: RevisionData) -> web.Response:
        return _json(self.render.comment_map(r.comments))

    def drafts(self, r: RevisionData) -> web.Response:
        return _json(self.render.comment_map(r.drafts.get(self.need_auth(), []), draft=True))

    def _draft(self, r: RevisionData, draft_id: str) -> Json:
        for x in r.drafts.get(self.need_auth(), []):
            if x["id"] == draft_id:
                return x
        raise ApiError(404, "Not found")
