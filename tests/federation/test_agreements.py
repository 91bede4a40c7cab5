"""Agreements between the parties of a line: typed terms, signed by both, that drive the
awareness rules (zones by kind of track) and the notice lead times, on both nodes alike;
terminated the same way, after which the node's defaults apply again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hotline.app import Node
from hotline.domain.errors import InvalidInput, PolicyRefused, Refused
from hotline.domain.intent import Activity
from hotline.domain.precedence import Precedence
from hotline.domain.tracks import TrackKind, make_track
from hotline.services.notices import ShortNotice
from tests.federation.conftest import Pair

LINE = "us-ru-deconfliction"
# over the Baltic, north of Kaliningrad: about 12 km and 30 km from Russia's border
DRONE_AT = (55.0625, 19.9)
FIGHTER_AT = (55.233, 19.9)


def terms(pair: Pair, **more: Any) -> dict[str, Any]:
    return {
        "title": {"en": "Baltic airspace understanding", "ru": "Договорённость о Балтике"},
        "zones": [
            {"id": "fixed-wing", "kinds": ["aircraft"], "km": 20},
            {"id": "drones", "kinds": ["uav"], "km": 15},
        ],
        "notice": {"naval_exercise": "5d"},
        "start": (pair.clock.now() - timedelta(hours=1)).isoformat(),
        "end": "none",
        **more,
    }


def proximity(node: Node) -> dict[str, Any]:
    """The live proximity alerts of US's tracks, by track uid, after a fresh evaluation
    of a drone and a fighter of US near Kaliningrad."""
    now = node.writer.now()
    node.awareness.ingest(
        [
            make_track(
                uid="us-mq9",
                party="US",
                kind=TrackKind.UAV,
                lat=DRONE_AT[0],
                lon=DRONE_AT[1],
                time=now,
            ),
            make_track(
                uid="us-f35",
                party="US",
                kind=TrackKind.AIRCRAFT,
                lat=FIGHTER_AT[0],
                lon=FIGHTER_AT[1],
                time=now,
            ),
        ]
    )
    node.awareness.evaluate(now)
    return {a.uid: a for a in node.awareness.live() if a.rule == "proximity"}


def test_an_agreement_signed_by_both_sets_the_zones_and_its_end_restores_the_defaults(
    pair: Pair,
) -> None:
    proposal = pair.us.agreements.propose(LINE, terms(pair))
    ident = proposal.content["agreement"]
    pair.settle()
    [seen] = pair.ru.agreements.of_line(LINE)
    parties = ("US", "RU")
    assert (seen.id, seen.state(parties, pair.clock.now())) == (ident, "proposed")
    assert pair.us.agreements.in_force(LINE) == []

    pair.us.agreements.sign(LINE, ident[:8])
    pair.ru.agreements.sign(LINE, ident[:8])
    pair.settle()
    for node in (pair.us, pair.ru):  # both nodes hold the same agreement in force
        [held] = node.agreements.in_force(LINE)
        assert held.id == ident and set(held.signed) == {"US", "RU"}

    alerts = proximity(pair.us)
    assert set(alerts) == {"us-mq9"}  # the fighter, ~30 km out, is outside its 20 km zone
    drone = alerts["us-mq9"]
    assert 11_000 < drone.value < 13_000
    assert drone.detail["agreement"] == ident
    assert "drones: uav 15 km" in drone.summary()

    # the lead times on the line are the agreement's: 5 days for a naval exercise
    rules = pair.us.notices.rules(LINE)
    assert rules[Activity.NAVAL_EXERCISE] == timedelta(days=5)
    with pytest.raises(ShortNotice):
        pair.us.notices.send(
            LINE,
            "US/EUCOM-JOC",
            activity=Activity.NAVAL_EXERCISE,
            start=pair.clock.now() + timedelta(days=4),
            end=pair.clock.now() + timedelta(days=4, hours=6),
            area={"center": [19.0, 55.5], "radius": 20, "unit": "km"},
            units=("USS Example",),
            remark="",
            precedence=Precedence.PRIORITY,
            to=(),
            confirm_short_notice=False,
        )

    # terminated by both: the node's corridors (30, 50, 100 km) apply again
    pair.us.agreements.terminate(LINE, ident)
    pair.settle()
    assert pair.us.agreements.in_force(LINE) != []  # one party alone does not end it
    pair.ru.agreements.terminate(LINE, ident)
    pair.settle()
    assert pair.us.agreements.in_force(LINE) == []
    assert pair.us.agreements.of_line(LINE)[0].state(parties, pair.clock.now()) == "terminated"
    alerts = proximity(pair.us)
    assert set(alerts) == {"us-mq9", "us-f35"}
    assert "agreement" not in alerts["us-f35"].detail
    assert pair.us.notices.rules(LINE)[Activity.NAVAL_EXERCISE] == timedelta(days=3)


def test_an_amendment_in_force_replaces_the_agreement_it_amends(pair: Pair) -> None:
    first = pair.us.agreements.propose(LINE, terms(pair)).content["agreement"]
    for node in (pair.us, pair.ru):
        pair.settle()
        node.agreements.sign(LINE, first)
    wider = terms(pair, zones=[{"id": "drones", "kinds": ["uav"], "km": 10}])
    second = pair.ru.agreements.propose(LINE, wider, amends=first[:10]).content["agreement"]
    pair.settle()
    assert [a.id for a in pair.us.agreements.in_force(LINE)] == [first]  # not yet agreed
    for node in (pair.us, pair.ru):
        node.agreements.sign(LINE, second)
    pair.settle()
    states = {
        a.id: a.state(("US", "RU"), pair.clock.now()) for a in pair.us.agreements.of_line(LINE)
    }
    assert states == {first: "amended", second: "in force"}
    alerts = proximity(pair.us)
    assert "us-mq9" not in alerts  # ~12 km: beyond the amended 10 km drone zone


def test_terms_say_what_is_wrong(pair: Pair) -> None:
    cases = [
        ({"end": None}, "'end' is a time"),  # "no expiry" is said, never implied
        ({"zones": 5}, "'zones' is a list"),
        ({"start": 7}, "'start' is a time"),
        ({"zones": [{"id": "x", "kinds": ["tank"], "km": 5}]}, "'kinds' lists track kinds"),
        ({"zones": [{"id": "x", "kinds": ["uav"], "km": 500}]}, "at most 100"),
        ({"exceptions": ["nowhere"]}, "'exceptions' lists ids"),
        ({"start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, "not after 'start'"),
    ]
    for change, said in cases:
        with pytest.raises(InvalidInput, match=said):
            pair.us.agreements.propose(LINE, terms(pair, **change))
    unsaid = terms(pair)
    del unsaid["end"]
    with pytest.raises(InvalidInput, match="'start' and 'end' are both said"):
        pair.us.agreements.propose(LINE, unsaid)
    ident = pair.us.agreements.propose(LINE, terms(pair)).content["agreement"]
    with pytest.raises(Refused, match="already"):
        pair.us.agreements.propose(LINE, terms(pair))
    with pytest.raises(PolicyRefused, match="not signed by every party"):
        pair.us.agreements.terminate(LINE, ident)
    pair.us.agreements.sign(LINE, ident)
    with pytest.raises(Refused, match=r"signed agreement \w+ already"):
        pair.us.agreements.sign(LINE, ident)


def test_an_amendment_not_started_leaves_the_agreement_in_force(pair: Pair) -> None:
    first = pair.us.agreements.propose(LINE, terms(pair)).content["agreement"]
    pair.settle()
    for node in (pair.us, pair.ru):
        node.agreements.sign(LINE, first)
    later = terms(pair, start=(pair.clock.now() + timedelta(days=30)).isoformat())
    second = pair.us.agreements.propose(LINE, later, amends=first).content["agreement"]
    pair.settle()
    for node in (pair.us, pair.ru):
        node.agreements.sign(LINE, second)
    pair.settle()
    states = {
        a.id: a.state(("US", "RU"), pair.clock.now()) for a in pair.ru.agreements.of_line(LINE)
    }
    assert states == {first: "in force", second: "signed"}
    pair.clock.advance(days=31)
    states = {
        a.id: a.state(("US", "RU"), pair.clock.now()) for a in pair.ru.agreements.of_line(LINE)
    }
    assert states == {first: "amended", second: "in force"}


def test_a_notified_activity_lifts_the_zone_the_terms_let_it(pair: Pair) -> None:
    wide = terms(
        pair,
        zones=[{"id": "fixed-wing", "kinds": ["aircraft"], "km": 40}],
        exceptions=["fixed-wing"],
    )
    ident = pair.us.agreements.propose(LINE, wide).content["agreement"]
    pair.settle()
    for node in (pair.us, pair.ru):
        node.agreements.sign(LINE, ident)
    pair.settle()
    fighter = proximity(pair.us)["us-f35"]  # ~30 km: inside the 40 km zone
    assert fighter.detail["agreement"] == ident
    now = pair.clock.now()
    pair.us.notices.send(
        LINE,
        "US/EUCOM-JOC",
        activity=Activity.AIR_PATROL,
        start=now - timedelta(minutes=5),
        end=now + timedelta(hours=2),
        area={"center": [FIGHTER_AT[1], FIGHTER_AT[0]], "radius": 20, "unit": "km"},
        units=("F-35A",),
        remark="",
        precedence=Precedence.PRIORITY,
        to=(),
        confirm_short_notice=True,
    )
    pair.clock.advance(minutes=10)  # the alert clears after evaluations without it
    for _ in range(4):
        alerts = proximity(pair.us)
    assert "us-f35" not in alerts  # its zone lifted by the notification
    assert "us-mq9" in alerts  # a kind no zone names keeps the node's corridors


def test_a_zone_alert_holds_to_the_margin_past_the_zone_edge(pair: Pair) -> None:
    ident = pair.us.agreements.propose(LINE, terms(pair)).content["agreement"]
    pair.settle()
    pair.us.agreements.sign(LINE, ident)
    pair.ru.agreements.sign(LINE, ident)
    pair.settle()

    def drone_at(lat: float) -> Any:
        pair.clock.advance(seconds=10)
        now = pair.us.writer.now()
        pair.us.awareness.ingest(
            [make_track(uid="us-mq9", party="US", kind=TrackKind.UAV, lat=lat, lon=19.9, time=now)]
        )
        pair.us.awareness.evaluate(now)
        found = [a for a in pair.us.awareness.live() if a.uid == "us-mq9" and a.rule == "proximity"]
        return found[0] if found else None

    # about 16 km out, past the 15 km zone by less than the margin: no alert opens
    assert drone_at(55.0985) is None
    opened = drone_at(DRONE_AT[0])  # ~12 km: inside the zone
    assert opened is not None and opened.detail["agreement"] == ident
    for _ in range(4):  # back at ~17 km, evaluation after evaluation: the alert holds
        held = drone_at(55.11)
        assert held is not None and held.key == opened.key and held.opened_at == opened.opened_at
    for _ in range(4):  # ~20 km: out by more than the margin, it closes
        last = drone_at(55.1345)
    assert last is None
