"""The simulator's endpoints: every route of the changes and overview documents.

``handle`` routes one request (path already stripped of ``/a``) and answers like Gerrit:
JSON with the ``)]}'`` prefix, ``204 No Content`` for deletions, and ``ApiError`` (a
text/plain body) for 400/403/404/409 with the documented messages.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from adapters.gerrit.query import QueryError, parse
from adapters.gerrit.simulator.data import (
    CONFIRM_ABOVE,
    ChangeData,
    FileData,
    GerritData,
    Json,
    RevisionData,
    fake_sha,
    ts,
)
from adapters.gerrit.simulator.render import (
    CLOSED,
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


def _no_content() -> web.Response:
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
        out: Json = {}
        for name, info in sorted(self.data.projects.items()):
            if prefix and not name.startswith(prefix):
                continue
            entry: Json = {"kind": "gerritcodereview#project"} if self.legacy else {}
            entry["id"] = name.replace("/", "%2F")
            if _flag(self.request, "d") and info.get("description"):
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

    # -- writes -----------------------------------------------------------------------------

    def set_topic(self, c: ChangeData, delete: bool = False) -> web.Response:
        topic = "" if delete else str(self.field("topic") or "")
        old = c.topic
        c.topic = topic
        text = f"Topic set to {topic}" if topic else f"Topic {old} removed"
        self.add_message(c, text)
        return _json(topic) if topic else _no_content()

    def abandon(self, c: ChangeData) -> web.Response:
        if c.status != "NEW":
            raise ApiError(409, f"change is {c.status.lower()}")
        c.status = "ABANDONED"
        self.add_message(
            c, "Abandoned" + (f"\n\n{self.field('message')}" if self.field("message") else "")
        )
        return _json(self.render.change(c))

    def restore(self, c: ChangeData) -> web.Response:
        if c.status != "ABANDONED":
            raise ApiError(409, f"change is {c.status.lower()}")
        c.status = "NEW"
        self.add_message(
            c, "Restored" + (f"\n\n{self.field('message')}" if self.field("message") else "")
        )
        return _json(self.render.change(c))

    def _new_patch_set(
        self, c: ChangeData, message: str | None = None, parent: tuple[str, str] | None = None
    ) -> RevisionData:
        cur = c.current
        rev = RevisionData(
            sha=fake_sha(c.number, cur.number + 1, self.data.now().isoformat()),
            number=cur.number + 1,
            created=self.data.now(),
            uploader=self.caller or c.owner,
            files={p: FileData(f.a, f.b) for p, f in cur.files.items()},
            parent=parent or cur.parent,
            message=message or cur.message,
            author=cur.author,
        )
        c.revisions.append(rev)
        return rev

    def rebase(self, c: ChangeData, r: RevisionData | None) -> web.Response:
        if c.status not in ("NEW", "DRAFT"):
            raise ApiError(409, f"change is {c.status.lower()}")
        if r is not None and r is not c.current:
            raise ApiError(409, f"revision {r.sha} is not current revision")
        if c.conflict:
            raise ApiError(
                409, "The change could not be rebased due to a path conflict during merge."
            )
        tip = fake_sha(c.project, c.branch, "tip")
        rev = self._new_patch_set(c, parent=(tip, f"Tip of {c.branch}"))
        self.add_message(
            c, f"Patch Set {rev.number}: Patch Set {rev.number - 1} was rebased", rev.number
        )
        return _json(self.render.change(c, ["CURRENT_REVISION", "CURRENT_COMMIT"]))

    def revert(self, c: ChangeData) -> web.Response:
        if c.status != "MERGED":
            raise ApiError(409, f"change is {c.status.lower()}")
        number = self.data.next_number()
        now = self.data.now()
        message = self.field("message") or (
            f'Revert "{c.subject}"\n\nThis reverts commit {c.current.sha}.'
        )
        new = ChangeData(
            number=number,
            project=c.project,
            branch=c.branch,
            change_id=f"I{fake_sha('revert', number)}",
            subject=message.split("\n", 1)[0],
            status="NEW",
            created=now,
            updated=now,
            owner=self.need_auth(),
            revisions=[
                RevisionData(
                    sha=fake_sha("revert", c.number, number),
                    number=1,
                    created=now,
                    uploader=self.need_auth(),
                    files={p: FileData(f.b, f.a) for p, f in c.current.files.items()},
                    parent=(c.current.sha, c.subject),
                    message=message,
                )
            ],
        )
        self.data.changes[number] = new
        self.add_message(c, f"Created a revert of this change as {new.change_id}")
        return _json(self.render.change(new))

    def _blocked_by(self, c: ChangeData) -> str | None:
        for label in ("Verified", "Code-Review"):
            votes = c.votes.get(label, {}).values()
            values = self.data.labels.get(label, {})
            if not values:
                continue
            if min(values) in votes or max(values) not in votes:
                return label
        return None

    def submit(self, c: ChangeData, r: RevisionData | None) -> web.Response:
        if c.status != "NEW":
            raise ApiError(409, f"change is {c.status.lower()}")
        if r is not None and r is not c.current:
            raise ApiError(409, f"revision {r.sha} is not current revision")
        blocked = self._blocked_by(c)
        if blocked:
            raise ApiError(409, f"blocked by {blocked}")
        if not c.mergeable:
            raise ApiError(409, "change is not mergeable")
        c.status = "MERGED"
        self.add_message(c, "Change has been successfully merged into the git repository.")
        if r is not None:
            return _json({"status": "MERGED"})
        return _json(self.render.change(c))

    def publish(self, c: ChangeData, r: RevisionData | None) -> web.Response:
        if r is None:
            if c.status != "DRAFT":
                raise ApiError(409, "Change is not a draft")
            c.status = "NEW"
            for rev in c.revisions:
                rev.draft = False
        else:
            if not r.draft:
                raise ApiError(409, "Patch set is not a draft")
            r.draft = False
        self.touch(c)
        return _no_content()

    def delete_draft(self, c: ChangeData, r: RevisionData | None) -> web.Response:
        if r is None:
            if c.status != "DRAFT":
                raise ApiError(409, "Change is not a draft")
            del self.data.changes[c.number]
            return _no_content()
        if not r.draft:
            raise ApiError(409, "Patch set is not a draft")
        if len(c.revisions) == 1:
            raise ApiError(409, "Cannot delete the only patch set of a change")
        c.revisions.remove(r)
        self.touch(c)
        return _no_content()

    def add_reviewer(self, c: ChangeData) -> web.Response:
        key = self.field("reviewer")
        if not isinstance(key, str) or not key:
            raise ApiError(400, "reviewer must be specified")
        out: Json = {"input": key}
        acct = self.data.find_account(key, self.caller)
        if acct is not None:
            ids = [acct["_account_id"]]
        else:
            group = self.data.find_group(key)
            if group is None:
                out["error"] = f"{key} does not identify a registered user or group"
                return _json(out)
            ids = list(group["members"])
            if len(ids) > CONFIRM_ABOVE and not self.field("confirmed"):
                out["error"] = (
                    f"The group {group['name']} has {len(ids)} members. "
                    "Do you want to add them all as reviewers?"
                )
                out["confirm"] = True
                return _json(out)
        added = [i for i in ids if i not in c.reviewers]
        c.reviewers.extend(added)
        self.touch(c)
        out["reviewers"] = [self.render.reviewer(c, i) for i in added]
        return _json(out)

    def delete_reviewer(self, c: ChangeData, key: str) -> web.Response:
        acct = self.data.find_account(key, self.caller)
        if acct is None or acct["_account_id"] not in c.reviewers:
            raise ApiError(404, "Not found")
        c.reviewers.remove(acct["_account_id"])
        for votes in c.votes.values():
            votes.pop(acct["_account_id"], None)
        self.add_message(c, f"Removed reviewer {acct['name']}.")
        return _no_content()

    def set_review(self, c: ChangeData, r: RevisionData) -> web.Response:
        caller = self.need_auth()
        if c.status in CLOSED and self.field("labels"):
            raise ApiError(409, f"change is {c.status.lower()}")
        labels = self.field("labels") or {}
        comments = self.field("comments") or {}
        if not isinstance(labels, dict) or not isinstance(comments, dict):
            raise ApiError(400, "labels and comments must be objects")
        applied: dict[str, int] = {}
        for name, value in labels.items():
            if name not in self.data.labels:
                raise ApiError(400, f'label "{name}" is not a configured label')
            try:
                number = int(str(value).strip())
            except ValueError:
                raise ApiError(400, f"label {name!r}: {value!r} is not a number") from None
            if number not in self.data.permitted_range(name, caller):
                raise ApiError(400, f'Applying label "{name}": {value} is restricted')
            applied[name] = number
        for path, items in comments.items():
            if path != "/COMMIT_MSG" and path not in r.files:
                raise ApiError(400, f"file {path} not found in revision {c.number},{r.number}")
            for item in items:
                if not isinstance(item, dict) or not item.get("message"):
                    raise ApiError(400, f"comment on {path} needs a message")
        when = self.touch(c)
        for name, value in applied.items():
            c.votes.setdefault(name, {})[caller] = value
            c.vote_dates[(name, caller)] = when
        if caller not in c.reviewers and caller != c.owner:
            c.reviewers.append(caller)
        for path, items in comments.items():
            for item in items:
                r.comments.append(
                    {
                        "id": fake_sha("comment", c.number, len(r.comments), when)[:8],
                        "path": path,
                        "line": item.get("line"),
                        "side": item.get("side"),
                        "range": item.get("range"),
                        "in_reply_to": item.get("in_reply_to"),
                        "message": item["message"],
                        "updated": ts(when),
                        "author": caller,
                    }
                )
        votes = " ".join(f"{k}{'+' if v > 0 else ''}{v}" for k, v in applied.items())
        text = f"Patch Set {r.number}:{' ' + votes if votes else ''}"
        if self.field("message"):
            text += f"\n\n{self.field('message')}"
        if comments:
            count = sum(len(v) for v in comments.values())
            text += f"\n\n({count} comment{'s' if count != 1 else ''})"
        self.add_message(c, text, r.number)
        return _json({"labels": applied})

    def put_draft(self, c: ChangeData, r: RevisionData, draft_id: str | None) -> web.Response:
        caller = self.need_auth()
        path = self.field("path")
        message = self.field("message")
        if draft_id is None and (not path or not message):
            raise ApiError(400, "path and message are required")
        if path and path != "/COMMIT_MSG" and path not in r.files:
            raise ApiError(400, f"file {path} not found in revision")
        when = ts(self.touch(c))
        if draft_id is None:
            draft: Json = {"id": fake_sha("draft", c.number, when)[:8], "path": path}
            r.drafts.setdefault(caller, []).append(draft)
        else:
            draft = self._draft(r, draft_id)
        for key in ("path", "line", "side", "range", "in_reply_to", "message"):
            if self.field(key) is not None:
                draft[key] = self.field(key)
        draft["updated"] = when
        return _json(self.render.comment(draft, True, draft=True))

    def delete_draft_comment(self, r: RevisionData, draft_id: str) -> web.Response:
        draft = self._draft(r, draft_id)
        r.drafts[self.need_auth()].remove(draft)
        return _no_content()

    def set_reviewed(self, r: RevisionData, path: str, on: bool) -> web.Response:
        caller = self.need_auth()
        if path != "/COMMIT_MSG":
            self.file(r, path)
        marked = r.reviewed.setdefault(caller, set())
        if not on:
            marked.discard(path)
            return _no_content()
        if path in marked:
            return web.Response(status=200)
        marked.add(path)
        return web.Response(status=201)

    def cherry_pick(self, c: ChangeData, r: RevisionData) -> web.Response:
        caller = self.need_auth()
        destination = self.field("destination")
        message = self.field("message")
        if not destination or not message:
            raise ApiError(400, "destination and message are required")
        destination = str(destination).removeprefix("refs/heads/")
        if destination not in self.data.branches.get(c.project, set()):
            raise ApiError(400, f"Branch {destination} does not exist.")
        number = self.data.next_number()
        now = self.data.now()
        new = ChangeData(
            number=number,
            project=c.project,
            branch=destination,
            change_id=f"I{fake_sha('pick', number)}",
            subject=str(message).split("\n", 1)[0],
            status="NEW",
            created=now,
            updated=now,
            owner=caller,
            revisions=[
                RevisionData(
                    sha=fake_sha("pick", c.number, number),
                    number=1,
                    created=now,
                    uploader=caller,
                    files={p: FileData(f.a, f.b) for p, f in r.files.items()},
                    parent=(fake_sha(c.project, destination, "tip"), f"Tip of {destination}"),
                    message=str(message),
                )
            ],
        )
        self.data.changes[number] = new
        self.add_message(
            c, f"Patch Set {r.number}: Cherry Picked to branch {destination}.", r.number
        )
        return _json(self.render.change(new))

    def edit_message(self, c: ChangeData, r: RevisionData) -> web.Response:
        message = self.field("message")
        if not message or not str(message).strip():
            raise ApiError(400, "commit message must be non-empty")
        if c.status in CLOSED:
            raise ApiError(409, f"change is {c.status.lower()}")
        if r is not c.current:
            raise ApiError(409, f"revision {r.sha} is not current revision")
        rev = self._new_patch_set(c, message=str(message))
        c.subject = str(message).split("\n", 1)[0]
        self.add_message(c, f"Patch Set {rev.number}: Commit message was updated.", rev.number)
        return _json(self.render.change(c))

    def test_submit_type(self) -> web.Response:
        rule = str(self.field("rule") or "")
        match = re.search(r"submit_type\(\s*(\w+)\s*\)", rule)
        if match is None:
            raise ApiError(400, "rule does not define submit_type/1")
        return _json(match.group(1).upper())

    def test_submit_rule(self, c: ChangeData) -> web.Response:
        rule = str(self.field("rule") or "")
        if rule and "submit_rule" not in rule:
            raise ApiError(400, "rule does not define submit_rule/1")
        record: Json
        wanted = re.findall(r"label\(\s*'([^']+)'\s*,\s*(ok|reject|need|may|impossible)\(", rule)
        if wanted:
            record = {"status": "OK" if all(k in ("ok", "may") for _, k in wanted) else "NOT_READY"}
            for name, kind in wanted:
                record.setdefault(kind, {})[name] = {}
        else:
            blocked = self._blocked_by(c)
            record = {"status": "NOT_READY" if blocked else "OK"}
            for label in self.data.labels:
                key = "need" if label == blocked else "ok"
                record.setdefault(key, {})[label] = {}
        return _json([record])
