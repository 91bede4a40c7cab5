"""The geometry of the theatre (hotline.domain.geo), checked against hand-worked numbers.

Synthetic territories are small lon/lat boxes, segmentized to 0.01 degree so that their
projected edges follow the meridians and parallels they stand for (a 2-degree edge
projected as one chord bows ~90 m away from its meridian). Positions east of a box are
placed along a parallel; the reported distance is compared with pyproj.Geod to the
nearest point of the box's edge, found by brute force on a 10 m grid of that edge. The
real borders (Natural Earth, shipped with hotline) are built into a Theatre once per
module. CPA cases sit near the projection's centre (10E, 52N), where projected metres
are ground metres and grid north is true north, so DCPA/TCPA can be worked by hand.
No clock is read: times are fixed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from hotline.domain.cpa import DEFAULT_CPA_M, cpa_pairs
from hotline.domain.geo import (
    Announced,
    Area,
    Finding,
    Picture,
    Theatre,
    border_rules,
    stale,
    territories_from,
    unannounced,
)
from hotline.domain.tracks import FOOT, NM, Track, TrackKind, make_track
from hotline.services.awareness import load_countries
from tests.unit.plane import offset

GEOD = Geod(ellps="WGS84")
ORIGIN = (10.0, 52.0)
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
LAT = 51.0  # the parallel the synthetic tracks sit on
EAST_EDGE = 22.0  # the east edge of the synthetic territory of B
SECOND = timedelta(seconds=1)

# Radius of the parallel at LAT on the WGS84 ellipsoid: metres per radian of longitude.
_A, _E2 = 6_378_137.0, 6.69437999014e-3
PARALLEL_RADIUS = (
    _A * math.cos(math.radians(LAT)) / math.sqrt(1 - _E2 * math.sin(math.radians(LAT)) ** 2)
)


def square(west: float, south: float, east: float, north: float) -> BaseGeometry:
    return shapely.segmentize(box(west, south, east, north), 0.01)


def east_of_edge(metres: float) -> float:
    """The longitude ``metres`` east of B's east edge, measured along the parallel LAT."""
    return EAST_EDGE + math.degrees(metres / PARALLEL_RADIUS)


def track(
    uid: str,
    party: str | None,
    lon: float,
    lat: float = LAT,
    *,
    kind: TrackKind = TrackKind.AIRCRAFT,
    alt: float | None = None,
    speed: float | None = None,
    course: float | None = None,
    time: datetime = T0,
) -> Track:
    return make_track(
        uid=uid,
        party=party,
        kind=kind,
        lat=lat,
        lon=lon,
        time=time,
        alt=alt,
        speed=speed,
        course=course,
    )


def nearest_on_east_edge(lon: float, lat: float = LAT) -> tuple[float, float]:
    """Geodesic distance (m) from (lon, lat) to the nearest point of the meridian EAST_EDGE
    between 50N and 52N, by brute force on a 0.0001-degree (11 m) grid, and that point's
    latitude."""
    lats = np.linspace(50.0, 52.0, 20_001)
    _, _, dist = GEOD.inv(
        np.full_like(lats, lon), np.full_like(lats, lat), np.full_like(lats, EAST_EDGE), lats
    )
    i = int(np.argmin(dist))
    return float(dist[i]), float(lats[i])


@pytest.fixture(scope="module")
def theatre() -> Theatre:
    """B holds the box 20-22E, 50-52N; A and C hold nothing."""
    return Theatre({"B": square(20, 50, 22, 52)})


def findings_for(theatre: Theatre, *tracks: Track) -> list[Finding]:
    return border_rules(theatre, Picture.of(theatre, list(tracks)))


# -- border rules on a synthetic square -------------------------------------------


