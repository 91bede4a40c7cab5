"""Geometry of the theatre: parties' territories, corridors along their borders, and the
rules that test tracks against them and against each other.

Positions are projected once (ETRS89 Lambda azimuthal equal-area, EPSG:3035) so that the
tests run vectorised in shapely 2 and numpy; a distance that decides an alert is then
measured on the WGS84 ellipsoid (pyproj.Geod) between the track and the nearest point of
the border. Nothing here reads a file or a clock: the borders and the time are given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Geod, Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from hotline.domain.finding import NO_DETAIL, Finding
from hotline.domain.tracks import NM, Track, TrackKind

Array = NDArray[np.float64]
GEOD = Geod(ellps="WGS84")
PROJECTED = "EPSG:3035"

DEFAULT_CORRIDORS_M = (30_000.0, 50_000.0, 100_000.0)
DEFAULT_MARGIN_M = 2_000.0
DENSIFY_DEG = 0.05  # longest edge projected as a straight line
DEFAULT_CPA_M = 5 * NM
DEFAULT_TCPA_S = 180.0
VERTICAL_M = 1000 * 0.3048  # 1,000 ft (RVSM)
DEFAULT_STALE = {
    TrackKind.AIRCRAFT: timedelta(minutes=2),
    TrackKind.MISSILE: timedelta(seconds=30),
    TrackKind.UAV: timedelta(minutes=2),
    TrackKind.SHIP: timedelta(minutes=15),
    TrackKind.GROUND: timedelta(minutes=15),
    TrackKind.UNKNOWN: timedelta(minutes=5),
}


class Theatre:
    """Parties' territories, projected and prepared, with their corridors."""

    def __init__(
        self,
        territories: Mapping[str, BaseGeometry],
        corridors: Sequence[float] = DEFAULT_CORRIDORS_M,
        margin: float = DEFAULT_MARGIN_M,
    ) -> None:
        """``territories``: party -> land, in longitude/latitude (WGS84). ``margin``: how
        far beyond a corridor a track must go before it counts as out of it (hysteresis)."""
        self.to_xy = Transformer.from_crs("EPSG:4326", PROJECTED, always_xy=True)
        self.to_ll = Transformer.from_crs(PROJECTED, "EPSG:4326", always_xy=True)
        self.corridors = tuple(sorted(corridors))
        self.margin = margin
        self.parties = tuple(sorted(territories))
        self.land: dict[str, BaseGeometry] = {}
        self.edge: dict[str, BaseGeometry] = {}
        self.bands: dict[str, list[tuple[BaseGeometry, BaseGeometry]]] = {}
        self.near: dict[str, BaseGeometry] = {}
        for party, geometry in territories.items():
            projected = shapely.transform(
                shapely.segmentize(geometry, DENSIFY_DEG), self._project_coords
            )  # long edges follow the meridians and parallels, not chords in the projection
            shapely.prepare(projected)
            self.land[party] = projected
            self.edge[party] = projected.boundary
            bands: list[tuple[BaseGeometry, BaseGeometry]] = []
            for corridor in self.corridors:
                entry = projected.buffer(corridor, quad_segs=8)
                leave = projected.buffer(corridor + margin, quad_segs=8)
                shapely.prepare(entry)
                shapely.prepare(leave)
                bands.append((entry, leave))
            self.bands[party] = bands
            self.near[party] = bands[-1][1]

    def _project_coords(self, coords: Array) -> Array:
        x, y = self.to_xy.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    def project(self, lon: Array, lat: Array) -> tuple[Array, Array]:
        x, y = self.to_xy.transform(lon, lat)
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def project_area(self, area: Mapping[str, Any]) -> BaseGeometry:
        """A message area (polygon, or a circle with a radius in km or NM), projected."""
        if "center" in area:
            x, y = self.project(np.array([area["center"][0]]), np.array([area["center"][1]]))
            metres = float(area["radius"]) * (NM if area.get("unit") == "NM" else 1000.0)
            return shapely.Point(x[0], y[0]).buffer(metres, quad_segs=16)
        return shapely.transform(
            shapely.segmentize(shape(dict(area)), DENSIFY_DEG), self._project_coords
        )

    def distance_to_border(self, party: str, lon: Array, lat: Array, x: Array, y: Array) -> Array:
        """Geodesic distance (m) from each position to ``party``'s border: to the nearest
        point of its boundary found in the projection, measured on the ellipsoid."""
        points = shapely.points(x, y)
        lines = shapely.shortest_line(points, self.edge[party])
        coords = shapely.get_coordinates(lines).reshape(-1, 2, 2)
        blon, blat = self.to_ll.transform(coords[:, 1, 0], coords[:, 1, 1])
        _, _, dist = GEOD.inv(lon, lat, blon, blat)
        return np.asarray(dist, dtype=float)


