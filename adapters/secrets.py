"""The one registry of every secret the gateway holds, and the one scrubber that knows their forms.

Every credential the process is configured with — a backend's token or password, the
password of a ``user:pw@`` URL (backend, cache, rate store), a caller's own backend token
(``gateway/callers.py``) or a compat token's (``gateway/compat.py``) — is registered here
(``HttpClient`` registers the credentials it is built with; ``gateway.scrub.register_settings``
registers everything in the settings). Each secret is watched in every form it travels in:

- raw, ``Token x``, ``Bearer x``;
- HTTP Basic: ``base64(user:secret)`` for the configured user, ``base64(secret:)`` (how ABF
  takes a token) and ``base64(secret)``, each standard and URL-safe, with and without padding,
  with and without ``Basic``;
- JSON-escaped and HTML-escaped; and each of these URL-encoded (``quote``, ``quote_plus``).

A form shorter than ``MIN_FORM`` characters is not scrubbed on its own: masking a short
password such as ``pw1`` in every body would corrupt data; its encoded forms (which are long)
still are. ``gateway.scrub`` warns at start-up about such secrets.

``scrub(text)`` replaces each form by ``***`` (messages, log lines); ``mask(data)`` masks bytes
without changing their length (response bodies: ``Content-Length`` and streaming stay valid).
Detection scans a minimal set of needles (a form that contains a shorter form is found through
it), so a clean body costs a few ``in`` tests.
"""

from __future__ import annotations

import base64
import html
import json
import threading
from urllib.parse import quote, quote_plus, unquote, urlsplit

__all__ = ["MASK", "MIN_FORM", "SECRETS", "Secrets", "url_password"]

MASK = "***"
MIN_FORM = 8


def _b64_forms(raw: str) -> list[str]:
    data = raw.encode()
    standard = base64.b64encode(data).decode("ascii")
    urlsafe = base64.urlsafe_b64encode(data).decode("ascii")
    forms = {standard, standard.rstrip("="), urlsafe, urlsafe.rstrip("=")}
    return [*forms, *(f"Basic {f}" for f in forms)]


def _text_forms(secret: str) -> list[str]:
    return [
        secret,
        f"Token {secret}",
        f"Bearer {secret}",
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(secret),
    ]


def _url_forms(form: str) -> list[str]:
    # A form echoed in a query string or a Location/Link/Set-Cookie header.
    return [quote(form, safe=""), quote(form), quote_plus(form)]


def forms_of(secret: str, user: str | None = None) -> set[str]:
    """Every form of ``secret`` (and of ``user:secret`` in HTTP Basic) worth scrubbing."""
    forms = set(_text_forms(secret))
    forms.update(_b64_forms(secret))
    forms.update(_b64_forms(f"{secret}:"))
    if user is not None:
        forms.update(_b64_forms(f"{user}:{secret}"))
    forms.update(url for form in list(forms) for url in _url_forms(form))
    return {f for f in forms if len(f) >= MIN_FORM}


def url_password(url: str | None) -> tuple[str | None, str | None]:
    """The ``(user, password)`` of a ``user:pw@`` URL (decoded), ``(None, None)`` without."""
    if not url:
        return None, None
    try:
        parts = urlsplit(url)
        password = parts.password
        user = parts.username
    except ValueError:
        return None, None
    if not password:
        return None, None
    return (unquote(user) if user else ""), unquote(password)


class Secrets:
    """The registry (thread-safe to add to; reads see an immutable snapshot)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: set[tuple[str, str | None]] = set()
        self._forms: set[str] = set()
        self._needle_set: set[str] = set()
        # Snapshots rebuilt on every addition (rare: start-up, reload, first use of a token).
        self._ordered: tuple[str, ...] = ()  # longest first, so a longer form wins
        self._needles: tuple[str, ...] = ()
        self._ordered_b: tuple[bytes, ...] = ()
        self._needles_b: tuple[bytes, ...] = ()
        self.longest = 0

    def __bool__(self) -> bool:
        return bool(self._needles)

    def __len__(self) -> int:
        return len(self._forms)

    def add(self, secret: str | None, user: str | None = None) -> bool:
        """Watch ``secret`` (``user``: the Basic user name it is sent with); whether its raw
        form is long enough to be scrubbed on its own."""
        if not secret:
            return True
        key = (secret, user)
        if key in self._seen:
            return len(secret) >= MIN_FORM
        with self._lock:
            self._seen.add(key)
            group = forms_of(secret, user)
            new = group - self._forms
            if new:
                self._forms |= new
                # A form containing another of its group is found through the shorter one:
                # scan only the minimal set (per group: the registry may hold hundreds).
                self._needle_set |= {f for f in group if not any(o != f and o in f for o in group)}
                self._rebuild()
        return len(secret) >= MIN_FORM

    def add_url(self, url: str | None) -> None:
        """Watch the password of a ``user:pw@`` URL."""
        user, password = url_password(url)
        if password:
            self.add(password, user)

    def _rebuild(self) -> None:
        ordered = sorted(self._forms, key=lambda f: (-len(f), f))
        needles = sorted(self._needle_set)
        self._ordered = tuple(ordered)
        self._needles = tuple(needles)
        self._ordered_b = tuple(f.encode() for f in ordered)
        self._needles_b = tuple(n.encode() for n in needles)
        self.longest = max((len(f) for f in self._ordered_b), default=0)

    # Plain loops, not any(<generator>): these run on every response and log record.
    def found(self, text: str) -> bool:
        """Whether any form of any secret occurs in ``text``."""
        for needle in self._needles:  # noqa: SIM110
            if needle in text:
                return True
        return False

    def found_bytes(self, data: bytes) -> bool:
        """Whether any form of any secret occurs in ``data``."""
        for needle in self._needles_b:  # noqa: SIM110
            if needle in data:
                return True
        return False

    def scrub(self, text: str) -> str:
        """``text`` with every form of every secret replaced by ``***``."""
        if not self.found(text):
            return text
        for form in self._ordered:
            if form in text:
                text = text.replace(form, MASK)
        return text

    def mask(self, data: bytes) -> bytes:
        """``data`` with every form of every secret overwritten by ``*`` (same length)."""
        if not self.found_bytes(data):
            return data
        for form in self._ordered_b:
            if form in data:
                data = data.replace(form, b"*" * len(form))
        return data


SECRETS = Secrets()
"""The process-wide registry: the log record factory and the response scrubber read it."""
