"""Log setup: plain text, or one JSON object per line (``SALESYNC_LOG_FORMAT=json``).

Every line written while serving a request carries that request's id (also sent back as the
``X-Request-ID`` header). Fields whose names say they hold a secret are replaced, whatever a
caller passed in ``extra``: a token or password never reaches a log line.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "salesync_request_id", default=None
)

#: Attributes every LogRecord has; anything else came from ``extra=``.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
#: A field whose name matches holds a secret and is never written.
SECRET_FIELD = re.compile(r"pass(word)?|secret|token|authorization|cookie|api_?key", re.I)
REDACTED = "[redacted]"


def _clean(name: str, value: Any) -> Any:
    if SECRET_FIELD.search(name):
        return REDACTED
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_clean(name, item) for item in value]
    return str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                entry[name] = _clean(name, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The plain format, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = REQUEST_ID.get()
        return f"{line} [request {request_id}]" if request_id else line


def configure_logging(log_format: str, *, stream: TextIO | None = None) -> logging.Handler:
    """Send salesync's logs (INFO and up) to ``stream`` (stderr) in the chosen format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logger = logging.getLogger("salesync")
    for old in [h for h in logger.handlers if getattr(h, "_salesync", False)]:
        logger.removeHandler(old)
    handler._salesync = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler
