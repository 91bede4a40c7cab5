"""The node's log lines: text, or one JSON object each (``log_format = json``)."""

from __future__ import annotations

import logging

from pythonjsonlogger.json import JsonFormatter

from hotline.domain.errors import InvalidInput


def configure_logging(form: str) -> None:
    """Log lines as text, or as one JSON object each (``log_format = json``)."""
    if form not in ("text", "json"):
        raise InvalidInput("log_format", f"{form!r}: text or json")
    handler = logging.StreamHandler()
    if form == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
