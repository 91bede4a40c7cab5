"""Evidence committed at capture, between two nodes: each minute US's node commits the
root of the positions of RU's tracks it captured as a signed event on the line both
hold; RU's node holds the commitment from then on, without the data. Positions
disclosed later verify against it with nothing but the file; a position changed after
the fact is refused, and so is a position that was never captured."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from hotline.domain.canonical import canonical
from hotline.domain.events import EventKind
from hotline.domain.evidence import LEAF, TREE
from hotline.domain.proofs import BundleRefused, verify_bundle
from hotline.domain.tracks import TrackKind, make_track
from hotline.services.disclosures import Disclosures
from hotline.services.verification import verify_store
from tests.federation.conftest import US_URL, Pair
from tests.federation.test_proofs import LINE, rounds


def capture_a_minute(pair: Pair) -> None:
    """Over one minute, RU's missile and a neutral airliner reach US's picture, then the
    minute ends and US's node commits it."""
    start = pair.clock.now().replace(second=0, microsecond=0) + timedelta(minutes=1)
    pair.clock.advance(seconds=(start - pair.clock.now()).total_seconds() + 1)
    for n in range(4):
        at = pair.clock.now()
        pair.us.awareness.ingest(
            [
                make_track(
                    uid="RU-CM-01",
                    party="RU",
                    kind=TrackKind.MISSILE,
                    lat=50.2 + n * 0.02,
                    lon=24.3 - n * 0.05,
                    time=at,
                    speed=240.0,
                    course=290.0,
                    source="radar-1",
                ),
                make_track(
                    uid="LO-281",
                    party=None,
                    kind=TrackKind.AIRCRAFT,
                    lat=52.0,
                    lon=20.0 + n * 0.01,
                    time=at,
                ),
            ]
        )
        pair.clock.advance(seconds=10)
    pair.clock.advance(seconds=30)  # the minute is over, and its grace
    assert len(pair.us.evidence.commit_due(pair.clock.now())) == 1
    pair.settle()


def test_each_minute_the_root_of_what_was_captured_is_committed_on_the_shared_line(
    pair: Pair,
) -> None:
    capture_a_minute(pair)
    [event] = pair.us.store.events_on([LINE], [EventKind.EVIDENCE.value])
    assert event.author == "US" and event.party == "US"  # signed by the node
    content = event.content
    assert content["subject"] == "RU" and content["positions"] == 4  # RU's, not the airliner
    assert (content["tree"], content["leaf"]) == (TREE, LEAF)
    # RU's node holds the commitment (its receiver took the new kind), not the positions
    [held] = pair.ru.store.events_on([LINE], [EventKind.EVIDENCE.value])
    assert held.id == event.id
    assert verify_store(pair.ru.store).ok and verify_store(pair.us.store).ok
    # nothing is committed twice
    assert pair.us.evidence.commit_due(pair.clock.now()) == []


def test_disclosed_positions_verify_against_the_committed_root_and_a_changed_one_is_refused(
    pair: Pair,
) -> None:
    capture_a_minute(pair)
    us_round, _ = rounds(pair)
    pair.clock.advance(seconds=5)
    us_round.once(force=True)
    found = pair.us.evidence.disclose("RU-CM-01")
    assert len(found) == 4
    bundle = Disclosures(pair.us.checkpoints, "US").export_positions(found)
    report = verify_bundle(bundle.data)
    assert len(report.positions) == 4
    assert {p.record["uid"] for p in report.positions} == {"RU-CM-01"}
    committed = report.positions[0].evidence
    assert committed.event.kind == "evidence"
    assert [c.name for c in committed.checkpoint.cosigned_by] == ["RU"]  # RU held it then
    # a position moved after the fact, its leaf made again to match
    moved = json.loads(bundle.data)
    record = {**moved["positions"][1]["record"]}
    record["lat"] += 0.01
    moved["positions"][1]["record"] = record
    moved["positions"][1]["leaf"] = base64.b64encode(canonical(record)).decode()
    with pytest.raises(BundleRefused, match="was not held as committed"):
        verify_bundle(json.dumps(moved).encode())
    # the record shown changed, the leaf (what was hashed) not
    shown = json.loads(bundle.data)
    shown["positions"][0]["record"]["lon"] = 23.0
    with pytest.raises(BundleRefused, match="says other than its leaf"):
        verify_bundle(json.dumps(shown).encode())
    # a position that was never captured, slipped in with another's proof
    invented = json.loads(bundle.data)
    fake = {**invented["positions"][0]["record"], "uid": "RU-CM-02"}
    invented["positions"][0] = {
        **invented["positions"][0],
        "record": fake,
        "leaf": base64.b64encode(canonical(fake)).decode(),
    }
    with pytest.raises(BundleRefused, match="RU-CM-02"):
        verify_bundle(json.dumps(invented).encode())
    # a commitment of another size
    resized = json.loads(bundle.data)
    resized["positions"][0]["size"] = 5
    with pytest.raises(BundleRefused, match="tree of 5"):
        verify_bundle(json.dumps(resized).encode())
    # the bundle discloses RU's positions only, not the rest of the picture
    assert b"LO-281" not in bundle.data
    assert canonical(found[0]["record"]) in [canonical(p.record) for p in report.positions]


def test_a_desk_on_the_line_downloads_a_tracks_positions_proof(pair: Pair) -> None:
    capture_a_minute(pair)
    us_round, _ = rounds(pair)
    us_round.once(force=True)
    api = pair.net.apps[US_URL]
    desk = {"Authorization": f"Bearer {pair.us.accounts.create_token('US/EUCOM-JOC')}"}
    answer = api.get("/api/v1/tracks/RU-CM-01/proof", headers=desk)
    assert answer.status_code == 200, answer.text
    assert 'filename="hotline-positions-RU-CM-01.json"' in answer.headers["content-disposition"]
    assert len(verify_bundle(answer.content).positions) == 4
    # a window narrows it; nothing held is a 404 that says why; a bad time a 400
    first = json.loads(answer.content)["positions"][0]["record"]["time"]
    narrowed = api.get(f"/api/v1/tracks/RU-CM-01/proof?end={first}", headers=desk)
    assert narrowed.status_code == 200 and len(verify_bundle(narrowed.content).positions) == 1
    missing = api.get("/api/v1/tracks/RU-CM-99/proof", headers=desk)
    assert missing.status_code == 404 and "evidence" in missing.json()["detail"] + str(
        missing.json().get("hint")
    )
    assert api.get("/api/v1/tracks/RU-CM-01/proof?start=yesterday", headers=desk).status_code == 400
    # a principal of the party not on the line sees nothing of it
    pair.us.directory.add_principal("US/AUDIT", "Auditor", ["auditor"])
    outsider = {"Authorization": f"Bearer {pair.us.accounts.create_token('US/AUDIT')}"}
    assert api.get("/api/v1/tracks/RU-CM-01/proof", headers=outsider).status_code == 404
