"""Alerts from findings (hotline.domain.alerting): one alert per key, hysteresis on the
proximity corridors, severity, acknowledgement and closing after ``clear_after``
evaluations without the condition.

Findings come from the real rules (border_rules, cpa_pairs) on a synthetic territory:
party B holds the box 20-22E, 50-52N (segmentized, so its projected edge follows the
meridian), and an RU aircraft moves along the parallel 51N east of it. Corridors are
30/50/100 km with a 2 km margin. Times are fixed; no clock is read.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import shapely
from shapely.geometry import box

from hotline.domain.alerting import Alert, AlertBook, AlertState, Changes, key_of, severity_of
from hotline.domain.cpa import cpa_pairs
from hotline.domain.finding import Finding
from hotline.domain.geo import Picture, Theatre, border_rules
from hotline.domain.tracks import Track, TrackKind, make_track
from tests.unit.plane import offset

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
LAT = 51.0
CORRIDORS = (30_000.0, 50_000.0, 100_000.0)
BORDER_RULES = ("proximity", "incursion")
_A, _E2 = 6_378_137.0, 6.69437999014e-3
PARALLEL_RADIUS = (
    _A * math.cos(math.radians(LAT)) / math.sqrt(1 - _E2 * math.sin(math.radians(LAT)) ** 2)
)


@pytest.fixture(scope="module")
def theatre() -> Theatre:
    return Theatre({"B": shapely.segmentize(box(20, 50, 22, 52), 0.01)})


def aircraft(
    km: float, *, uid: str = "ru1", kind: TrackKind = TrackKind.AIRCRAFT, party: str = "RU"
) -> Track:
    """A track ``km`` east of B's east edge (22E), along the parallel 51N."""
    lon = 22.0 + math.degrees(km * 1000 / PARALLEL_RADIUS)
    return make_track(uid=uid, party=party, kind=kind, lat=LAT, lon=lon, time=T0)


class Run:
    """An AlertBook fed from border_rules, one evaluation per call, a minute apart."""

    def __init__(self, theatre: Theatre) -> None:
        self.theatre = theatre
        self.book = AlertBook(corridors=CORRIDORS)
        self.now = T0
        self.last: list[Finding] = []

    def at(self, *tracks: Track) -> Changes:
        self.now += timedelta(minutes=1)
        self.last = border_rules(self.theatre, Picture.of(self.theatre, list(tracks)))
        return self.book.update(self.last, self.now, BORDER_RULES)

    def alert(self, key: str = "proximity:ru1:B") -> Alert:
        return self.book.live[key]


def quiet(changes: Changes) -> bool:
    return not changes


# -- proximity hysteresis -----------------------------------------------------------


def test_hovering_at_the_30_km_corridor_opens_one_alert_and_does_not_flap(
    theatre: Theatre,
) -> None:
    run = Run(theatre)
    first = run.at(aircraft(29.9))
    [opened] = first.opened
    assert (first.changed, first.closed) == ([], [])
    assert (opened.key, opened.rule, opened.band, opened.severity, opened.state) == (
        "proximity:ru1:B",
        "proximity",
        30_000.0,
        "high",
        AlertState.OPEN,
    )
    raw_bands = set()
    for km in [30.1, 29.95, 30.05, 29.9] * 3 + [30.1, 31.5, 30.5]:
        changes = run.at(aircraft(km))
        assert quiet(changes), (km, changes)
        [f] = run.last
        raw_bands.add(f.band)
        assert f.holds == 30_000.0
        alert = run.alert()
        assert (alert.band, alert.severity, alert.state) == (30_000.0, "high", AlertState.OPEN)
        assert alert.value == pytest.approx(km * 1000, rel=0.005)
        assert alert.opened_at == opened.opened_at
        assert alert.updated_at == opened.updated_at  # nothing that matters changed
    # the rule itself did see the track leave the 30 km corridor: the book held it
    assert 50_000.0 in raw_bands
    assert len(run.book.live) == 1


