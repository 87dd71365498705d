"""Structured logging: JSON lines (or text on a terminal), each record carrying the request id."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from typing import Any

import msgspec

from routeiq_app.context import request_id_var
from routeiq_app.settings import Settings

_RESERVED = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, service and extras."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service
        self._encoder = msgspec.json.Encoder()

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a single JSON line."""
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "service": self._service,
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _RESERVED and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return self._encoder.encode(entry).decode("utf-8", errors="replace")


class TextFormatter(logging.Formatter):
    """Human-readable lines for a terminal, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as text, suffixed with ``[request_id]``."""
        line = super().format(record)
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        return f"{line} [{request_id}]" if request_id else line


def configure_logging(settings: Settings) -> Iterator[logging.Handler]:
    """Install the RouteIQ handler on the root logger; a container Resource that removes it on close."""
    fmt = settings.server.log_format
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(settings.observability.service_name) if use_json else TextFormatter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(settings.server.log_level.upper())
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