@pytest.mark.parametrize(
    ("km", "band", "holds"),
    [
        (10, 30_000.0, 30_000.0),
        (29, 30_000.0, 30_000.0),
        (31, 50_000.0, 30_000.0),  # out of 30 km, not yet by the 2 km margin
        (49, 50_000.0, 50_000.0),
        (60, 100_000.0, 100_000.0),
        (99, 100_000.0, 100_000.0),
        (101, None, 100_000.0),  # out of 100 km, within its margin: no band, still holds
    ],
)
def test_proximity_band_and_distance_east_of_a_square(
    theatre: Theatre, km: float, band: float | None, holds: float
) -> None:
    lon = east_of_edge(km * 1000)
    [found] = findings_for(theatre, track("a1", "A", lon))
    assert found.rule == "proximity"
    assert (found.uid, found.party, found.other) == ("a1", "A", "B")
    assert found.band == band
    assert found.holds == holds
    expected, foot_lat = nearest_on_east_edge(lon)
    # the nearest edge point is (very nearly) on the same parallel, at the nominal distance
    assert abs(foot_lat - LAT) < 0.02
    assert expected == pytest.approx(km * 1000, rel=1e-3)
    assert found.value == pytest.approx(expected, rel=0.005)
    assert (found.lat, found.lon, found.kind) == (LAT, lon, TrackKind.AIRCRAFT)


def test_distance_agrees_with_geographiclib(theatre: Theatre) -> None:
    geodesic = pytest.importorskip("geographiclib.geodesic").Geodesic.WGS84
    for km in (10, 29, 31, 49, 60, 99):
        lon = east_of_edge(km * 1000)
        [found] = findings_for(theatre, track("a1", "A", lon))
        _, foot_lat = nearest_on_east_edge(lon)
        s12 = geodesic.Inverse(LAT, lon, foot_lat, EAST_EDGE)["s12"]
        assert found.value == pytest.approx(s12, rel=0.005)


def test_beyond_the_widest_corridor_and_its_margin_nothing_is_found(theatre: Theatre) -> None:
    assert findings_for(theatre, track("a1", "A", east_of_edge(110_000))) == []
    assert findings_for(theatre, track("a1", "A", east_of_edge(300_000))) == []


def test_inside_the_square_is_an_incursion_with_its_depth(theatre: Theatre) -> None:
    [found] = findings_for(theatre, track("a1", "A", 21.0))
    assert (found.rule, found.other, found.value, found.band) == ("incursion", "B", 0.0, 0.0)
    # 21E is one degree of longitude from both the west and east edges, nearer than the
    # degree of latitude to the north and south edges
    assert found.detail["depth_m"] == pytest.approx(math.radians(1) * PARALLEL_RADIUS, rel=0.005)


def test_a_party_never_alerts_on_its_own_territory(theatre: Theatre) -> None:
    tracks = [
        track("b-in", "B", 21.0),
        track("b-near", "B", east_of_edge(10_000)),
        track("b-mid", "B", east_of_edge(40_000)),
    ]
    assert findings_for(theatre, *tracks) == []


def test_an_unattributed_track_never_alerts(theatre: Theatre) -> None:
    tracks = [track("x-in", None, 21.0), track("x-near", None, east_of_edge(5_000))]
    assert findings_for(theatre, *tracks) == []


def test_several_tracks_in_one_picture_each_get_their_finding(theatre: Theatre) -> None:
    tracks = [
        track("a10", "A", east_of_edge(10_000)),
        track("b10", "B", east_of_edge(10_000)),
        track("c60", "C", east_of_edge(60_000)),
        track("a-far", "A", east_of_edge(200_000)),
        track("c-in", "C", 20.5, 50.5),
    ]
    found = {f.uid: (f.rule, f.band) for f in findings_for(theatre, *tracks)}
    assert found == {
        "a10": ("proximity", 30_000.0),
        "c60": ("proximity", 100_000.0),
        "c-in": ("incursion", 0.0),
    }


def test_without_measuring_the_value_is_the_corridor(theatre: Theatre) -> None:
    picture = Picture.of(theatre, [track("a1", "A", east_of_edge(40_000))])
    [found] = border_rules(theatre, picture, measure=False)
    assert (found.band, found.value) == (50_000.0, 50_000.0)


def test_an_empty_picture_finds_nothing(theatre: Theatre) -> None:
    assert border_rules(theatre, Picture.of(theatre, [])) == []
    assert cpa_pairs(Picture.of(theatre, [])) == []


