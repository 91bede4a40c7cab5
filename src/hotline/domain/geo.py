"""Geometry of the theatre: parties' territories, corridors along their borders, and the
rules that test tracks against them, anywhere on Earth (closest points of approach
between tracks are in :mod:`hotline.domain.cpa`).

No single projection serves the world, so the corridors are built per region: the globe
is cut into cells of ``CELL_DEG`` degrees (one cap per pole beyond ``POLAR_DEG``), each
with its own Lambert azimuthal equal-area projection centred on it, where a buffer of a
territory clipped to the cell plus a margin is drawn to within a fraction of a percent
(see docs/awareness.md). Cells are built lazily, the first time a track is in one, so only
where the traffic is. Whether a track is inside a territory, an announced area or a zone is
tested on the polygons as given, in longitude and latitude (RFC 7946). A distance that
decides an alert is measured on the WGS84 ellipsoid (pyproj.Geod) between the track and
the nearest point of the border. Nothing here reads a file or a clock: the borders and the
time are given.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Geod, Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from hotline.domain.finding import NO_DETAIL, Finding, finding_of
from hotline.domain.tracks import NM, Track, TrackKind

Array = NDArray[np.float64]
GEOD = Geod(ellps="WGS84")

DEFAULT_CORRIDORS_M = (30_000.0, 50_000.0, 100_000.0)
DEFAULT_MARGIN_M = 2_000.0
DENSIFY_DEG = 0.05  # longest edge projected as a straight line
CELL_DEG = 10.0  # a region's side: its corners are ~7 degrees from its projection's centre
POLAR_DEG = 80.0  # beyond this latitude, one region per pole
COLUMNS = int(360 / CELL_DEG)
ROWS = int(180 / CELL_DEG)
OUTLINE_TOLERANCE_M = 1_000.0  # corridors as drawn on the map: simplified this much
SLACK_M = 25_000.0  # a region's land reaches this much beyond its widest corridor
DEFAULT_STALE = {
    TrackKind.AIRCRAFT: timedelta(minutes=2),
    TrackKind.MISSILE: timedelta(seconds=30),
    TrackKind.UAV: timedelta(minutes=2),
    TrackKind.HELICOPTER: timedelta(minutes=2),
    TrackKind.BALLOON: timedelta(minutes=15),
    TrackKind.SHIP: timedelta(minutes=15),
    TrackKind.GROUND: timedelta(minutes=15),
    TrackKind.UNKNOWN: timedelta(minutes=5),
}
# Natural Earth cuts polygons at the antimeridian and closes Antarctica along the pole:
# those edges are not borders.
_CUTS = shapely.union_all(
    [
        shapely.box(179.99999, -91.0, 181.0, 91.0),
        shapely.box(-181.0, -91.0, -179.99999, 91.0),
        shapely.box(-181.0, -91.0, 181.0, -89.99999),
    ]
)


def region_keys(lon: Array, lat: Array) -> NDArray[np.intp]:
    """The region of each position: ``row * COLUMNS + column``; a polar cap is column 0."""
    row = np.clip(np.floor((np.asarray(lat) + 90.0) / CELL_DEG), 0, ROWS - 1).astype(np.intp)
    col = np.clip(np.floor((np.asarray(lon) + 180.0) / CELL_DEG), 0, COLUMNS - 1).astype(np.intp)
    polar = (row == 0) | (row == ROWS - 1)
    return np.where(polar, row * COLUMNS, row * COLUMNS + col)


def neighbours(key: int) -> list[int]:
    """The regions around region ``key`` (across the antimeridian too)."""
    row, col = divmod(key, COLUMNS)
    found = set()
    for dr in (-1, 0, 1):
        r = row + dr
        if not 0 <= r < ROWS:
            continue
        for dc in (-1, 0, 1):
            c = 0 if r in (0, ROWS - 1) else (col + dc) % COLUMNS
            found.add(r * COLUMNS + c)
    found.discard(key)
    return sorted(found)


class Region:
    """One cell of the globe and its own projection (azimuthal equal-area, centred)."""

    def __init__(self, key: int, reach_m: float) -> None:
        row, col = divmod(key, COLUMNS)
        self.key = key
        self.south = -90.0 + row * CELL_DEG
        self.north = self.south + CELL_DEG
        pad_lat = reach_m / 110_000.0
        if row == 0 or row == ROWS - 1:
            self.west, self.east = -180.0, 180.0
            lat0, lon0 = (90.0 if row else -90.0), 0.0
            self.padded = (
                -180.0,
                max(self.south - pad_lat, -90.0),
                180.0,
                min(self.north + pad_lat, 90.0),
            )
        else:
            self.west = -180.0 + col * CELL_DEG
            self.east = self.west + CELL_DEG
            lat0, lon0 = (self.south + self.north) / 2, (self.west + self.east) / 2
            widest = min(max(abs(self.south - pad_lat), abs(self.north + pad_lat)), 89.0)
            pad_lon = reach_m / (111_000.0 * math.cos(math.radians(widest)))
            self.padded = (
                self.west - pad_lon,
                self.south - pad_lat,
                self.east + pad_lon,
                self.north + pad_lat,
            )
        crs = f"+proj=laea +lat_0={lat0} +lon_0={lon0} +ellps=WGS84 +units=m +no_defs"
        self.to_xy = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        self.to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def project(self, lon: Array, lat: Array) -> tuple[Array, Array]:
        x, y = self.to_xy.transform(lon, lat)
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def project_geometry(self, geometry: BaseGeometry) -> BaseGeometry:
        def coords(c: Array) -> Array:
            x, y = self.to_xy.transform(c[:, 0], c[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(shapely.segmentize(geometry, DENSIFY_DEG), coords)

    def clip(self, geometry: BaseGeometry) -> BaseGeometry:
        """``geometry`` (longitude/latitude) within the padded cell; a cell reaching past
        the antimeridian takes the other side's part, shifted by 360 degrees."""
        west, south, east, north = self.padded
        parts = []
        shifts = [0.0]
        if west < -180.0:
            shifts.append(-360.0)
        if east > 180.0:
            shifts.append(360.0)
        for shift in shifts:
            # the box in the geometry's own longitudes, then its part moved next to the cell
            part = geometry.intersection(shapely.box(west - shift, south, east - shift, north))
            if not part.is_empty:
                parts.append(shapely.transform(part, _shifted(shift)))
        return shapely.union_all(parts) if parts else shapely.GeometryCollection()