def test_leaving_by_more_than_the_margin_eases_then_closes_after_clear_after(
    theatre: Theatre,
) -> None:
    run = Run(theatre)
    run.at(aircraft(29.0))
    opened_at = run.alert().opened_at

    eased = run.at(aircraft(33.0))
    [changed] = eased.changed
    assert (eased.opened, eased.closed) == ([], [])
    assert (changed.band, changed.severity) == (50_000.0, "medium")
    assert changed.updated_at == run.now
    assert changed.opened_at == opened_at

    # back to 31 km: out of 30 km, within its margin. The alert is at 50 km now and
    # tightens only when the track enters the 30 km corridor again
    assert quiet(run.at(aircraft(31.0)))
    assert run.alert().band == 50_000.0
    [worse] = run.at(aircraft(29.0)).changed
    assert (worse.band, worse.severity) == (30_000.0, "high")

    # leaving to 101 km: no corridor entered, the 100 km one still held: eased to it
    [low] = run.at(aircraft(101.0)).changed
    assert (low.band, low.severity) == (100_000.0, "low")

    # beyond 102 km: gone. It closes on the third evaluation without it, not before
    for missed in (1, 2):
        assert quiet(run.at(aircraft(110.0)))
        assert run.alert().missed == missed
        assert run.alert().state is AlertState.OPEN
    gone = run.at(aircraft(110.0))
    [closed] = gone.closed
    assert (gone.opened, gone.changed) == ([], [])
    assert closed.state is AlertState.CLOSED
    assert closed.missed == 3
    assert closed.updated_at == run.now
    assert run.book.live == {}

    # coming back opens a new alert
    back = run.at(aircraft(45.0))
    [again] = back.opened
    assert (again.band, again.severity, again.state) == (50_000.0, "medium", AlertState.OPEN)
    assert again.opened_at == run.now > opened_at
    assert again.missed == 0


def test_a_miss_is_forgiven_when_the_condition_returns(theatre: Theatre) -> None:
    run = Run(theatre)
    run.at(aircraft(20.0))
    run.at(aircraft(200.0))
    run.at(aircraft(200.0))
    assert run.alert().missed == 2
    assert quiet(run.at(aircraft(20.0)))
    assert run.alert().missed == 0
    run.at(aircraft(200.0))
    run.at(aircraft(200.0))
    assert "proximity:ru1:B" in run.book.live  # two misses, not three in a row


def test_beyond_the_narrowest_corridor_only_held_bands_open_nothing(theatre: Theatre) -> None:
    # 101 km: the rule reports proximity with no band (only "holds"): no alert opens
    run = Run(theatre)
    changes = run.at(aircraft(101.0))
    assert [f.band for f in run.last] == [None]
    assert quiet(changes)
    assert run.book.live == {}


def test_incursion_is_its_own_critical_alert(theatre: Theatre) -> None:
    run = Run(theatre)
    run.at(aircraft(5.0))
    inside = run.at(aircraft(-10.0))  # 10 km west of the edge: inside B
    [opened] = inside.opened
    assert (opened.key, opened.severity, opened.band) == ("incursion:ru1:B", "critical", 0.0)
    assert opened.summary() == "RU aircraft ru1 inside B's territory"
    # the proximity alert is not seen while the track is inside; it closes in time
    run.at(aircraft(-10.0))
    closing = run.at(aircraft(-10.0))
    assert [a.key for a in closing.closed] == ["proximity:ru1:B"]
    assert set(run.book.live) == {"incursion:ru1:B"}


@pytest.mark.parametrize(
    ("kind", "km", "severity"),
    [
        (TrackKind.MISSILE, 20.0, "critical"),
        (TrackKind.MISSILE, 45.0, "critical"),
        (TrackKind.MISSILE, 90.0, "critical"),
        (TrackKind.AIRCRAFT, 20.0, "high"),
        (TrackKind.AIRCRAFT, 45.0, "medium"),
        (TrackKind.AIRCRAFT, 90.0, "low"),
        (TrackKind.SHIP, 20.0, "high"),
    ],
)
def test_proximity_severity(theatre: Theatre, kind: TrackKind, km: float, severity: str) -> None:
    run = Run(theatre)
    [opened] = run.at(aircraft(km, kind=kind)).opened
    assert opened.severity == severity