# -- real borders (Natural Earth 1:10m) --------------------------------------------


@pytest.fixture(scope="module")
def real() -> tuple[Theatre, Mapping[str, BaseGeometry]]:
    members = {"NATO": ["PL", "LT", "LV", "EE"], "RU": ["RU", "BY"]}
    territories = territories_from(load_countries(), members)
    return Theatre(territories), territories


def brute_force_distance(territory: BaseGeometry, lon: float, lat: float) -> float:
    """Geodesic distance to the nearest point of the territory's border near (lon, lat),
    the border densified to 0.0005 degree (~50 m) in lon/lat."""
    near = shapely.intersection(territory.boundary, box(lon - 1.5, lat - 1, lon + 1.5, lat + 1))
    coords = shapely.get_coordinates(shapely.segmentize(near, 0.0005))
    _, _, dist = GEOD.inv(
        np.full(len(coords), lon), np.full(len(coords), lat), coords[:, 0], coords[:, 1]
    )
    return float(dist.min())


def test_territories_from_unions_members_and_skips_unknown_codes() -> None:
    found = territories_from(
        load_countries(), {"RU": ["RU", "blr"], "X": ["ZZ"], "PL": ["POL", "pl"]}
    )
    assert set(found) == {"RU", "PL"}
    assert found["RU"].contains(shapely.Point(27.56, 53.9))  # Minsk
    assert found["RU"].contains(shapely.Point(37.62, 55.75))  # Moscow
    assert found["PL"].contains(shapely.Point(21.01, 52.23))  # Warsaw


def test_real_borders_belarus_near_brest_is_in_natos_30_km_corridor(
    real: tuple[Theatre, Mapping[str, BaseGeometry]],
) -> None:
    theatre, territories = real
    [found] = findings_for(theatre, track("ru1", "RU", 24.0, 52.1))
    assert (found.rule, found.other, found.band) == ("proximity", "NATO", 30_000.0)
    assert 24_000 < found.value < 25_000
    assert found.value == pytest.approx(
        brute_force_distance(territories["NATO"], 24.0, 52.1), rel=0.005
    )


def test_real_borders_off_kaliningrad_is_just_outside_russia(
    real: tuple[Theatre, Mapping[str, BaseGeometry]],
) -> None:
    theatre, territories = real
    [found] = findings_for(theatre, track("nato1", "NATO", 20.5, 55.0))
    assert (found.rule, found.other, found.band) == ("proximity", "RU", 30_000.0)
    assert 1_200 < found.value < 1_600
    assert found.value == pytest.approx(
        brute_force_distance(territories["RU"], 20.5, 55.0), rel=0.005
    )


def test_real_borders_the_middle_of_poland(
    real: tuple[Theatre, Mapping[str, BaseGeometry]],
) -> None:
    theatre, _ = real
    # a NATO track there is in no corridor of RU (Kaliningrad is ~250 km away)
    assert findings_for(theatre, track("nato2", "NATO", 19.0, 52.2)) == []
    # an RU track there is deep inside NATO's territory
    [found] = findings_for(theatre, track("ru2", "RU", 19.0, 52.2))
    assert (found.rule, found.other) == ("incursion", "NATO")
    assert found.detail["depth_m"] > 150_000


# -- CPA ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def centre() -> Theatre:
    return Theatre({})


def at(
    theatre: Theatre,
    uid: str,
    party: str | None,
    dx: float,
    dy: float,
    course: float | None = None,
    speed: float | None = None,
    *,
    kind: TrackKind = TrackKind.AIRCRAFT,
    alt: float | None = None,
) -> Track:
    """A track ``dx`` m east and ``dy`` m north of ``ORIGIN`` (10E 52N) in the plane
    tangent there."""
    lon, lat = offset(*ORIGIN, dx, dy)
    return track(uid, party, lon, lat, kind=kind, alt=alt, speed=speed, course=course)


