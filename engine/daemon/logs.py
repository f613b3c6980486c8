"""One log line per event, for people (text) or machines (json).

Every line has a time (UTC, ISO 8601), a level and an event name in snake_case
(`tick_done`, `reload_refused`, `worker_died`…); fields follow as `key=value` (text) or
as JSON keys. A line never spans two lines: an operator greps it, a collector parses it.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

LOGGER_NAME = "rapport.daemon"
log = logging.getLogger(LOGGER_NAME)


def emit(event: str, message: str = "", *, level: int = logging.INFO, **fields: Any) -> None:
    """Log one event: `event` is its name, `message` a sentence for people, fields its data."""
    log.log(level, message, extra={"event": event, "fields": fields})


def _time(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _one_line(text: str) -> str:
    return " | ".join(part for part in text.splitlines() if part.strip()) or text


def _event_of(record: logging.LogRecord) -> tuple[str, str, dict[str, Any]]:
    """(event, message, fields); records from other libraries (APScheduler) become
    `<logger>` events with their message, so they too are one line."""
    event = getattr(record, "event", None)
    fields: dict[str, Any] = dict(getattr(record, "fields", {}) or {})
    message = _one_line(record.getMessage())
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        fields.setdefault("error", _one_line(f"{type(error).__name__}: {error}"))
    return event or record.name.replace(".", "_"), message, fields


def _text_value(value: Any) -> str:
    text = _one_line(str(value))
    return json.dumps(text) if (" " in text or "=" in text or not text) else text


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event, message, fields = _event_of(record)
        parts = [_time(record), record.levelname, event]
        if message:
            parts.append(message)
        parts += [f"{key}={_text_value(value)}" for key, value in fields.items()]
        return " ".join(parts)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event, message, fields = _event_of(record)
        line = {"time": _time(record), "level": record.levelname.lower(), "event": event}
        if message:
            line["message"] = message
        return json.dumps({**line, **fields}, default=str, ensure_ascii=False)


def configure(log_format: str, stream: TextIO | None = None) -> None:
    """Our events and APScheduler's, in one format, on stderr (stdout stays free)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # APScheduler says "Running job…" and "executed successfully" for every run: our own
    # tick lines say more, once. Its warnings (missed runs, max instances) stay.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # "Context impl SQLiteImpl." etc.
    # One line per HTTP request every few seconds would bury the events; `x_polled`,
    # `delivered` and `reconciled` say what the requests did.
    logging.getLogger("httpx").setLevel(logging.WARNING)
