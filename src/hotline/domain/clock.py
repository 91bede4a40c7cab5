"""Time on the record: RFC 3339 UTC with milliseconds, and the Clock protocol.

Domain code never reads the time; it is given ``now``. Adapters pass a Clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from hotline.domain.errors import InvalidInput


class Clock(Protocol):
    def now(self) -> datetime: ...


def format_time(moment: datetime) -> str:
    """``2026-11-24T22:52:49.123Z``: UTC, millisecond precision."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: hotline keeps time in UTC")
    # isoformat, not strftime: a third of the cost, and years below 1000 keep four digits
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def format_seconds(moment: datetime) -> str:
    """``2026-11-24T22:52:49Z``: UTC, whole seconds (what outside tools take: on-call
    webhooks, published statements)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str, *, field: str = "time") -> datetime:
    """Parse an RFC 3339 / ISO 8601 time with a zone (``Z`` or an offset) into UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise InvalidInput(
            field, f"{text!r} is not a time", hint="write UTC as e.g. 2026-03-01T14:00:00Z"
        ) from None
    if moment.tzinfo is None:
        raise InvalidInput(
            field, f"{text!r} has no time zone", hint="end it with Z for UTC, e.g. ...T14:00:00Z"
        )
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(field, f"{text!r} is out of range") from None


def truncate_ms(moment: datetime) -> datetime:
    """The moment as it is recorded: UTC, whole milliseconds."""
    utc = moment.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)