# (name, a: (dx, dy, course, speed), b: ..., expected (dcpa m, tcpa s) or None)
CPA_CASES = [
    # 20 km apart, closing at 250 m/s each: 20,000 / 500 = 40 s, passing through each other
    ("head-on", (0, -10_000, 0, 250), (0, 10_000, 180, 250), (0.0, 40.0)),
    # A north at 200 m/s; B 8 km E, 6 km N of A, west at 150 m/s. r = (8000, 6000),
    # v = (-150, -200): TCPA = -(r.v)/|v|^2 = 2,400,000 / 62,500 = 38.4 s;
    # r + v t = (8000 - 5760, 6000 - 7680) = (2240, -1680): DCPA = 2800 m
    ("crossing", (0, 0, 0, 200), (8_000, 6_000, 270, 150), (2_800.0, 38.4)),
    # diverging: TCPA clamps to 0, DCPA is the current separation
    ("diverging within 5 NM", (0, 0, 180, 200), (0, 8_000, 0, 200), (8_000.0, 0.0)),
    ("diverging beyond 5 NM", (0, 0, 180, 200), (0, 12_000, 0, 200), None),
    # parallel, same speed: no relative motion, DCPA is the current distance
    ("parallel within 5 NM", (0, 0, 0, 200), (6_000, 0, 0, 200), (6_000.0, 0.0)),
    ("parallel beyond 5 NM", (0, 0, 0, 200), (10_000, 0, 0, 200), None),
    ("stationary within 5 NM", (0, 0, None, None), (9_000, 0, None, None), (9_000.0, 0.0)),
    ("stationary beyond 5 NM", (0, 0, None, None), (9_500, 0, None, None), None),
    # head-on 85 km apart at 500 m/s closing: TCPA 170 s (alerts); 95 km: 190 s (not yet)
    ("head-on in 170 s", (0, -42_500, 0, 250), (0, 42_500, 180, 250), (0.0, 170.0)),
    ("head-on in 190 s", (0, -47_500, 0, 250), (0, 47_500, 180, 250), None),
    # opposite courses on tracks 6 km apart (within 5 NM = 9,260 m) and 10 km apart
    ("passing abeam 6 km", (0, -10_000, 0, 250), (6_000, 10_000, 180, 250), (6_000.0, 40.0)),
    ("passing abeam 10 km", (0, -10_000, 0, 250), (10_000, 10_000, 180, 250), None),
]


# Worked on a flat plane; on the ellipsoid, meridians converge (0.1 degree over 10 km at
# 52N), so tracks set 8 km apart on "parallel" courses are not quite parallel: the
# worked figures hold to a few metres and a tenth of a second.
DCPA_TOLERANCE_M = 15.0
TCPA_TOLERANCE_S = 0.1


@pytest.mark.parametrize(("name", "a", "b", "expected"), CPA_CASES, ids=[c[0] for c in CPA_CASES])
def test_cpa_cases(
    centre: Theatre,
    name: str,
    a: tuple[float, float, float | None, float | None],
    b: tuple[float, float, float | None, float | None],
    expected: tuple[float, float] | None,
) -> None:
    ta, tb = at(centre, "a", "A", *a), at(centre, "b", "B", *b)
    found = cpa_pairs(Picture.of(centre, [ta, tb]))
    if expected is None:
        assert found == []
        return
    [f] = found
    dcpa, tcpa = expected
    assert (f.rule, f.uid, f.party, f.other, f.detail["with_uid"]) == ("cpa", "a", "A", "B", "b")
    assert f.band == DEFAULT_CPA_M == 5 * NM
    assert f.value == pytest.approx(dcpa, abs=DCPA_TOLERANCE_M)
    assert f.detail["tcpa_s"] == pytest.approx(tcpa, abs=TCPA_TOLERANCE_S)
    now_m = math.hypot(b[0] - a[0], b[1] - a[1])
    # placed in the tangent plane and brought down to the ellipsoid: 2 m short at 85 km
    assert f.detail["now_m"] == pytest.approx(now_m, rel=5e-5, abs=1.0)


