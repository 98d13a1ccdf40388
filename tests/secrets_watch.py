"""A pytest plugin that fails any test whose responses or log lines carry a known credential.

Registered by ``tests/conftest.py`` for the whole suite. It watches:

* every *credential configured anywhere in the suite*, in every form it can travel in: the
  config of each ``adapters.http.HttpClient`` built by any test (its ``Credentials`` and the
  password of a ``user:password@`` URL) and every ``Settings`` the suite builds (backend
  tokens and passwords, API keys' and compat tokens' ``backend_tokens``, the cache and rate
  store URLs); ``KNOWN_SECRETS`` and ``watch()`` add more. The forms are computed here, from
  the configured values alone — never from what the production code sends or scrubs, so a
  blind spot there (a client building its own ``Authorization`` header) is not shared:
  raw, ``Token x``, ``Bearer x``, HTTP Basic ``base64(user:x)`` and ``base64(x:)`` (standard
  and URL-safe, with and without padding) and URL-encoded (``quote``/``quote_plus``). Forms
  shorter than ``MIN_SECRET`` are ignored (too likely to occur by chance);
* every *response* a test receives through httpx (``Client.send``/``AsyncClient.send``:
  status line, headers and body) and every WebSocket message received through aiohttp;
* every *log record* of any logger at DEBUG and above (the root logger is set to DEBUG for
  the session; the message with its arguments and any traceback, formatted), and the
  captured stdout/stderr/log sections pytest attaches to each test's report.

A leak turns the phase's report into a failure naming the credential's owner (never the
credential itself) and where it appeared; leaks seen outside any test (a background thread
logging after its test ended) fail the session. The terminal summary says how much was
scanned, so a silent no-op would show.
"""

from __future__ import annotations

import base64
import functools
import logging
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus, unquote, urlsplit

import aiohttp
import httpx
import pytest

from adapters import http as upstream_http
from gateway import settings as gateway_settings

MIN_SECRET = 8
# Credentials the suite configures by name (see tests/conftest.py and tests/reliability/).
KNOWN_SECRETS: dict[str, str] = {"a0" * 20: "the simulator's admin token (ADMIN_TOKEN)"}


@dataclass
class Leak:
    """One credential found in one place (the credential is never stored here)."""

    owner: str
    where: str
    excerpt: str


@dataclass
class Watch:
    """The credentials watched and what has been scanned so far."""

    secrets: dict[str, str] = field(default_factory=dict)  # secret -> who configured it
    pending: list[Leak] = field(default_factory=list)
    responses: int = 0
    log_lines: int = 0
    sections: int = 0
    leaks: int = 0

    def add(self, secret: str | None, owner: str) -> None:
        """Watch ``secret`` from now on (``owner`` says where it came from, for reports)."""
        if secret and len(secret) >= MIN_SECRET:
            self.secrets.setdefault(secret, owner)

    def add_credential(self, secret: str | None, owner: str, user: str | None = None) -> None:
        """Watch ``secret`` in every form it travels in (``user``: its HTTP Basic user)."""
        if not secret:
            return
        for form in encoded_forms(secret, user):
            self.add(form, owner)

    def add_url(self, url: str | None, owner: str) -> None:
        """Watch the password of a ``user:password@`` URL."""
        try:
            parts = urlsplit(url or "")
            user, password = parts.username, parts.password
        except ValueError:
            return
        if password:
            self.add_credential(unquote(password), owner, unquote(user or ""))

    def scan(self, where: str, text: str) -> None:
        """Record a leak for every watched credential that occurs in ``text``."""
        for secret, owner in self.secrets.items():
            at = text.find(secret)
            if at >= 0:
                excerpt = text[max(0, at - 60) : at + len(secret) + 60].replace(secret, "<CRED>")
                self.pending.append(Leak(owner, where, excerpt))

    def take(self) -> list[Leak]:
        """The leaks found since the last call."""
        found, self.pending = self.pending, []
        self.leaks += len(found)
        return found


WATCH = Watch()


def _b64(text: str) -> list[str]:
    raw = text.encode()
    out = []
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        value = encoded.decode("ascii")
        out += [value, value.rstrip("=")]
    return out


def encoded_forms(secret: str, user: str | None = None) -> list[str]:
    """``secret`` as it may travel or be echoed (computed here, independently of the
    production scrubber): raw, header forms, HTTP Basic and URL-encoded."""
    forms = [
        secret,
        f"Token {secret}",
        f"Bearer {secret}",
        quote(secret, safe=""),
        quote_plus(secret),
        *_b64(f"{secret}:"),  # a token as the Basic user name (ABF)
        *_b64(secret),  # a "user:password" token sent as Basic (Gerrit compat tokens)
    ]
    if user is not None:
        forms += _b64(f"{user}:{secret}")
    return forms


def watch_settings(settings: Any) -> None:
    """Watch every credential a ``gateway.settings.Settings`` holds."""
    for backend in settings.backends:
        owner = f"credentials of backend {backend.name!r}"
        WATCH.add_credential(backend.token, owner, backend.username)
        WATCH.add_credential(backend.password, owner, backend.username)
        WATCH.add_url(backend.url, owner)
    for key in settings.api_keys:
        for backend, token in key.backend_tokens:
            WATCH.add_credential(token, f"API key {key.name!r}'s token for {backend!r}")
    for compat in settings.compat.tokens:
        for backend, token in compat.backend_tokens:
            WATCH.add_credential(token, f"compat token {compat.name!r}'s token for {backend!r}")
    WATCH.add_url(settings.cache.url, "the [cache] URL")
    WATCH.add_url(settings.limits.store, "the [limits] store URL")


