"""Logging set-up: human-readable text (default) or one JSON object per line.

python-json-logger does the JSON rendering (a small, maintained library, so that escaping and
extra fields are right). Request ids and other ``extra=`` fields appear as JSON keys.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

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


def configure_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    """Route every logger (ours, uvicorn's, strawberry's) through one stderr handler."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
                rename_fields={"levelname": "level", "name": "logger", "asctime": "time"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT_WITH_ID))
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
