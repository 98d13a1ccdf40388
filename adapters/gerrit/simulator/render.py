"""How the simulator renders its data as Gerrit JSON, and evaluates change queries.

``legacy=True`` renders the Gerrit 2.x era shape (``kind``, ``_sortkey``); otherwise today's
(``_more_changes`` only). Diffs are computed with ``difflib`` from a file's lines.
"""

from __future__ import annotations

import base64
import difflib
import io
import re
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime

from adapters.gerrit.query import And, Expr, Not, Or, QueryError, Term
from adapters.gerrit.simulator.data import (
    COMMIT_MSG,
    ChangeData,
    FileData,
    GerritData,
    Json,
    RevisionData,
    ts,
)

CLOSED = ("MERGED", "ABANDONED")


class Renderer:
    """Renders one request's answers (``caller`` is the signed-in account, if any)."""

    def __init__(self, data: GerritData, caller: int | None, legacy: bool, base_url: str) -> None:
        self.data = data
        self.caller = caller
        self.legacy = legacy
        self.base_url = base_url

    # -- accounts ---------------------------------------------------------------------------

    def account(self, account_id: int, detailed: bool = True) -> Json:
        return self.data.account_info(account_id, detailed)

    # -- changes ----------------------------------------------------------------------------

    def change(self, c: ChangeData, options: Iterable[str] = ()) -> Json:
        """ChangeInfo with the ``o`` options given."""
        opts = {o.upper() for o in options}
        detailed = "DETAILED_ACCOUNTS" in opts
        out: Json = {}
        if self.legacy:
            out["kind"] = "gerritcodereview#change"
        out.update(
            {
                "id": c.triplet,
                "project": c.project,
                "branch": c.branch,
                "change_id": c.change_id,
                "subject": c.subject,
                "status": c.status,
                "created": ts(c.created),
                "updated": ts(c.updated),
            }
        )
        if c.topic:
            out["topic"] = c.topic
        if self.caller in c.starred_by:
            out["starred"] = True
        reviewed = any(m.get("author") == self.caller for m in c.messages)
        if "REVIEWED" in opts and self.caller is not None and reviewed:
            out["reviewed"] = True
        if c.status not in CLOSED:
            out["mergeable"] = c.mergeable
        if self.legacy:
            out["_sortkey"] = c.sortkey()
        out["_number"] = c.number
        out["owner"] = self.account(c.owner, detailed)
        if "LABELS" in opts or "DETAILED_LABELS" in opts:
            out["labels"] = self.labels(c, "LABELS" in opts, "DETAILED_LABELS" in opts, detailed)
        if "DETAILED_LABELS" in opts:
            out["permitted_labels"] = {
                name: [_vote(v) for v in self.data.permitted_range(name, self.caller)]
                for name in self.data.labels
                if self.caller is not None and c.status not in CLOSED
            }
            out["removable_reviewers"] = [self.account(a, detailed) for a in c.reviewers]
        if "MESSAGES" in opts:
            out["messages"] = [self.message(m, detailed) for m in c.messages]
        revs: list[RevisionData] = []
        if "ALL_REVISIONS" in opts:
            revs = sorted(c.revisions, key=lambda r: r.number)
        elif "CURRENT_REVISION" in opts:
            revs = [c.current]
        if revs:
            out["current_revision"] = c.current.sha
            out["revisions"] = {r.sha: self.revision(c, r, opts) for r in revs}
        return out

    def labels(self, c: ChangeData, summary: bool, detailed: bool, accounts: bool) -> Json:
        out: Json = {}
        for name, values in self.data.labels.items():
            votes = c.votes.get(name, {})
            info: Json = {}
            if summary and votes:
                high, low = max(values), min(values)
                for who, value in votes.items():
                    key = (
                        "approved"
                        if value == high
                        else "rejected"
                        if value == low
                        else "recommended"
                        if value > 0
                        else "disliked"
                        if value < 0
                        else None
                    )
                    if key and key not in info:
                        info[key] = self.account(who, accounts)
                        if key in ("recommended", "disliked"):
                            info["value"] = value
            if detailed:
                voters = dict.fromkeys(c.reviewers, 0) | votes
                info["all"] = [
                    {"value": value, **self.account(who, True)}
                    | (
                        {"date": ts(c.vote_dates[(name, who)])}
                        if (name, who) in c.vote_dates
                        else {}
                    )
                    for who, value in voters.items()
                ]
                info["values"] = {_vote(v): text for v, text in sorted(values.items())}
            out[name] = info
        return out

    def message(self, m: Json, detailed: bool = True) -> Json:
        out: Json = {"id": m["id"]}
        if m.get("author") is not None:
            out["author"] = self.account(m["author"], detailed)
        out["date"] = m["date"]
        out["message"] = m["message"]
        if m.get("_revision_number") is not None:
            out["_revision_number"] = m["_revision_number"]
        return out

    def revision(self, c: ChangeData, r: RevisionData, opts: set[str]) -> Json:
        ref = f"refs/changes/{c.number % 100:02d}/{c.number}/{r.number}"
        fetch: Json = {}
        for proto, url in (
            ("http", f"{self.base_url}/{c.project}"),
            ("ssh", f"ssh://*:29418/{c.project}"),
        ):
            info: Json = {"url": url, "ref": ref}
            if "DOWNLOAD_COMMANDS" in opts:
                info["commands"] = {
                    "Checkout": f"git fetch {url} {ref} && git checkout FETCH_HEAD",
                    "Cherry-Pick": f"git fetch {url} {ref} && git cherry-pick FETCH_HEAD",
                    "Format-Patch": f"git fetch {url} {ref} && git format-patch -1 --stdout "
                    "FETCH_HEAD",
                    "Pull": f"git pull {url} {ref}",
                }
            fetch[proto] = info
        out: Json = {"_number": r.number, "fetch": fetch}
        if r.draft:
            out["draft"] = True
        if "DRAFT_COMMENTS" in opts and self.caller is not None and r.drafts.get(self.caller):
            out["has_draft_comments"] = True
        current = r is c.current
        if "ALL_COMMITS" in opts or ("CURRENT_COMMIT" in opts and current):
            out["commit"] = self.commit(c, r, with_sha=False)
        if "ALL_FILES" in opts or ("CURRENT_FILES" in opts and current):
            out["files"] = self.files(r, with_commit_msg=False)
        return out

    def commit(self, c: ChangeData, r: RevisionData, with_sha: bool = True) -> Json:
        author = r.author or {
            **{k: self.data.accounts[c.owner][k] for k in ("name", "email")},
            "date": ts(r.created),
            "tz": 0,
        }
        out: Json = {"commit": r.sha} if with_sha else {}
        if self.legacy and with_sha:
            out["kind"] = "gerritcodereview#commit"
        out.update(
            {
                "parents": [{"commit": r.parent[0], "subject": r.parent[1]}],
                "author": author,
                "committer": author,
                "subject": r.message.split("\n", 1)[0],
                "message": r.message,
            }
        )
        return out

    def files(self, r: RevisionData, with_commit_msg: bool = True) -> Json:
        out: Json = {}
        if with_commit_msg:
            out[COMMIT_MSG] = {"status": "A", "lines_inserted": len(r.message.splitlines()) + 6}
        for path, f in sorted(r.files.items()):
            ins, dels = _counts(f)
            info: Json = {}
            if f.status != "M":
                info["status"] = f.status
            if ins:
                info["lines_inserted"] = ins
            if dels:
                info["lines_deleted"] = dels
            out[path] = info
        return dict(sorted(out.items()))

    def comment(self, x: Json, with_path: bool, draft: bool = False) -> Json:
        out: Json = {}
        if self.legacy:
            out["kind"] = "gerritcodereview#comment"
        out["id"] = x["id"]
        if with_path:
            out["path"] = x["path"]
        for key in ("side", "line", "range", "in_reply_to", "message", "updated"):
            if x.get(key) is not None:
                out[key] = x[key]
        if not draft and x.get("author") is not None:
            out["author"] = self.account(x["author"], True)
        return out

    def comment_map(self, items: list[Json], draft: bool = False) -> Json:
        out: dict[str, list[Json]] = {}
        for x in sorted(items, key=lambda x: (x["path"], x.get("line") or 0)):
            out.setdefault(x["path"], []).append(self.comment(x, False, draft))
        return out

    def reviewer(self, c: ChangeData, account_id: int) -> Json:
        approvals = {
            name: _vote(c.votes.get(name, {}).get(account_id, 0)) for name in self.data.labels
        }
        out: Json = {"kind": "gerritcodereview#reviewer"} if self.legacy else {}
        return out | {"approvals": approvals} | self.account(account_id, True)


