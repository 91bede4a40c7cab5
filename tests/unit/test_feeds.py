"""Feeds to tracks (hotline.ingest.feeds): readsb aircraft.json, OpenSky state vectors,
AIS NMEA (decoded by pyais) and CSV. Units become SI, parties come from the feed's
mapping, and a bad record is reported in ``problems`` while the good ones are kept.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hotline.domain.tracks import FOOT, KNOT, TrackKind
from hotline.ingest.feeds import (
    FeedMapping,
    read_aircraft_json,
    read_ais,
    read_csv,
    read_opensky,
)

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
NOW = T0.timestamp()  # 1772366400.0

# -- FeedMapping ---------------------------------------------------------------------


def test_feed_mapping_prefix_then_default() -> None:
    mapping = FeedMapping(default="NEUTRAL", prefixes={"RSD": "RU", "155": "RU", "48": "NATO"})
    assert mapping.party("rsd001", "4b1805") == "RU"  # case-insensitive, first key wins
    assert mapping.party(None, "155abc") == "RU"
    assert mapping.party("", "48ae01") == "NATO"
    assert mapping.party("SWR123", "4b1805") == "NEUTRAL"
    assert FeedMapping().party("SWR123") is None


# -- aircraft.json (readsb / tar1090) -----------------------------------------------------

ADSB_MAPPING = FeedMapping(prefixes={"RSD": "RU", "155": "RU", "48": "NATO"})

AIRCRAFT_JSON: dict[str, Any] = {
    "now": NOW,
    "messages": 123456789,
    "aircraft": [
        {
            "hex": "48AE01",
            "type": "adsb_icao",
            "flight": "PLF101  ",
            "alt_baro": 35000,
            "gs": 450.0,
            "track": 87.5,
            "squawk": "1000",
            "category": "A3",
            "lat": 52.1,
            "lon": 20.5,
            "seen_pos": 1.5,
            "seen": 0.4,
            "rssi": -12.3,
        },
        {
            "hex": "155abc",
            "flight": "RSD001",
            "alt_baro": 10000,
            "alt_geom": 10250,  # geometric altitude is preferred
            "gs": 300,
            "track": 270,
            "lat": 52.3,
            "lon": 24.2,
            "seen_pos": 0,
        },
        {"hex": "4b1805", "flight": "SWR123", "alt_baro": 12000, "seen": 3.2},  # no position
        {
            "hex": "48ae77",
            "alt_baro": "ground",  # on the ground: not a number
            "gs": 12.0,
            "lat": 52.17,
            "lon": 20.97,
            "seen": 5,  # no seen_pos: seen is used
        },
        {"hex": "48ae99", "category": "B6", "lat": 52.0, "lon": 21.0, "seen_pos": 0.0},
        {"hex": "48aeff", "lat": 95.0, "lon": 20.0, "seen_pos": 0.0},  # bad latitude
        {"lat": 52.0, "lon": 20.0, "seen_pos": 0.0},  # no hex
        {"hex": "48ae00", "lat": "north", "lon": 20.0},  # not a number
        "not an object",
    ],
}


def test_aircraft_json_to_si_tracks() -> None:
    batch = read_aircraft_json(AIRCRAFT_JSON, ADSB_MAPPING)
    tracks = {t.uid: t for t in batch.tracks}
    assert list(tracks) == ["icao:48ae01", "icao:155abc", "icao:48ae77", "icao:48ae99"]

    pl = tracks["icao:48ae01"]
    assert (pl.party, pl.kind) == ("NATO", TrackKind.AIRCRAFT)
    assert (pl.callsign, pl.source) == ("PLF101", "adsb")
    assert (pl.lat, pl.lon) == (52.1, 20.5)
    assert pl.alt == pytest.approx(10_668.0)  # 35,000 ft
    assert pl.alt == pytest.approx(35_000 * FOOT)
    assert pl.speed == pytest.approx(231.4998)  # 450 kt
    assert pl.speed == pytest.approx(450 * KNOT)
    assert pl.course == 87.5
    assert pl.time == T0 - timedelta(seconds=1.5)  # now - seen_pos

    ru = tracks["icao:155abc"]
    assert (ru.party, ru.callsign) == ("RU", "RSD001")
    assert ru.alt == pytest.approx(10_250 * 0.3048)
    assert ru.speed == pytest.approx(154.3332)
    assert (ru.course, ru.time) == (270.0, T0)

    ground = tracks["icao:48ae77"]
    assert (ground.alt, ground.course, ground.callsign) == (None, None, None)
    assert ground.party == "NATO"  # by hex
    assert ground.time == T0 - timedelta(seconds=5)

    assert tracks["icao:48ae99"].kind is TrackKind.UAV


def test_aircraft_json_bad_records_are_reported_and_good_ones_kept() -> None:
    batch = read_aircraft_json(AIRCRAFT_JSON, ADSB_MAPPING)
    assert len(batch.tracks) == 4
    assert batch.problems == [
        "aircraft 5: lat: 95.0 is outside -90..90",
        "aircraft 6: hex: no ICAO address",
        "aircraft 7: lat: 'north' is not a number",
        "aircraft 8: a string, not an object",
    ]


def test_aircraft_json_without_now() -> None:
    batch = read_aircraft_json({"aircraft": AIRCRAFT_JSON["aircraft"]}, ADSB_MAPPING)
    assert batch.tracks == []
    assert batch.problems == ["aircraft.json has no 'now'"]
    assert read_aircraft_json({"now": NOW}, ADSB_MAPPING).tracks == []


def test_aircraft_json_absurd_seen_pos_is_a_problem_not_fatal() -> None:
    data = {
        "now": NOW,
        "aircraft": [
            {"hex": "48ae01", "lat": 52.0, "lon": 20.0, "seen_pos": 1e300},
            {"hex": "48ae02", "lat": 52.0, "lon": 20.0, "seen_pos": 1.0},
        ],
    }
    batch = read_aircraft_json(data, ADSB_MAPPING)
    assert [t.uid for t in batch.tracks] == ["icao:48ae02"]
    assert len(batch.problems) == 1


# -- OpenSky /states/all -------------------------------------------------------------------

OPENSKY: dict[str, Any] = {
    "time": int(NOW),
    "states": [
        # icao24, callsign, origin_country, time_position, last_contact, lon, lat,
        # baro_altitude, on_ground, velocity, true_track, vertical_rate, sensors,
        # geo_altitude, squawk, spi, position_source
        ["48ae01", "PLF101  ", "Poland", NOW - 2, NOW - 1, 20.5, 52.1, 10668.0, False,
         231.5, 87.5, 0.0, None, 10700.0, "1000", False, 0],
        ["155abc", "RSD001  ", "Russian Federation", None, NOW - 5, 24.2, 52.3, 3048.0,
         False, 150.0, 270.0, None, None, None, None, False, 0],
        ["4b1805", "SWR123  ", "Switzerland", None, NOW, None, None, 11000.0, False,
         230.0, 90.0, 0.0, None, None, None, False, 0],  # no position: skipped
        ["3c6444", "", "Germany", NOW, NOW, 13.4, 52.5, None, True,
         None, None, None, None, None, None, False, 0],
        ["short"],  # truncated: reported
        ["48aeff", "BAD1", "Poland", NOW, NOW, 20.0, -91.0, 100.0, False,
         10.0, 0.0, 0.0, None, None, None, False, 0],  # latitude out of range
    ],
}  # fmt: skip


def test_opensky_states() -> None:
    batch = read_opensky(OPENSKY, ADSB_MAPPING)
    tracks = {t.uid: t for t in batch.tracks}
    assert list(tracks) == ["icao:48ae01", "icao:155abc", "icao:3c6444"]

    pl = tracks["icao:48ae01"]
    assert (pl.party, pl.callsign, pl.source) == ("NATO", "PLF101", "opensky")
    assert (pl.alt, pl.speed, pl.course) == (10700.0, 231.5, 87.5)  # geometric altitude
    assert pl.time == T0 - timedelta(seconds=2)  # time_position

    ru = tracks["icao:155abc"]
    assert (ru.party, ru.alt) == ("RU", 3048.0)  # barometric when no geometric
    assert ru.time == T0 - timedelta(seconds=5)  # last_contact when no time_position

    de = tracks["icao:3c6444"]
    assert (de.party, de.callsign, de.alt, de.speed, de.course) == (None, None, None, None, None)

    assert len(batch.problems) == 2
    assert batch.problems[0].startswith("state 4:")
    assert batch.problems[1].startswith("state 5: lat:")


def test_opensky_without_states() -> None:
    assert read_opensky({"time": int(NOW), "states": None}, ADSB_MAPPING).tracks == []
    assert read_opensky({}, ADSB_MAPPING).problems == [
        "not an OpenSky /states/all answer: no 'states'"
    ]


NUMERIC_CALLSIGN = ["48ae01", 1234, "Poland", NOW, NOW, 20.5, 52.1, 100.0, False, 1.0, 0.0,
                    0.0, None, None, None, False, 0]  # fmt: skip


@pytest.mark.parametrize(
    "bad",
    [
        {"icao24": "48ae01"},
        NUMERIC_CALLSIGN,
    ],
    ids=["a dict", "a numeric callsign"],
)
def test_opensky_a_malformed_state_is_a_problem_not_fatal(bad: Any) -> None:
    batch = read_opensky({"states": [bad, OPENSKY["states"][0]]}, ADSB_MAPPING)
    assert [t.uid for t in batch.tracks] == ["icao:48ae01"]
    assert len(batch.problems) == 1


# -- AIS NMEA ----------------------------------------------------------------------------

AIS_MAPPING = FeedMapping(prefixes={"366": "US", "273": "RU", "261": "NATO"})
RECEIVED = T0

# Type 1, MMSI 366053209, 37.802118N 122.341618W, 0.0 kn, course 219.3 (the pyais example)
TYPE1 = "!AIVDM,1,1,,B,15M67FC000G?ufbE`FepT@3n00Sa,0*5C"
# Type 1, MMSI 273123456, 54.7N 20.1E, 12.3 kn, course 45.5 (encoded with pyais)
TYPE1_RU = "!AIVDO,1,1,,A,144N8P?P1s1L0c0OC;81iiJ1P000,0*25"
# Type 5 (static and voyage data, "EVER DIADEM"), two parts: not a position report
TYPE5 = [
    "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C",
    "!AIVDM,2,2,1,A,88888888880,2*25",
]


def test_ais_position_reports_to_ship_tracks() -> None:
    batch = read_ais([TYPE1, *TYPE5, "", TYPE1_RU], AIS_MAPPING, RECEIVED)
    assert batch.problems == []
    us, ru = batch.tracks
    assert (us.uid, us.party, us.kind, us.source) == ("mmsi:366053209", "US", TrackKind.SHIP, "ais")
    assert (us.lat, us.lon) == pytest.approx((37.802118, -122.341618), abs=1e-5)
    assert (us.speed, us.course, us.alt) == (0.0, 219.3, None)
    assert us.time == RECEIVED
    assert (ru.uid, ru.party) == ("mmsi:273123456", "RU")
    assert (ru.lat, ru.lon) == pytest.approx((54.7, 20.1), abs=1e-5)
    assert ru.speed == pytest.approx(12.3 * 0.514444)  # knots -> m/s
    assert ru.course == pytest.approx(45.5)


def test_ais_garbled_sentences_are_reported_not_fatal() -> None:
    lines = [
        "hello",
        "!AIVDM,1,1",
        "!AIVDM,x,y,,B,15M67FC000G?ufbE`FepT@3n00Sa,0*5C",
        "!AIVDM,1,1,,B,,0*00",
        "$GPGGA,1,1,,x",
        TYPE1_RU,
    ]
    batch = read_ais(lines, AIS_MAPPING, RECEIVED)
    assert [t.uid for t in batch.tracks] == ["mmsi:273123456"]
    assert [p.split(":")[0] for p in batch.problems] == [
        "line 1",
        "line 2",
        "line 3",
        "line 4",
        "line 5",
    ]
    assert batch.problems[0] == "line 1: not an AIS sentence"


def test_ais_a_sentence_failing_its_checksum_is_reported() -> None:
    corrupted = TYPE1.replace("ufbE`Fep", "ufbE0Fep")  # one payload character: lat 36.7N
    batch = read_ais([corrupted], AIS_MAPPING, RECEIVED)
    assert batch.tracks == []
    assert len(batch.problems) == 1


def test_ais_a_lost_fragment_does_not_take_the_next_sentence_with_it() -> None:
    batch = read_ais([TYPE5[0], TYPE1], AIS_MAPPING, RECEIVED)
    assert [t.uid for t in batch.tracks] == ["mmsi:366053209"]


# -- CSV ---------------------------------------------------------------------------------

CSV_MAPPING = FeedMapping(prefixes={"RSD": "RU"})
CSV_HEADER = "uid,party,kind,lat,lon,time,alt_m,speed_mps,course_deg,callsign"


def test_csv_rows_to_tracks() -> None:
    text = "\n".join(
        [
            CSV_HEADER,
            "ru-1,ru,Aircraft,52.1,24.0,2026-03-01T12:00:00Z,9144,231.5,270,BEAR01",
            "ru-2,,ship,54.7,20.1,2026-03-01T14:00:00+02:00,,,,RSD007",
            "x-3,,,55.0,20.5,2026-03-01T12:00:00Z,,,,",
        ]
    )
    batch = read_csv(text, CSV_MAPPING)
    assert batch.problems == []
    one, two, three = batch.tracks
    assert (one.uid, one.party, one.kind, one.source) == ("ru-1", "RU", TrackKind.AIRCRAFT, "csv")
    assert (one.lat, one.lon, one.time) == (52.1, 24.0, T0)
    assert (one.alt, one.speed, one.course, one.callsign) == (9144.0, 231.5, 270.0, "BEAR01")
    assert (two.party, two.kind, two.time) == ("RU", TrackKind.SHIP, T0)  # party by callsign
    assert (two.alt, two.speed, two.course) == (None, None, None)
    assert (three.party, three.kind, three.callsign) == (None, TrackKind.UNKNOWN, None)


def test_csv_missing_header_column() -> None:
    batch = read_csv("uid,party,kind,lat,lon\nru-1,RU,aircraft,52,24\n", CSV_MAPPING)
    assert batch.tracks == []
    assert batch.problems == ["the CSV header lacks time"]
    assert read_csv("", CSV_MAPPING).problems == [
        "the CSV header lacks uid, party, kind, lat, lon, time"
    ]


def test_csv_bad_rows_reported_good_rows_kept() -> None:
    text = "\n".join(
        [
            CSV_HEADER,
            "ru-1,RU,aircraft,52.1,24.0,2026-03-01T12:00:00Z,,,,",
            "ru-2,RU,aircraft,north,24.0,2026-03-01T12:00:00Z,,,,",
            "ru-3,RU,submarine,52.1,24.0,2026-03-01T12:00:00Z,,,,",
            "ru-4,RU,aircraft,95,24.0,2026-03-01T12:00:00Z,,,,",
            "ru-5,RU,aircraft,52.1,24.0,2026-03-01T12:00:00,,,,",
            "ru-6,RU,aircraft,52.1,24.0,2026-03-01T12:00:00Z,,-5,,",
            "ru 7,RU,aircraft,52.1,24.0,2026-03-01T12:00:00Z,,,,",
            "ru-8,RU,ship,52.2,24.1,2026-03-01T12:00:00Z,,,,",
        ]
    )
    batch = read_csv(text, CSV_MAPPING)
    assert [t.uid for t in batch.tracks] == ["ru-1", "ru-8"]
    assert [p.split(":")[0] for p in batch.problems] == [
        "line 3",
        "line 4",
        "line 5",
        "line 6",
        "line 7",
        "line 8",
    ]


def test_csv_a_short_row_is_a_problem_not_fatal() -> None:
    text = "\n".join([CSV_HEADER, "ru-1,RU,aircraft,52.1,24.0,2026-03-01T12:00:00Z,,,,", "ru-2,RU"])
    batch = read_csv(text, CSV_MAPPING)
    assert [t.uid for t in batch.tracks] == ["ru-1"]
    assert len(batch.problems) == 1


def test_csv_an_out_of_range_time_is_a_problem_not_fatal() -> None:
    text = "\n".join(
        [
            CSV_HEADER,
            "ru-1,RU,aircraft,52.1,24.0,0001-01-01T00:30:00+01:00,,,,",
            "ru-2,RU,aircraft,52.1,24.0,2026-03-01T12:00:00Z,,,,",
        ]
    )
    batch = read_csv(text, CSV_MAPPING)
    assert [t.uid for t in batch.tracks] == ["ru-2"]
    assert len(batch.problems) == 1