def _shifted(degrees: float) -> Any:
    def move(c: Array) -> Array:
        return np.asarray(c + np.array([degrees, 0.0]), dtype=float)

    return move


@dataclass
class Piece:
    """A party's territory near one region, in that region's projection.

    No corridor is built as a polygon (buffering a coastline 100 km out costs most of a
    second a region): a track's corridor follows from its distance to ``edge``, and
    whether it is near at all from a distance test against ``land``."""

    edge: BaseGeometry  # its border (coasts and land borders), not the cuts of the clip
    land: BaseGeometry  # its land, prepared
    near_m: float  # the widest corridor plus the margin

    def near(self, x: Array, y: Array) -> NDArray[np.bool_]:
        """Which points (in the region's projection) are within ``near_m`` of the land."""
        return np.asarray(shapely.dwithin(self.land, shapely.points(x, y), self.near_m))


class Theatre:
    """Parties' territories, prepared, with their corridors built region by region."""

    def __init__(
        self,
        territories: Mapping[str, BaseGeometry],
        corridors: Sequence[float] = DEFAULT_CORRIDORS_M,
        margin: float = DEFAULT_MARGIN_M,
    ) -> None:
        """``territories``: party -> land, in longitude/latitude (WGS84). ``margin``: how
        far beyond a corridor a track must go before it counts as out of it (hysteresis)."""
        self.corridors = tuple(sorted(corridors))
        self.margin = margin
        self.reach = (self.corridors[-1] if self.corridors else 0.0) + margin + SLACK_M
        self.parties = tuple(sorted(territories))
        self.land: dict[str, BaseGeometry] = {}
        self.border: dict[str, BaseGeometry] = {}
        for party, geometry in territories.items():
            land = shapely.make_valid(geometry)
            shapely.prepare(land)
            self.land[party] = land
            self.border[party] = land.boundary.difference(_CUTS)
        self._regions: dict[int, Region] = {}
        self._pieces: dict[tuple[str, int], Piece | None] = {}
        self._watched: set[int] = set()  # regions the rules have looked at (tracks were there)
        self._lock = threading.Lock()

    @property
    def built(self) -> int:
        """How many (party, region) pieces have been looked at so far."""
        return len(self._pieces)

    def region(self, key: int) -> Region:
        found = self._regions.get(key)
        if found is None:
            found = self._regions[key] = Region(key, self.reach)
        return found

    def piece(self, party: str, key: int) -> Piece | None:
        """``party``'s land near region ``key``, projected with its corridors; None when it
        has no land within reach of the region. Built on first use."""
        self._watched.add(key)
        return self._ensure(party, key)

    def _ensure(self, party: str, key: int) -> Piece | None:
        if (party, key) in self._pieces:
            return self._pieces[party, key]
        with self._lock:
            if (party, key) not in self._pieces:
                self._pieces[party, key] = self._build(party, key)
        return self._pieces[party, key]

    def _build(self, party: str, key: int) -> Piece | None:
        region = self.region(key)
        if not self.land[party].intersects(shapely.box(*region.padded)):
            return None
        land = region.project_geometry(region.clip(self.land[party]))
        edge = region.project_geometry(region.clip(self.border[party]))
        shapely.prepare(land)
        widest = self.corridors[-1] if self.corridors else 0.0
        return Piece(edge, land, widest + self.margin)

    def bands(self, planar: Array) -> tuple[Array, Array]:
        """For planar distances to a border (m, in a region's projection): the tightest
        corridor each is in (``entry``), and the tightest it has not left by more than
        the margin (``holds``); NaN where none."""
        entry = np.full(planar.shape, np.nan)
        holds = np.full(planar.shape, np.nan)
        for corridor in reversed(self.corridors):
            holds[planar <= corridor + self.margin] = corridor
            entry[planar <= corridor] = corridor
        return entry, holds

    def corridor_outlines(
        self, tolerance: float = 0.01, distances: Iterable[float] | None = None
    ) -> dict[str, dict[float, BaseGeometry]]:
        """Party -> corridor -> the line at that distance from its land, in longitude and
        latitude, over the regions built so far (where tracks have been). ``distances``
        (m): draw these in place of the corridors (an agreement's zones)."""
        drawn_at = tuple(self.corridors if distances is None else sorted(set(distances)))
        found: dict[str, dict[float, list[BaseGeometry]]] = {}
        for key in sorted(self._watched):
            for party in self.parties:
                if self._pieces.get((party, key)) is not None:
                    for near in neighbours(key):  # the corridor past the region's edge
                        self._ensure(party, near)
        for (party, key), piece in list(self._pieces.items()):
            if piece is None:
                continue
            region = self.region(key)
            cell = region.project_geometry(
                shapely.box(region.west, region.south, region.east, region.north)
            )
            drawn = piece.land.simplify(OUTLINE_TOLERANCE_M)  # a line on a map, not a rule
            for corridor in drawn_at:
                line = drawn.buffer(corridor, quad_segs=4).boundary.intersection(cell)
                if line.is_empty:
                    continue

                def back(c: Array, r: Region = region) -> Array:
                    lon, lat = r.to_ll.transform(c[:, 0], c[:, 1])
                    return np.column_stack([lon, lat])

                found.setdefault(party, {}).setdefault(corridor, []).append(
                    shapely.transform(line, back).simplify(tolerance)
                )
        return {
            party: {c: shapely.union_all(lines) for c, lines in bands.items()}
            for party, bands in found.items()
        }

    def distance_to_border(
        self, piece: Piece, region: Region, lon: Array, lat: Array, x: Array, y: Array
    ) -> tuple[Array, Array]:
        """Distances (m) from each position to the border of ``piece``: in the region's
        projection (what the corridors are drawn in), and on the ellipsoid to the
        nearest point of it found in the projection."""
        if piece.edge.is_empty:
            return np.full(len(lon), np.inf), np.full(len(lon), np.inf)
        lines = shapely.shortest_line(shapely.points(x, y), piece.edge)
        coords = shapely.get_coordinates(lines).reshape(-1, 2, 2)
        planar = np.hypot(coords[:, 1, 0] - coords[:, 0, 0], coords[:, 1, 1] - coords[:, 0, 1])
        blon, blat = region.to_ll.transform(coords[:, 1, 0], coords[:, 1, 1])
        _, _, dist = GEOD.inv(lon, lat, blon, blat)
        return planar, np.asarray(dist, dtype=float)


