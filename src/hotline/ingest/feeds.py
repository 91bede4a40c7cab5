"""ADS-B (readsb/tar1090 ``aircraft.json``, OpenSky state vectors), AIS NMEA (pyais),
CSV and Cursor on Target files, normalised to tracks (SI units, WGS84, a party from the
feed's mapping).

Each reader returns the tracks it could read and the problems with the rest (one line
each, naming the record): a bad record is counted and reported, never fatal to the batch,
and no input, however hostile, makes a reader raise. A file that cannot be read as its
format at all (not JSON, nested too deeply, the wrong shape, no CSV header) gives one
problem and no track. :func:`read_feed` reads a whole file of a named format.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pyais import decode
from pyais.exceptions import AISBaseException

from hotline.domain.clock import parse_time
from hotline.domain.errors import InvalidInput
from hotline.domain.tracks import FOOT, KNOT, Track, TrackKind, make_track
from hotline.ingest.cot import Splitter, parse_event, size_text

FORMATS = ("cot", "aircraft-json", "opensky", "ais", "csv")

#: The longest problem line: a record's bad value is quoted, cut to fit.
PROBLEM_CHARS = 300

#: ADS-B emitter categories (DO-260B) of kinds other than aircraft: rotorcraft,
#: lighter than air, unmanned.
ADSB_KINDS = {"A7": TrackKind.HELICOPTER, "B2": TrackKind.BALLOON, "B6": TrackKind.UAV}


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

    def refuse(self, record: str, problem: object) -> None:
        """Report ``record`` (``line 3``, ``aircraft 5``) refused for ``problem``."""
        text = f"{record}: {problem}" if record else str(problem)
        if len(text) > PROBLEM_CHARS:
            text = text[: PROBLEM_CHARS - 1] + "\u2026"
        self.problems.append(text)


def read_feed(
    fmt: str,
    data: bytes,
    mapping: FeedMapping,
    received: datetime,
    affiliations: Mapping[str, str] | None = None,
) -> Batch:
    """A whole feed file of format ``fmt`` (one of :data:`FORMATS`). ``received`` times
    AIS positions (AIS carries no date); ``affiliations`` maps CoT affiliation letters to
    parties. Never raises for the file's content."""
    if fmt not in FORMATS:
        raise InvalidInput("format", f"unknown format {fmt!r}", hint=", ".join(FORMATS))
    if fmt == "cot":
        return read_cot(data, affiliations or {})
    if fmt == "ais":
        return read_ais(data.decode("ascii", "replace").splitlines(), mapping, received)
    if fmt == "csv":
        return read_csv(data, mapping)
    batch = Batch()
    try:
        document = json.loads(data, parse_int=_json_int)
    except RecursionError:
        batch.refuse("", f"not a {fmt} file: JSON nested too deeply")
        return batch
    except ValueError as exc:  # UnicodeDecodeError too
        batch.refuse("", f"not a {fmt} file: {exc}")
        return batch
    reader = read_aircraft_json if fmt == "aircraft-json" else read_opensky
    return reader(document, mapping)


def _json_int(text: str) -> int | float:
    """A JSON integer; one too long for an int (Python refuses over 4,300 digits) becomes
    an infinite float, refused as a value later rather than failing the whole file."""
    return int(text) if len(text) <= 300 else float(text)


