"""An incident: what happened in an area over a window of time, as the record and the
picture hold it — the tracks' positions, the alerts raised, the notifications of intent in
force, the messages and acknowledgements on the lines — and its export for other tools:
GeoJSON (RFC 7946), KML 2.2 (Google Earth, GIS) and a stream of Cursor on Target events
(TAK). Pure: data in, documents out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from hotline.domain.clock import format_time
from hotline.domain.errors import InvalidInput
from hotline.domain.geo import GEOD
from hotline.domain.tracks import NM, Track, TrackKind

#: The longest window an incident spans: a replay or an export is of an incident, not of
#: the archive.
MAX_WINDOW = timedelta(days=2)
KML_NS = "http://www.opengis.net/kml/2.2"
#: CoT types by kind (the affiliation goes in the second field).
COT_KIND = {
    TrackKind.AIRCRAFT: "A",
    TrackKind.MISSILE: "A-W-M",
    TrackKind.UAV: "A-M-F-Q",
    TrackKind.HELICOPTER: "A-M-H",
    TrackKind.BALLOON: "A-M-L",
    TrackKind.SHIP: "S",
    TrackKind.GROUND: "G",
    TrackKind.UNKNOWN: "X",
}
#: How long a TAK client shows a position after its time.
COT_STALE = timedelta(minutes=2)


@dataclass(frozen=True)
class Window:
    """An area (west, south, east, north in degrees; west > east crosses the antimeridian)
    over ``[since, until]``."""

    since: datetime
    until: datetime
    bbox: tuple[float, float, float, float] | None = None

    @classmethod
    def of(
        cls, since: datetime, until: datetime, bbox: tuple[float, float, float, float] | None
    ) -> Window:
        """Raises InvalidInput for an empty or overlong window."""
        if until <= since:
            raise InvalidInput(
                "until", "the window ends before it starts", hint="give until after since"
            )
        if until - since > MAX_WINDOW:
            raise InvalidInput(
                "until",
                f"the window spans {until - since}, more than {MAX_WINDOW}",
                hint="choose the incident's hours; track history is read in pieces",
            )
        return cls(since, until, bbox)

    def holds(self, lon: float, lat: float) -> bool:
        if self.bbox is None:
            return True
        west, south, east, north = self.bbox
        if not south <= lat <= north:
            return False
        return west <= lon <= east if west <= east else (lon >= west or lon <= east)

    def during(self, start: datetime, end: datetime | None = None) -> bool:
        """Whether ``[start, end]`` (an instant without ``end``) meets the window."""
        return start <= self.until and (end if end is not None else start) >= self.since

    def meets(self, ring: Sequence[Sequence[float]]) -> bool:
        """Whether a ring's bounds meet the area (a notice's area; a box test)."""
        if self.bbox is None or not ring:
            return True
        lons = [float(p[0]) for p in ring]
        lats = [float(p[1]) for p in ring]
        west, south, east, north = self.bbox
        if max(lats) < south or min(lats) > north:
            return False
        if west > east:  # across 180°: either side of it
            return max(lons) >= west or min(lons) <= east
        return max(lons) >= west and min(lons) <= east


@dataclass(frozen=True)
class Incident:
    """What the window holds. ``alerts``, ``notices`` and ``events`` are the API's JSON
    of each (``events``: messages and acknowledgements, each with ``time``)."""

    window: Window
    party: str
    positions: Sequence[Track] = ()
    alerts: Sequence[Mapping[str, Any]] = ()
    notices: Sequence[Mapping[str, Any]] = ()
    events: Sequence[Mapping[str, Any]] = ()
    truncated: bool = False
    exported_at: datetime | None = field(default=None, compare=False)


def by_track(positions: Iterable[Track]) -> dict[str, list[Track]]:
    tracks: dict[str, list[Track]] = {}
    for t in positions:
        tracks.setdefault(t.uid, []).append(t)
    for list_ in tracks.values():
        list_.sort(key=lambda t: t.time)
    return tracks


def outline(area: Mapping[str, Any], points: int = 72) -> list[list[float]]:
    """A notice's area as a closed ring of [lon, lat]: a polygon's outer ring, or a
    circle's geodesic outline."""
    if "center" in area:
        lon, lat = float(area["center"][0]), float(area["center"][1])
        radius = float(area["radius"]) * (NM if area.get("unit") == "NM" else 1000.0)
        azimuths = [360.0 * n / points for n in range(points)]
        lons, lats, _ = GEOD.fwd([lon] * points, [lat] * points, azimuths, [radius] * points)
        ring = [[round(float(x), 6), round(float(y), 6)] for x, y in zip(lons, lats, strict=True)]
        return [*ring, ring[0]]
    if area.get("type") == "Polygon":
        return [[float(c[0]), float(c[1])] for c in area["coordinates"][0]]
    if area.get("type") == "MultiPolygon":
        return [[float(c[0]), float(c[1])] for c in area["coordinates"][0][0]]
    return []


