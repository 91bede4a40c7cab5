"""Roll calls: at fixed times of day, agreed in a service line's terms, one party's node
asks and a person at the other party's desk must answer within a window.

The roll calls of a day are its times in order. On day ``d`` (counted from :data:`EPOCH`)
the ``i``-th roll call is asked by party ``(d + i)`` modulo their count, in the order of
their ids: the parties take turns, and from one day to the next each asks at each time.
The record holds three kinds of event on the service line:

- ``rollcall`` by the asking node: ``{"at": <the scheduled time>, "window_s": <seconds>,
  "to": <the party asked>}``;
- ``rollcall.answer`` by a principal of the party asked: ``{"ref": <the roll call>,
  "officer": <the officer on watch>}``;
- ``rollcall.close`` by the asking node once the window and :data:`LATE_GRACE` have
  passed with no answer: ``{"ref": <the roll call>, "outcome": "unanswered"}``.

Whether a roll call was answered, answered late or not at all is read from the signed
times alone (the answer's ``ts`` against the roll call's ``ts`` plus its window, and plus
:data:`LATE_GRACE`), so both parties count the same from the same record. An answer after
that counts for nothing: a month's unanswered roll calls cannot be answered later. The
times are the signers' claims; a clock that drifts is an alert of its own (the request
skew). Everything here is pure.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from hotline.domain.canonical import canonical
from hotline.domain.clock import format_seconds
from hotline.domain.crypto import PublicKey, SigningKey, b64decode, b64encode
from hotline.domain.errors import InvalidInput

EPOCH = date(2020, 1, 1)
STATEMENT_TYPE = "hotline.rollcall-statement"
#: After its window a roll call may still be answered, late, for this long; then it is
#: closed unanswered.
LATE_GRACE = timedelta(hours=1)
#: The shortest and longest window a roll call may give.
WINDOW_MIN = timedelta(seconds=30)
WINDOW_MAX = timedelta(hours=1)


class Outcome(StrEnum):
    ANSWERED = "answered"
    LATE = "late"
    UNANSWERED = "unanswered"
    OPEN = "open"  # its window has not passed yet


def slots(times: Sequence[str], day: date) -> list[tuple[int, datetime]]:
    """The roll calls of ``day``: their turns (see :func:`asker`) and scheduled times."""
    base = (day - EPOCH).days
    out = []
    for i, text in enumerate(times):
        hour, minute = (int(x) for x in text.split(":"))
        out.append((base + i, datetime.combine(day, time(hour, minute), tzinfo=UTC)))
    return out


def asker(parties: Sequence[str], turn: int) -> str:
    """Who asks the roll call of ``turn`` (day number plus its place in the day)."""
    ordered = sorted(parties)
    return ordered[turn % len(ordered)]


def scheduled_asker(times: Sequence[str], parties: Sequence[str], at: datetime) -> str | None:
    """Who asks a roll call scheduled at ``at``; None if the terms fix none then."""
    for turn, when in slots(times, at.astimezone(UTC).date()):
        if when == at:
            return asker(parties, turn)
    return None


def due(
    times: Sequence[str],
    parties: Sequence[str],
    own: str,
    now: datetime,
    window: timedelta,
) -> list[datetime]:
    """The scheduled times of roll calls ``own`` asks that are due now: scheduled, and
    their window not yet passed (a node down over a whole window asks nothing then)."""
    if not times:
        return []
    found = []
    today = now.astimezone(UTC).date()
    for day in (today - timedelta(days=1), today):
        for number, at in slots(times, day):
            if asker(parties, number) == own and at <= now < at + window:
                found.append(at)
    return found


@dataclass(frozen=True)
class RollCall:
    """A roll call as the record holds it, and where it stands."""

    id: str
    line: str
    asked_by: str
    to: str
    at: datetime  # scheduled
    asked: datetime  # the roll call's signed time
    window: timedelta
    answered: datetime | None = None  # the answer's signed time
    answered_by: str | None = None
    officer: str | None = None
    closed: bool = False  # the asking node recorded it unanswered

    @property
    def closes(self) -> datetime:
        """When it is closed unanswered, if nobody has answered."""
        return self.asked + self.window + LATE_GRACE

    def outcome(self, now: datetime) -> Outcome:
        if self.answered is not None and self.answered <= self.asked + self.window:
            return Outcome.ANSWERED
        if self.answered is not None and self.answered <= self.closes:
            return Outcome.LATE
        if self.closed or now >= self.closes:
            return Outcome.UNANSWERED
        return Outcome.OPEN

    @property
    def counted_answer(self) -> bool:
        """Whether its answer (if any) came before it closed."""
        return self.answered is not None and self.answered <= self.closes

    @property
    def response_s(self) -> float | None:
        if not self.counted_answer:
            return None
        assert self.answered is not None
        return (self.answered - self.asked).total_seconds()

    def to_json(self, now: datetime) -> dict[str, Any]:
        return {
            "id": self.id,
            "line": self.line,
            "asked_by": self.asked_by,
            "to": self.to,
            "at": format_seconds(self.at),
            "asked": format_seconds(self.asked),
            "window_s": int(self.window.total_seconds()),
            "closes": format_seconds(self.closes),
            "answered": format_seconds(self.answered) if self.answered else None,
            "answered_by": self.answered_by,
            "officer": self.officer,
            "outcome": self.outcome(now).value,
            "response_s": self.response_s,
        }


@dataclass(frozen=True)
class Month:
    """The roll calls of one month asked of one party on one line."""

    line: str
    party: str  # the party asked
    month: str  # YYYY-MM
    total: int
    answered: int
    late: int
    unanswered: int
    open: int
    median_s: float | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def sentence(self) -> str:
        median = f", median {self.median_s:.0f} s" if self.median_s is not None else ""
        late = f", {self.late} late" if self.late else ""
        return (
            f"{self.month}: {self.total} roll calls of {self.party} on {self.line}, "
            f"{self.answered} answered{late}, {self.unanswered} unanswered{median}"
        )


def month_of(text: str) -> tuple[datetime, datetime]:
    """The bounds of month ``YYYY-MM`` (UTC), start inclusive. Raises InvalidInput."""
    try:
        if len(text) != 7 or text[4] != "-":
            raise ValueError(text)
        year, month = (int(x) for x in text.split("-"))
        start = datetime(year, month, 1, tzinfo=UTC)
    except ValueError:
        raise InvalidInput(
            "month", f"{text!r} is not a month", hint="YYYY-MM, e.g. 2026-03"
        ) from None
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def tally(calls: Iterable[RollCall], line: str, party: str, month: str, now: datetime) -> Month:
    """Count the roll calls scheduled in ``month`` that ``party`` was asked on ``line``."""
    start, end = month_of(month)
    chosen = [c for c in calls if c.line == line and c.to == party and start <= c.at < end]
    outcomes = [c.outcome(now) for c in chosen]
    times = [c.response_s for c in chosen if c.response_s is not None]
    return Month(
        line,
        party,
        month,
        len(chosen),
        outcomes.count(Outcome.ANSWERED),
        outcomes.count(Outcome.LATE),
        outcomes.count(Outcome.UNANSWERED),
        outcomes.count(Outcome.OPEN),
        round(statistics.median(times), 1) if times else None,
    )


def statement(
    tallied: Month, calls: Sequence[str], *, party: str, key: SigningKey, at: datetime
) -> dict[str, Any]:
    """A statement either side can publish: the month's figures, the ids of the roll
    calls counted, signed by ``party``'s node key over its canonical form."""
    body = {
        "type": STATEMENT_TYPE,
        "by": party,
        "key": key.public.key_id,
        "public_key": b64encode(key.public.raw),
        "made": format_seconds(at),
        **tallied.to_json(),
        "roll_calls": sorted(calls),
    }
    return {"statement": body, "sig": b64encode(key.sign(canonical(body)))}


def check_statement(data: Mapping[str, Any], known: PublicKey | None = None) -> dict[str, Any]:
    """The statement's body if its signature verifies under ``known`` (the party's node
    key as pinned, or as published by the party); without it, under the key the statement
    carries, which shows only that it is whole, not who made it. Raises InvalidInput."""
    try:
        body = data["statement"]
        sig = b64decode(str(data["sig"]), field="sig")
        if body.get("type") != STATEMENT_TYPE:
            raise InvalidInput("statement", "not a roll-call statement")
        key = known or PublicKey(b64decode(str(body["public_key"]), field="public_key"))
    except (KeyError, TypeError, AttributeError) as exc:
        raise InvalidInput("statement", f"malformed statement: {exc!r}") from None
    if known is not None and b64encode(known.raw) != body.get("public_key"):
        raise InvalidInput("statement", f"not signed with {body.get('by')}'s node key as pinned")
    if not key.verify(canonical(body), sig):
        raise InvalidInput("statement", "the signature does not verify")
    return dict(body)
