"""The rules anywhere on Earth (hotline.domain.geo with the shipped world borders).

Four theatres beyond Europe: the Korean DMZ, the Taiwan Strait, the Line of Control in
Kashmir and the Bering Strait, where Russia's land is cut at the antimeridian. In each, a
grid of tracks of the other party is laid over the border; every distance the rules report
is checked against brute force on the ellipsoid (pyproj.Geod from the track to the real
border densified to ~100 m), and every corridor the track is put in against that distance.
Closest points of approach are worked by hand in planes tangent at the DMZ, the strait,
across the antimeridian and near the pole. No clock is read: times are fixed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
import shapely
from pyproj import Geod

from hotline.domain.cpa import cpa_pairs
from hotline.domain.geo import (
    DEFAULT_CORRIDORS_M,
    Area,
    Picture,
    Theatre,
    border_rules,
    territories_from,
)
from hotline.domain.tracks import TrackKind, make_track
from hotline.services.awareness import load_countries
from tests.unit.plane import offset

GEOD = Geod(ellps="WGS84")
T0 = datetime(2026, 3, 13, 9, 0, tzinfo=UTC)
CUTS = shapely.union_all(
    [shapely.box(179.99999, -91, 181, 91), shapely.box(-181, -91, -179.99999, 91)]
)

# theatre: (the party whose border is tested, the other party, the box the grid covers)
THEATRES = {
    "korean-dmz": ("KR", "KP", (125.5, 37.0, 128.5, 39.0)),
    "taiwan-strait": ("TW", "CN", (118.0, 22.5, 122.5, 26.0)),
    "line-of-control": ("IN", "PK", (73.0, 32.5, 76.5, 35.5)),
    "bering-strait": ("US", "RU", (-172.0, 64.0, -165.0, 67.5)),
    "antimeridian": ("RU", "US", (177.0, 64.0, 183.0, 70.0)),
}


@pytest.fixture(scope="module")
def world() -> Theatre:
    members = {p: [p] for p in ("KR", "KP", "TW", "CN", "IN", "PK", "US", "RU")}
    return Theatre(territories_from(load_countries(), members))


def brute_distance(theatre: Theatre, party: str, lon: float, lat: float) -> float:
    """Metres from (lon, lat) to ``party``'s border, by brute force: every point of the
    border within 3 degrees (over 110 km at these latitudes), densified to 0.001 degree,
    on the ellipsoid."""
    near = theatre.border[party]
    parts = []
    for shift in (0.0, 360.0, -360.0):
        clip = shapely.box(lon - 3 - shift, lat - 3, lon + 3 - shift, lat + 3)
        piece = near.intersection(clip)
        if not piece.is_empty:
            coords = shapely.get_coordinates(shapely.segmentize(piece, 0.001))
            parts.append(coords + np.array([shift, 0.0]))
    if not parts:  # nothing within 3 degrees: farther than any corridor
        return float("inf")
    points = np.concatenate(parts)
    _, _, dist = GEOD.inv(
        np.full(len(points), lon), np.full(len(points), lat), points[:, 0], points[:, 1]
    )
    return float(dist.min())


@pytest.mark.parametrize("name", sorted(THEATRES))
def test_distances_and_corridors_hold_in_every_theatre(world: Theatre, name: str) -> None:
    party, other, (west, south, east, north) = THEATRES[name]
    lons, lats = np.meshgrid(np.linspace(west, east, 13), np.linspace(south, north, 11))
    tracks = [
        make_track(
            uid=f"t{i}",
            party=other,
            kind=TrackKind.AIRCRAFT,
            lat=float(lat),
            lon=float((lon + 180.0) % 360.0 - 180.0),
            time=T0,
        )
        for i, (lon, lat) in enumerate(zip(lons.ravel(), lats.ravel(), strict=True))
    ]
    found = {
        f.uid: f
        for f in border_rules(world, Picture.of(world, tracks))
        if f.other == party and f.party == other
    }
    checked = 0
    for t in tracks:
        truth = brute_distance(world, party, t.lon, t.lat)
        f = found.get(t.uid)
        inside = world.land[party].intersects(shapely.Point(t.lon, t.lat))
        if inside:
            assert f is not None and f.rule == "incursion", t
            continue
        if truth > DEFAULT_CORRIDORS_M[-1] * 1.01:
            assert f is None or f.band is None, (t, truth, f)
            continue
        if truth < DEFAULT_CORRIDORS_M[-1] * 0.99:
            assert f is not None and f.rule == "proximity", (t, truth)
        if f is None:
            continue
        checked += 1
        # the nearest point is found in the region's projection, the distance measured
        # on the ellipsoid: within 0.5 % (and never shorter than the truth by more than
        # the densified border's step)
        assert f.value == pytest.approx(truth, rel=5e-3, abs=60.0), (t, truth, f.value)
        for corridor in DEFAULT_CORRIDORS_M:
            if truth < corridor * 0.99:
                assert f.band is not None and f.band <= corridor, (t, truth, f.band)
            elif truth > corridor * 1.01:
                assert f.band is None or f.band > corridor, (t, truth, f.band)
    assert checked >= 10


def test_a_cut_at_the_antimeridian_is_not_a_border(world: Theatre) -> None:
    # Chukotka is cut by Natural Earth at 180 degrees: a US aircraft over Russian land
    # on either side of the cut is an incursion, not a track 1 m from a border
    tracks = [
        make_track(uid=uid, party="US", kind=TrackKind.AIRCRAFT, lat=67.5, lon=lon, time=T0)
        for uid, lon in (("west-of-cut", 179.99), ("east-of-cut", -179.99))
    ]
    found = {f.uid: f for f in border_rules(world, Picture.of(world, tracks))}
    assert found["west-of-cut"].rule == found["east-of-cut"].rule == "incursion"
    for f in found.values():
        assert f.detail["depth_m"] > 50_000  # the coast is far; the cut is not a border


# (name, origin, a: (dx, dy, course, speed), b: ..., expected (dcpa m, tcpa s))
CPA_PLACES = [
    # over the DMZ: KP north-bound at 200 m/s, KR 8 km E 6 km N heading west at 150 m/s
    ("korean-dmz", (127.0, 38.0), (0, 0, 0, 200), (8_000, 6_000, 270, 150), (2_800.0, 38.4)),
    # head-on in the Taiwan Strait, 20 km apart at 250 m/s each
    ("taiwan-strait", (119.8, 24.3), (0, -10_000, 0, 250), (0, 10_000, 180, 250), (0.0, 40.0)),
    # across the antimeridian: east- and west-bound, 20 km apart
    ("antimeridian", (180.0, 0.0), (-10_000, 0, 90, 250), (10_000, 0, 270, 250), (0.0, 40.0)),
    # near the pole, where meridians are 10 km apart
    ("near-pole", (0.0, 89.9), (0, 0, None, None), (6_000, 0, None, None), (6_000.0, 0.0)),
]


@pytest.mark.parametrize(
    ("name", "origin", "a", "b", "expected"), CPA_PLACES, ids=[c[0] for c in CPA_PLACES]
)
def test_cpa_in_any_region(
    name: str,
    origin: tuple[float, float],
    a: tuple[float, float, float | None, float | None],
    b: tuple[float, float, float | None, float | None],
    expected: tuple[float, float],
) -> None:
    tracks = []
    for uid, party, (dx, dy, course, speed) in (("a", "A", a), ("b", "B", b)):
        lon, lat = offset(*origin, dx, dy)
        tracks.append(
            make_track(
                uid=uid,
                party=party,
                kind=TrackKind.AIRCRAFT,
                lat=lat,
                lon=lon,
                time=T0,
                course=course,
                speed=speed,
            )
        )
    [f] = cpa_pairs(Picture.of(None, tracks))
    dcpa, tcpa = expected
    assert f.value == pytest.approx(dcpa, abs=15.0)
    assert f.detail["tcpa_s"] == pytest.approx(tcpa, abs=0.1)


def test_cpa_pair_already_within_the_distance_alerts_however_slowly_it_closes() -> None:
    # 6 km apart, closing at 5 m/s: the closest point is 1,200 s away, but they are
    # within 5 NM now and all through the window
    tracks = []
    for uid, party, dx, course in (("a", "A", 0, 90), ("b", "B", 6_000, 270)):
        lon, lat = offset(21.0, 54.0, dx, 0)
        tracks.append(
            make_track(
                uid=uid,
                party=party,
                kind=TrackKind.SHIP,
                lat=lat,
                lon=lon,
                time=T0,
                course=course,
                speed=2.5,
            )
        )
    [f] = cpa_pairs(Picture.of(None, tracks))
    assert f.detail["tcpa_s"] == 180.0
    assert f.value == pytest.approx(6_000 - 5 * 180, abs=15.0)


def test_areas_across_the_antimeridian_and_geodesic_circles() -> None:
    strip = Area(
        {
            "type": "Polygon",
            "coordinates": [
                [[179.0, 60.0], [-179.0, 60.0], [-179.0, 61.0], [179.0, 61.0], [179.0, 60.0]]
            ],
        }
    )
    inside = strip.contains(np.array([179.5, -179.5, 0.0]), np.array([60.5, 60.5, 60.5]))
    assert inside.tolist() == [True, True, False]
    # 100 km around a point at 60N: the edge is 100 km away east and north alike
    circle = Area({"center": [30.0, 60.0], "radius": 100, "unit": "km"})
    east_in, east_out = (GEOD.fwd(30.0, 60.0, 90, d)[:2] for d in (99_900, 100_100))
    north_in, north_out = (GEOD.fwd(30.0, 60.0, 0, d)[:2] for d in (99_900, 100_100))
    lon = np.array([east_in[0], east_out[0], north_in[0], north_out[0]])
    lat = np.array([east_in[1], east_out[1], north_in[1], north_out[1]])
    assert circle.contains(lon, lat).tolist() == [True, False, True, False]


def test_corridors_are_drawn_where_tracks_are_and_past_their_region() -> None:
    theatre = Theatre(territories_from(load_countries(), {"PL": ["PL"]}))
    assert theatre.corridor_outlines() == {}  # nothing built before a track
    track = make_track(uid="cm", party="RU", kind=TrackKind.MISSILE, lat=49.9, lon=23.8, time=T0)
    border_rules(theatre, Picture.of(theatre, [track]))
    lines = theatre.corridor_outlines()["PL"]
    assert sorted(lines) == list(DEFAULT_CORRIDORS_M)
    _, south, _, north = lines[30_000.0].bounds
    assert south < 50.0 < north  # on both sides of the region's edge at 50N
    built = theatre.built
    theatre.corridor_outlines()
    assert theatre.built == built  # the neighbours of where tracks were, no further
    # the 30 km line is 30 km from the border (to within the region's projection)
    lon, lat = shapely.get_coordinates(lines[30_000.0])[0]
    assert brute_distance(theatre, "PL", float(lon), float(lat)) == pytest.approx(30_000, rel=0.01)
