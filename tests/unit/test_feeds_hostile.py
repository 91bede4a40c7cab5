"""No feed file, however hostile, makes a reader raise (``hotline ingest`` used to end in
an internal error on a CSV field over 128 KiB, deep JSON, a top-level list): hypothesis
feeds every format bytes, JSON documents of any shape with NaN, infinities and huge
numbers, CSV rows with odd values and AIS garbage. Every track that comes out is valid,
every problem is one short line, and the good records next to bad ones are kept.
"""

from __future__ import annotations

import functools
import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.domain.tracks import Track
from hotline.ingest.feeds import FORMATS, PROBLEM_CHARS, Batch, FeedMapping, read_feed

RECEIVED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MAPPING = FeedMapping(default="RU", prefixes={"48": "NATO"})
HOSTILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read(fmt: str, data: bytes) -> Batch:
    batch = read_feed(fmt, data, MAPPING, RECEIVED, {"h": "RU"})
    for track in batch.tracks:
        check(track)
    for problem in batch.problems:
        assert isinstance(problem, str) and 0 < len(problem) <= PROBLEM_CHARS
    return batch


def check(track: Track) -> None:
    assert -90 <= track.lat <= 90 and -180 <= track.lon <= 180
    for value in (track.alt, track.speed, track.course):
        assert value is None or math.isfinite(value)
    assert track.time.tzinfo is not None


@HOSTILE
@given(st.sampled_from(FORMATS), st.binary(max_size=3000))
def test_any_bytes_in_any_format(fmt: str, data: bytes) -> None:
    read(fmt, data)


NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**320),
    st.sampled_from([0, -1, 90, 91, -180, 181, 1e308, -1e308, 2**63, 1772366400]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=20))
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)
AIRCRAFT_KEYS = ["hex", "lat", "lon", "seen_pos", "seen", "alt_geom", "alt_baro", "gs", "track",
                 "flight", "category"]  # fmt: skip
AIRCRAFT = st.dictionaries(st.sampled_from(AIRCRAFT_KEYS), st.one_of(SCALARS, JSON), max_size=11)


def dumps(document: Any) -> bytes:
    """JSON as Python writes it (NaN, Infinity), with integers of any length."""
    return json.dumps(document, default=str).encode()


@HOSTILE
@given(JSON)
def test_any_json_document_as_aircraft_json_and_opensky(document: Any) -> None:
    data = dumps(document)
    read("aircraft-json", data)
    read("opensky", data)


@HOSTILE
@given(st.one_of(NUMBERS, SCALARS), st.lists(st.one_of(AIRCRAFT, JSON), max_size=8))
def test_hostile_aircraft_next_to_a_good_one(now: Any, aircraft: list[Any]) -> None:
    good = {"hex": "48ae01", "lat": 52.0, "lon": 21.0, "seen_pos": 1.0}
    batch = read("aircraft-json", dumps({"now": 1772366400, "aircraft": [*aircraft, good]}))
    assert "icao:48ae01" in {t.uid for t in batch.tracks}
    read("aircraft-json", dumps({"now": now, "aircraft": aircraft}))


@HOSTILE
@given(st.lists(st.lists(st.one_of(SCALARS, JSON), max_size=18), max_size=6))
def test_hostile_opensky_states_next_to_a_good_one(states: list[Any]) -> None:
    good = ["48ae01", "PLF101", "Poland", 1772366400, 1772366400, 20.5, 52.1, 100.0, False,
            10.0, 0.0, 0.0, None, None, None, False, 0]  # fmt: skip
    batch = read("opensky", dumps({"time": 1, "states": [*states, good]}))
    assert "icao:48ae01" in {t.uid for t in batch.tracks}


CSV_VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["nan", "inf", "-inf", "1e999", "9" * 400, "91", "-181", "", " ", '"']),
    st.sampled_from(["2026-03-01T12:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59Z"]),
)


@HOSTILE
@given(st.lists(st.lists(CSV_VALUES, min_size=0, max_size=11), max_size=6))
def test_hostile_csv_rows_next_to_a_good_one(rows: list[list[str]]) -> None:
    header = "uid,party,kind,lat,lon,time,alt_m,speed_mps,course_deg,callsign\n"
    good = "ru-good,RU,aircraft,52.1,24.0,2026-03-01T12:00:00Z,100,10,90,X\n"
    lines = "".join(",".join(row) + "\n" for row in rows)
    batch = read("csv", (header + lines + good).encode())
    assert "ru-good" in {t.uid for t in batch.tracks} or '"' in lines  # a quote runs on


NMEA = "!AIVDMO,0123456789*?`@:;<=>ABCDEFGHIJKLMNOPQRSTUVWabcdefghijklmnopqrstuvw"
PAYLOAD = "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvw"


def sentence(total: int, number: int, payload: str, fill: int) -> str:
    """An NMEA sentence with a correct checksum, so that pyais decodes its payload."""
    body = f"AIVDM,{total},{number},,A,{payload},{fill}"
    return f"!{body}*{functools.reduce(lambda a, c: a ^ ord(c), body, 0):02X}"


SENTENCES = st.builds(
    sentence,
    st.integers(-2, 12),
    st.integers(-2, 12),
    st.text(alphabet=PAYLOAD, max_size=80),
    st.integers(-1, 9),
)


@HOSTILE
@given(st.lists(st.one_of(st.text(alphabet=NMEA, max_size=80), SENTENCES), max_size=8))
def test_ais_garbage_next_to_a_good_sentence(lines: list[str]) -> None:
    good = "!AIVDM,1,1,,B,15M67FC000G?ufbE`FepT@3n00Sa,0*5C"
    batch = read("ais", "\n".join([*lines, good]).encode())
    assert "mmsi:366053209" in {t.uid for t in batch.tracks} or any(
        line.startswith("!AIVDM") for line in lines
    )  # a multi-part message may take the next sentence with it


@pytest.mark.parametrize("depth", [1_000, 100_000, 1_000_000])
def test_deep_json_is_one_problem(depth: int) -> None:
    data = b"[" * depth + b"]" * depth
    for fmt in ("aircraft-json", "opensky"):
        batch = read(fmt, data)
        assert batch.tracks == []
        assert len(batch.problems) == 1


def test_a_csv_field_over_the_limit_is_one_refused_record() -> None:
    data = (
        "uid,party,kind,lat,lon,time\n"
        "ru-1,RU,aircraft,52,24,2026-03-01T12:00:00Z\n"
        f"{'x' * 200_000},RU,aircraft,52,24,2026-03-01T12:00:00Z\n"
        "ru-2,RU,aircraft,52,24,2026-03-01T12:00:00Z\n"
    ).encode()
    batch = read("csv", data)
    assert [t.uid for t in batch.tracks] == ["ru-1", "ru-2"]
    assert batch.problems == ["line 3: a field longer than 128 KiB characters"]


def test_a_long_bad_value_is_quoted_short() -> None:
    data = ("uid,party,kind,lat,lon,time\n" + "u" * 5000 + ",RU,x,52,24,bad\n").encode()
    (problem,) = read("csv", data).problems
    assert problem.startswith("line 2: kind: 'x' is not a valid TrackKind")
    data = (
        "uid,party,kind,lat,lon,time\n" + "u" * 5000 + ",RU,ship,52,24,2026-03-01T12:00Z\n"
    ).encode()
    (problem,) = read("csv", data).problems
    assert problem.startswith("line 2: uid: 'uuuu") and len(problem) == PROBLEM_CHARS