def _window(notice: Mapping[str, Any]) -> tuple[str, str]:
    window = notice.get("window") or {}
    return str(window.get("start", "")), str(window.get("end", ""))


def window_json(window: Window) -> dict[str, Any]:
    """The window as the API and the exports write it."""
    return {
        "since": format_time(window.since),
        "until": format_time(window.until),
        "bbox": list(window.bbox) if window.bbox else None,
    }


def to_geojson(incident: Incident) -> dict[str, Any]:
    """A FeatureCollection: each track as a LineString with its times (``times``, one per
    vertex) and last state, each alert as a Point, each notice's area as a Polygon, and the
    messages and acknowledgements (no place of their own) under ``events``."""
    features: list[dict[str, Any]] = []
    for uid, points in by_track(incident.positions).items():
        last = points[-1]
        coords = [
            [t.lon, t.lat] if t.alt is None else [t.lon, t.lat, round(t.alt, 1)] for t in points
        ]
        geometry: dict[str, Any] = (
            {"type": "LineString", "coordinates": coords}
            if len(coords) > 1
            else {"type": "Point", "coordinates": coords[0]}
        )
        features.append(
            {
                "type": "Feature",
                "id": f"track:{uid}",
                "geometry": geometry,
                "properties": {
                    "feature": "track",
                    "uid": uid,
                    "party": last.party,
                    "kind": last.kind.value,
                    "callsign": last.callsign,
                    "source": last.source,
                    "start": format_time(points[0].time),
                    "end": format_time(last.time),
                    "times": [format_time(t.time) for t in points],
                },
            }
        )
    for alert in incident.alerts:
        features.append(
            {
                "type": "Feature",
                "id": f"alert:{alert.get('id')}",
                "geometry": {"type": "Point", "coordinates": [alert["lon"], alert["lat"]]},
                "properties": {"feature": "alert", **_without(alert, "lon", "lat")},
            }
        )
    for notice in incident.notices:
        ring = outline(notice.get("area") or {})
        if ring:
            features.append(
                {
                    "type": "Feature",
                    "id": f"notice:{notice['id']}",
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                    "properties": {"feature": "notice", **_without(notice, "area")},
                }
            )
    return {
        "type": "FeatureCollection",
        "features": features,
        "window": window_json(incident.window),
        "party": incident.party,
        "events": list(incident.events),
        "truncated": incident.truncated,
    }


def _without(item: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in names}