def _brief(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "\u2026"


def _number(value: object, name: str) -> float:
    """A finite JSON number (not a boolean). Raises InvalidInput."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(name, f"{_brief(value)} is not a number")
    try:
        number = float(value)
    except OverflowError:
        raise InvalidInput(name, f"{_brief(value)} is out of range") from None
    if not math.isfinite(number):
        raise InvalidInput(name, f"{_brief(value)} is not a finite number")
    return number


def _maybe_number(value: object) -> float | None:
    """A finite number, or None for anything else (unknown: readsb's "ground", null)."""
    try:
        return _number(value, "")
    except InvalidInput:
        return None


def _text(value: object) -> str | None:
    """A non-empty string, stripped, or None."""
    return value.strip() or None if isinstance(value, str) else None


def _epoch(seconds: float, name: str) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidInput(name, f"{seconds!r} seconds is not a time") from None


def read_aircraft_json(data: object, mapping: FeedMapping) -> Batch:
    """readsb / tar1090 ``aircraft.json``: altitudes in feet, speeds in knots."""
    batch = Batch()
    if not isinstance(data, dict):
        batch.refuse(
            "",
            f"not a readsb aircraft.json: {_json_kind(data)}, "
            "not an object with 'now' and 'aircraft'",
        )
        return batch
    now = data.get("now")
    if now is None:
        batch.refuse("", "aircraft.json has no 'now'")
        return batch
    try:
        now_s = _number(now, "now")
        _epoch(now_s, "now")
    except InvalidInput as exc:
        batch.refuse("aircraft.json", exc)
        return batch
    aircraft = data.get("aircraft", [])
    if not isinstance(aircraft, list):
        batch.refuse("", f"aircraft.json's 'aircraft' is {_json_kind(aircraft)}, not a list")
        return batch
    for n, item in enumerate(aircraft):
        if not isinstance(item, dict):
            batch.refuse(f"aircraft {n}", f"{_json_kind(item)}, not an object")
            continue
        if "lat" not in item or "lon" not in item:
            continue  # no position yet: nothing to track
        try:
            icao = _text(item.get("hex"))
            if icao is None:
                raise InvalidInput("hex", "no ICAO address")
            seen = _maybe_number(item.get("seen_pos", item.get("seen"))) or 0.0
            alt = _maybe_number(item.get("alt_geom", item.get("alt_baro")))
            speed = _maybe_number(item.get("gs"))
            course = _maybe_number(item.get("track"))
            callsign = _text(item.get("flight"))
            batch.tracks.append(
                make_track(
                    uid=f"icao:{icao.lower()}",
                    party=mapping.party(callsign, icao),
                    kind=ADSB_KINDS.get(str(item.get("category")), TrackKind.AIRCRAFT),
                    lat=_number(item["lat"], "lat"),
                    lon=_number(item["lon"], "lon"),
                    time=_epoch(now_s - seen, "seen_pos"),
                    alt=None if alt is None else alt * FOOT,
                    speed=None if speed is None else speed * KNOT,
                    course=course,
                    callsign=callsign,
                    source="adsb",
                )
            )
        except InvalidInput as exc:
            batch.refuse(f"aircraft {n}", exc)
    return batch


def read_opensky(data: object, mapping: FeedMapping) -> Batch:
    """OpenSky ``/states/all``: SI units already; positions may be missing."""
    batch = Batch()
    if not isinstance(data, dict) or "states" not in data:
        what = "no 'states'" if isinstance(data, dict) else f"{_json_kind(data)}, not an object"
        batch.refuse("", f"not an OpenSky /states/all answer: {what}")
        return batch
    states = data["states"] or []
    if not isinstance(states, list):
        batch.refuse("", f"OpenSky 'states' is {_json_kind(states)}, not a list")
        return batch
    for n, state in enumerate(states):
        try:
            if not isinstance(state, list) or len(state) < 14:
                raise InvalidInput("state", f"{_json_kind(state)}, not a list of 17 values")
            icao, callsign = _text(state[0]), state[1]
            if icao is None:
                raise InvalidInput("icao24", f"{_brief(state[0])} is not an ICAO address")
            if callsign is not None and not isinstance(callsign, str):
                raise InvalidInput("callsign", f"{_brief(callsign)} is not text")
            callsign = _text(callsign)
            lon, lat = state[5], state[6]
            if lon is None or lat is None:
                continue
            when = state[3] if state[3] is not None else state[4]
            alt = state[13] if state[13] is not None else state[7]
            batch.tracks.append(
                make_track(
                    uid=f"icao:{icao.lower()}",
                    party=mapping.party(callsign, icao),
                    kind=TrackKind.AIRCRAFT,
                    lat=_number(lat, "lat"),
                    lon=_number(lon, "lon"),
                    time=_epoch(_number(when, "time_position"), "time_position"),
                    alt=_maybe_number(alt),
                    speed=_maybe_number(state[9]),
                    course=_maybe_number(state[10]),
                    callsign=callsign,
                    source="opensky",
                )
            )
        except InvalidInput as exc:
            batch.refuse(f"state {n}", exc)
    return batch


def _json_kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


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
            if not 1 <= number <= total <= 9:
                raise ValueError(f"part {number} of {total}")
        except (IndexError, ValueError):
            batch.refuse(f"line {n + 1}", "not an AIS sentence")
            continue
        if number == 1 and pending:  # a new message began: the last one never finished
            batch.refuse(f"line {n}", "an incomplete multi-part message")
            pending = []
        pending.append(text.encode("ascii", "replace"))
        if number < total:
            continue
        sentences, pending = pending, []
        try:
            message: dict[str, Any] = decode(*sentences, error_if_checksum_invalid=True).asdict()
        except (AISBaseException, ValueError, TypeError, IndexError, KeyError) as exc:
            batch.refuse(f"line {n + 1}", exc)
            continue
        if message.get("msg_type") not in (1, 2, 3, 18, 19):
            continue
        try:
            mmsi = str(message["mmsi"]).zfill(9)
            lat, lon = message.get("lat"), message.get("lon")
            if lat is None or lon is None or lat == 91 or lon == 181:
                continue
            speed = _maybe_number(message.get("speed"))
            course = _maybe_number(message.get("course"))
            batch.tracks.append(
                make_track(
                    uid=f"mmsi:{mmsi}",
                    party=mapping.party(mmsi),
                    kind=TrackKind.SHIP,
                    lat=_number(lat, "lat"),
                    lon=_number(lon, "lon"),
                    time=received,
                    speed=speed * KNOT if speed is not None and speed < 102.3 else None,
                    course=course if course is not None and course < 360 else None,
                    source="ais",
                )
            )
        except (KeyError, InvalidInput) as exc:
            batch.refuse(f"line {n + 1}", exc)
    if pending:
        batch.refuse("", "the last multi-part message is incomplete")
    return batch


CSV_COLUMNS = ("uid", "party", "kind", "lat", "lon", "time")


def read_csv(data: str | bytes, mapping: FeedMapping) -> Batch:
    """CSV with a header: uid, party, kind, lat, lon, time (UTC) and optionally alt_m,
    speed_mps, course_deg, callsign. An empty party falls back to the feed mapping.
    Bytes are read as UTF-8; a record holding other bytes is refused, the rest kept."""
    batch = Batch()
    text = data.decode("utf-8", "surrogateescape") if isinstance(data, bytes) else data
    reader = csv.DictReader(io.StringIO(text, newline=""), restval="")
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        batch.refuse("the CSV header", _csv_problem(exc))
        return batch
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        batch.refuse("", "the CSV header lacks " + ", ".join(missing))
        return batch
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            batch.refuse(f"line {reader.reader.line_num}", _csv_problem(exc))
            continue
        try:
            batch.tracks.append(_csv_track(row, mapping))
        except InvalidInput as exc:
            batch.refuse(f"line {reader.line_num}", exc)
    return batch


def _csv_problem(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return f"a field longer than {size_text(csv.field_size_limit())} characters"
    return f"not CSV: {exc}"


def _csv_track(row: Mapping[str | None, object], mapping: FeedMapping) -> Track:
    values: dict[str, str] = {}
    for key, value in row.items():
        if key is None:
            continue  # more fields than the header names
        if not isinstance(value, str):
            value = ""
        if any("\udc80" <= c <= "\udcff" for c in value):
            raise InvalidInput(key, "holds bytes that are not UTF-8 text")
        values[key] = value
    kind_text = values["kind"].strip().lower() or "unknown"
    try:
        kind = TrackKind(kind_text)
    except ValueError:
        kinds = ", ".join(k.value for k in TrackKind)
        raise InvalidInput(
            "kind", f"{_brief(kind_text)} is not a valid TrackKind ({kinds})"
        ) from None
    return make_track(
        uid=values["uid"],
        party=values["party"].strip().upper() or mapping.party(values.get("callsign")),
        kind=kind,
        lat=_csv_number(values["lat"], "lat"),
        lon=_csv_number(values["lon"], "lon"),
        time=parse_time(values["time"], field="time"),
        alt=_csv_optional(values.get("alt_m"), "alt_m"),
        speed=_csv_optional(values.get("speed_mps"), "speed_mps"),
        course=_csv_optional(values.get("course_deg"), "course_deg"),
        callsign=values.get("callsign"),
        source="csv",
    )


def _csv_number(text: str, name: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise InvalidInput(name, f"{_brief(text)} is not a number") from None
    if not math.isfinite(number):
        raise InvalidInput(name, f"{_brief(text)} is not a finite number")
    return number


def _csv_optional(text: str | None, name: str) -> float | None:
    return _csv_number(text, name) if text not in (None, "") else None


def read_cot(data: bytes, parties: Mapping[str, str]) -> Batch:
    """A file of CoT events (``parties``: affiliation letter -> party); bytes between
    events are skipped."""
    batch = Batch()
    splitter = Splitter()
    for n, event in enumerate(splitter.feed(data), start=1):
        try:
            batch.tracks.append(parse_event(event, parties))
        except InvalidInput as exc:
            batch.refuse(f"event {n}", exc)
    if splitter.oversized:
        batch.refuse(
            "", f"{splitter.oversized} events larger than {size_text(splitter.limit)} skipped"
        )
    if splitter.pending:
        batch.refuse("", "the last event is cut off")
    return batch