def test_acknowledged_stays_acknowledged_until_it_closes(theatre: Theatre) -> None:
    run = Run(theatre)
    run.at(aircraft(25.0))
    acked = run.book.acknowledge("proximity:ru1:B")
    assert acked is not None
    assert acked.state is AlertState.ACKNOWLEDGED
    assert run.book.acknowledge("proximity:nobody:B") is None

    assert quiet(run.at(aircraft(25.0)))
    assert run.alert().state is AlertState.ACKNOWLEDGED
    [changed] = run.at(aircraft(40.0)).changed  # eased: still acknowledged
    assert changed.state is AlertState.ACKNOWLEDGED
    [changed] = run.at(aircraft(10.0)).changed  # worse again: still acknowledged
    assert changed.state is AlertState.ACKNOWLEDGED

    run.at(aircraft(300.0))
    run.at(aircraft(300.0))
    assert run.alert().state is AlertState.ACKNOWLEDGED
    [closed] = run.at(aircraft(300.0)).closed
    assert closed.state is AlertState.CLOSED

    [again] = run.at(aircraft(25.0)).opened
    assert again.state is AlertState.OPEN


def test_alerts_of_rules_not_evaluated_are_left_alone(theatre: Theatre) -> None:
    run = Run(theatre)
    run.at(aircraft(25.0))
    for _ in range(5):
        changes = run.book.update([], run.now, ("cpa", "stale"))
        assert quiet(changes)
    assert run.alert().missed == 0


def test_a_book_starts_from_live_alerts_and_ignores_closed_ones(theatre: Theatre) -> None:
    run = Run(theatre)
    run.at(aircraft(25.0), aircraft(45.0, uid="ru2"))
    live = list(run.book.live.values())
    closed = replace(live[1], state=AlertState.CLOSED)
    book = AlertBook([live[0], closed], corridors=CORRIDORS)
    assert set(book.live) == {live[0].key}
    changes = book.update(run.last, run.now, BORDER_RULES)
    # ru1 continues quietly; ru2's closed alert is not live, so it opens anew
    assert [a.key for a in changes.opened] == [live[1].key]
    assert changes.changed == []


# -- CPA alerts ---------------------------------------------------------------------


def pair(theatre: Theatre, dx: float, *, kind_ru: TrackKind = TrackKind.AIRCRAFT) -> list[Track]:
    """An RU and a NATO track at 10E 52N, ``dx`` m apart east-west, both stationary."""
    lon, lat = offset(10.0, 52.0, dx, 0.0)
    return [
        make_track(uid="ru1", party="RU", kind=kind_ru, lat=52.0, lon=10.0, time=T0),
        make_track(uid="nato1", party="NATO", kind=TrackKind.AIRCRAFT, lat=lat, lon=lon, time=T0),
    ]


def test_cpa_alert_opens_and_closes_after_clear_after_evaluations(theatre: Theatre) -> None:
    book = AlertBook(corridors=CORRIDORS)
    findings = cpa_pairs(Picture.of(theatre, pair(theatre, 5_000)))
    [opened] = book.update(findings, T0, ("cpa",)).opened
    assert opened.key == key_of(findings[0]) == "cpa:nato1:ru1"
    assert opened.severity == "high"
    summary = "NATO aircraft nato1 and RU ru1 will pass within 2.7 NM in 0.0 min"
    assert opened.summary() == summary
    # a later evaluation of other rules does not count as a miss
    assert not book.update([], T0 + timedelta(minutes=1), ("proximity", "incursion"))
    far = cpa_pairs(Picture.of(theatre, pair(theatre, 20_000)))
    assert far == []
    assert not book.update(far, T0 + timedelta(minutes=2), ("cpa",))
    assert not book.update(far, T0 + timedelta(minutes=3), ("cpa",))
    [closed] = book.update(far, T0 + timedelta(minutes=4), ("cpa",)).closed
    assert closed.key == "cpa:nato1:ru1"
    assert closed.state is AlertState.CLOSED
    assert book.live == {}


