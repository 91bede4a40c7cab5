"""What a scenario expects the nodes to do by themselves (``expect``), and the check of a
record against a scenario (hotline.exercise.story): on time, late, early, missing."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
import yaml

from hotline.domain.errors import InvalidInput
from hotline.domain.events import Event
from hotline.domain.scenario import parse_scenario
from hotline.exercise.record import AlertState
from hotline.exercise.story import check_story, out_of_order

BALTIC: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parents[2] / "src/hotline/scenarios/baltic-2022.yaml").read_text("utf-8")
)
SCENARIO = parse_scenario(copy.deepcopy(BALTIC))
START = SCENARIO.start
INDEX = {s.name: s.index for s in SCENARIO.steps if s.name}


def at(text: str) -> datetime:
    from hotline.domain.scenario import parse_offset

    return START + parse_offset(text, "test")


def refused(expect: list[Any]) -> InvalidInput:
    data = copy.deepcopy(BALTIC)
    data["expect"] = expect
    with pytest.raises(InvalidInput) as info:
        parse_scenario(data)
    return info.value


def test_baltic_expects_the_escalation_the_expiries_the_alert_and_the_outage() -> None:
    kinds = [(x.what, x.value) for x in SCENARIO.expect]
    assert ("escalation", "resend") in kinds
    assert ("escalation", "relay") in kinds
    assert ("escalation", "alert") in kinds
    assert ("expire", "call2") in kinds
    assert ("alert", "proximity") in kinds
    assert ("link", "down") in kinds and ("link", "up") in kinds
    alert = next(x for x in SCENARIO.expect if x.what == "alert")
    assert alert.args == {"node": "US", "party": "RU", "km": [20, 28]}
    assert alert.at == timedelta(days=12, seconds=30)


def test_a_scenario_without_expect_expects_nothing() -> None:
    data = copy.deepcopy(BALTIC)
    del data["expect"]
    assert parse_scenario(data).expect == ()


@pytest.mark.parametrize(
    ("expect", "field", "words"),
    [
        ("soon", "expect", "a list"),
        ([{"at": "1d"}], "expect[0]", "name one of"),
        ([{"at": "1d", "expire": "call2", "link": "up"}], "expect[0]", "name one of"),
        ([{"expire": "call2"}], "expect[0].at", "say when"),
        ([{"at": "soon", "expire": "call2"}], "expect[0].at", "not a time offset"),
        ([{"at": "1d", "expire": "flight1"}], "expect[0].expire", "no request step"),
        ([{"at": "1d", "expire": "call2", "colour": 1}], "expect[0]", "unknown field(s) colour"),
        ([{"at": "1d", "escalation": "shout", "message": "q1"}], "expect[0].escalation", "one of"),
        ([{"at": "1d", "escalation": "resend"}], "expect[0]", "missing message"),
        ([{"at": "1d", "escalation": "resend", "message": "call1"}], "expect[0].message", "no"),
        ([{"at": "1d", "alert": "proximity"}], "expect[0]", "missing node"),
        ([{"at": "1d", "alert": "proximity", "node": "US", "km": [9, 3]}], "expect[0].km", "km"),
        ([{"at": "1d", "alert": "proximity", "node": "US", "km": 5}], "expect[0].km", "km"),
        ([{"at": "1d", "link": "sideways", "node": "US"}], "expect[0].link", "up or down"),
        ([{"at": "1d", "link": "up"}], "expect[0]", "missing node"),
        ([{"at": "1d", "link": "up", True: "US"}], "expect[0]", "unknown field(s) True"),
    ],
    ids=repr,
)
def test_a_bad_expectation_is_refused_naming_the_place(expect: Any, field: str, words: str) -> None:
    error = refused(expect)
    assert error.field == field
    assert words in error.message


# -- the check of a record -------------------------------------------------------------------


def event(ident: str, kind: str, ts: datetime, party: str = "US", **content: Any) -> Event:
    author = content.pop("author", f"{party}/OPS")
    line = content.pop("line", "us-ru-deconfliction")
    return cast(
        Event,
        SimpleNamespace(
            id=ident, kind=kind, ts=ts, party=party, author=author, line=line, content=content
        ),
    )


def record(**late: timedelta) -> dict[str, Event]:
    """The record of a good run; ``late`` delays named things."""
    q1 = at("12d1m")
    ok = timedelta(0)
    events = [
        event("q1", "message", q1 + late.get("q1", ok)),
        event("call2", "contact.request", at("2h")),
        event("x1", "contact.expire", at("2d2h") + late.get("expire", ok), ref="call2"),
        event("call3", "contact.request", at("4d")),
        event("x2", "contact.expire", at("6d"), ref="call3"),
        event("e1", "escalation", at("12d11m") + late.get("resend", ok), ref="q1", action="resend"),
        event(
            "e2",
            "escalation",
            at("12d16m"),
            ref="q1",
            action="relay",
            line="us-ru-attache",
            from_line="us-ru-deconfliction",
        ),
        event("e3", "escalation", at("12d21m"), ref="q1", action="alert"),
        event("e4", "escalation", at("12d29m"), ref="q1", action="stop"),
        event("l1", "linktest", at("12d1h5m"), paths=[{"ok": False}], peer="RU"),
        event("l2", "linktest", at("12d1h10m"), "RU", paths=[{"ok": False}], peer="US"),
        event("l3", "linktest", at("12d1h15m"), paths=[{"ok": True}], peer="RU"),
        event("l4", "linktest", at("12d1h20m"), "RU", paths=[{"ok": True}], peer="US"),
    ]
    return {e.id: e for e in events if "drop_" + e.id not in late}


def alerts(km: float = 24.3) -> list[AlertState]:
    return [
        AlertState("US", 1, "proximity", "critical", "RU", 55.9, at("12d"), "far"),
        AlertState("US", 1, "proximity", "critical", "RU", km, at("12d30s"), "near"),
    ]


STEPS = {INDEX["q1"]: "q1", INDEX["call2"]: "call2", INDEX["call3"]: "call3"}


def test_a_good_record_passes_every_check() -> None:
    checks = check_story(SCENARIO, STEPS, record(), alerts())
    assert [c.text for c in checks if not c.ok] == []
    assert sum(c.expected for c in checks) == len(SCENARIO.expect)
    assert any("resend of q1: 13 Mar 09:11" in c.text for c in checks)


def test_a_late_escalation_is_named_with_how_late() -> None:
    checks = check_story(SCENARIO, STEPS, record(resend=timedelta(minutes=14)), alerts())
    bad = [c.text for c in checks if not c.ok]
    assert bad == ["resend of q1: due 13 Mar 09:11, on the record 14m late"]


def test_a_step_recorded_late_is_named() -> None:
    checks = check_story(SCENARIO, STEPS, record(q1=timedelta(minutes=14)), alerts())
    assert "steps[10] (q1) draft: due 13 Mar 09:01, on the record 14m late" in [
        c.text for c in checks if not c.ok
    ]


def test_a_missing_relay_is_named() -> None:
    checks = check_story(SCENARIO, STEPS, record(drop_e2=timedelta(0)), alerts())
    assert [c.text for c in checks if not c.ok] == [
        "relay of q1 over us-ru-attache: due 13 Mar 09:16, not on the record"
    ]


def test_an_alert_at_the_wrong_distance_says_where_it_came() -> None:
    checks = check_story(SCENARIO, STEPS, record(), alerts(km=48.4))
    (bad,) = [c.text for c in checks if not c.ok]
    assert "proximity alert on US (RU's track, 20-28 km)" in bad
    assert "came at 55.9 km at 13 Mar 09:00, 48.4 km at 13 Mar 09:00:30 instead" in bad


def test_a_link_that_never_failed_is_named() -> None:
    checks = check_story(SCENARIO, STEPS, record(drop_l1=timedelta(0)), alerts())
    assert [c.text for c in checks if not c.ok] == [
        "US's link test DOWN: due 13 Mar 10:05, not on the record"
    ]


def test_out_of_order_counts_each_step_back() -> None:
    assert out_of_order([at("1h"), at("2h"), at("2h"), at("3h")]) == 0
    assert out_of_order([at("1h"), at("3h"), at("2h"), at("4h"), at("1h")]) == 2