def watch(secret: str, owner: str = "a credential configured by a test") -> None:
    """Add a credential to the watch list (call it where a test configures one)."""
    WATCH.add(secret, owner)


class _Handler(logging.Handler):
    """Scans every record that reaches the root logger."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a bad format string in someone's log call: scan the raw parts
            line = f"{record.msg!r} {record.args!r}"
        WATCH.log_lines += 1
        WATCH.scan(f"log record of {record.name!r}", line)


def _response_text(response: httpx.Response) -> str:
    head = f"HTTP {response.status_code}\n" + "\n".join(
        f"{k}: {v}" for k, v in response.headers.multi_items()
    )
    try:
        body = response.text  # raises httpx.ResponseNotRead for a streamed response
    except httpx.ResponseNotRead:
        body = ""
    return f"{head}\n\n{body}"


def _scan_response(response: httpx.Response) -> None:
    WATCH.responses += 1
    request = response.request
    WATCH.scan(f"response to {request.method} {request.url.path}", _response_text(response))


# -- the wrappers the plugin installs at session start (scan what passes through) ---------


def _client_init(original: Any) -> Any:
    @functools.wraps(original)
    def init(client: upstream_http.HttpClient, config: Any, *a: Any, **kw: Any) -> None:
        original(client, config, *a, **kw)
        owner = f"credentials of backend {config.backend!r}"
        creds = config.credentials
        WATCH.add_credential(creds.token, owner, creds.username)
        WATCH.add_credential(creds.password, owner, creds.username)
        WATCH.add_url(config.base_url, owner)

    return init


def _checked(original: Any) -> Any:
    @functools.wraps(original)
    def settings(checker: Any, *a: Any, **kw: Any) -> Any:
        found = original(checker, *a, **kw)
        if found is not None:
            watch_settings(found)
        return found

    return settings


def _sync_send(original: Any) -> Any:
    @functools.wraps(original)
    def send(client: httpx.Client, request: httpx.Request, **kw: Any) -> httpx.Response:
        response: httpx.Response = original(client, request, **kw)
        _scan_response(response)
        return response

    return send


def _async_send(original: Any) -> Any:
    @functools.wraps(original)
    async def send(client: httpx.AsyncClient, request: httpx.Request, **kw: Any) -> httpx.Response:
        response: httpx.Response = await original(client, request, **kw)
        _scan_response(response)
        return response

    return send


def _ws_receive(original: Any) -> Any:
    @functools.wraps(original)
    async def receive(ws: aiohttp.ClientWebSocketResponse, *a: Any, **kw: Any) -> Any:
        message = await original(ws, *a, **kw)
        WATCH.responses += 1
        WATCH.scan("WebSocket message", str(message.data))
        return message

    return receive


class SecretsWatch:
    """The plugin object (hooks below); installs its patches for the session."""

    def __init__(self) -> None:
        self._handler = _Handler()
        self._undo: list[Callable[[], None]] = []
        self._root_level = logging.WARNING

    # -- installation ---------------------------------------------------------------------

    def _patch(self, owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        original = getattr(owner, name)
        setattr(owner, name, make(original))
        self._undo.append(lambda: setattr(owner, name, original))

    def _attach(self) -> None:
        root = logging.getLogger()
        if self._handler not in root.handlers:  # a test may have replaced the root handlers
            root.addHandler(self._handler)
        root.setLevel(logging.DEBUG)

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        for secret, owner in KNOWN_SECRETS.items():
            WATCH.add_credential(secret, owner)
        self._root_level = logging.getLogger().level
        self._attach()

        self._patch(upstream_http.HttpClient, "__init__", _client_init)
        self._patch(gateway_settings._Checker, "settings", _checked)
        self._patch(httpx.Client, "send", _sync_send)
        self._patch(httpx.AsyncClient, "send", _async_send)
        self._patch(aiohttp.ClientWebSocketResponse, "receive", _ws_receive)

    # -- per test -------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, object, object]:
        self._attach()
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        # Captured output the handler did not see; each phase's report repeats the sections
        # of the phases before it, so scan only the new ones.
        seen = item.stash.get(_SEEN, 0)
        for title, content in report.sections[seen:]:
            WATCH.sections += 1
            WATCH.scan(title.lower(), content)
        item.stash[_SEEN] = len(report.sections)
        leaks = WATCH.take()
        if leaks:
            report.outcome = "failed"
            report.longrepr = _describe(leaks, f"{item.nodeid} ({report.when})")
        self._attach()  # configure_logging() in a test replaces the root handlers
        return report

    # -- session end ----------------------------------------------------------------------

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        late = WATCH.take()
        if late:
            session.config.stash[_LATE] = _describe(late, "outside any test")
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        logging.getLogger().removeHandler(self._handler)
        logging.getLogger().setLevel(self._root_level)
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        late = terminalreporter.config.stash.get(_LATE, None)
        if late:
            terminalreporter.write_line(late, red=True)
        terminalreporter.write_line(
            f"secrets watch: {len(WATCH.secrets)} credentials, {WATCH.responses} responses, "
            f"{WATCH.log_lines} log records, {WATCH.sections} captured sections scanned; "
            f"{WATCH.leaks} leaks"
        )


_LATE = pytest.StashKey[str]()
_SEEN = pytest.StashKey[int]()


def _describe(leaks: Iterable[Leak], when: str) -> str:
    lines = [f"credential leaked {when}:"]
    for leak in leaks:
        lines.append(f"  {leak.owner} in {leak.where}: …{leak.excerpt}…")
    return "\n".join(lines)
