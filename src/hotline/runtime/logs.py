"""The node's log lines: text, or one JSON object each (``log_format = json``), each
stamped in UTC (ISO 8601, ``Z``); what ``hotline serve`` announces, printed as text or
logged in JSON; and the access log, one line per HTTP request (``access_log``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Scope

from hotline.domain.errors import InvalidInput
from hotline.http.answered import Answered

#: What ``hotline serve`` announces (listening, serving...), in JSON mode.
ANNOUNCE = logging.getLogger("hotline.serve")
#: One line per HTTP request, written by :class:`AccessLog`.
ACCESS = logging.getLogger("hotline.access")


def utc_time(created: float) -> str:
    """A record's time, ``2026-03-01T12:00:00.123Z``."""
    stamp = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    return stamp.removesuffix("+00:00") + "Z"


class _TextFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_time(record.created)


class _JsonFormatter(JsonFormatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_time(record.created)


def configure_logging(form: str) -> None:
    """Log lines as text, or as one JSON object each (``log_format = json``): ``time``
    (UTC, ISO 8601 with ``Z``), ``level``, ``logger``, ``process`` (the worker's pid),
    ``message`` and whatever the line adds (the access log: ``method``, ``path``,
    ``status``, ``duration_s``, ``client``). Raises InvalidInput for another form."""
    if form not in ("text", "json"):
        raise InvalidInput("log_format", f"{form!r}: text or json")
    handler = logging.StreamHandler()
    if form == "json":
        handler.setFormatter(
            _JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(_TextFormatter("%(asctime)s %(name)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.captureWarnings(True)  # a warning is a log line too (JSON, with JSON logs)


def announcer(form: str, say: Callable[[str], None]) -> Callable[[str], None]:
    """How ``hotline serve`` says what it does: ``say`` (the CLI's plain print) with text
    logs; with JSON logs an INFO line of ``hotline.serve``, so that the stream holds JSON
    only (logging is set up as JSON first when this process has no handler yet)."""
    if form != "json":
        return say
    if not logging.getLogger().handlers:
        configure_logging(form)
    return ANNOUNCE.info


class AccessLog(Answered):
    """ASGI middleware writing one INFO line of ``hotline.access`` per HTTP request once
    its answer is sent: method, path (without the query, which may carry what a log
    should not), status, duration in seconds and the client's address. A request that
    raised is logged as a 500."""

    def __init__(self, app: ASGIApp, clock: Callable[[], float] = time.perf_counter) -> None:
        super().__init__(app, _log_request, clock)


def _log_request(scope: Scope, status: int, duration: float) -> None:
    client: Any = scope.get("client")
    address = f"{client[0]}:{client[1]}" if client else "-"
    method, path = str(scope.get("method", "")), str(scope.get("path", ""))
    ACCESS.info(
        '%s "%s %s" %d %.3fs',
        address,
        method,
        path,
        status,
        duration,
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_s": round(duration, 6),
            "client": address,
        },
    )
