"""ADS-B (readsb/tar1090 ``aircraft.json``, OpenSky state vectors), AIS NMEA (pyais) and
CSV feeds, normalised to tracks (SI units, WGS84, a party from the feed's mapping).

Each reader returns the tracks it could read and the problems with the rest (one line
each): a bad record is counted and reported, never fatal to the batch.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pyais import decode
from pyais.exceptions import AISBaseException

from hotline.domain.clock import parse_time
from hotline.domain.errors import InvalidInput
from hotline.domain.tracks import FOOT, KNOT, Track, TrackKind, make_track


@dataclass(frozen=True)
class FeedMapping:
    """How a feed's records get a party: by prefix of callsign / ICAO hex / MMSI (or
    AIS country code), else the feed's default (None: unattributed)."""

    default: str | None = None
    prefixes: Mapping[str, str] = field(default_factory=dict)

    def party(self, *keys: str | None) -> str | None:
        for key in keys:
            if not key:
                continue
            for prefix, party in self.prefixes.items():
                if key.upper().startswith(prefix.upper()):
                    return party
        return self.default


@dataclass
class Batch:
    tracks: list[Track] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_aircraft_json(data: Mapping[str, Any], mapping: FeedMapping) -> Batch:
    """readsb / tar1090 ``aircraft.json``: altitudes in feet, speeds in knots."""
    batch = Batch()
    now = data.get("now")
    if not isinstance(now, int | float):
        batch.problems.append("aircraft.json has no 'now'")
        return batch
    for n, item in enumerate(data.get("aircraft") or []):
        try:
            if not isinstance(item, dict) or "lat" not in item or "lon" not in item:
                continue  # no position yet: nothing to track
            seen = float(item.get("seen_pos", item.get("seen", 0)) or 0)
            alt = item.get("alt_geom", item.get("alt_baro"))
            callsign = str(item.get("flight") or "").strip() or None
            batch.tracks.append(
                make_track(
                    uid=f"icao:{str(item['hex']).lower()}",
                    party=mapping.party(callsign, str(item["hex"])),
                    kind=TrackKind.UAV if item.get("category") == "B6" else TrackKind.AIRCRAFT,
                    lat=float(item["lat"]),
                    lon=float(item["lon"]),
                    time=datetime.fromtimestamp(float(now) - seen, UTC),
                    alt=float(alt) * FOOT if isinstance(alt, int | float) else None,
                    speed=float(item["gs"]) * KNOT
                    if isinstance(item.get("gs"), int | float)
                    else None,
                    course=float(item["track"])
                    if isinstance(item.get("track"), int | float)
                    else None,
                    callsign=callsign,
                    source="adsb",
                )
            )
        except (KeyError, TypeError, ValueError, OverflowError, OSError, InvalidInput) as exc:
            batch.problems.append(f"aircraft {n}: {exc}")
    return batch


def read_opensky(data: Mapping[str, Any], mapping: FeedMapping) -> Batch:
    """OpenSky ``/states/all``: SI units already; positions may be missing."""
    batch = Batch()
    for n, state in enumerate(data.get("states") or []):
        try:
            icao, callsign = str(state[0]).lower(), (state[1] or "").strip() or None
            lon, lat = state[5], state[6]
            if lon is None or lat is None:
                continue
            when = state[3] if state[3] is not None else state[4]
            alt = state[13] if state[13] is not None else state[7]
            batch.tracks.append(
                make_track(
                    uid=f"icao:{icao}",
                    party=mapping.party(callsign, icao),
                    kind=TrackKind.AIRCRAFT,
                    lat=float(lat),
                    lon=float(lon),
                    time=datetime.fromtimestamp(float(when), UTC),
                    alt=float(alt) if alt is not None else None,
                    speed=float(state[9]) if state[9] is not None else None,
                    course=float(state[10]) if state[10] is not None else None,
                    callsign=callsign,
                    source="opensky",
                )
            )
        except (
            LookupError,
            AttributeError,
            TypeError,
            ValueError,
            OverflowError,
            OSError,
            InvalidInput,
        ) as exc:
            batch.problems.append(f"state {n}: {exc}")
    return batch


def read_ais(lines: Iterable[str], mapping: FeedMapping, received: datetime) -> Batch:
    """AIS NMEA sentences (multi-part messages joined); position reports only. AIS
    carries no date: positions are timed at ``received``."""
    batch = Batch()
    pending: list[bytes] = []
    for n, line in enumerate(lines):
        text = line.strip()
        if not text:
            continue
        parts = text.split(",")
        try:
            total, number = int(parts[1]), int(parts[2])
        except (IndexError, ValueError):
            batch.problems.append(f"line {n + 1}: not an AIS sentence")
            continue
        if number == 1 and pending:  # a new message began: the last one never finished
            batch.problems.append(f"line {n}: an incomplete multi-part message")
            pending = []
        pending.append(text.encode("ascii", "replace"))
        if number < total:
            continue
        sentences, pending = pending, []
        try:
            message: dict[str, Any] = decode(*sentences, error_if_checksum_invalid=True).asdict()
        except (AISBaseException, ValueError, TypeError, IndexError) as exc:
            batch.problems.append(f"line {n + 1}: {exc}")
            continue
        if message.get("msg_type") not in (1, 2, 3, 18, 19):
            continue
        try:
            mmsi = str(message["mmsi"]).zfill(9)
            lat, lon = message.get("lat"), message.get("lon")
            if lat is None or lon is None or lat == 91 or lon == 181:
                continue
            speed = message.get("speed")
            course = message.get("course")
            batch.tracks.append(
                make_track(
                    uid=f"mmsi:{mmsi}",
                    party=mapping.party(mmsi),
                    kind=TrackKind.SHIP,
                    lat=float(lat),
                    lon=float(lon),
                    time=received,
                    speed=float(speed) * KNOT if speed is not None and speed < 102.3 else None,
                    course=float(course) if course is not None and course < 360 else None,
                    source="ais",
                )
            )
        except (KeyError, TypeError, ValueError, InvalidInput) as exc:
            batch.problems.append(f"line {n + 1}: {exc}")
    if pending:
        batch.problems.append("the last multi-part message is incomplete")
    return batch


CSV_COLUMNS = ("uid", "party", "kind", "lat", "lon", "time")


def read_csv(text: str, mapping: FeedMapping) -> Batch:
    """CSV with a header: uid, party, kind, lat, lon, time (UTC) and optionally alt_m,
    speed_mps, course_deg, callsign. An empty party falls back to the feed mapping."""
    batch = Batch()
    reader = csv.DictReader(text.splitlines(), restval="")
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        batch.problems.append("the CSV header lacks " + ", ".join(missing))
        return batch
    for n, row in enumerate(reader, start=2):
        try:
            kind = TrackKind(row["kind"].strip().lower() or "unknown")
            batch.tracks.append(
                make_track(
                    uid=row["uid"],
                    party=(row["party"] or "").strip().upper()
                    or mapping.party(row.get("callsign")),
                    kind=kind,
                    lat=float(row["lat"]),
                    lon=float(row["lon"]),
                    time=parse_time(row["time"], field="time"),
                    alt=_opt(row.get("alt_m")),
                    speed=_opt(row.get("speed_mps")),
                    course=_opt(row.get("course_deg")),
                    callsign=row.get("callsign"),
                    source="csv",
                )
            )
        except (KeyError, ValueError, TypeError, AttributeError, InvalidInput) as exc:
            batch.problems.append(f"line {n}: {exc}")
    return batch


def _opt(value: str | None) -> float | None:
    return float(value) if value not in (None, "") else None
