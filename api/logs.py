"""Structured request logs: one line per request, JSON when stderr is not a terminal.

``Settings.log_format`` is ``auto`` (JSON unless stderr is a TTY), ``json`` or ``text``.
Only the fields passed in ``extra={"fields": ...}`` are printed: headers never are, so an
``Authorization`` token cannot reach the log.

uvicorn's own lines (startup, shutdown, its supervisor's, and the tracebacks it logs) and
anything else logged (the pool's warnings, ...) are in the same format, JSON or text:
``uvicorn_log_config`` is the logging configuration ``serve`` hands uvicorn, for the
parent process and each worker, so a terminal shows one format, not three.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

from ledger.config import Settings

LOGGER = "claims_ledger.http"


class _CurrentStderr(logging.StreamHandler[IO[str]]):
    """Writes to whatever ``sys.stderr`` is now (test runners swap it per test)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _value: IO[str]) -> None:
        pass


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "fields", None)
    return dict(fields) if isinstance(fields, dict) else {}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,  # which worker, under serve --workers N
            "msg": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        pairs = " ".join(f"{k}={v}" for k, v in _fields(record).items() if v is not None)
        text = f"{stamp}Z {record.levelname:<7} {record.getMessage()} {pairs}".rstrip()
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def log_format(settings: Settings) -> str:
    """``json`` or ``text``: ``auto`` is JSON unless stderr is a terminal."""
    if settings.log_format == "auto":
        return "text" if sys.stderr.isatty() else "json"
    return settings.log_format


def uvicorn_log_config(settings: Settings) -> dict[str, Any]:
    """uvicorn's logging configuration: every logger to stderr in the configured format
    (JSON, or the same text lines as the request log), so a terminal shows one format."""
    formatter = "JsonFormatter" if log_format(settings) == "json" else "TextFormatter"
    key = "json" if formatter == "JsonFormatter" else "text"
    stderr = {"class": "logging.StreamHandler", "formatter": key, "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {key: {"()": f"{__name__}.{formatter}"}},
        "handlers": {"stderr": stderr},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }


#: uvicorn's TRACE (below DEBUG), which ``logging`` knows only once uvicorn named it.
TRACE = 5


def level_number(name: str) -> int:
    """A ``CLAIMS_LEDGER_LOG_LEVEL`` as a number, ``trace`` included."""
    logging.addLevelName(TRACE, "TRACE")
    return TRACE if name.lower() == "trace" else logging.getLevelNamesMapping()[name.upper()]


def configure_logging(settings: Settings, name: str = LOGGER) -> logging.Logger:
    """Give the logger ``name`` one stderr handler in the configured format (idempotent)."""
    logger = logging.getLogger(name)
    fmt = log_format(settings)
    handler = next((h for h in logger.handlers if isinstance(h, _CurrentStderr)), None)
    if handler is None:
        handler = _CurrentStderr()
        logger.addHandler(handler)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    logger.setLevel(level_number(settings.log_level))
    logger.propagate = False
    return logger
