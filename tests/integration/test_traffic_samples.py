"""Real ADS-B flights (the `traffic` package's sample data, installed for tests only and
read without importing the package) run through the border rules, as the node would see
them report after report: the alerts a person would expect near the borders they cross.

`make test` installs `traffic` without its dependencies; only its data files are read.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hotline.domain.alerting import AlertBook
from hotline.domain.geo import Picture, Theatre, border_rules, territories_from
from hotline.domain.tracks import FOOT, TrackKind, make_track
from hotline.services.awareness import load_countries


def samples() -> Path:
    spec = importlib.util.find_spec("traffic")
    if spec is None or not spec.submodule_search_locations:
        if os.environ.get("CI") == "true":
            pytest.fail("the traffic package (test extras) is not installed")
        pytest.skip("the traffic package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "samples"


def records(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(gzip.decompress((samples() / name).read_bytes()))
    return [r for r in data if r.get("latitude") is not None]


def replay(theatre: Theatre, flight: list[dict[str, Any]], party: str) -> list[tuple[str, ...]]:
    """Feed a flight's reports one by one; the alert changes, in order."""
    book = AlertBook(corridors=theatre.corridors)
    log: list[tuple[str, ...]] = []
    for r in sorted(flight, key=lambda r: r["timestamp"]):
        track = make_track(
            uid=str(r["icao24"]),
            party=party,
            kind=TrackKind.AIRCRAFT,
            lat=r["latitude"],
            lon=r["longitude"],
            time=datetime.fromtimestamp(r["timestamp"] / 1000, UTC),
            alt=(r["altitude"] or 0) * FOOT,
        )
        changes = book.update(
            border_rules(theatre, Picture.of(theatre, [track])),
            track.time,
            ["proximity", "incursion"],
        )
        log += [("open", a.rule, str(a.band), str(a.value)) for a in changes.opened]
        log += [("change", a.rule, str(a.band), str(a.value)) for a in changes.changed]
        log += [("close", a.rule) for a in changes.closed]
    return log


@pytest.fixture(scope="module")
def theatre() -> Theatre:
    members = {"GB": ["GB"], "FR": ["FR"], "CH": ["CH"]}
    return Theatre(territories_from(load_countries(), members))


@pytest.mark.slow
def test_a_channel_border_patrol_nears_france_and_never_enters(theatre: Theatre) -> None:
    """GTEKV patrols the Strait of Dover: within 30 km of the French coast at times, never
    over France; one alert that tightens and eases only across the 2 km margin."""
    log = replay(theatre, records("surveillance/border_control.json.gz"), "GB")
    assert [e for e in log if e[0] == "open"] == [log[0]]
    assert log[0][:3] == ("open", "proximity", "50000.0")
    assert not [e for e in log if e[1] == "incursion"]
    bands = [(e[2], float(e[3])) for e in log if e[0] == "change"]
    assert ("30000.0", pytest.approx(29_000, abs=1_000)) in [(b, v) for b, v in bands]
    for band, metres in bands:
        if band == "30000.0":
            assert metres <= 30_000
        else:  # eased only once out of the 30 km corridor by about the 2 km margin (the
            # corridors are drawn in the projection, to within about 1.5% on the ellipsoid)
            assert metres > 31_500


def test_flights_across_switzerland_near_enter_and_leave_it(theatre: Theatre) -> None:
    flights: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records("collections/switzerland.json.gz"):
        flights[r["callsign"]].append(r)
    crossing = flights["DLH8JW"]
    log = replay(theatre, crossing, "XX")
    rules = [(e[0], e[1]) for e in log]
    assert rules[:2] == [("open", "proximity"), ("open", "incursion")]  # nears, then enters
    assert ("close", "proximity") in rules  # inside: the incursion says it all
    assert rules.index(("close", "proximity")) > rules.index(("open", "incursion"))
    last_in = max(i for i, r in enumerate(rules) if r == ("open", "incursion"))
    assert ("open", "proximity") in rules[last_in:]  # out again, near the border it left
    assert rules[-1] == ("close", "incursion")
    swiss = [
        make_track(
            uid="x",
            party="CH",
            kind=TrackKind.AIRCRAFT,
            lat=r["latitude"],
            lon=r["longitude"],
            time=datetime.now(UTC),
        )
        for r in crossing[:50]
    ]
    own = border_rules(theatre, Picture.of(theatre, swiss))
    assert not [f for f in own if f.other == "CH"]  # a party's own land never alerts