def _vote(value: int) -> str:
    return f"+{value}" if value > 0 else (" 0" if value == 0 else str(value))


def _counts(f: FileData) -> tuple[int, int]:
    a, b = f.a or [], f.b or []
    ins = dels = 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b).get_opcodes():
        if op in ("replace", "delete"):
            dels += i2 - i1
        if op in ("replace", "insert"):
            ins += j2 - j1
    return ins, dels


def _normalize(line: str, mode: str) -> str:
    if mode == "TRAILING":
        return line.rstrip()
    if mode == "CHANGED":
        return " ".join(line.split()) if line.strip() else ""
    if mode == "ALL":
        return "".join(line.split())
    return line


def file_diff(
    path: str,
    old: list[str] | None,
    new: list[str] | None,
    *,
    intraline: bool,
    context: int | None,
    whitespace: str,
) -> Json:
    """A DiffInfo between ``old`` and ``new`` lines."""
    a, b = old or [], new or []
    change_type = "ADDED" if old is None else ("DELETED" if new is None else "MODIFIED")
    out: Json = {}
    if old is not None:
        out["meta_a"] = {"name": path, "content_type": "text/plain", "lines": len(a)}
    if new is not None:
        out["meta_b"] = {"name": path, "content_type": "text/plain", "lines": len(b)}
    out["change_type"] = change_type
    if intraline:
        out["intraline_status"] = "OK"
    out["diff_header"] = [
        f"diff --git a/{path} b/{path}",
        "--- " + (f"a/{path}" if old is not None else "/dev/null"),
        "+++ " + (f"b/{path}" if new is not None else "/dev/null"),
    ]
    matcher = difflib.SequenceMatcher(
        None, [_normalize(x, whitespace) for x in a], [_normalize(x, whitespace) for x in b]
    )
    content: list[Json] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            common = b[j1:j2]
            if context is not None and len(common) > 2 * context + 1:
                head = common[:context] if content else []
                tail = common[len(common) - context :] if j2 < len(b) else []
                if head:
                    content.append({"ab": head})
                content.append({"skip": len(common) - len(head) - len(tail)})
                if tail:
                    content.append({"ab": tail})
            else:
                content.append({"ab": common})
            continue
        chunk: Json = {}
        if i2 > i1:
            chunk["a"] = a[i1:i2]
        if j2 > j1:
            chunk["b"] = b[j1:j2]
        if intraline and op == "replace":
            chunk["edit_a"], chunk["edit_b"] = _intraline("\n".join(a[i1:i2]), "\n".join(b[j1:j2]))
        content.append(chunk)
    out["content"] = content
    return out


