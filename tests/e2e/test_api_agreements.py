"""Agreements in the operator API, in-process: proposed and signed by the parties'
leaders (the node signs for its party), read by anyone on the line in the reader's
language, refused to a watch officer, and wrong terms refused saying why. The lab node of
``test_api`` (US, hosting RU) on a fake clock."""

from __future__ import annotations

from tests.e2e.test_api import (
    DECONFLICTION,
    JOC,
    LEADERS,
    MINDEF,
    NDMC,
    SECDEF,
    Api,
    api,
    ok,
    refused,
)

__all__ = ["api"]  # the fixture, imported

TERMS = """
title: {en: Leaders' understanding, ru: Договорённость руководителей}
zones:
  - {id: drones, kinds: [uav], km: 15}
notice: {strategic_exercise: 21d}
start: 2026-03-01T00:00:00Z
end: none
"""


def test_leaders_propose_and_sign_and_the_line_reads_it(api: Api) -> None:
    made = ok(api.post(SECDEF, f"/lines/{LEADERS}/agreements", {"terms": TERMS}), 201)
    ident = made["content"]["agreement"]
    [listed] = ok(api.get(MINDEF, f"/lines/{LEADERS}/agreements", lang="ru"))
    assert (listed["id"], listed["state"], listed["title"]) == (
        ident,
        "proposed",
        "Договорённость руководителей",
    )
    assert listed["end"] is None and listed["zones"] == [
        {"id": "drones", "kinds": ["uav"], "km": 15.0}
    ]
    ok(api.post(SECDEF, f"/lines/{LEADERS}/agreements/{ident[:10]}/sign", {}), 201)
    ok(api.post(MINDEF, f"/lines/{LEADERS}/agreements/{ident}/sign", {}), 201)
    [signed] = ok(api.get(SECDEF, f"/lines/{LEADERS}/agreements"))
    assert signed["state"] == "in force" and set(signed["signed"]) == {"US", "RU"}
    refused(api.post(SECDEF, f"/lines/{LEADERS}/agreements/{ident}/sign", {}), 409, "already")
    # the notice a strategic exercise needs: 21 days on that line, the node's 14 elsewhere
    rules = {
        a["activity"]: a["lead_time_seconds"]
        for a in ok(api.get(SECDEF, "/notices/activities", line=LEADERS))
    }
    assert rules["strategic_exercise"] == 21 * 86400
    node = {
        a["activity"]: a["lead_time_seconds"] for a in ok(api.get(SECDEF, "/notices/activities"))
    }
    assert node["strategic_exercise"] == 14 * 86400
    refused(api.get(JOC, "/notices/activities", line=LEADERS), 404)  # not on that line


def test_a_watch_officer_may_read_but_not_sign_and_wrong_terms_say_why(api: Api) -> None:
    refused(
        api.post(NDMC, f"/lines/{DECONFLICTION}/agreements", {"terms": TERMS}),
        403,
        "leaders and admins",
    )
    assert ok(api.get(JOC, f"/lines/{DECONFLICTION}/agreements")) == []
    refused(api.get(JOC, f"/lines/{LEADERS}/agreements"), 404)  # not on that line
    no_end = TERMS.replace("end: none\n", "")
    refused(
        api.post(SECDEF, f"/lines/{LEADERS}/agreements", {"terms": no_end}),
        400,
        "'start' and 'end' are both said",
    )
    refused(
        api.post(SECDEF, f"/lines/{LEADERS}/agreements", {"terms": "zones: [unclosed"}),
        400,
        "not valid YAML",
    )
    refused(api.post(SECDEF, f"/lines/{LEADERS}/agreements/abcdef12/sign", {}), 404)


def test_the_map_draws_the_zones_of_the_agreements_in_force(api: Api) -> None:
    from hotline.domain.tracks import TrackKind, make_track

    now = api.clock.now()
    api.node.awareness.ingest(  # a drone over the Baltic: the theatre is built there
        [make_track(uid="us-mq9", party="US", kind=TrackKind.UAV, lat=55.06, lon=19.9, time=now)]
    )
    api.node.awareness.evaluate(now)
    assert ok(api.get(JOC, "/map"))["zones"] == []
    made = ok(api.post(SECDEF, f"/lines/{LEADERS}/agreements", {"terms": TERMS}), 201)
    ident = made["content"]["agreement"]
    for leader in (SECDEF, MINDEF):
        ok(api.post(leader, f"/lines/{LEADERS}/agreements/{ident}/sign", {}), 201)
    zones = ok(api.get(JOC, "/map"))["zones"]
    # around each party's land where tracks have been: here only Russia's (Kaliningrad)
    assert {z["properties"]["party"] for z in zones} == {"RU"}
    [ru] = [z for z in zones if z["properties"]["party"] == "RU"]
    assert ru["properties"]["agreement"] == ident
    assert ru["properties"]["kinds"] == ["uav"] and ru["properties"]["km"] == 15.0
    assert ru["properties"]["titles"]["ru"] == "Договорённость руководителей"
    assert ru["geometry"]["type"] in {"LineString", "MultiLineString"}
