"""Git smart HTTP, read-only, for every project of the simulator (``git fetch``, ``git
clone``, ``git review -d``), served as Gerrit serves it: ``GET /<project>/info/refs?
service=git-upload-pack`` and ``POST /<project>/git-upload-pack``, also under ``/a/``.

Each project's bare repository is built lazily in a temporary directory (removed when the
simulator closes) by one ``git fast-import`` run: a root commit at every branch head and one
commit per published patch set at ``refs/changes/<last two digits>/<number>/<patch set>``,
whose parent is the root commit and whose message is the change's subject with its
``Change-Id:`` trailer. Commits are dated from the data, so twin simulators build the same
shas. Draft patch sets are left out (anonymous readers may not see them). When a write
changes a project's patch sets the next git request rebuilds its repository.

Requests go to ``git http-backend`` (CGI) with the project's repository under a generated
directory name, so a project name never becomes a file path. ``git-receive-pack`` is
refused by ``http-backend`` itself (``http.receivepack=false``: 403, as a read-only mirror).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

from aiohttp import web

from adapters.gerrit.simulator.api import ApiError
from adapters.gerrit.simulator.data import ChangeData, GerritData
from adapters.gerrit.smart_http import GitPath

ROOT_TIME = 1_230_768_000  # 2009-01-01: before every seeded change
ROOT_IDENT = "Gerrit Code Review <gerrit@example.com>"
_CGI_TIMEOUT = 60.0  # seconds: a stuck git never holds a request forever


def _ident(data: GerritData, account: int) -> str:
    acct = data.accounts.get(account, {})
    name = str(acct.get("name") or acct.get("username") or f"user {account}")
    email = str(acct.get("email") or f"{account}@example.com")
    clean = {ord(c): None for c in "<>\n\r\0"}  # what a git ident line cannot hold
    return f"{name.translate(clean)} <{email.translate(clean)}>"


def _blob(text: bytes) -> bytes:
    return b"data %d\n%s\n" % (len(text), text)


def _safe_file(path: str) -> bool:
    parts = path.split("/")
    return not (
        path.startswith(('"', "/")) or any(c in path for c in "\n\r\0") or "" in parts
    ) and not any(p in (".", "..", ".git") for p in parts)


def _change_commits(data: GerritData, c: ChangeData) -> list[bytes]:
    out = []
    message = f"{c.subject}\n\nChange-Id: {c.change_id}\n".encode()
    for r in sorted(c.revisions, key=lambda r: r.number):
        if r.draft:
            continue
        when = int(r.created.timestamp())
        ident = _ident(data, r.uploader)
        lines = [
            f"commit refs/changes/{c.number % 100:02d}/{c.number}/{r.number}".encode(),
            f"author {ident} {when} +0000".encode(),
            f"committer {ident} {when} +0000".encode(),
            _blob(message).rstrip(b"\n"),
            b"from :1",
        ]
        for path, f in sorted(r.files.items()):
            if f.b is not None and _safe_file(path):
                content = "".join(line + "\n" for line in f.b).encode()
                lines += [f"M 100644 inline {path}".encode(), _blob(content).rstrip(b"\n")]
        out.append(b"\n".join(lines) + b"\n\n")
    return out


def import_stream(data: GerritData, project: str) -> bytes:
    """The ``git fast-import`` input that builds ``project``'s repository."""
    branches = sorted(data.branches.get(project) or {"master"})
    stamp = f"{ROOT_IDENT} {ROOT_TIME} +0000"
    chunks = [
        f"commit refs/heads/{branches[0]}\nmark :1\nauthor {stamp}\ncommitter {stamp}\n".encode(),
        _blob(b"Initial empty commit\n"),
        b"\n",
    ]
    chunks += [f"reset refs/heads/{b}\nfrom :1\n\n".encode() for b in branches[1:]]
    for c in sorted(data.changes.values(), key=lambda c: c.number):
        if c.project == project:
            chunks += _change_commits(data, c)
    chunks.append(b"done\n")
    return b"".join(chunks)


