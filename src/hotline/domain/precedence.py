"""Precedence (ACP 121) and the default acknowledgement deadlines that follow from it."""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum

from hotline.domain.errors import InvalidInput


class Precedence(StrEnum):
    """How fast a message must be handled, highest first."""

    FLASH = "FLASH"
    IMMEDIATE = "IMMEDIATE"
    PRIORITY = "PRIORITY"
    ROUTINE = "ROUTINE"

    @property
    def rank(self) -> int:
        """0 for FLASH, 3 for ROUTINE: sort key, most urgent first."""
        return _ORDER.index(self)


_ORDER = list(Precedence)

DEFAULT_DEADLINES: dict[Precedence, timedelta] = {
    Precedence.FLASH: timedelta(minutes=10),
    Precedence.IMMEDIATE: timedelta(minutes=30),
    Precedence.PRIORITY: timedelta(hours=3),
    Precedence.ROUTINE: timedelta(hours=6),
}

FLASH_MAX_WORDS = 200


def parse_precedence(text: str) -> Precedence:
    """Parse a precedence name (case-insensitive; Z, O, P, R prosigns accepted)."""
    value = text.strip().upper()
    value = {"Z": "FLASH", "O": "IMMEDIATE", "P": "PRIORITY", "R": "ROUTINE"}.get(value, value)
    try:
        return Precedence(value)
    except ValueError:
        raise InvalidInput(
            "precedence",
            f"unknown precedence {text!r}",
            hint="use one of FLASH, IMMEDIATE, PRIORITY, ROUTINE",
        ) from None


_DURATION = re.compile(r"^\s*(\d+)\s*(s|secs?|m|mins?|h|hrs?|d|days?)\s*$", re.IGNORECASE)
_UNIT = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400, "day": 86400}


def parse_duration(text: str, *, field: str = "duration") -> timedelta:
    """Parse ``90s``, ``10m``, ``3h`` or ``2d`` into a positive timedelta."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise InvalidInput(
            field, f"{text!r} is not a positive duration", hint="write e.g. 90s, 10m, 3h or 2d"
        )
    unit = match.group(2).lower()
    try:
        return timedelta(seconds=int(match.group(1)) * _UNIT[unit.rstrip("s") or "s"])
    except OverflowError:
        raise InvalidInput(field, f"{text!r} is longer than any duration kept") from None


def format_duration(delta: timedelta) -> str:
    """The shortest exact form: ``10m``, ``3h``, ``90s``, ``2d``."""
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