def territories_from(
    countries: Iterable[Mapping[str, Any]], members: Mapping[str, Iterable[str]]
) -> dict[str, BaseGeometry]:
    """Party -> union of its countries' outlines. ``countries`` are entries of the border
    file (``a2``, ``a3``, ``geometry``); ``members`` maps a party to country codes."""
    outlines = {}
    for c in countries:
        geometry = shape(c["geometry"])
        outlines[str(c["a2"]).upper()] = geometry
        outlines[str(c["a3"]).upper()] = geometry
    found = {}
    for party, codes in members.items():
        parts = [outlines[code.upper()] for code in codes if code.upper() in outlines]
        if parts:
            found[party] = shapely.union_all(parts)
    return found


@dataclass
class Picture:
    """Live tracks as arrays, for the vectorised rules."""

    tracks: list[Track]
    lon: Array
    lat: Array
    x: Array
    y: Array

    @classmethod
    def of(cls, theatre: Theatre, tracks: Sequence[Track]) -> Picture:
        lon = np.fromiter((t.lon for t in tracks), float, len(tracks))
        lat = np.fromiter((t.lat for t in tracks), float, len(tracks))
        x, y = theatre.project(lon, lat)
        return cls(list(tracks), lon, lat, x, y)


def border_rules(theatre: Theatre, picture: Picture, *, measure: bool = True) -> list[Finding]:
    """Incursion into, and proximity to, each other party's territory, by corridor.

    Each finding names the tightest corridor the track is in (``band``) and, in
    ``holds``, the tightest one it has not left by more than the margin, for
    hysteresis. With ``measure``, ``value`` is the distance to the border on the
    ellipsoid; without, it is the corridor's width (cheaper, for screening).
    """
    found: list[Finding] = []
    if not picture.tracks:
        return found
    parties = np.array([t.party or "" for t in picture.tracks], dtype=object)
    for other in theatre.parties:
        candidates = np.nonzero(
            (parties != other)
            & (parties != "")
            & shapely.contains_xy(theatre.near[other], picture.x, picture.y)
        )[0]
        if candidates.size == 0:
            continue
        cx, cy = picture.x[candidates], picture.y[candidates]
        inside = shapely.contains_xy(theatre.land[other], cx, cy)
        entry = np.full(candidates.size, np.nan)
        holds = np.full(candidates.size, np.nan)
        for corridor, (enter, leave) in reversed(
            list(zip(theatre.corridors, theatre.bands[other], strict=True))
        ):
            in_leave = shapely.contains_xy(leave, cx, cy)
            holds[in_leave] = corridor
            entry[in_leave & shapely.contains_xy(enter, cx, cy)] = corridor
        dist = (
            theatre.distance_to_border(
                other, picture.lon[candidates], picture.lat[candidates], cx, cy
            )
            if measure
            else np.where(np.isnan(entry), holds, entry)
        )
        tracks = picture.tracks
        for index, within, band, held, metres in zip(
            candidates.tolist(),
            inside.tolist(),
            entry.tolist(),
            holds.tolist(),
            dist.tolist(),
            strict=True,
        ):
            t = tracks[index]
            if within:
                depth = {"depth_m": metres} if measure else NO_DETAIL
                found.append(
                    Finding(
                        "incursion", t.uid, t.party, other, 0.0, 0.0, t.kind, t.lat, t.lon, depth
                    )
                )
                continue
            found.append(  # built directly: this is the hot loop of the border rules
                Finding(
                    "proximity",
                    t.uid,
                    t.party,
                    other,
                    metres,
                    None if band != band else band,  # NaN: in no corridor
                    t.kind,
                    t.lat,
                    t.lon,
                    NO_DETAIL,
                    None if held != held else held,
                )
            )
    return found