def _intraline(a: str, b: str) -> tuple[list[list[int]], list[list[int]]]:
    edits_a: list[list[int]] = []
    edits_b: list[list[int]] = []
    last_a = last_b = 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b).get_opcodes():
        if op == "equal":
            continue
        if i2 > i1:
            edits_a.append([i1 - last_a, i2 - i1])
            last_a = i2
        if j2 > j1:
            edits_b.append([j1 - last_b, j2 - j1])
            last_b = j2
    return edits_a, edits_b


def formatted_patch(c: ChangeData, r: RevisionData, author: Json) -> str:
    """``git format-patch`` output for a patch set."""
    lines = [
        f"From {r.sha} Mon Sep 17 00:00:00 2001",
        f"From: {author['name']} <{author['email']}>",
        f"Date: {ts(r.created)}",
        f"Subject: [PATCH] {r.message.splitlines()[0]}",
        "",
        *r.message.splitlines()[1:],
        "---",
    ]
    for path, f in sorted(r.files.items()):
        diff = difflib.unified_diff(
            f.a or [],
            f.b or [],
            "/dev/null" if f.a is None else f"a/{path}",
            "/dev/null" if f.b is None else f"b/{path}",
            lineterm="",
        )
        lines += [f"diff --git a/{path} b/{path}", *diff]
    return "\n".join(lines) + "\n"


