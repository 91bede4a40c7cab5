"""The watch roster (hotline.domain.roster): shifts in local time kept in UTC, who is on
watch at a moment, roster files in CSV and YAML, and the handover note.

A shift covers [start, end): at the boundary the next officer is on watch; where shifts
overlap at a handover, the one that began last. Times are plain datetimes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from hotline.domain.errors import InvalidInput
from hotline.domain.roster import (
    NOTE_MAX,
    OFFICER_MAX,
    Shift,
    handover_content,
    local_time,
    make_shift,
    on_watch,
    parse_csv,
    parse_yaml,
    zone,
)

DESK = "US/EUCOM-JOC"
OTHER_DESK = "US/INDOPACOM-JOC"
S = timedelta(seconds=1)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def invalid(field: str, call: Callable[[], Any]) -> InvalidInput:
    """Run ``call`` and return the InvalidInput it raises, checking the field it names."""
    with pytest.raises(InvalidInput) as caught:
        call()
    assert caught.value.field == field
    return caught.value


def shift(officer: str, start: str, end: str, desk: str = DESK) -> Shift:
    return make_shift(desk, officer, start, end, "UTC")


# --- who is on watch ------------------------------------------------------------------------

DAY = [
    shift("Maj. Night", "2026-03-01T00:00", "2026-03-01T08:00"),
    shift("Capt. Day", "2026-03-01T08:00", "2026-03-01T16:00"),
    shift("Lt. Other", "2026-03-01T00:00", "2026-03-02T00:00", desk=OTHER_DESK),
]


@pytest.mark.parametrize(
    ("moment", "officer"),
    [
        (utc(2026, 2, 28, 23, 59, 59), None),
        (utc(2026, 3, 1, 0, 0), "Maj. Night"),
        (utc(2026, 3, 1, 8, 0) - S, "Maj. Night"),
        (utc(2026, 3, 1, 8, 0), "Capt. Day"),
        (utc(2026, 3, 1, 16, 0) - S, "Capt. Day"),
        (utc(2026, 3, 1, 16, 0), None),
    ],
)
def test_shift_boundary_start_inclusive_end_exclusive(
    moment: datetime, officer: str | None
) -> None:
    found = on_watch(DAY, DESK, moment)
    assert (found.officer if found else None) == officer


def test_on_watch_is_per_desk() -> None:
    found = on_watch(DAY, OTHER_DESK, utc(2026, 3, 1, 8, 0))
    assert found is not None and found.officer == "Lt. Other"
    assert on_watch(DAY, "US/NMCC", utc(2026, 3, 1, 8, 0)) is None
    assert on_watch([], DESK, utc(2026, 3, 1, 8, 0)) is None


OVERLAP = [
    shift("Maj. Night", "2026-03-01T00:00", "2026-03-01T08:30"),
    shift("Capt. Day", "2026-03-01T08:00", "2026-03-01T16:00"),
]


@pytest.mark.parametrize("shifts", [OVERLAP, OVERLAP[::-1]], ids=["in-order", "reversed"])
@pytest.mark.parametrize(
    ("moment", "officer"),
    [
        (utc(2026, 3, 1, 7, 59), "Maj. Night"),
        (utc(2026, 3, 1, 8, 0), "Capt. Day"),
        (utc(2026, 3, 1, 8, 15), "Capt. Day"),
        (utc(2026, 3, 1, 8, 30), "Capt. Day"),
    ],
)
def test_overlap_at_handover_picks_the_shift_that_began_last(
    shifts: list[Shift], moment: datetime, officer: str
) -> None:
    found = on_watch(shifts, DESK, moment)
    assert found is not None and found.officer == officer


# --- time zones -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "tz", "utc_start", "utc_end"),
    [
        (
            "2026-03-01T00:00",
            "2026-03-01T08:00",
            "Europe/Moscow",
            utc(2026, 2, 28, 21, 0),
            utc(2026, 3, 1, 5, 0),
        ),
        (
            "2026-03-01T06:00",
            "2026-03-01T14:00",
            "America/New_York",
            utc(2026, 3, 1, 11, 0),
            utc(2026, 3, 1, 19, 0),
        ),
        (
            "2026-03-01T00:00+01:00",
            "2026-03-01T08:00Z",
            "Europe/Moscow",
            utc(2026, 2, 28, 23, 0),
            utc(2026, 3, 1, 8, 0),
        ),
        (
            "2026-03-01T00:00:00-05:00",
            "2026-03-01T09:00",
            "Europe/Moscow",
            utc(2026, 3, 1, 5, 0),
            utc(2026, 3, 1, 6, 0),
        ),
    ],
    ids=["moscow", "new-york", "offset-ignores-tz", "offset-start-local-end"],
)
def test_local_times_are_kept_in_utc(
    start: str, end: str, tz: str, utc_start: datetime, utc_end: datetime
) -> None:
    made = make_shift(DESK, "Maj. A. Smith", start, end, tz)
    assert (made.start, made.end) == (utc_start, utc_end)
    assert made.start.tzinfo is UTC


@pytest.mark.parametrize(
    ("start", "end", "tz", "hours"),
    [
        ("2026-03-28T22:00", "2026-03-29T06:00", "Europe/Berlin", 7),
        ("2026-10-24T22:00", "2026-10-25T06:00", "Europe/Berlin", 9),
        ("2026-03-07T22:00", "2026-03-08T06:00", "America/New_York", 7),
        ("2026-03-28T22:00", "2026-03-29T06:00", "Europe/Moscow", 8),
    ],
    ids=["berlin-spring", "berlin-autumn", "new-york-spring", "moscow-no-dst"],
)
def test_shift_across_a_dst_change_has_its_real_length(
    start: str, end: str, tz: str, hours: int
) -> None:
    made = make_shift(DESK, "Maj. A. Smith", start, end, tz)
    assert made.end - made.start == timedelta(hours=hours)


def test_berlin_spring_night_in_utc() -> None:
    made = make_shift(
        DESK, "Maj. A. Smith", "2026-03-28T22:00", "2026-03-29T06:00", "Europe/Berlin"
    )
    assert (made.start, made.end) == (utc(2026, 3, 28, 21, 0), utc(2026, 3, 29, 4, 0))


@pytest.mark.parametrize(
    ("value", "tz", "moment"),
    [
        ("2026-03-01T06:00", "Europe/Moscow", utc(2026, 3, 1, 3, 0)),
        ("2026-03-01T06:00z", None, utc(2026, 3, 1, 6, 0)),
        ("2026-03-01T06:00+03:00", "America/New_York", utc(2026, 3, 1, 3, 0)),
        (datetime(2026, 3, 1, 6, 0), "Europe/Moscow", utc(2026, 3, 1, 3, 0)),
        (
            datetime(2026, 3, 1, 6, 0, tzinfo=timezone(timedelta(hours=-5))),
            "Europe/Moscow",
            utc(2026, 3, 1, 11, 0),
        ),
    ],
)
def test_local_time(value: Any, tz: str | None, moment: datetime) -> None:
    assert local_time(value, tz, "start") == moment


@pytest.mark.parametrize(
    ("value", "tz", "field", "words"),
    [
        ("2026-03-01T06:00", None, "start", "no time zone is given"),
        ("2026-03-01T06:00", "", "start", "no time zone is given"),
        ("tomorrow", "UTC", "start", "not a time"),
        ("2026-03-01T06:00", "Mars/Olympus", "tz", "unknown time zone 'Mars/Olympus'"),
        ("2026-03-01T06:00", "../etc/passwd", "tz", "unknown time zone"),
    ],
)
def test_local_time_refuses(value: Any, tz: str | None, field: str, words: str) -> None:
    error = invalid(field, lambda: local_time(value, tz, "start"))
    assert words in error.message


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "Europe", "europe/berlin", "UTC "])
def test_unknown_zone_is_refused(name: str) -> None:
    error = invalid("tz", lambda: zone(name))
    assert error.hint is not None and "Europe/Moscow" in error.hint


def test_known_zone() -> None:
    assert zone("Europe/Moscow").key == "Europe/Moscow"


# --- make_shift ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("desk", "officer", "start", "end", "field"),
    [
        (DESK, "Maj. A", "2026-03-01T08:00", "2026-03-01T06:00", "shift"),
        (DESK, "Maj. A", "2026-03-01T08:00", "2026-03-01T08:00", "shift"),
        (DESK, "   ", "2026-03-01T06:00", "2026-03-01T08:00", "officer"),
        (DESK, "x" * (OFFICER_MAX + 1), "2026-03-01T06:00", "2026-03-01T08:00", "officer"),
        ("EUCOM-JOC", "Maj. A", "2026-03-01T06:00", "2026-03-01T08:00", "principal"),
        (DESK, "Maj. A", "2026-03-01T06:00", "later", "end"),
    ],
    ids=["ends-before-start", "empty", "no-officer", "long-officer", "bad-desk", "bad-end"],
)
def test_make_shift_refuses(desk: str, officer: str, start: str, end: str, field: str) -> None:
    invalid(field, lambda: make_shift(desk, officer, start, end, "UTC"))


def test_make_shift_normalises() -> None:
    made = make_shift(
        " us/eucom-joc ", "  Maj. A. Smith ", "2026-03-01T06:00", "2026-03-01T14:00", "UTC"
    )
    assert made == Shift(DESK, "Maj. A. Smith", utc(2026, 3, 1, 6), utc(2026, 3, 1, 14))


# --- roster files ----------------------------------------------------------------------------

CSV_WITH_TZ = """desk,officer,start,end,tz
US/EUCOM-JOC,Maj. A. Smith,2026-03-01T00:00,2026-03-01T08:00,Europe/Moscow
US/EUCOM-JOC,Capt. B. Jones,2026-03-01T08:00,2026-03-01T16:00,
US/EUCOM-JOC,Lt. C. Brown,2026-03-01T16:00+00:00,2026-03-02T00:00Z,Europe/Berlin
"""


def test_csv_with_tz_column_and_default() -> None:
    shifts = parse_csv(CSV_WITH_TZ, tz="Europe/Berlin")
    assert [(s.officer, s.start, s.end) for s in shifts] == [
        ("Maj. A. Smith", utc(2026, 2, 28, 21), utc(2026, 3, 1, 5)),
        ("Capt. B. Jones", utc(2026, 3, 1, 7), utc(2026, 3, 1, 15)),
        ("Lt. C. Brown", utc(2026, 3, 1, 16), utc(2026, 3, 2, 0)),
    ]


def test_csv_with_default_tz_only() -> None:
    text = "desk,officer,start,end\nUS/EUCOM-JOC,Maj. A. Smith,2026-03-01T00:00,2026-03-01T08:00\n"
    (made,) = parse_csv(text, tz="Europe/Moscow")
    assert (made.desk, made.start, made.end) == (DESK, utc(2026, 2, 28, 21), utc(2026, 3, 1, 5))


def test_csv_quoted_fields_and_crlf_line_ends() -> None:
    text = (
        "desk,officer,start,end\r\n"
        'US/EUCOM-JOC,"Smith, A., Maj.",2026-03-01T00:00Z,2026-03-01T08:00Z\r\n'
        'US/EUCOM-JOC,"Jones, B.",2026-03-01T08:00Z,2026-03-01T16:00Z\r\n'
    )
    assert [s.officer for s in parse_csv(text)] == ["Smith, A., Maj.", "Jones, B."]


def test_csv_header_only_is_an_empty_roster() -> None:
    assert parse_csv("desk,officer,start,end\n", tz="UTC") == []


@pytest.mark.parametrize("missing", ["desk", "officer", "start", "end"])
def test_csv_missing_a_header_column_is_refused(missing: str) -> None:
    columns = [c for c in ("desk", "officer", "start", "end") if c != missing]
    text = ",".join(columns) + "\n" + ",".join("x" for _ in columns) + "\n"
    error = invalid("roster", lambda: parse_csv(text, tz="UTC"))
    assert missing in error.message


def test_csv_empty_text_is_refused() -> None:
    invalid("roster", lambda: parse_csv("", tz="UTC"))


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ("US/EUCOM-JOC,Maj. A,2026-03-01T08:00,2026-03-01T06:00,UTC", "line 3: shift:"),
        ("US/EUCOM-JOC,Maj. A,2026-03-01T06:00,2026-03-01T08:00,Mars/Olympus", "line 3: tz:"),
        ("US/EUCOM-JOC,Maj. A,2026-03-01T06:00,2026-03-01T08:00,", "line 3: start:"),
        ("US/EUCOM-JOC,,2026-03-01T06:00,2026-03-01T08:00,UTC", "line 3: officer:"),
    ],
    ids=["ends-before-start", "unknown-zone", "no-zone", "no-officer"],
)
def test_csv_row_errors_name_the_line(row: str, words: str) -> None:
    text = "desk,officer,start,end,tz\nUS/EUCOM-JOC,Maj. Z,2026-03-01T00:00Z,2026-03-01T06:00Z,\n"
    error = invalid("roster", lambda: parse_csv(text + row + "\n"))
    assert words in error.message


YAML_ROSTER = """
tz: Europe/Berlin
shifts:
  - {desk: US/EUCOM-JOC, officer: Maj. A. Smith, start: 2026-03-01T06:00, end: 2026-03-01T14:00}
  - {desk: US/EUCOM-JOC, officer: Capt. B. Jones, start: 2026-03-01T14:00, end: 2026-03-01T22:00,
     tz: Europe/Moscow}
  - {desk: US/EUCOM-JOC, officer: Lt. C. Brown, start: 2026-03-01T22:00:00,
     end: 2026-03-02T06:00:00+01:00}
