"""Logging for every process: one line per event, no personal data (callers never pass it).

``MODSTREAM_LOG_FORMAT=json`` writes one JSON object per line (``ts``, ``level``, ``logger``,
``message``, and ``exc`` when there is a traceback) for a log collector to parse; ``text`` (the
default) is for people. The same dictConfig goes to Faust's worker, which otherwise replaces
the root handlers with its own coloured ones when it starts.
"""

from __future__ import annotations

import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

import orjson

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record; keys sorted, so lines compare and grep alike."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, option=orjson.OPT_SORT_KEYS).decode()


def logging_dict(level: str = "INFO", fmt: str = "text") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for ``level`` and ``fmt`` (text or json)."""
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format {fmt!r} is not one of {LOG_FORMATS}")
    formatter: dict[str, Any] = {"()": JsonFormatter} if fmt == "json" else {"format": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"modstream": formatter},
        "handlers": {"modstream": {"class": "logging.StreamHandler", "formatter": "modstream"}},
        "root": {"level": level, "handlers": ["modstream"]},
        # aiokafka is chatty at INFO about every rebalance; warnings are what operators need.
        "loggers": {"aiokafka": {"level": "WARNING"}},
    }


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    logging.config.dictConfig(logging_dict(level, fmt))