def _signature(data: GerritData, project: str) -> object:
    """What the repository is built from: a change of it means a rebuild."""
    changes = [
        (c.number, tuple((r.number, r.draft, r.sha) for r in c.revisions))
        for c in data.changes.values()
        if c.project == project
    ]
    return (tuple(sorted(data.branches.get(project) or ())), tuple(sorted(changes)))


def _git_env(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C",
        "GIT_CONFIG_NOSYSTEM": "1",
    }


async def _git(args: list[str], home: Path, stdin: bytes = b"", **env: str) -> bytes:
    proc = await asyncio.create_subprocess_exec(
        "git",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**_git_env(home), **env},
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), _CGI_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise ApiError(500, "Internal server error") from None
    if proc.returncode != 0 and args[0] != "http-backend":
        raise RuntimeError(f"git {args[0]} failed: {err.decode(errors='replace')[:300]}")
    return out


class GitMirror:
    """The bare repositories of one simulator, built on first use."""

    def __init__(self, data: GerritData) -> None:
        self.data = data
        self._root: Path | None = None
        self._built: dict[str, tuple[str, object]] = {}  # project: (directory, signature)
        self._count = 0
        self._lock = asyncio.Lock()

    @property
    def root(self) -> Path | None:
        """The temporary directory of the repositories (None before the first request)."""
        return self._root

    async def repository(self, project: str) -> tuple[Path, str] | None:
        """The root directory and the repository's name under it, None for no project."""
        if project not in self.data.projects:
            return None
        wanted = _signature(self.data, project)
        async with self._lock:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="gerrit-sim-git-"))
            known = self._built.get(project)
            if known is not None and known[1] == wanted:
                return self._root, known[0]
            self._count += 1
            name = f"p{self._count}.git"
            repo = self._root / name
            await _git(["init", "-q", "--bare", str(repo)], self._root)
            stream = import_stream(self.data, project)
            await _git(["fast-import", "--quiet", "--done"], self._root, stream, GIT_DIR=str(repo))
            if known is not None:
                shutil.rmtree(self._root / known[0], ignore_errors=True)
            self._built[project] = (name, wanted)
            return self._root, name

    async def close(self, _app: web.Application | None = None) -> None:
        """Remove every repository (an ``on_cleanup`` hook of the app)."""
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None
            self._built.clear()


def _parse_cgi(out: bytes) -> web.Response:
    head, sep, body = out.partition(b"\r\n\r\n")
    if not sep:
        head, _, body = out.partition(b"\n\n")
    status, headers = 200, []
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "status":
            status = int(value.split()[0])
        elif name.strip():
            headers.append((name.strip(), value.strip()))
    response = web.Response(body=body, status=status)
    for name, value in headers:
        response.headers.add(name, value)
    return response


async def serve(request: web.Request, mirror: GitMirror, git: GitPath) -> web.Response:
    """Answer one smart HTTP request through ``git http-backend``."""
    project = "/".join(git.project).removesuffix(".git")  # Gerrit takes both spellings
    found = await mirror.repository(project)
    if found is None:
        raise ApiError(404, "Not found")
    root, name = found
    body = await request.read()  # aiohttp has undone a gzip Content-Encoding already
    env = {
        "GIT_PROJECT_ROOT": str(root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": f"/{name}/{git.tail}",
        "QUERY_STRING": request.query_string,
        "REQUEST_METHOD": request.method,
        "CONTENT_TYPE": request.headers.get("Content-Type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": request.remote or "127.0.0.1",
        "HTTP_GIT_PROTOCOL": request.headers.get("Git-Protocol", ""),
        # A read-only mirror: receive-pack is git's own 403.
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.receivepack",
        "GIT_CONFIG_VALUE_0": "false",
    }
    return _parse_cgi(await _git(["http-backend"], root, body, **env))