"""


def test_yaml_with_top_level_tz() -> None:
    shifts = parse_yaml(YAML_ROSTER, tz="America/New_York")
    assert [(s.officer, s.start, s.end) for s in shifts] == [
        ("Maj. A. Smith", utc(2026, 3, 1, 5), utc(2026, 3, 1, 13)),
        ("Capt. B. Jones", utc(2026, 3, 1, 11), utc(2026, 3, 1, 19)),
        ("Lt. C. Brown", utc(2026, 3, 1, 21), utc(2026, 3, 2, 5)),
    ]


def test_yaml_without_tz_uses_the_default() -> None:
    text = (
        "shifts:\n  - {desk: US/EUCOM-JOC, officer: A, start: 2026-03-01T00:00, "
        "end: 2026-03-01T08:00}\n"
    )
    (made,) = parse_yaml(text, tz="Europe/Moscow")
    assert (made.start, made.end) == (utc(2026, 2, 28, 21), utc(2026, 3, 1, 5))
    error = invalid("roster", lambda: parse_yaml(text))
    assert "shift 1: start:" in error.message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("shifts: [unclosed", "not valid YAML"),
        ("- a list\n", "'shifts' list"),
        ("shifts: {desk: US/EUCOM-JOC}\n", "'shifts' list"),
        ("shifts: [just text]\n", "shift 1 is not an object"),
        (
            "shifts:\n  - {desk: US/EUCOM-JOC, officer: A, start: 2026-03-01T08:00Z, "
            "end: 2026-03-01T06:00Z}\n",
            "shift 1: shift:",
        ),
        (
            "shifts:\n  - {desk: US/EUCOM-JOC, officer: A, end: 2026-03-01T06:00Z}\n",
            "shift 1: start:",
        ),
    ],
    ids=["yaml", "not-object", "shifts-not-list", "shift-not-object", "ends-first", "no-start"],
)
def test_yaml_errors(text: str, words: str) -> None:
    error = invalid("roster", lambda: parse_yaml(text, tz="UTC"))
    assert words in error.message


def test_yaml_non_text_tz_is_refused() -> None:
    text = (
        "tz: 3\nshifts:\n  - {desk: US/EUCOM-JOC, officer: A, start: 2026-03-01T00:00, "
        "end: 2026-03-01T08:00}\n"
    )
    invalid("roster", lambda: parse_yaml(text))


def test_yaml_empty_officer_is_refused() -> None:
    text = (
        "shifts:\n  - {desk: US/EUCOM-JOC, officer: , start: 2026-03-01T00:00Z, "
        "end: 2026-03-01T08:00Z}\n"
    )
    error = invalid("roster", lambda: parse_yaml(text))
    assert "officer" in error.message


# --- handover -------------------------------------------------------------------------------


def test_handover_content() -> None:
    assert handover_content(DESK, "Maj. A. Smith", " Capt. B. Jones ", "Quiet night.") == {
        "desk": DESK,
        "from": "Maj. A. Smith",
        "to": "Capt. B. Jones",
        "note": "Quiet night.",
    }
    assert handover_content(DESK, None, "Capt. B. Jones", "First watch.")["from"] is None


@pytest.mark.parametrize(
    "note", ["", "   \n", "x" * (NOTE_MAX + 1)], ids=["empty", "blank", "long"]
)
def test_handover_refuses_an_empty_or_long_note(note: str) -> None:
    invalid("note", lambda: handover_content(DESK, "Maj. A. Smith", "Capt. B. Jones", note))