def test_cpa_is_symmetric_in_the_order_of_the_tracks(centre: Theatre) -> None:
    ta = at(centre, "a", "A", 0, 0, 0, 200)
    tb = at(centre, "b", "B", 8_000, 6_000, 270, 150)
    [one] = cpa_pairs(Picture.of(centre, [ta, tb]))
    [two] = cpa_pairs(Picture.of(centre, [tb, ta]))
    assert (one.uid, one.detail["with_uid"]) == (two.uid, two.detail["with_uid"]) == ("a", "b")
    assert one.value == pytest.approx(two.value)
    assert one.detail["tcpa_s"] == pytest.approx(two.detail["tcpa_s"])


AIR, UAV, SHIP = TrackKind.AIRCRAFT, TrackKind.UAV, TrackKind.SHIP
FL = 3_000.0  # metres

VERTICAL_CASES = [
    # (name, kind a, alt a, kind b, alt b, alerts)
    ("aircraft 2,000 ft apart", AIR, FL, AIR, FL + 2_000 * FOOT, False),
    ("aircraft 1,000 ft apart", AIR, FL, AIR, FL + 1_000 * FOOT, False),
    ("aircraft 500 ft apart", AIR, FL, AIR, FL + 500 * FOOT, True),
    ("aircraft, one altitude unknown", AIR, FL, AIR, None, True),
    ("aircraft, both altitudes unknown", AIR, None, AIR, None, True),
    ("uav and aircraft 2,000 ft apart", UAV, FL, AIR, FL + 2_000 * FOOT, False),
    ("ships are not filtered vertically", SHIP, 0.0, SHIP, 1_000.0, True),
    ("aircraft over a ship", AIR, FL, SHIP, 0.0, True),
]


@pytest.mark.parametrize(
    ("name", "kind_a", "alt_a", "kind_b", "alt_b", "alerts"),
    VERTICAL_CASES,
    ids=[c[0] for c in VERTICAL_CASES],
)
def test_cpa_vertical_separation(
    centre: Theatre,
    name: str,
    kind_a: TrackKind,
    alt_a: float | None,
    kind_b: TrackKind,
    alt_b: float | None,
    alerts: bool,
) -> None:
    ta = at(centre, "a", "A", 0, -10_000, 0, 250, kind=kind_a, alt=alt_a)
    tb = at(centre, "b", "B", 0, 10_000, 180, 250, kind=kind_b, alt=alt_b)
    found = cpa_pairs(Picture.of(centre, [ta, tb]))
    assert len(found) == (1 if alerts else 0)


def test_cpa_same_party_and_unattributed_pairs_never_alert(centre: Theatre) -> None:
    tracks = [
        at(centre, "a1", "A", 0, -10_000, 0, 250),
        at(centre, "a2", "A", 0, 10_000, 180, 250),
        at(centre, "x1", None, 100, -10_000, 0, 250),
        at(centre, "x2", None, 100, 10_000, 180, 250),
    ]
    assert cpa_pairs(Picture.of(centre, tracks)) == []


def test_cpa_each_opposed_pair_once(centre: Theatre) -> None:
    tracks = [
        at(centre, "a1", "A", 0, 0),
        at(centre, "a2", "A", 1_000, 0),
        at(centre, "b1", "B", 0, 2_000),
        at(centre, "x", None, 0, 1_000),
    ]
    found = cpa_pairs(Picture.of(centre, tracks))
    pairs = sorted((f.uid, f.detail["with_uid"]) for f in found)
    assert pairs == [("a1", "b1"), ("a2", "b1")]
    assert {f.party for f in found} == {"A"}
    assert {f.other for f in found} == {"B"}


def test_cpa_thresholds_can_be_set(centre: Theatre) -> None:
    ta = at(centre, "a", "A", 0, -10_000, 0, 250)
    tb = at(centre, "b", "B", 3_000, 10_000, 180, 250)  # DCPA 3 km in 40 s
    picture = Picture.of(centre, [ta, tb])
    assert len(cpa_pairs(picture)) == 1
    assert cpa_pairs(picture, dcpa_m=2_000) == []
    assert cpa_pairs(picture, tcpa_s=30) == []
    assert len(cpa_pairs(picture, dcpa_m=3_500, tcpa_s=45)) == 1


