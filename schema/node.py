"""Opaque, stable global IDs: ``base64url("<Type>:<backend>:<native id>")`` without padding.

The backend *instance* name is part of the ID, so two Patchwork servers never collide, and the
type lets ``node(id:)`` dispatch. Clients must treat IDs as opaque; decoding garbage raises a
``UserInputError`` with code ``BAD_ID`` rather than failing deep inside a resolver.
"""

from __future__ import annotations

import base64
import binascii
import functools
from dataclasses import dataclass

from schema.errors import UserInputError

ANY_BACKEND = "*"
"""The backend part of an ID that spans backends (an ``Identity``): ``node(id)`` does not look
it up as a configured backend; the type's loader resolves it."""


@dataclass(frozen=True, slots=True)
class GlobalId:
    """A decoded global ID."""

    type: str
    backend: str
    native: str


@functools.lru_cache(maxsize=65536)  # lists re-encode the same IDs on every request
def encode(type_name: str, backend: str, native: str) -> str:
    """The opaque ID of object ``native`` of ``type_name`` on ``backend``."""
    raw = f"{type_name}:{backend}:{native}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode(value: str, expect: str | tuple[str, ...] | None = None) -> GlobalId:
    """Decode ``value``; with ``expect``, the ID must be of that type (or one of them)."""
    gid = _decoded(value)
    if gid is None:
        raise UserInputError(f"{value[:60]!r} is not a valid revgate ID", "BAD_ID")
    wanted = (expect,) if isinstance(expect, str) else expect
    if wanted is not None and gid.type not in wanted:
        raise UserInputError(
            f"ID {value[:60]!r} is a {gid.type}, expected {' or '.join(wanted)}", "BAD_ID"
        )
    return gid


@functools.lru_cache(maxsize=65536)  # a client asks the same IDs again and again
def _decoded(value: str) -> GlobalId | None:
    try:
        padded = value + "=" * (-len(value) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
        type_name, backend, native = text.split(":", 2)
    except (ValueError, UnicodeError, binascii.Error):
        return None
    if not (type_name and backend and native):
        return None
    return GlobalId(type_name, backend, native)