class Area:
    """An area of a message or a zone, tested in longitude/latitude: a polygon's edges are
    straight in longitude and latitude (RFC 7946); a circle is geodesic around its centre.
    A polygon that crosses the antimeridian may be written with longitudes past 180."""

    def __init__(self, area: Mapping[str, Any]) -> None:
        self.center: tuple[float, float] | None = None
        self.radius_m = 0.0
        self.shape: BaseGeometry | None = None
        if "center" in area:
            self.center = (float(area["center"][0]), float(area["center"][1]))
            self.radius_m = float(area["radius"]) * (NM if area.get("unit") == "NM" else 1000.0)
            return
        geometry = shape(dict(area))
        west, _, east, _ = geometry.bounds
        if east - west > 180.0:  # written across the antimeridian with -180..180 longitudes
            geometry = shapely.transform(
                geometry,
                lambda c: np.column_stack([np.where(c[:, 0] < 0, c[:, 0] + 360, c[:, 0]), c[:, 1]]),
            )
        shapely.prepare(geometry)
        self.shape = geometry

    @property
    def geom_type(self) -> str:
        return "Circle" if self.shape is None else self.shape.geom_type

    def contains(self, lon: Array, lat: Array) -> NDArray[np.bool_]:
        lon, lat = np.atleast_1d(np.asarray(lon, float)), np.atleast_1d(np.asarray(lat, float))
        if self.center is not None:
            _, _, dist = GEOD.inv(
                np.full(lon.shape, self.center[0]), np.full(lat.shape, self.center[1]), lon, lat
            )
            return np.asarray(dist) <= self.radius_m
        inside = shapely.contains_xy(self.shape, lon, lat)
        return np.asarray(inside | shapely.contains_xy(self.shape, lon + 360.0, lat))


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
    keys: NDArray[np.intp]  # each track's region
    _projected: dict[int, tuple[NDArray[np.intp], Array, Array]] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def of(cls, theatre: Theatre | None, tracks: Sequence[Track]) -> Picture:
        """``theatre`` is not needed (kept so callers read as before): regions are fixed."""
        lon = np.fromiter((t.lon for t in tracks), float, len(tracks))
        lat = np.fromiter((t.lat for t in tracks), float, len(tracks))
        return cls(list(tracks), lon, lat, region_keys(lon, lat))

    def in_region(self, region: Region) -> tuple[NDArray[np.intp], Array, Array]:
        """Indexes of the tracks in ``region`` and their projected coordinates."""
        found = self._projected.get(region.key)
        if found is None:
            index = np.nonzero(self.keys == region.key)[0]
            x, y = region.project(self.lon[index], self.lat[index])
            found = self._projected[region.key] = (index, x, y)
        return found

    def regions(self) -> list[int]:
        return [int(k) for k in np.unique(self.keys)]