# -- unannounced ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def rivals() -> Theatre:
    return Theatre({"NATO": square(20, 50, 22, 52), "RU": square(24, 50, 26, 52)})


def notice(
    theatre: Theatre,
    party: str,
    center: tuple[float, float],
    radius: float = 50,
    unit: str = "km",
    *,
    start: datetime = T0 - timedelta(hours=1),
    end: datetime = T0 + timedelta(hours=1),
) -> Announced:
    area = Area({"center": list(center), "radius": radius, "unit": unit})
    return Announced(party, area, start, end, f"{party}-N-1")


# RU aircraft ~21 km east of NATO's square (and ~120 km west of its own)
RU_SPOT = (east_of_edge(21_000), LAT)


def test_unannounced_covered_by_a_live_notification_of_its_own_party(rivals: Theatre) -> None:
    ru = track("ru1", "RU", *RU_SPOT)
    picture = Picture.of(rivals, [ru])
    assert unannounced(rivals, picture, [notice(rivals, "RU", RU_SPOT)], T0) == []
    # the window is inclusive at both ends
    live = notice(rivals, "RU", RU_SPOT, start=T0, end=T0)
    assert unannounced(rivals, picture, [live], T0) == []


@pytest.mark.parametrize(
    "case",
    ["no notice", "window over", "window not begun", "area elsewhere", "other party's notice"],
)
def test_unannounced_not_covered(rivals: Theatre, case: str) -> None:
    ru = track("ru1", "RU", *RU_SPOT)
    notices = {
        "no notice": [],
        "window over": [
            notice(rivals, "RU", RU_SPOT, start=T0 - timedelta(hours=3), end=T0 - SECOND)
        ],
        "window not begun": [
            notice(rivals, "RU", RU_SPOT, start=T0 + SECOND, end=T0 + timedelta(hours=2))
        ],
        "area elsewhere": [notice(rivals, "RU", (25.0, 51.0))],
        "other party's notice": [notice(rivals, "NATO", RU_SPOT)],
    }[case]
    [found] = unannounced(rivals, Picture.of(rivals, [ru]), notices, T0)
    assert (found.rule, found.uid, found.party, found.other) == ("unannounced", "ru1", "RU", "NATO")
    assert found.detail["near"] == ["NATO"]


def test_unannounced_area_radius_units(rivals: Theatre) -> None:
    # the track is 20 km east of the area's centre: 15 km does not reach it, 15 NM does
    centre_lon = east_of_edge(1_000)
    ru = track("ru1", "RU", east_of_edge(21_000))
    picture = Picture.of(rivals, [ru])
    km = notice(rivals, "RU", (centre_lon, LAT), radius=15, unit="km")
    nm = notice(rivals, "RU", (centre_lon, LAT), radius=15, unit="NM")
    assert len(unannounced(rivals, picture, [km], T0)) == 1
    assert unannounced(rivals, picture, [nm], T0) == []


def test_unannounced_ignores_far_unattributed_and_unknown_tracks(rivals: Theatre) -> None:
    tracks = [
        track("ru-home", "RU", 25.0),  # in its own territory, >100 km from NATO
        track("x", None, *RU_SPOT),
        track("u", "RU", *RU_SPOT, kind=TrackKind.UNKNOWN),
        track("nato-home", "NATO", 21.0),
    ]
    assert unannounced(rivals, Picture.of(rivals, tracks), [], T0) == []


# -- stale ----------------------------------------------------------------------------


def test_stale_by_kind() -> None:
    tracks = [
        track("air-fresh", "A", 21, time=T0 - timedelta(seconds=120)),
        track("air-old", "A", 21, time=T0 - timedelta(seconds=121)),
        track("missile-old", "A", 21, kind=TrackKind.MISSILE, time=T0 - timedelta(seconds=31)),
        track("ship-fresh", "A", 21, kind=TrackKind.SHIP, time=T0 - timedelta(minutes=14)),
    ]
    found = {f.uid: (f.value, f.band) for f in stale(tracks, T0)}
    assert found == {"air-old": (121.0, 120.0), "missile-old": (31.0, 30.0)}
