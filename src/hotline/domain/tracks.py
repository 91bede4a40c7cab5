"""Tracks: where a thing of some party is, how it moves, and what it is.

Every feed (Cursor on Target, ADS-B, AIS, CSV) is normalised to :class:`Track`: WGS84
position in degrees, altitude in metres above the ellipsoid (None when unknown), speed in
m/s, course in degrees true, a party affiliation and a kind.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from hotline.domain.errors import InvalidInput

KNOT = 0.514444  # m/s
FOOT = 0.3048  # m
NM = 1852.0  # m

_UID = re.compile(r"^[\w.:@/~-]{1,128}$")


class TrackKind(StrEnum):
    AIRCRAFT = "aircraft"
    MISSILE = "missile"
    SHIP = "ship"
    GROUND = "ground"
    UAV = "uav"
    HELICOPTER = "helicopter"  # rotary-wing
    BALLOON = "balloon"  # lighter than air
    UNKNOWN = "unknown"


#: Severity order for alerts: missiles first.
KIND_SEVERITY = {
    TrackKind.MISSILE: 0,
    TrackKind.UAV: 1,
    TrackKind.AIRCRAFT: 2,
    TrackKind.HELICOPTER: 2,
    TrackKind.BALLOON: 3,
    TrackKind.SHIP: 3,
    TrackKind.GROUND: 3,
    TrackKind.UNKNOWN: 4,
}


@dataclass(frozen=True)
class Track:
    """One position report of one thing, normalised."""

    uid: str
    party: str | None  # None: not attributed (neutral, unknown)
    kind: TrackKind
    lat: float
    lon: float
    time: datetime
    alt: float | None = None  # metres above WGS84 ellipsoid
    speed: float | None = None  # m/s over ground
    course: float | None = None  # degrees true
    callsign: str | None = None
    source: str = ""

    @property
    def velocity(self) -> tuple[float, float]:
        """East and north components in m/s (0 when speed or course is unknown)."""
        if self.speed is None or self.course is None:
            return 0.0, 0.0
        angle = math.radians(self.course)
        return self.speed * math.sin(angle), self.speed * math.cos(angle)

    def with_party(self, party: str | None) -> Track:
        return replace(self, party=party)


def make_track(
    *,
    uid: str,
    party: str | None,
    kind: TrackKind,
    lat: float,
    lon: float,
    time: datetime,
    alt: float | None = None,
    speed: float | None = None,
    course: float | None = None,
    callsign: str | None = None,
    source: str = "",
) -> Track:
    """Check and build a track. Raises InvalidInput for a value out of range."""
    uid = uid.strip()
    if not _UID.match(uid):
        raise InvalidInput("uid", f"{uid!r} is not a track id")
    for name, value, low, high in (("lat", lat, -90, 90), ("lon", lon, -180, 180)):
        if (
            not isinstance(value, int | float)
            or not math.isfinite(value)
            or not low <= value <= high
        ):
            raise InvalidInput(name, f"{value!r} is outside {low}..{high}")
    if time.tzinfo is None:
        raise InvalidInput("time", "a track time needs a zone (UTC)")
    if speed is not None and (not math.isfinite(speed) or speed < 0 or speed > 20_000):
        raise InvalidInput("speed", f"{speed!r} m/s is not a speed")
    if course is not None:
        if not math.isfinite(course):
            raise InvalidInput("course", f"{course!r} is not a course")
        course = course % 360.0
    if alt is not None and (not math.isfinite(alt) or not -1000 <= alt <= 1_000_000):
        alt = None  # unknown rather than wrong
    return Track(
        uid=uid,
        party=party,
        kind=kind,
        lat=float(lat),
        lon=float(lon),
        time=time,
        alt=alt,
        speed=speed,
        course=course,
        callsign=(callsign or "").strip() or None,
        source=source,
    )