def near_mask(theatre: Theatre, picture: Picture, other: str) -> NDArray[np.bool_]:
    """Which tracks are within the widest corridor (plus the margin) of ``other``'s land."""
    mask = np.zeros(len(picture.tracks), dtype=bool)
    for key in picture.regions():
        piece = theatre.piece(other, key)
        if piece is None:
            continue
        index, x, y = picture.in_region(theatre.region(key))
        mask[index] = piece.near(x, y)
    return mask


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
    keys = picture.regions()
    for other in theatre.parties:
        for key in keys:
            piece = theatre.piece(other, key)
            if piece is None:
                continue
            region = theatre.region(key)
            index, x, y = picture.in_region(region)
            pick = np.nonzero((parties[index] != other) & (parties[index] != ""))[0]
            if pick.size:
                pick = pick[piece.near(x[pick], y[pick])]
            if pick.size:
                found.extend(
                    _border_findings(
                        theatre,
                        picture,
                        other,
                        piece,
                        region,
                        index[pick],
                        x[pick],
                        y[pick],
                        measure,
                    )
                )
    return found


def _border_findings(
    theatre: Theatre,
    picture: Picture,
    other: str,
    piece: Piece,
    region: Region,
    candidates: NDArray[np.intp],
    cx: Array,
    cy: Array,
    measure: bool,
) -> list[Finding]:
    found: list[Finding] = []
    clon, clat = picture.lon[candidates], picture.lat[candidates]
    # on the edge counts as inside: Natural Earth cuts land at the antimeridian
    inside = shapely.intersects_xy(theatre.land[other], clon, clat)
    planar, measured = theatre.distance_to_border(piece, region, clon, clat, cx, cy)
    entry, holds = theatre.bands(planar)
    dist = measured if measure else np.where(np.isnan(entry), holds, entry)
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
                Finding("incursion", t.uid, t.party, other, 0.0, 0.0, t.kind, t.lat, t.lon, depth)
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


