"""Message content (hotline.domain.message) and times on the record (hotline.domain.clock).

MessageDraft.content() returns the normal form that is signed, or raises InvalidInput
that names the field and what is wrong; areas (GeoJSON Polygon, or a circle) and time
windows are checked the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from hotline.domain.area import parse_area
from hotline.domain.clock import format_time, parse_time, truncate_ms
from hotline.domain.errors import InvalidInput
from hotline.domain.message import (
    BODY_MAX,
    SUBJECT_MAX,
    MessageDraft,
    check_event_ref,
    parse_lang,
    parse_window,
)
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence

REF = "ab" * 32
SQUARE = [[30.0, 45.0], [31.0, 45.0], [31.0, 46.0], [30.0, 46.0], [30.0, 45.0]]


def draft(**changes: Any) -> MessageDraft:
    fields: dict[str, Any] = {
        "kind": MessageKind.NOTIFICATION,
        "precedence": Precedence.PRIORITY,
        "subject": "Air activity",
        "body": "Two aircraft will transit the area.",
    }
    fields.update(changes)
    return MessageDraft(**fields)


def invalid(field: str, call: Any) -> InvalidInput:
    """Run ``call`` and return the InvalidInput it raises, checking its field."""
    with pytest.raises(InvalidInput) as caught:
        call()
    assert caught.value.field == field
    return caught.value


# --- content ---------------------------------------------------------------------------


def test_minimal_content() -> None:
    assert draft().content() == {
        "kind": "notification",
        "precedence": "PRIORITY",
        "subject": "Air activity",
        "body": "Two aircraft will transit the area.",
        "lang": "en",
        "refs": [],
        "to": [],
    }


def test_full_content_is_normalised() -> None:
    content = draft(
        kind=MessageKind.WARNING,
        precedence=Precedence.FLASH,
        subject="  Missile test  ",
        body="  Launch window below.\n",
        lang="ru",
        refs=(" " + REF.upper() + " ",),
        to=(" ru/ndmc ",),
        area={"type": "Polygon", "coordinates": [SQUARE]},
        window={"start": "2026-03-01T14:00:00Z", "end": "2026-03-01T16:30:00+01:00"},
        activity="  live firing ",
        units=(" 1st Battery ", "  ", "2nd"),
    ).content()
    assert content == {
        "kind": "warning",
        "precedence": "FLASH",
        "subject": "Missile test",
        "body": "  Launch window below.\n",
        "lang": "ru",
        "refs": [REF],
        "to": ["RU/NDMC"],
        "area": {"type": "Polygon", "coordinates": [SQUARE]},
        "window": {"start": "2026-03-01T14:00:00.000Z", "end": "2026-03-01T15:30:00.000Z"},
        "activity": "live firing",
        "units": ["1st Battery", "2nd"],
    }


@pytest.mark.parametrize("subject", ["", "   ", "\n\t"])
def test_an_empty_subject_is_invalid(subject: str) -> None:
    err = invalid("subject", draft(subject=subject).content)
    assert "needs a subject" in str(err)


@pytest.mark.parametrize("body", ["", "   ", "\n"])
def test_an_empty_body_is_invalid(body: str) -> None:
    err = invalid("body", draft(body=body).content)
    assert "needs a body" in str(err)


def test_subject_length_limit() -> None:
    assert draft(subject="s" * SUBJECT_MAX).content()["subject"] == "s" * SUBJECT_MAX
    assert draft(subject=f"  {'s' * SUBJECT_MAX}  ").content()["subject"] == "s" * SUBJECT_MAX
    err = invalid("subject", draft(subject="s" * (SUBJECT_MAX + 1)).content)
    assert "longer than 200 characters" in str(err)


def test_body_length_limit() -> None:
    assert draft(body="b" * BODY_MAX).content()["body"] == "b" * BODY_MAX
    err = invalid("body", draft(body="b" * (BODY_MAX + 1)).content)
    assert f"longer than {BODY_MAX} characters" in str(err)


@pytest.mark.parametrize("lang", ["", "e", "english", "EN", "en_GB", "en-", "12"])
def test_a_bad_lang_is_invalid(lang: str) -> None:
    err = invalid("lang", draft(lang=lang).content)
    assert err.hint == "e.g. en, ru, uk"


@pytest.mark.parametrize("lang", ["en", "ru", "uk", "en-GB", "zh-Hant-TW", "fil"])
def test_a_good_lang(lang: str) -> None:
    assert parse_lang(lang) == lang
    assert draft(lang=lang).content()["lang"] == lang


@pytest.mark.parametrize("ref", ["", "ab" * 31, "ab" * 33, "g" * 64, "0x" + "a" * 62])
def test_a_bad_ref_is_invalid(ref: str) -> None:
    err = invalid("ref", draft(refs=(ref,)).content)
    assert "is not an event id" in str(err)


def test_check_event_ref_lowercases() -> None:
    assert check_event_ref(" " + "AB" * 32) == REF


def test_a_bad_recipient_is_invalid() -> None:
    invalid("principal", draft(to=("NDMC",)).content)


# --- areas -----------------------------------------------------------------------------


def test_a_valid_polygon() -> None:
    area = {"type": "Polygon", "coordinates": [[[30, 45], [31, 45], [31, 46], [30, 45]]]}
    assert parse_area(area) == {
        "type": "Polygon",
        "coordinates": [[[30.0, 45.0], [31.0, 45.0], [31.0, 46.0], [30.0, 45.0]]],
    }


def test_a_polygon_with_a_hole_and_altitudes() -> None:
    hole = [[30.2, 45.2, 10], [30.4, 45.2, 10], [30.4, 45.4, 10], [30.2, 45.2, 10]]
    area = parse_area({"type": "Polygon", "coordinates": [SQUARE, hole]})
    assert area["coordinates"][1] == [[30.2, 45.2], [30.4, 45.2], [30.4, 45.4], [30.2, 45.2]]


def test_a_feature_is_unwrapped_to_its_geometry() -> None:
    feature = {
        "type": "Feature",
        "properties": {"name": "exercise box"},
        "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
    }
    assert parse_area(feature) == {"type": "Polygon", "coordinates": [SQUARE]}


def test_a_feature_without_geometry_is_invalid() -> None:
    invalid("area", lambda: parse_area({"type": "Feature", "geometry": None}))


@pytest.mark.parametrize("unit", ["km", "NM"])
def test_a_circle(unit: str) -> None:
    circle = {"center": [30.5, 45.5], "radius": 25, "unit": unit}
    assert parse_area(circle) == {"center": [30.5, 45.5], "radius": 25, "unit": unit}


def test_a_circle_defaults_to_km() -> None:
    assert parse_area({"center": [30.5, 45.5], "radius": 2.5}) == {
        "center": [30.5, 45.5],
        "radius": 2.5,
        "unit": "km",
    }


def test_an_unclosed_ring_is_invalid() -> None:
    ring = [*SQUARE[:-1], [30.0, 45.5]]
    err = invalid("area", lambda: parse_area({"type": "Polygon", "coordinates": [ring]}))
    assert "ring 0 is not closed" in str(err)
    assert err.hint == "repeat the first position at the end"


def test_a_ring_of_fewer_than_four_positions_is_invalid() -> None:
    ring = [[30.0, 45.0], [31.0, 45.0], [30.0, 45.0]]
    err = invalid("area", lambda: parse_area({"type": "Polygon", "coordinates": [SQUARE, ring]}))
    assert "ring 1 needs at least 4 positions" in str(err)


def test_a_degenerate_ring_is_invalid() -> None:
    ring = [[30.0, 45.0], [31.0, 45.0], [31.0, 45.0], [30.0, 45.0]]
    err = invalid("area", lambda: parse_area({"type": "Polygon", "coordinates": [ring]}))
    assert "fewer than 3 distinct positions" in str(err)


@pytest.mark.parametrize("coordinates", [None, [], "rings", [SQUARE[0]]])
def test_polygon_without_rings_is_invalid(coordinates: Any) -> None:
    invalid("area", lambda: parse_area({"type": "Polygon", "coordinates": coordinates}))


@pytest.mark.parametrize("lat", [90.5, -91.0, 180.0])
def test_latitude_out_of_range_is_invalid_and_hints_at_the_order(lat: float) -> None:
    ring = [[30.0, 45.0], [31.0, lat], [31.0, 46.0], [30.0, 45.0]]
    err = invalid("area", lambda: parse_area({"type": "Polygon", "coordinates": [ring]}))
    assert "ring 0 position 1" in str(err)
    assert "latitude" in str(err)
    assert err.hint is not None
    assert "[longitude, latitude]" in err.hint


def test_longitude_out_of_range_is_invalid() -> None:
    err = invalid("area", lambda: parse_area({"center": [181, 10], "radius": 1}))
    assert "longitude 181.0 is outside -180..180" in str(err)
    assert err.hint is not None
    assert "[longitude, latitude]" in err.hint


def test_latitude_first_is_caught_when_out_of_range() -> None:
    """[lat, lon] written by mistake: lon 120 lands in the latitude slot."""
    err = invalid("area", lambda: parse_area({"center": [45.0, 120.0], "radius": 1}))
    assert "latitude 120.0 is outside -90..90" in str(err)


@pytest.mark.parametrize(
    "position",
    [["30", "45"], [30], [30, 45, 1, 2], "30,45", [True, 45], None, {"lon": 30, "lat": 45}],
    ids=["strings", "one", "four", "text", "bool", "none", "object"],
)
def test_a_non_numeric_position_is_invalid(position: Any) -> None:
    err = invalid("area", lambda: parse_area({"center": position, "radius": 1}))
    assert "a position is [longitude, latitude]" in str(err)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_non_finite_position_is_invalid(value: float) -> None:
    err = invalid("area", lambda: parse_area({"center": [value, 10], "radius": 1}))
    assert "finite" in str(err)


@pytest.mark.parametrize("radius", [0, -1, "5", None, True, float("nan"), float("inf")])
def test_a_bad_radius_is_invalid(radius: Any) -> None:
    err = invalid("area", lambda: parse_area({"center": [30, 45], "radius": radius}))
    assert "radius must be a positive number" in str(err)


def test_a_circle_without_radius_is_invalid() -> None:
    invalid("area", lambda: parse_area({"center": [30, 45]}))


@pytest.mark.parametrize("unit", ["mi", "nm", "KM", "m", None])
def test_a_bad_radius_unit_is_invalid(unit: Any) -> None:
    err = invalid("area", lambda: parse_area({"center": [30, 45], "radius": 5, "unit": unit}))
    assert "is not km or NM" in str(err)


@pytest.mark.parametrize(
    "area",
    [
        {"type": "Point", "coordinates": [30, 45]},
        {"type": "MultiPolygon", "coordinates": [[SQUARE]]},
        {"coordinates": [SQUARE]},
        {},
    ],
    ids=["point", "multipolygon", "no-type", "empty"],
)
def test_an_unsupported_area_type_is_invalid(area: dict[str, Any]) -> None:
    err = invalid("area", lambda: parse_area(area))
    assert "unsupported area type" in str(err)
    assert err.hint is not None
    assert "Polygon" in err.hint


@pytest.mark.parametrize("area", [[SQUARE], "polygon", None, 5])
def test_an_area_that_is_not_an_object_is_invalid(area: Any) -> None:
    invalid("area", lambda: parse_area(area))


def test_a_bad_area_makes_the_draft_invalid() -> None:
    invalid("area", draft(area={"type": "Point", "coordinates": [30, 45]}).content)


# --- windows and times -----------------------------------------------------------------


def test_a_window_is_normalised_to_utc_milliseconds() -> None:
    assert parse_window("2026-03-01T14:00:00Z", "2026-03-01 18:00:00.1234+03:00") == {
        "start": "2026-03-01T14:00:00.000Z",
        "end": "2026-03-01T15:00:00.123Z",
    }


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-03-01T14:00:00Z", "2026-03-01T13:59:59Z"),
        ("2026-03-01T14:00:00Z", "2026-03-01T14:00:00Z"),
        ("2026-03-01T14:00:00Z", "2026-03-01T15:00:00+01:00"),
    ],
    ids=["before", "same", "same-instant-other-zone"],
)
def test_a_window_that_ends_before_it_starts_is_invalid(start: str, end: str) -> None:
    err = invalid("window", lambda: parse_window(start, end))
    assert "must come after its start" in str(err)


def test_a_window_in_a_draft_is_checked() -> None:
    window = {"start": "2026-03-01T14:00:00Z", "end": "2026-03-01T13:00:00Z"}
    invalid("window", draft(window=window).content)


def test_a_window_missing_its_end_is_invalid() -> None:
    invalid("window", draft(window={"start": "2026-03-01T14:00:00Z"}).content)


@pytest.mark.parametrize("text", ["2026-03-01T14:00:00", "2026-03-01", "2026-03-01 14:00"])
def test_a_time_without_zone_is_refused(text: str) -> None:
    err = invalid("start", lambda: parse_time(text, field="start"))
    assert "has no time zone" in str(err)
    assert err.hint is not None
    assert "Z" in err.hint


def test_a_window_without_zone_is_refused() -> None:
    err = invalid("end", lambda: parse_window("2026-03-01T14:00:00Z", "2026-03-01T15:00:00"))
    assert "has no time zone" in str(err)


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01T00:00:00Z", "14:00Z"])
def test_a_malformed_time_is_refused(text: str) -> None:
    err = invalid("time", lambda: parse_time(text))
    assert "is not a time" in str(err)


@pytest.mark.parametrize(
    "text", ["2026-03-01T14:00:00Z", "2026-03-01t14:00:00z", " 2026-03-01T16:00:00+02:00 "]
)
def test_parse_time_gives_utc(text: str) -> None:
    assert parse_time(text) == datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    assert parse_time(text).tzinfo is UTC


def test_format_time_is_utc_with_milliseconds() -> None:
    moment = datetime(2026, 11, 24, 22, 52, 49, 123456, tzinfo=timezone(timedelta(hours=-5)))
    assert format_time(moment) == "2026-11-25T03:52:49.123Z"


def test_format_time_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_time(datetime(2026, 3, 1, 12, 0))


def test_truncate_ms() -> None:
    moment = datetime(2026, 3, 1, 12, 0, 0, 999999, tzinfo=UTC)
    assert truncate_ms(moment) == datetime(2026, 3, 1, 12, 0, 0, 999000, tzinfo=UTC)
    assert format_time(truncate_ms(moment)) == format_time(moment)