def test_cpa_with_a_missile_is_critical_when_the_missile_is_listed_first(
    theatre: Theatre,
) -> None:
    # "NATO" sorts before "RU": make the missile NATO's, so the finding is about it
    tracks = pair(theatre, 5_000)
    missile = replace(tracks[1], uid="m1", kind=TrackKind.MISSILE)
    [f] = cpa_pairs(Picture.of(theatre, [tracks[0], missile]))
    assert (f.uid, f.kind) == ("m1", TrackKind.MISSILE)
    assert severity_of(f, CORRIDORS) == "critical"


def test_cpa_with_a_missile_is_critical_whichever_party_it_belongs_to(
    theatre: Theatre,
) -> None:
    tracks = pair(theatre, 5_000, kind_ru=TrackKind.MISSILE)  # RU missile, NATO aircraft
    [f] = cpa_pairs(Picture.of(theatre, tracks))
    assert severity_of(f, CORRIDORS) == "critical"


# -- keys, severities and summaries ---------------------------------------------------


def finding(rule: str, **kw: object) -> Finding:
    base: dict[str, object] = {
        "rule": rule,
        "uid": "ru1",
        "party": "RU",
        "other": "NATO",
        "value": 0.0,
        "band": None,
        "kind": TrackKind.AIRCRAFT,
        "lat": 52.0,
        "lon": 24.0,
        "detail": {},
    }
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


def test_keys() -> None:
    assert key_of(finding("proximity")) == "proximity:ru1:NATO"
    assert key_of(finding("incursion")) == "incursion:ru1:NATO"
    assert key_of(finding("cpa", detail={"with_uid": "a0"})) == "cpa:a0:ru1"
    assert key_of(finding("cpa", uid="a0", detail={"with_uid": "ru1"})) == "cpa:a0:ru1"
    assert key_of(finding("unannounced")) == "unannounced:ru1"
    assert key_of(finding("stale")) == "stale:ru1"


@pytest.mark.parametrize(
    ("f", "severity"),
    [
        (finding("incursion", band=0.0), "critical"),
        (finding("proximity", band=30_000.0), "high"),
        (finding("proximity", band=50_000.0), "medium"),
        (finding("proximity", band=100_000.0), "low"),
        (finding("proximity", band=70_000.0), "low"),  # not a corridor: the widest
        (finding("proximity", band=30_000.0, kind=TrackKind.MISSILE), "critical"),
        (finding("cpa"), "high"),
        (finding("cpa", kind=TrackKind.MISSILE), "critical"),
        (finding("unannounced"), "medium"),
        (finding("stale"), "low"),
        (finding("stale", kind=TrackKind.MISSILE), "low"),
    ],
)
def test_severity_of(f: Finding, severity: str) -> None:
    assert severity_of(f, CORRIDORS) == severity


def test_summaries(theatre: Theatre) -> None:
    run = Run(theatre)
    [prox] = run.at(aircraft(24.46)).opened
    assert prox.summary() == "RU aircraft ru1 24.5 km from B's border"
    book = AlertBook(corridors=CORRIDORS)
    changes = book.update(
        [
            finding("unannounced", other="NATO"),
            finding("stale", uid="ru2", party=None, kind=TrackKind.SHIP, value=901.4),
        ],
        T0,
        ("unannounced", "stale"),
    )
    assert sorted(a.summary() for a in changes.opened) == [
        "? ship ru2 not heard from for 901 s",
        "RU aircraft ru1 near NATO matches no notification of RU",
    ]
