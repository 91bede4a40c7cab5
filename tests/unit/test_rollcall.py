"""Roll calls as pure rules: whose turn, what is due, outcomes from the signed times, a
month counted, a statement signed and checked."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from hotline.domain.crypto import SigningKey
from hotline.domain.errors import InvalidInput
from hotline.domain.policy import parse_roll_calls
from hotline.domain.rollcall import (
    Outcome,
    RollCall,
    asker,
    check_statement,
    due,
    month_of,
    scheduled_asker,
    slots,
    statement,
    tally,
)

WINDOW = timedelta(minutes=5)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_the_parties_take_turns_within_a_day_and_from_day_to_day() -> None:
    times = ["09:00", "16:00"]
    days = [
        [asker(["US", "RU"], turn) for turn, _ in slots(times, date(2026, 3, 2 + d))]
        for d in range(4)
    ]
    assert all(day[0] != day[1] for day in days)  # each side checks the other every day
    assert {day[0] for day in days} == {"US", "RU"}  # and each asks at 09:00 in turn
    assert [day[0] for day in days] == [days[0][0], days[0][1]] * 2
    at = slots(times, date(2026, 3, 2))[1][1]
    assert scheduled_asker(times, ["US", "RU"], at) == days[0][1]
    assert scheduled_asker(times, ["US", "RU"], at.replace(minute=1)) is None


def test_a_roll_call_is_due_from_its_time_to_the_end_of_its_window() -> None:
    times = ["09:00"]
    [(number, at)] = slots(times, T0.date())
    own = asker(["RU", "US"], number)
    assert due(times, ["RU", "US"], own, at - timedelta(seconds=1), WINDOW) == []
    assert due(times, ["RU", "US"], own, at, WINDOW) == [at]
    assert due(times, ["RU", "US"], own, at + WINDOW - timedelta(seconds=1), WINDOW) == [at]
    assert due(times, ["RU", "US"], own, at + WINDOW, WINDOW) == []  # a node down: not asked
    other = "US" if own == "RU" else "RU"
    assert due(times, ["RU", "US"], other, at, WINDOW) == []


def test_a_roll_call_just_before_midnight_is_due_after_it() -> None:
    [(number, at)] = slots(["23:58"], T0.date())
    own = asker(["RU", "US"], number)
    assert due(["23:58"], ["RU", "US"], own, at + timedelta(minutes=3), WINDOW) == [at]


def call(answered: float | None, closed: bool = False) -> RollCall:
    return RollCall(
        "c" * 64,
        "us-ru-service",
        "US",
        "RU",
        T0,
        T0 + timedelta(seconds=1),
        WINDOW,
        None if answered is None else T0 + timedelta(seconds=1 + answered),
        "RU/NDMC" if answered is not None else None,
        None,
        closed,
    )


def test_outcomes_come_from_the_signed_times() -> None:
    now = T0 + timedelta(hours=3)
    assert call(48).outcome(now) is Outcome.ANSWERED
    assert call(300).outcome(now) is Outcome.ANSWERED  # the window's last second
    assert call(301).outcome(now) is Outcome.LATE
    assert call(None).outcome(T0 + timedelta(hours=2)) is Outcome.UNANSWERED
    assert call(None).outcome(T0 + timedelta(minutes=2)) is Outcome.OPEN
    assert call(400, closed=True).outcome(now) is Outcome.LATE  # before the hour was up
    assert call(300 + 3601).outcome(now) is Outcome.UNANSWERED  # after it: counts for nothing
    assert call(300 + 3601).response_s is None
    assert call(None).outcome(T0 + timedelta(minutes=30)) is Outcome.OPEN  # late, not closed


def test_a_month_is_counted_and_signed() -> None:
    calls = [call(48), call(60), call(None), call(301)]
    month = tally(calls, "us-ru-service", "RU", "2026-03", T0 + timedelta(days=1))
    assert (month.total, month.answered, month.late, month.unanswered) == (4, 2, 1, 1)
    assert month.median_s == 60
    assert month.sentence().startswith("2026-03: 4 roll calls of RU on us-ru-service")
    assert tally(calls, "us-ru-service", "US", "2026-03", T0).total == 0
    key = SigningKey(bytes(range(32)))
    signed = statement(month, ["c" * 64], party="US", key=key, at=T0)
    assert check_statement(signed, key.public)["answered"] == 2
    signed["statement"]["answered"] = 3
    with pytest.raises(InvalidInput, match="does not verify"):
        check_statement(signed)


@pytest.mark.parametrize("text", ["2026-13", "March", "2026", "2026-3"])
def test_a_month_is_yyyy_mm(text: str) -> None:
    with pytest.raises(InvalidInput):
        month_of(text)


def test_december_ends_in_january() -> None:
    assert month_of("2026-12") == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize("times", [["9:00"], ["24:00"], ["09:00", "09:00"], "09:00", [900]])
def test_roll_call_times_are_hh_mm_once_each(times: object) -> None:
    with pytest.raises(InvalidInput):
        parse_roll_calls(times)  # type: ignore[arg-type]


def test_roll_call_times_are_kept_in_order() -> None:
    assert parse_roll_calls(["16:00", "09:00"]) == ("09:00", "16:00")
