"""An incident replayed and exported: the missile near the border, the query about it, its
acknowledgement and a notification of intent, gathered for an area over a window; the
positions in columns for the console's replay; the export as GeoJSON, KML, a CoT stream
and an archive whose proof bundle verifies offline. The lab node of ``test_api``."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import timedelta
from typing import Any

from defusedxml.ElementTree import fromstring

from hotline.domain.clock import format_time
from hotline.domain.proofs import verify_bundle
from hotline.domain.tracks import TrackKind, make_track
from hotline.ingest.cot import Splitter, parse_event
from tests.e2e.conftest import Run
from tests.e2e.test_api import DECONFLICTION, JOC, NDMC, Api, api, ok

__all__ = ["api"]  # the fixture, imported

BOX = "18,53,23,57"  # the Baltic off Kaliningrad
KML = "{http://www.opengis.net/kml/2.2}"


def incident(api: Api) -> dict[str, Any]:
    """Two minutes of a US aircraft flying east towards Kaliningrad at 1 Hz, an airliner
    far away, a query about it acknowledged, a notice; returns the window."""
    start = api.clock.now()
    api.node.ingest(
        [
            make_track(
                uid="US-RC-135",
                party="US",
                kind=TrackKind.AIRCRAFT,
                lat=55.2,
                lon=19.3 + n * 0.002,
                time=start + timedelta(seconds=n),
                speed=200.0,
                course=90.0,
                alt=9000.0,
            )
            for n in range(120)
        ]
        + [
            make_track(
                uid="LO-281",
                party=None,
                kind=TrackKind.AIRCRAFT,
                lat=40.0,
                lon=0.0,
                time=start + timedelta(seconds=n),
                callsign="LOT281",
            )
            for n in range(0, 120, 10)
        ]
    )
    api.node.awareness.evaluate(start + timedelta(seconds=120))
    api.clock.advance(seconds=60)
    query = ok(
        api.send(
            JOC, DECONFLICTION, subject="Reconnaissance flight off Kaliningrad", precedence="FLASH"
        ),
        201,
    )
    api.clock.advance(seconds=30)
    ok(api.post(NDMC, f"/messages/{query['id']}/ack", {"reply": "Checking"}), 201)
    at = api.clock.now() + timedelta(days=4)
    notice = {
        "line": DECONFLICTION,
        "activity": "naval_exercise",
        "start": format_time(at),
        "end": format_time(at + timedelta(hours=6)),
        "area": {"center": [20.0, 55.5], "radius": 25, "unit": "km"},
        "units": ["Baltic Fleet"],
    }
    sent = ok(api.post(JOC, "/notices", notice), 201)
    api.clock.advance(seconds=30)
    return {
        "since": format_time(start - timedelta(seconds=1)),
        "until": format_time(api.clock.now()),
        "query": query["id"],
        "notice": sent["id"],
    }


def test_the_timeline_holds_the_alerts_notices_messages_and_acks_of_the_window(
    api: Api,
) -> None:
    w = incident(api)
    found = ok(api.get(JOC, "/incident", since=w["since"], until=w["until"], bbox=BOX))
    assert [(a["uid"], a["rule"]) for a in found["alerts"]] and all(
        a["uid"] == "US-RC-135" for a in found["alerts"]
    )
    assert [n["id"] for n in found["notices"]] == [w["notice"]]  # sent in the window
    kinds = [(e["kind"], e.get("ref")) for e in found["events"] if e["kind"] == "ack"]
    assert ("ack", w["query"]) in kinds
    query = next(e for e in found["events"] if e["id"] == w["query"])
    assert (query["precedence"], query["subject"], query["from"]) == (
        "FLASH",
        "Reconnaissance flight off Kaliningrad",
        JOC,
    )
    times = [e["time"] for e in found["events"]]
    assert times == sorted(times)
    # somewhere else, the alert is not there; before it all, nothing is
    away = ok(api.get(JOC, "/incident", since=w["since"], until=w["until"], bbox="-5,35,5,45"))
    assert away["alerts"] == [] and away["notices"] == []
    early = api.clock.now() - timedelta(days=2)
    empty = ok(
        api.get(
            JOC,
            "/incident",
            since=format_time(early - timedelta(hours=1)),
            until=format_time(early),
        )
    )
    assert empty["alerts"] == empty["notices"] == empty["events"] == []


def test_replay_positions_come_in_columns_thinned_on_request(api: Api) -> None:
    w = incident(api)
    every = ok(api.get(JOC, "/tracks/replay", since=w["since"], until=w["until"], bbox=BOX))
    assert [t["uid"] for t in every["tracks"]] == ["US-RC-135"]  # the airliner is elsewhere
    assert len(every["t"]) == len(every["lat"]) == len(every["track"]) == 120
    assert every["t"] == sorted(every["t"]) and every["t"][0] == 1.0
    assert every["course"][0] == 90 and every["alt"][0] == 9000
    thinned = ok(
        api.get(JOC, "/tracks/replay", since=w["since"], until=w["until"], bbox=BOX, every=10)
    )
    assert len(thinned["t"]) == 12
    assert all(b - a >= 9.999 for a, b in zip(thinned["t"], thinned["t"][1:], strict=False))
    cut = ok(api.get(JOC, "/tracks/replay", since=w["since"], until=w["until"], limit=5))
    assert len(cut["t"]) == 5 and cut["truncated"] is True
    both = ok(api.get(JOC, "/tracks/replay", since=w["since"], until=w["until"]))
    assert {t["uid"] for t in both["tracks"]} == {"US-RC-135", "LO-281"}


def test_bad_windows_are_refused_with_what_to_do(api: Api) -> None:
    now = api.clock.now()
    cases = [
        ({"since": format_time(now), "until": format_time(now - timedelta(hours=1))}, "ends"),
        (
            {"since": format_time(now - timedelta(days=5)), "until": format_time(now)},
            "more than",
        ),
        ({"since": "yesterday", "until": format_time(now)}, "since"),
        ({"since": format_time(now), "until": format_time(now), "bbox": "1,2,3"}, "bbox"),
    ]
    for path in ("/incident", "/tracks/replay", "/incident/export"):
        for params, words in cases:
            answer = api.get(JOC, path, **params)
            assert answer.status_code == 400, (path, params)
            assert words in answer.json()["detail"] + answer.json().get("title", ""), answer.json()
        assert api.get(JOC, path).status_code == 400  # since and until are needed


def test_the_incident_exports_as_geojson_kml_cot_and_an_archive_with_its_proof(
    api: Api,
) -> None:
    w = incident(api)
    params = {"since": w["since"], "until": w["until"], "bbox": BOX}
    geo = api.get(JOC, "/incident/export", format="geojson", **params)
    assert geo.status_code == 200 and geo.headers["content-type"] == "application/geo+json"
    collection = geo.json()
    features = {f["properties"]["feature"]: f for f in collection["features"]}
    track = features["track"]
    assert track["geometry"]["type"] == "LineString"
    assert len(track["geometry"]["coordinates"]) == len(track["properties"]["times"]) == 120
    assert features["notice"]["geometry"]["type"] == "Polygon"  # the circle, outlined
    ring = features["notice"]["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) > 60
    assert "alert" in features

    kml = api.get(JOC, "/incident/export", format="kml", **params)
    assert kml.headers["content-type"].startswith("application/vnd.google-earth.kml+xml")
    root = fromstring(kml.content)
    folders = root.findall(f"{KML}Document/{KML}Folder")
    assert [f.findtext(f"{KML}name") for f in folders] == [
        "Tracks",
        "Alerts",
        "Notifications of intent",
        "Messages and acknowledgements",
    ]
    line = folders[0].find(f"{KML}Placemark/{KML}LineString/{KML}coordinates")
    assert line is not None and len((line.text or "").split()) == 120

    cot = api.get(JOC, "/incident/export", format="cot", **params)
    events = [parse_event(e, {"f": "US", "h": "RU"}) for e in Splitter().feed(cot.content)]
    assert len(events) == 120 and {e.uid for e in events} == {"US-RC-135"}
    assert events[0].kind is TrackKind.AIRCRAFT and events[0].party == "US"  # it reads back

    archive = api.get(JOC, "/incident/export", **params)
    assert archive.headers["content-type"] == "application/zip"
    assert "attachment" in archive.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        names = z.namelist()
        manifest = json.loads(z.read("manifest.json"))
        bundle = z.read("proof.json")
        for name, digest in manifest["files"].items():
            assert hashlib.sha256(z.read(name)).hexdigest() == digest, name
    assert names == [
        "incident.geojson",
        "incident.kml",
        "incident.cot",
        "proof.json",
        "manifest.json",
    ]
    assert manifest["counts"]["messages"] >= 1 and manifest["counts"]["acknowledgements"] >= 1
    report = verify_bundle(bundle)
    proven = {e.event.id for e in report.events}
    assert w["query"] in proven and set(manifest["proven"]) <= proven


def test_the_cli_exports_the_same_incident(api: Api, hotline: Run, tmp_path: Any) -> None:
    w = incident(api)
    out = tmp_path / "incident.zip"
    done = hotline(
        "incident",
        "export",
        "--since",
        w["since"],
        "--until",
        w["until"],
        "--bbox",
        BOX,
        "-o",
        str(out),
        ok=True,
    )
    assert "120 position(s)" in done.err
    with zipfile.ZipFile(out) as z:
        assert json.loads(z.read("manifest.json"))["counts"]["positions"] == 120
    refused = hotline("incident", "export", "--since", w["since"], "--until", w["since"])
    assert refused.code != 0 and "ends before it starts" in refused.err
    stats = hotline("history", "stats", "--json", ok=True).json()
    assert stats["positions"] >= 132
