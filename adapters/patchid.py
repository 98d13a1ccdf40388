"""git's patch-id, ``--stable`` flavour: one diff's identity, whatever forge carries it.

A re-implementation of git 2.39's ``builtin/patch-id.c`` (``git patch-id --stable``) over a
string, so a change's patch-id is computed locally from the diff a forge sends (Patchwork's
``diff``, Gerrit's formatted ``/patch``, an mbox): no git repository, no subprocess. The rules
kept from git:

- Lines before the first ``diff `` line (mail headers, commit message) are skipped; a line
  starting with a 40-hex object name (after an optional ``From ``/``commit ``/``diff-tree ``)
  ends one patch and starts the next (``git format-patch`` output holds several).
- ``index`` lines and hunk headers (``@@ -a,b +c,d @@``) are left out, so line numbers and
  blob names do not matter; ``\\ No newline at end of file`` lines are skipped.
- Every other line of the diff is hashed with all whitespace removed.
- ``--stable``: each file's lines are hashed on their own and the SHA-1s summed (byte-wise,
  little-endian carry), so the order of the files does not matter.
- A hunk ends when its line counts run out; anything after the last hunk that is not a new
  ``diff`` header (a mail signature ``-- ``) ends the patch.

``tests/adapters/test_patchid.py`` compares it with the real ``git patch-id --stable``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

_OID = re.compile(rb"[0-9a-fA-F]{40}")
_HUNK = re.compile(rb"@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))?")
_WS = re.compile(rb"[ \t\n\r]+")  # git's isspace (sane-ctype.h): ASCII only
_RAWSZ = 20


def _add(total: bytearray, digest: bytes) -> None:
    carry = 0
    for i in range(_RAWSZ):
        carry += total[i] + digest[i]
        total[i] = carry & 0xFF
        carry >>= 8


def _next_object(line: bytes) -> bool:
    """Whether ``line`` names the next commit (git's ``get_oid_hex`` on the line's rest)."""
    for prefix in (b"diff-tree ", b"commit ", b"From "):
        if line.startswith(prefix):
            return _OID.match(line, len(prefix)) is not None
    return _OID.match(line) is not None


class _Patch:
    """One patch's hashing state (git's ``get_one_patchid`` locals)."""

    def __init__(self, stable: bool) -> None:
        self.stable = stable
        self.total = bytearray(_RAWSZ)
        self.sha = hashlib.sha1(usedforsecurity=False)
        self.length = 0
        self.before = -1
        self.after = -1
        self.binary = False
        self.pre_oid = b""  # the blob names of the file's index line: a binary file's identity
        self.post_oid = b""

    def flush(self) -> None:
        _add(self.total, self.sha.digest())
        self.sha = hashlib.sha1(usedforsecurity=False)

    def feed(self, line: bytes) -> bool:
        """Take one line; ``False``: the patch ended before it."""
        if not self.length and not line.startswith(b"diff "):
            return True  # the commit message and mail headers
        if self.before == -1:
            if line.startswith((b"GIT binary patch", b"Binary files")):
                self.binary = True
                self.before = 0
                self.sha.update(self.pre_oid)
                self.sha.update(self.post_oid)
                if self.stable:
                    self.flush()
                return True
            if line.startswith(b"index "):
                self._index(line)
                return True
            if line.startswith(b"--- "):
                self.before = self.after = 1
            elif not line[:1].isalpha():  # bytes: ASCII letters only, as git's isalpha
                return False
        if self.binary:
            if not line.startswith(b"diff "):
                return True  # the binary data
            self.binary = False
            self.before = -1
            return True
        if self.before == 0 and self.after == 0:
            if line.startswith(b"@@ -"):
                found = _HUNK.match(line)
                if found is None:  # git reads what it can: a bad header counts one line
                    self.before = self.after = 1
                else:
                    self.before = int(found.group(1) or 1)
                    self.after = int(found.group(2) or 1)
                return True
            if not line.startswith(b"diff "):
                return False
            if self.stable:
                self.flush()
            self.before = self.after = -1
        if line[:1] in (b"-", b" "):
            self.before -= 1
        if line[:1] in (b"+", b" "):
            self.after -= 1
        squeezed = _WS.sub(b"", line)
        self.length += len(squeezed)
        self.sha.update(squeezed)
        return True

    def _index(self, line: bytes) -> None:
        # "index <pre>..<post>[ <mode>]": the names, cut where git cuts them
        dots = line.find(b"..")
        if dots < 0:
            return
        end = line.find(b" ", dots)
        if end < 0:
            end = len(line) - 1
        self.pre_oid = line[len(b"index ") : dots][:40]
        self.post_oid = line[dots + 2 : end][:40]

    def result(self) -> str | None:
        if not self.length:
            return None
        self.flush()
        return self.total.hex()


def _lines(text: str | bytes) -> Iterator[bytes]:
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
    *whole, last = data.split(b"\n")  # git reads lines up to "\n" only (a "\r" stays)
    for line in whole:
        yield line + b"\n"
    if last:
        yield last


def patch_ids(text: str | bytes, stable: bool = True) -> list[str]:
    """The patch-id of each patch in ``text`` (a diff, a formatted patch, an mbox), in order;
    patches without a diff have none and are left out."""
    out: list[str] = []
    current = _Patch(stable)
    for line in _lines(text):
        if line.startswith(b"\\ ") and len(line) > 12:
            continue  # "\ No newline at end of file"
        if _next_object(line) or not current.feed(line):
            # git ends the patch on this line (consumed) and reads on for the next diff
            if (found := current.result()) is not None:
                out.append(found)
            current = _Patch(stable)
    if (found := current.result()) is not None:
        out.append(found)
    return out


def patch_id(text: str | bytes | None) -> str | None:
    """The stable patch-id of the first patch in ``text`` (``None``: no diff in it)."""
    if not text:
        return None
    found = patch_ids(text)
    return found[0] if found else None