@dataclass(frozen=True)
class Announced:
    """A live notification of intent of ``party``: its area and window."""

    party: str
    area: Area
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
    near = {other: near_mask(theatre, picture, other) for other in theatre.parties}
    covered = (
        {id(n): n.area.contains(picture.lon, picture.lat) for n in live} if picture.tracks else {}
    )
    for index, track in enumerate(picture.tracks):
        if track.party is None or track.kind is TrackKind.UNKNOWN:
            continue
        others = [o for o in theatre.parties if o != track.party and near[o][index]]
        if not others:
            continue
        if not any(n.party == track.party and covered[id(n)][index] for n in live):
            found.append(finding_of("unannounced", track, others[0], 0.0, None, near=others))
    return found


@dataclass(frozen=True)
class Zone:
    """An airspace or caution area from the operator's GeoJSON, prepared.
    ``owner``: the party whose zone it is (its own tracks do not alert), or None."""

    name: str
    kind: str
    owner: str | None
    area: Area


def zones_from(collection: Mapping[str, Any]) -> list[Zone]:
    """Zones from a GeoJSON FeatureCollection of polygons with properties ``name``,
    ``kind`` (airspace, caution...) and ``party``. Raises ValueError on a bad feature."""
    zones = []
    for n, feature in enumerate(collection.get("features") or []):
        props = feature.get("properties") or {}
        area = Area(feature["geometry"])
        if area.geom_type not in ("Polygon", "MultiPolygon"):
            raise ValueError(f"feature {n}: a zone is a Polygon or MultiPolygon")
        zones.append(
            Zone(
                str(props.get("name") or f"zone {n + 1}"),
                str(props.get("kind") or "caution"),
                props.get("party"),
                area,
            )
        )
    return zones


def zone_rules(picture: Picture, zones: Sequence[Zone]) -> list[Finding]:
    """Tracks inside an airspace or caution area that is not their own party's."""
    found: list[Finding] = []
    if not picture.tracks:
        return found
    for zone in zones:
        inside = np.nonzero(zone.area.contains(picture.lon, picture.lat))[0]
        for index in inside:
            track = picture.tracks[int(index)]
            if track.party is not None and track.party != zone.owner:
                found.append(
                    finding_of(
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
            found.append(finding_of("stale", t, None, age, limit))
    return found
