"""Which Gerrit paths are git's smart HTTP protocol, shared by the compat router and the
simulator so both read a project's git URL alike.

Gerrit serves every project's repository at ``/<project>/`` (and ``/a/<project>/``
authenticated): ``GET <project>/info/refs?service=git-upload-pack`` advertises the refs,
``POST <project>/git-upload-pack`` sends the pack (fetch and clone); the ``receive-pack``
twins push. The project name is every segment before the git suffix (``platform/tools`` may
come as two segments or as one ``platform%2Ftools``); the dumb protocol (``info/refs``
without ``service``) is not git's smart HTTP and is not recognised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

UPLOAD = "git-upload-pack"
RECEIVE = "git-receive-pack"
ADVERTISEMENT = "application/x-{service}-advertisement"
RESULT = "application/x-{service}-result"


@dataclass(frozen=True, slots=True)
class GitPath:
    """One smart HTTP request: the project's decoded segments, the service and the step."""

    project: tuple[str, ...]
    service: str  # UPLOAD or RECEIVE
    advertisement: bool  # ``info/refs`` (GET) rather than the service's POST

    @property
    def read(self) -> bool:
        """Whether the request only reads (fetch/clone), never pushes."""
        return self.service == UPLOAD

    @property
    def tail(self) -> str:
        """The path after the project: ``info/refs`` or the service."""
        return "info/refs" if self.advertisement else self.service


def classify(segments: Sequence[str], method: str, service: str | None) -> GitPath | None:
    """The git request that ``method`` on ``segments`` (decoded, without ``a``) with the
    query's ``service`` value is, or None for any other request."""
    if len(segments) >= 3 and list(segments[-2:]) == ["info", "refs"]:
        if method in ("GET", "HEAD") and service in (UPLOAD, RECEIVE):
            return GitPath(tuple(segments[:-2]), service, True)
        return None
    if len(segments) >= 2 and segments[-1] in (UPLOAD, RECEIVE) and method == "POST":
        return GitPath(tuple(segments[:-1]), segments[-1], False)
    return None
