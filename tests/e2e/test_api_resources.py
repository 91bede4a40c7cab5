"""The operator API's resources beyond sending and reading: a message read with its
thread, the inbox's time left on the node's clock, contact requests answered one
operation each and their record over time, the ledger's verification made again only
when the ledger changed, and the map's layers with an ETag. The lab node of
``test_api`` (US, hosting RU) on a fake clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hotline.domain.clock import format_time, parse_time
from hotline.services import verification
from tests.e2e.conftest import Run
from tests.e2e.test_api import DECONFLICTION, JOC, MINDEF, NDMC, SECDEF, Api, api, ok

__all__ = ["api"]  # the fixture, imported


def test_a_message_is_read_with_its_thread(api: Api) -> None:
    first = ok(api.send(JOC, DECONFLICTION, subject="Patrol at 0900", precedence="PRIORITY"), 201)
    ok(api.post(NDMC, f"/messages/{first['id']}/ack", {"reply": "Noted, thank you"}), 201)
    later = ok(api.send(JOC, DECONFLICTION, subject="Patrol moved", refs=[first["id"]]), 201)

    read = ok(api.get(NDMC, f"/messages/{first['id']}/read"))
    assert [e["id"] for e in read["thread"]["referred_by"]] == [later["id"]]
    assert read["thread"]["refs"] == []
    (ack,) = read["thread"]["acks"]
    assert (ack["by"], ack["reply"]) == (NDMC, "Noted, thank you")

    read = ok(api.get(NDMC, f"/messages/{later['id']}/read"))
    assert [e["id"] for e in read["thread"]["refs"]] == [first["id"]]
    assert read["thread"]["referred_by"] == [] and read["thread"]["acks"] == []


def test_the_inbox_counts_down_on_the_nodes_clock(api: Api) -> None:
    sent = ok(api.send(JOC, DECONFLICTION, subject="Now", precedence="FLASH"), 201)
    (item,) = [i for i in ok(api.get(NDMC, "/inbox")) if i["id"] == sent["id"]]
    deadline = parse_time(item["deadline"])
    assert item["left_seconds"] == (deadline - api.clock.now()).total_seconds()
    api.clock.advance(hours=2)
    (item,) = [i for i in ok(api.get(NDMC, "/inbox")) if i["id"] == sent["id"]]
    assert item["left_seconds"] == (deadline - api.clock.now()).total_seconds() < 0
    assert item["seconds_left"] == item["left_seconds"]


def test_contact_requests_are_answered_one_operation_each(api: Api) -> None:
    first = ok(api.post(SECDEF, "/contacts", {"to": MINDEF, "topic": "Black Sea"}), 201)
    second = ok(api.post(SECDEF, "/contacts", {"to": MINDEF, "topic": "Airspace"}), 201)
    third = ok(api.post(SECDEF, "/contacts", {"to": MINDEF, "topic": "Exchange"}), 201)
    declined = ok(api.post(MINDEF, f"/contacts/{first['id']}/decline", {"reason": "not now"}))
    assert (declined["status"], declined["reason"]) == ("declined", "not now")
    at = (api.clock.now() + timedelta(hours=1)).isoformat()
    accepted = ok(api.post(MINDEF, f"/contacts/{second['id']}/accept", {"time": at}))
    assert accepted["status"] == "accepted" and accepted["proposed_time"]
    cancelled = ok(api.post(SECDEF, f"/contacts/{third['id']}/cancel", {"reason": "moot"}))
    assert cancelled["status"] == "cancelled"
    api.clock.advance(hours=2)
    held = ok(api.post(SECDEF, f"/contacts/{second['id']}/held", {"summary": "20 minutes"}))
    assert (held["status"], held["summary"]) == ("held", "20 minutes")


def test_the_record_of_contact_requests_over_time(api: Api) -> None:
    for topic in ("one", "two"):
        asked = ok(api.post(SECDEF, "/contacts", {"to": MINDEF, "topic": topic}), 201)
        ok(api.post(MINDEF, f"/contacts/{asked['id']}/decline", {"reason": "no"}))
        api.clock.advance(days=12)
    ok(api.post(SECDEF, "/contacts", {"to": MINDEF, "topic": "three"}), 201)

    found = ok(api.get(SECDEF, "/contacts/history", days=30, bucket_days=10))
    assert (found["days"], found["bucket_days"]) == (30, 10)
    counts = [sum(p["requested"] for p in b["pairs"]) for b in found["buckets"]]
    assert len(counts) == 3 and sum(counts) == 3  # one request in each 10 days
    (total,) = found["totals"]
    assert (total["from"], total["to"]) == (SECDEF, MINDEF)
    assert (total["requested"], total["declined"], total["accepted"]) == (3, 2, 0)
    assert ok(api.get(JOC, "/contacts/history"))["totals"] == []  # not on the leaders line
    assert api.get(SECDEF, "/contacts/history", bucket_days=0).status_code == 400


def test_the_verification_is_made_again_only_when_the_ledger_changed(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[int] = []
    real = verification.verify_store

    def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(verification, "verify_store", counted)
    first = ok(api.get(JOC, "/verify"))
    assert first["ok"] and ok(api.get(JOC, "/verify")) == first
    assert len(runs) == 1
    ok(api.send(JOC, DECONFLICTION), 201)
    again = ok(api.get(JOC, "/verify"))
    assert len(runs) == 2 and again["events"] > first["events"]
    assert again["position"] > first["position"]


def test_the_map_answers_304_when_nothing_changed(api: Api) -> None:
    first = api.get(JOC, "/map")
    assert first.status_code == 200 and set(first.json()) == {
        "countries",
        "borders",
        "tracks",
        "alerts",
        "announced",
        "corridors",
        "zones",
    }
    tag = first.headers["etag"]
    assert api.get(JOC, "/map").headers["etag"] == tag
    headers = {**api.auth(JOC), "If-None-Match": tag}
    unchanged = api.client.get("/api/v1/map", headers=headers)
    assert unchanged.status_code == 304 and unchanged.content == b""
    other = api.client.get("/api/v1/map", headers={**api.auth(JOC), "If-None-Match": '"x"'})
    assert other.status_code == 200 and other.json() == first.json()
    assert api.client.get("/api/v1/map", headers={"If-None-Match": tag}).status_code == 401


def test_the_basemap_comes_in_tiles_cut_from_the_shipped_borders(api: Api) -> None:
    world = ok(api.get(JOC, "/map/tiles/0/0/0"))
    assert (world["z"], world["x"], world["y"]) == (0, 0, 0)
    codes = {c["a3"] for c in world["land"]}
    assert {"USA", "RUS", "CHN", "IND", "PAK", "PRK", "KOR", "TWN", "POL", "AUS"} <= codes
    # a tile over the Korean peninsula at zoom 6 holds both Koreas, and nothing of Europe
    korea = ok(api.get(JOC, "/map/tiles/6/54/24"))
    assert {"PRK", "KOR"} <= {c["a3"] for c in korea["land"]} and "POL" not in korea
    assert api.get(JOC, "/map/tiles/6/54/24").headers["cache-control"].startswith("private")
    labels = {c["a3"]: c for c in ok(api.get(JOC, "/map"))["countries"]}
    assert labels["RUS"]["names"]["ru"] == "Россия" and labels["RUS"]["names"]["en"] == "Russia"
    assert len(labels) == 250 and "geometry" not in labels["POL"]
    for path, field in (
        ("/map/tiles/11/0/0", "z"),
        ("/map/tiles/2/4/0", "x"),
        ("/map/tiles/2/-1/0", "x"),
    ):
        bad = api.get(JOC, path)
        assert bad.status_code == 400, path
        assert bad.json()["type"].endswith("invalid-input") and field in bad.json()["detail"]
    assert api.get(JOC, "/map/tiles/a/0/0").status_code == 400  # validation: a problem, 400
    assert api.client.get("/api/v1/map/tiles/0/0/0").status_code == 401


def test_the_cli_and_the_api_give_the_same_answers(api: Api, hotline: Run) -> None:
    start = api.clock.now() + timedelta(days=5)
    fields = {
        "line": DECONFLICTION,
        "activity": "naval_exercise",
        "start": format_time(start),
        "end": format_time(start + timedelta(hours=6)),
        "area": {"center": [30.5, 45.0], "radius": 25, "unit": "km"},
        "units": ["Northern Fleet group"],
        "remark": "live firing",
    }
    sent = ok(api.post(JOC, "/notices", fields), 201)
    (row,) = hotline("notice", "list", "--json", ok=True).json()
    assert row["id"] == sent["id"] and row["remark"] == "live firing"
    assert [row] == ok(api.get(JOC, "/notices"))

    at = format_time(api.clock.now())
    board = hotline("watch", "--at", at, "--json", ok=True).json()
    assert board["desks"] and board == ok(api.get(JOC, "/watch", at=at))


def test_every_position_received_is_kept_as_history_for_replay(api: Api) -> None:
    from hotline.domain.tracks import TrackKind, make_track

    start = api.clock.now()
    api.node.ingest(
        [
            make_track(
                uid="cm-01",
                party="RU",
                kind=TrackKind.MISSILE,
                lat=50.2,
                lon=24.3 - n * 0.05,
                time=start + timedelta(seconds=10 * n),
            )
            for n in range(5)
        ]
    )
    found = ok(api.get(JOC, "/tracks/history", uid="cm-01"))
    assert [round(p["lon"], 2) for p in found["positions"]] == [24.3, 24.25, 24.2, 24.15, 24.1]
    assert found["truncated"] is False
    boxed = ok(api.get(JOC, "/tracks/history", bbox="24.12,50,24.22,51", limit=1))
    assert [round(p["lon"], 2) for p in boxed["positions"]] == [24.2] and boxed["truncated"]
    bad = api.get(JOC, "/tracks/history", bbox="24,50,25")
    assert bad.status_code == 400 and "four numbers" in bad.json()["detail"]
    assert api.get(JOC, "/tracks/history", bbox="0,60,10,50").status_code == 400
    assert api.get(JOC, "/tracks/history", since="tomorrow").status_code == 400