def b64(data: bytes) -> bytes:
    return base64.b64encode(data)


def zipped(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr(name, data)
    return buf.getvalue()


# -- queries ---------------------------------------------------------------------------------


class Unsupported(Exception):
    """An operator the simulator does not evaluate."""


def matches(data: GerritData, c: ChangeData, expr: Expr, caller: int | None) -> bool:
    """Whether change ``c`` satisfies ``expr``."""
    if isinstance(expr, Or):
        return any(matches(data, c, p, caller) for p in expr.parts)
    if isinstance(expr, And):
        return all(matches(data, c, p, caller) for p in expr.parts)
    if isinstance(expr, Not):
        return not matches(data, c, expr.inner, caller)
    return _term(data, c, expr, caller)


def _account_is(data: GerritData, key: str, account_id: int, caller: int | None) -> bool:
    acct = data.find_account(key, caller)
    return acct is not None and acct["_account_id"] == account_id


def _term(data: GerritData, c: ChangeData, t: Term, caller: int | None) -> bool:
    op, value = t.operator, t.value
    low = value.lower()
    if (op == "" and value.isdigit()) or (op == "change" and value.isdigit()):
        return c.number == int(value)
    if op in ("", "change") and re.fullmatch(r"I[0-9a-f]{40}", value):
        return c.change_id == value
    if op == "change":
        return c in data.find_changes(value)
    if (op == "" and re.fullmatch(r"[0-9a-f]{6,40}", value)) or op == "commit":
        return any(r.sha.startswith(low) for r in c.revisions)
    if op == "message":
        # Gerrit matches the commit message's words (a quoted value: the phrase); the
        # simulator approximates that with a case-insensitive substring of the current one
        return low in c.current.message.lower()
    if op == "":
        return low in c.subject.lower()
    if op in ("status", "is"):
        if low in ("open", "pending", "new"):
            return c.status in ("NEW", "DRAFT") if low != "new" else c.status == "NEW"
        if low == "closed":
            return c.status in CLOSED
        if low in ("merged", "abandoned", "draft"):
            return c.status == low.upper()
        if op == "is" and low == "owner":
            return caller is not None and c.owner == caller
        if op == "is" and low == "reviewer":
            return caller is not None and caller in c.reviewers
        if op == "is" and low == "starred":
            return caller in c.starred_by
        if op == "is" and low == "watched":
            return caller is not None  # the simulated callers watch every project
        if op == "is" and low == "mergeable":
            return c.mergeable
        raise Unsupported(f"unsupported {op} value {value!r}")
    if op == "owner":
        return _account_is(data, value, c.owner, caller)
    if op == "reviewer":
        return any(_account_is(data, value, r, caller) for r in c.reviewers)
    if op == "project":
        return c.project == value
    if op == "branch":
        return c.branch == value.removeprefix("refs/heads/")
    if op == "topic":
        return c.topic == value
    if op in ("after", "since"):
        return c.updated >= _query_time(value)
    if op in ("before", "until"):
        return c.updated <= _query_time(value)
    if op == "limit":
        return True
    raise Unsupported(f"operator {op!r} is not supported by this simulator")


_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S.%f %z", "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


def _query_time(value: str) -> datetime:
    """A query ``TIME`` (``2006-01-02[ 15:04:05[.890][ -0700]]``; UTC when no zone)."""
    for fmt in _TIME_FORMATS:
        try:
            moment = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    raise QueryError(f"invalid time {value!r}")


def query_limit(expr: Expr) -> int | None:
    """The smallest ``limit:`` among the top-level AND terms."""
    parts = expr.parts if isinstance(expr, And) else (expr,)
    limits = [int(p.value) for p in parts if isinstance(p, Term) and p.operator == "limit"]
    for p in parts:
        if isinstance(p, Term) and p.operator == "limit" and not p.value.isdigit():
            raise QueryError(f"bad limit {p.value!r}")
    return min(limits) if limits else None


def run_query(
    data: GerritData, expr: Expr, caller: int | None
) -> list[ChangeData]:  # most recently updated first
    found = [
        c
        for c in data.changes.values()
        if (c.status != "DRAFT" or c.owner == caller) and matches(data, c, expr, caller)
    ]
    return sorted(found, key=lambda c: c.sortkey(), reverse=True)
