"""The simulator's write endpoints (topic, abandon/restore, rebase, revert, submit, publish,
reviewers, review, drafts, reviewed flags, cherry-pick, commit message, test rules): how each
changes the data, and Gerrit's refusals (409 ``change is merged`` …) as ``ApiError``.
"""

from __future__ import annotations

import re

from aiohttp import web

from adapters.gerrit.simulator.api import Api, ApiError, json_body, no_content
from adapters.gerrit.simulator.data import (
    CONFIRM_ABOVE,
    ChangeData,
    FileData,
    Json,
    RevisionData,
    fake_sha,
    ts,
)
from adapters.gerrit.simulator.meta import branch_tip
from adapters.gerrit.simulator.render import CLOSED

_json = json_body
_no_content = no_content


class Writes(Api):
    """One request's view of the data, with the writes."""

    def set_topic(self, c: ChangeData, delete: bool = False) -> web.Response:
        topic = "" if delete else str(self.field("topic") or "")
        old = c.topic
        c.topic = topic
        text = f"Topic set to {topic}" if topic else f"Topic {old} removed"
        self.add_message(c, text)
        return _json(topic) if topic else _no_content()

    def abandon(self, c: ChangeData) -> web.Response:
        return self._move(c, "NEW", "ABANDONED", "Abandoned")

    def restore(self, c: ChangeData) -> web.Response:
        return self._move(c, "ABANDONED", "NEW", "Restored")

    def _move(self, c: ChangeData, before: str, after: str, verb: str) -> web.Response:
        """Abandon or restore: only from ``before`` (else 409), with the input's message."""
        if c.status != before:
            raise ApiError(409, f"change is {c.status.lower()}")
        c.status = after
        message = self.field("message")
        self.add_message(c, verb + (f"\n\n{message}" if message else ""))
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
        tip = branch_tip(c.project, c.branch)
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
                    parent=(branch_tip(c.project, destination), f"Tip of {destination}"),
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