def _finding(
    rule: str, track: Track, other: str | None, value: float, band: float | None, **detail: Any
) -> Finding:
    return Finding(
        rule, track.uid, track.party, other, value, band, track.kind, track.lat, track.lon, detail
    )


def _swept_candidates(
    picture: Picture, vel: Array, dcpa_m: float, tcpa_s: float
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Pairs of tracks of different parties whose paths over the next ``tcpa_s`` seconds
    come within ``dcpa_m`` of each other: every pair that can pass that close, and few
    others. One tree of swept segments per party; each pair is returned once."""
    codes: dict[str, int] = {}
    party = np.array(
        [codes.setdefault(t.party, len(codes)) if t.party else -1 for t in picture.tracks]
    )
    start = np.column_stack([picture.x, picture.y])
    end = start + vel * tcpa_s
    end[:, 0] += 0.001  # a track standing still sweeps a (tiny) segment, not nothing
    paths = np.asarray(shapely.linestrings(np.stack([start, end], axis=1)))
    lefts, rights = [], []
    for code in range(len(codes)):
        mine = np.nonzero(party == code)[0]
        theirs = np.nonzero(party > code)[0]  # each pair of parties once
        if mine.size == 0 or theirs.size == 0:
            continue
        tree = shapely.STRtree(paths[mine])
        # bounding boxes only (cheap); the exact test is the CPA itself, on arrays
        lo = np.minimum(start[theirs], end[theirs]) - dcpa_m
        hi = np.maximum(start[theirs], end[theirs]) + dcpa_m
        boxes = shapely.box(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1])
        query, found = tree.query(boxes)
        lefts.append(mine[found])
        rights.append(theirs[query])
    if not lefts:
        empty = np.array([], dtype=np.intp)
        return empty, empty
    return np.concatenate(lefts), np.concatenate(rights)


def cpa_pairs(
    picture: Picture,
    *,
    dcpa_m: float = DEFAULT_CPA_M,
    tcpa_s: float = DEFAULT_TCPA_S,
    vertical_m: float = VERTICAL_M,
) -> list[Finding]:
    """Pairs of tracks of different parties that will pass within ``dcpa_m`` in the next
    ``tcpa_s`` seconds (aircraft: and within ``vertical_m`` of each other's altitude)."""
    n = len(picture.tracks)
    if n < 2:
        return []
    vel = np.array([t.velocity for t in picture.tracks], dtype=float).reshape(n, 2)
    left, right = _swept_candidates(picture, vel, dcpa_m, tcpa_s)
    if left.size == 0:
        return []
    rx, ry = picture.x[right] - picture.x[left], picture.y[right] - picture.y[left]
    vx, vy = vel[right, 0] - vel[left, 0], vel[right, 1] - vel[left, 1]
    v2 = vx * vx + vy * vy
    with np.errstate(divide="ignore", invalid="ignore"):
        tcpa = np.where(v2 > 0, -(rx * vx + ry * vy) / v2, 0.0)
    tcpa = np.clip(tcpa, 0.0, None)
    dcpa = np.hypot(rx + vx * tcpa, ry + vy * tcpa)
    hit = np.nonzero((dcpa < dcpa_m) & (tcpa <= tcpa_s))[0]
    found = []
    for k in hit:
        a, b = picture.tracks[int(left[k])], picture.tracks[int(right[k])]
        airborne = TrackKind.AIRCRAFT, TrackKind.UAV
        if (
            a.kind in airborne
            and b.kind in airborne
            and a.alt is not None
            and b.alt is not None
            and abs(a.alt - b.alt) >= vertical_m
        ):
            continue
        first, second = (a, b) if (a.party or "") <= (b.party or "") else (b, a)
        found.append(
            _finding(
                "cpa",
                first,
                second.party,
                float(dcpa[k]),
                dcpa_m,
                with_uid=second.uid,
                kinds=sorted({a.kind.value, b.kind.value}),
                tcpa_s=float(tcpa[k]),
                now_m=float(np.hypot(rx[k], ry[k])),
            )
        )
    return found


@dataclass(frozen=True)
class Announced:
    """A live notification of intent of ``party``: its area (projected) and window."""

    party: str
    area: BaseGeometry
    start: datetime
    end: datetime
    ref: str


def unannounced(
    theatre: Theatre, picture: Picture, notices: Sequence[Announced], now: datetime
) -> list[Finding]:
    """Tracks of a party near another party's territory, in no area that a live
    notification of their own party announced for now."""
    found: list[Finding] = []
    live = [n for n in notices if n.start <= now <= n.end]
    for index, track in enumerate(picture.tracks):
        if track.party is None or track.kind is TrackKind.UNKNOWN:
            continue
        x, y = picture.x[index], picture.y[index]
        near = [
            other
            for other in theatre.parties
            if other != track.party and shapely.contains_xy(theatre.near[other], x, y)
        ]
        if not near:
            continue
        covered = any(n.party == track.party and shapely.contains_xy(n.area, x, y) for n in live)
        if not covered:
            found.append(_finding("unannounced", track, near[0], 0.0, None, near=near))
    return found


@dataclass(frozen=True)
class Zone:
    """An airspace or caution area from the operator's GeoJSON, projected and prepared.
    ``owner``: the party whose zone it is (its own tracks do not alert), or None."""

    name: str
    kind: str
    owner: str | None
    area: BaseGeometry


def zones_from(theatre: Theatre, collection: Mapping[str, Any]) -> list[Zone]:
    """Zones from a GeoJSON FeatureCollection of polygons with properties ``name``,
    ``kind`` (airspace, caution...) and ``party``. Raises ValueError on a bad feature."""
    zones = []
    for n, feature in enumerate(collection.get("features") or []):
        props = feature.get("properties") or {}
        geometry = shapely.transform(shape(feature["geometry"]), theatre._project_coords)
        if geometry.geom_type not in ("Polygon", "MultiPolygon"):
            raise ValueError(f"feature {n}: a zone is a Polygon or MultiPolygon")
        shapely.prepare(geometry)
        zones.append(
            Zone(
                str(props.get("name") or f"zone {n + 1}"),
                str(props.get("kind") or "caution"),
                props.get("party"),
                geometry,
            )
        )
    return zones


def zone_rules(picture: Picture, zones: Sequence[Zone]) -> list[Finding]:
    """Tracks inside an airspace or caution area that is not their own party's."""
    found: list[Finding] = []
    for zone in zones:
        inside = np.nonzero(shapely.contains_xy(zone.area, picture.x, picture.y))[0]
        for index in inside:
            track = picture.tracks[int(index)]
            if track.party is not None and track.party != zone.owner:
                found.append(
                    _finding(
                        "zone", track, zone.owner, 0.0, None, zone=zone.name, zone_kind=zone.kind
                    )
                )
    return found


def stale(
    tracks: Iterable[Track], now: datetime, limits: Mapping[TrackKind, timedelta] = DEFAULT_STALE
) -> list[Finding]:
    """Tracks not heard from for longer than their kind allows."""
    found = []
    for t in tracks:
        age = (now - t.time).total_seconds()
        limit = limits.get(t.kind, DEFAULT_STALE[TrackKind.UNKNOWN]).total_seconds()
        if age > limit:
            found.append(_finding("stale", t, None, age, limit))
    return found
