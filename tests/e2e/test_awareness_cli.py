"""Situational awareness through the command line and the ingest endpoint: tracks in,
rules run on the real borders, alerts, a draft sent on the right line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hotline.app import federation_app, open_node
from tests.e2e.conftest import Run

TERRITORIES = "US=PL,LT,LV,EE,RO;RU=RU,BY"


@pytest.fixture
def aware(lab: Run, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("HOTLINE_TERRITORIES", TERRITORIES)
    return lab


def feed(tmp_path: Path, rows: list[str]) -> Path:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    path = tmp_path / "feed.csv"
    path.write_text(
        "uid,party,kind,lat,lon,time,alt_m,speed_mps,course_deg\n"
        + "".join(row.replace("NOW", now) + "\n" for row in rows),
        "utf-8",
    )
    return path


@pytest.mark.slow
def test_a_strike_near_the_polish_border_becomes_a_query(aware: Run, tmp_path: Path) -> None:
    path = feed(
        tmp_path,
        [
            "ru-strike-1,RU,missile,51.55,24.05,NOW,,,",
            "ru-su35,RU,aircraft,55.0,20.9,NOW,9100,250,270",
            "us-f35,US,aircraft,55.0,20.5,NOW,9000,250,90",
            "bad,RU,tank,91,0,NOW,,,",
        ],
    )
    done = aware("ingest", str(path), "--format", "csv", ok=True)
    assert "ingested 3 tracks; 1 records refused" in done.out
    assert "'tank' is not a valid TrackKind" in done.out
    assert len(aware("tracks", "--json", ok=True).json()) == 3
    aware("alerts", "evaluate", ok=True)
    alerts = {a["key"]: a for a in aware("alerts", "--json", ok=True).json()}
    strike = alerts["proximity:ru-strike-1:US"]
    assert strike["severity"] == "critical"
    assert 27_000 < strike["value"] < 29_000  # on the ellipsoid, to Poland's border
    assert alerts["cpa:ru-su35:us-f35"]["rule"] == "cpa"
    assert "incursion:ru-strike-1:US" not in alerts
    draft = aware("draft", "--alert", str(strike["id"]), "--json", ok=True).json()
    assert draft["line"] == "us-ru-deconfliction"
    assert draft["content"]["kind"] == "query"
    assert draft["content"]["precedence"] == "FLASH"
    assert draft["content"]["area"]["center"] == [24.05, 51.55]
    sent = aware("draft", "--alert", str(strike["id"]), "--send", "--as", "US/EUCOM-JOC", ok=True)
    assert "sent query" in sent.out
    acked = aware("alerts", "ack", str(strike["id"]), "--as", "US/EUCOM-JOC", ok=True)
    assert "acknowledged" in acked.out
    aware("alerts", "evaluate", ok=True)  # still near: stays acknowledged, not reopened
    again = {a["key"]: a for a in aware("alerts", "--json", ok=True).json()}
    assert again["proximity:ru-strike-1:US"]["state"] == "acknowledged"
    assert again["proximity:ru-strike-1:US"]["id"] == strike["id"]


def test_a_caution_area_and_a_bad_feed(
    aware: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    zones = tmp_path / "zones.geojson"
    zones.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"name": "EPD-1", "kind": "caution", "party": "US"},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [[[10, 54], [11, 54], [11, 55], [10, 55], [10, 54]]],
                        },
                    }
                ],
            }
        ),
        "utf-8",
    )
    monkeypatch.setenv("HOTLINE_ZONES_FILE", str(zones))
    aware(
        "ingest",
        str(feed(tmp_path, ["ru-p8,RU,aircraft,54.5,10.5,NOW,3000,120,0"])),
        "--format",
        "csv",
        ok=True,
    )
    aware("alerts", "evaluate", ok=True)
    (alert,) = aware("alerts", "--json", ok=True).json()
    assert alert["rule"] == "zone"
    assert "inside caution area EPD-1" in alert["summary"]
    junk = tmp_path / "junk.json"
    junk.write_text("{not json", "utf-8")
    bad = aware("ingest", str(junk), "--format", "aircraft-json")
    assert bad.code == 2 and "not a aircraft-json file" in bad.err
    unknown = aware("ingest", str(junk), "--format", "kml")
    assert unknown.code == 2 and "unknown format" in unknown.err


def test_the_ingest_endpoint_takes_batches_with_a_token(
    aware: Run, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    batch = {
        "tracks": [
            {
                "uid": "ru-1",
                "party": "RU",
                "kind": "aircraft",
                "lat": 55.0,
                "lon": 21.0,
                "time": now,
                "speed_mps": 200,
                "course_deg": 270,
            },
            {"uid": "bad", "party": "RU", "kind": "aircraft", "lat": 123, "lon": 0, "time": now},
        ]
    }
    import os

    node = open_node(os.environ, home)
    try:
        with TestClient(federation_app(node)) as client:
            off = client.post("/ingest/v1/tracks", json=batch)
            assert off.status_code == 403
    finally:
        node.close()
    monkeypatch.setenv("HOTLINE_INGEST_TOKEN", "s3cret-token")
    node = open_node(os.environ, home)
    try:
        with TestClient(federation_app(node)) as client:
            wrong = client.post(
                "/ingest/v1/tracks", json=batch, headers={"Authorization": "Bearer nope"}
            )
            assert wrong.status_code == 401
            done = client.post(
                "/ingest/v1/tracks", json=batch, headers={"Authorization": "Bearer s3cret-token"}
            )
            assert done.status_code == 200
            assert done.json()["ingested"] == 1
            assert done.json()["refused"][0]["index"] == 1
            assert "123" in done.json()["refused"][0]["error"]
    finally:
        node.close()
    assert [t["uid"] for t in aware("tracks", "--json", ok=True).json()] == ["ru-1"]


def test_thresholds_come_from_the_settings(
    aware: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_CORRIDORS_KM", "10,20")
    monkeypatch.setenv("HOTLINE_CPA_NM", "1")
    path = feed(
        tmp_path,
        [
            "ru-strike-1,RU,missile,51.55,24.05,NOW,,,",  # 28 km from Poland
            "ru-su35,RU,aircraft,55.033,20.9,NOW,9100,250,270",  # passes us-f35 at ~1.8 NM
            "us-f35,US,aircraft,55.0,20.5,NOW,9000,250,90",
        ],
    )
    aware("ingest", str(path), "--format", "csv", ok=True)
    aware("alerts", "evaluate", ok=True)
    keys = {a["key"] for a in aware("alerts", "--json", ok=True).json()}
    assert "proximity:ru-strike-1:US" not in keys  # beyond 20 km
    assert "cpa:ru-su35:us-f35" not in keys  # not within 1 NM
    assert "proximity:us-f35:RU" in keys  # 1.4 km from Kaliningrad
    monkeypatch.setenv("HOTLINE_CORRIDORS_KM", "wide")
    bad = aware("tracks")
    assert bad.code == 2 and "corridors_km" in bad.err