def to_kml(incident: Incident) -> bytes:
    """A KML 2.2 document: a folder of tracks (``gx``-free: each a LineString with a
    TimeSpan, so any KML reader shows it), of alerts (Points with a TimeStamp) and of
    notices (Polygons with their windows); the messages as a folder of Placemarks without
    geometry, in time order."""
    kml = Element("kml", xmlns=KML_NS)
    doc = SubElement(kml, "Document")
    w = incident.window
    SubElement(
        doc, "name"
    ).text = f"hotline incident {format_time(w.since)} – {format_time(w.until)}"
    SubElement(doc, "description").text = f"Exported by {incident.party}"
    for ident, colour in (("own", "ff0000ff"), ("other", "ff00a5ff"), ("notice", "ff00d7ff")):
        style = SubElement(doc, "Style", id=ident)
        line = SubElement(SubElement(style, "LineStyle"), "color")
        line.text = colour
        SubElement(SubElement(style, "PolyStyle"), "color").text = "33" + colour[2:]

    tracks = SubElement(doc, "Folder")
    SubElement(tracks, "name").text = "Tracks"
    for uid, points in by_track(incident.positions).items():
        last = points[-1]
        mark = SubElement(tracks, "Placemark", id=f"track-{_safe(uid)}")
        SubElement(mark, "name").text = last.callsign or uid
        SubElement(
            mark, "description"
        ).text = f"{last.kind.value} of {last.party or 'no party'} ({uid}, {last.source})"
        SubElement(mark, "styleUrl").text = "#own" if last.party == incident.party else "#other"
        span = SubElement(mark, "TimeSpan")
        SubElement(span, "begin").text = format_time(points[0].time)
        SubElement(span, "end").text = format_time(last.time)
        geometry = SubElement(mark, "LineString" if len(points) > 1 else "Point")
        if any(t.alt is not None for t in points):
            SubElement(geometry, "altitudeMode").text = "absolute"
        SubElement(geometry, "coordinates").text = " ".join(
            f"{t.lon:.6f},{t.lat:.6f},{t.alt or 0:.0f}" for t in points
        )

    alerts = SubElement(doc, "Folder")
    SubElement(alerts, "name").text = "Alerts"
    for alert in incident.alerts:
        mark = SubElement(alerts, "Placemark", id=f"alert-{alert.get('id')}")
        SubElement(mark, "name").text = f"{alert.get('severity', '')} {alert.get('rule', '')}"
        SubElement(mark, "description").text = str(alert.get("summary", ""))
        SubElement(SubElement(mark, "TimeStamp"), "when").text = str(alert.get("opened_at"))
        point = SubElement(mark, "Point")
        SubElement(point, "coordinates").text = f"{alert['lon']:.6f},{alert['lat']:.6f}"

    notices = SubElement(doc, "Folder")
    SubElement(notices, "name").text = "Notifications of intent"
    for notice in incident.notices:
        ring = outline(notice.get("area") or {})
        if not ring:
            continue
        mark = SubElement(notices, "Placemark", id=f"notice-{_safe(str(notice['id']))[:24]}")
        SubElement(mark, "name").text = f"{notice.get('activity')} ({notice.get('from')})"
        SubElement(mark, "description").text = str(notice.get("units") or "")
        SubElement(mark, "styleUrl").text = "#notice"
        start, end = _window(notice)
        span = SubElement(mark, "TimeSpan")
        SubElement(span, "begin").text = start
        SubElement(span, "end").text = end
        polygon = SubElement(mark, "Polygon")
        boundary = SubElement(SubElement(polygon, "outerBoundaryIs"), "LinearRing")
        SubElement(boundary, "coordinates").text = " ".join(f"{x:.6f},{y:.6f}" for x, y in ring)

    messages = SubElement(doc, "Folder")
    SubElement(messages, "name").text = "Messages and acknowledgements"
    for event in incident.events:
        mark = SubElement(messages, "Placemark", id=f"event-{str(event['id'])[:16]}")
        SubElement(mark, "name").text = _event_title(event)
        SubElement(mark, "description").text = str(event.get("subject") or "")
        SubElement(SubElement(mark, "TimeStamp"), "when").text = str(event["time"])
    body: bytes = tostring(kml, encoding="utf-8")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"


def _event_title(event: Mapping[str, Any]) -> str:
    if event.get("kind") == "ack":
        return f"acknowledged by {event.get('from')}"
    return f"{event.get('precedence', '')} from {event.get('from')}".strip()


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def cot_type(track: Track, own: str) -> str:
    """``a-f-…`` for the exporting party's own tracks, ``a-h-…`` for another party's
    (the affiliations a feed maps back to parties by default), ``a-u-…`` unattributed."""
    affiliation = "u" if track.party is None else ("f" if track.party == own else "h")
    return f"a-{affiliation}-{COT_KIND[track.kind]}"


def to_cot(incident: Incident) -> bytes:
    """The positions as Cursor on Target events in time order, one per line (the stream a
    TAK server or client takes over TCP): each ``<event>`` with its point (height above
    the ellipsoid, 9999999 when unknown), course, speed and callsign."""
    lines = []
    for t in sorted(incident.positions, key=lambda t: (t.time, t.uid)):
        event = Element(
            "event",
            version="2.0",
            uid=t.uid,
            type=cot_type(t, incident.party),
            how="m-g",
            time=format_time(t.time),
            start=format_time(t.time),
            stale=format_time(t.time + COT_STALE),
        )
        SubElement(
            event,
            "point",
            lat=f"{t.lat:.6f}",
            lon=f"{t.lon:.6f}",
            hae=f"{t.alt:.1f}" if t.alt is not None else "9999999.0",
            ce="9999999.0",
            le="9999999.0",
        )
        detail = SubElement(event, "detail")
        if t.course is not None or t.speed is not None:
            SubElement(
                detail,
                "track",
                course=f"{t.course or 0:.1f}",
                speed=f"{t.speed or 0:.1f}",
            )
        if t.callsign:
            SubElement(detail, "contact", callsign=t.callsign)
        lines.append(tostring(event, encoding="unicode"))
    return ("\n".join(lines) + "\n").encode() if lines else b""
