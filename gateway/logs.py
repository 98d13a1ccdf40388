"""Logging set-up: human-readable text (default) or one JSON object per line.

python-json-logger does the JSON rendering (a small, maintained library, so that escaping and
extra fields are right). Request ids and other ``extra=`` fields appear as JSON keys.

No log line carries a secret: ``install_scrubbing()`` (called by ``configure_logging`` and
``gateway.app.create_app``) wraps the process's log record factory so that every record is
scrubbed through ``adapters.secrets.SECRETS`` when it is made — message, arguments, traceback,
stack and ``extra=`` strings — before any handler (ours, uvicorn's, a test's) sees it; the
handler ``configure_logging`` installs also scrubs each finished line.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

from adapters.secrets import SECRETS

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
TEXT_FORMAT_WITH_ID = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

# The id of the request being served (set by the Guard middleware; tasks a request starts
# inherit it), stamped on every log record emitted while serving it.
REQUEST_ID: ContextVar[str | None] = ContextVar("revgate_request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (the current request's, else ``-``) to every record, unless the
    caller passed one in ``extra=``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get() or "-"
        return True


# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "request_id",
}
_PLAIN = logging.Formatter()


def scrub_record(record: logging.LogRecord) -> None:
    """Remove every form of every registered secret from ``record``, in place."""
    if not SECRETS:
        return
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: logging reports it; scrub the raw parts
        message = f"{record.msg!r} {record.args!r}"
        if SECRETS.found(message):
            record.msg, record.args = SECRETS.scrub(message), None
    else:
        if SECRETS.found(message):
            _scrub_message(record)
    if record.exc_info and record.exc_info[1] is not None:
        text = record.exc_text or _PLAIN.formatException(record.exc_info)
        if SECRETS.found(text):
            # Formatters (python-json-logger too) re-render exc_info: keep only the text.
            record.exc_text, record.exc_info = SECRETS.scrub(text), None
    if record.stack_info and SECRETS.found(record.stack_info):
        record.stack_info = SECRETS.scrub(record.stack_info)
    for key, value in list(record.__dict__.items()):
        if key not in _STANDARD and isinstance(value, str) and SECRETS.found(value):
            setattr(record, key, SECRETS.scrub(value))


def _scrub_message(record: logging.LogRecord) -> None:
    # Keep the arguments' shape (uvicorn's access formatter unpacks record.args) where we can.
    args = record.args
    if isinstance(args, tuple):
        record.args = tuple(_scrub_arg(a) for a in args)
    elif isinstance(args, dict):
        record.args = {k: _scrub_arg(v) for k, v in args.items()}
    if isinstance(record.msg, str):
        record.msg = SECRETS.scrub(record.msg)
    try:
        clean = not SECRETS.found(record.getMessage())
    except Exception:
        clean = False
    if not clean:
        record.msg, record.args = SECRETS.scrub(f"{record.msg}"), None


def _scrub_arg(value: object) -> object:
    if isinstance(value, str):
        return SECRETS.scrub(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    text = str(value)
    return SECRETS.scrub(text) if SECRETS.found(text) else value


_installed = False


def install_scrubbing() -> None:
    """Scrub every log record the process makes from now on (idempotent)."""
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = make(*args, **kwargs)
        scrub_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


class ScrubbingFormatter(logging.Formatter):
    """Delegates to ``inner`` and scrubs the finished line (a last guard: a record made by
    hand, outside the record factory)."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return SECRETS.scrub(self.inner.format(record))


def configure_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    """Route every logger (ours, uvicorn's, strawberry's) through one stderr handler."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    install_scrubbing()
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    formatter: logging.Formatter
    if fmt == "json":
        formatter = JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger", "asctime": "time"},
        )
    else:
        formatter = logging.Formatter(TEXT_FORMAT_WITH_ID)
    handler.setFormatter(ScrubbingFormatter(formatter))
    # Neither format shows the thread, process or source line of a record: stop the logging
    # module from looking them up for every record (the "Optimization" switches of the
    # logging HOWTO). uvicorn logs a line per request, so this is on every request's path.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
