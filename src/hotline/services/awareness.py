"""Situational awareness: tracks in, rules run, alerts kept, drafts made from alerts."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry.base import BaseGeometry

from hotline.domain.agreement import Agreement, Clause, clauses_between
from hotline.domain.agreement import Zone as AgreementZone
from hotline.domain.alerting import Alert, AlertBook, Changes
from hotline.domain.cpa import DEFAULT_CPA_M, DEFAULT_TCPA_S, cpa_pairs
from hotline.domain.drafting import draft_of
from hotline.domain.errors import InvalidInput
from hotline.domain.finding import Finding
from hotline.domain.geo import (
    Announced,
    Area,
    Picture,
    Theatre,
    Zone,
    border_rules,
    stale,
    territories_from,
    unannounced,
    zone_rules,
    zones_from,
)
from hotline.domain.message import MessageDraft
from hotline.domain.policy import LineState
from hotline.domain.tracks import Track
from hotline.services.notices import Notices
from hotline.storage.picture import PictureStore

#: Alliances a party id may name, by member country (ISO 3166 alpha-2).
ALLIANCES = {
    "NATO": tuple(
        [
            "AL",
            "BE",
            "BG",
            "CA",
            "HR",
            "CZ",
            "DK",
            "EE",
            "FI",
            "FR",
            "DE",
            "GR",
            "HU",
            "IS",
            "IT",
            "LV",
            "LT",
            "LU",
            "ME",
            "NL",
            "MK",
            "NO",
            "PL",
            "PT",
            "RO",
            "SK",
            "SI",
            "ES",
            "SE",
            "TR",
            "GB",
            "US",
        ]
    ),
    "CSTO": tuple(["RU", "BY", "AM", "KZ", "KG", "TJ"]),
}
RULES = ("proximity", "incursion", "cpa", "unannounced", "stale", "zone")
FORGET_AFTER = timedelta(hours=1)  # tracks older than this are not evaluated


def load_countries() -> list[dict[str, Any]]:
    """The border file shipped with hotline (see scripts/make_borders.py)."""
    raw = files("hotline").joinpath("data/borders.json.gz").read_bytes()
    countries: list[dict[str, Any]] = json.loads(gzip.decompress(raw))["countries"]
    return countries


class Awareness:
    def __init__(
        self,
        picture: PictureStore,
        notices: Notices,
        party: str,
        territories: Mapping[str, Sequence[str]] | None = None,
        corridors: Sequence[float] = (30_000.0, 50_000.0, 100_000.0),
        zones_file: Path | None = None,
        cpa_m: float = DEFAULT_CPA_M,
        cpa_s: float = DEFAULT_TCPA_S,
        capture: Callable[[Sequence[Track]], object] | None = None,
        agreements: Callable[[], Sequence[tuple[Agreement, Sequence[str]]]] | None = None,
    ) -> None:
        """``capture``: also given every batch ingested (evidence committed at capture);
        ``agreements``: every agreement on the node's lines, with its line's parties
        (those in force set the zones by kind of track: :func:`by_agreements`)."""
        self.agreements = agreements
        self.cpa_m, self.cpa_s = cpa_m, cpa_s
        self.capture = capture
        self.zones_file = zones_file
        self._zones: list[Zone] | None = None
        self.picture = picture
        self.notices = notices
        self.store = notices.store
        self.party = party
        self._members = territories
        self.corridors = tuple(corridors)
        self._theatre: Theatre | None = None
        self._book: AlertBook | None = None
        self._corridors: tuple[int, dict[str, dict[float, BaseGeometry]]] | None = None
        self._zone_outlines: (
            tuple[tuple[int, tuple[float, ...]], dict[str, dict[float, BaseGeometry]]] | None
        ) = None

    def members(self) -> dict[str, list[str]]:
        """Party -> its countries: as configured, else each known party that names a
        country (RU, PL) or an alliance (NATO)."""
        if self._members:
            return {p: list(c) for p, c in self._members.items()}
        found = {}
        for party in self.store.parties():
            if party.id in ALLIANCES:
                found[party.id] = list(ALLIANCES[party.id])
            elif len(party.id) == 2:
                found[party.id] = [party.id]
        return found

    @property
    def theatre(self) -> Theatre:
        if self._theatre is None:
            self._theatre = Theatre(
                territories_from(load_countries(), self.members()), self.corridors
            )
        return self._theatre

    def corridor_lines(self) -> dict[str, dict[float, BaseGeometry]]:
        """Party -> corridor (m) -> its outline in longitude/latitude, where the theatre has
        been built (regions where tracks have been); nothing before the first track."""
        if self._theatre is None:
            return {}
        built = self._theatre.built
        if self._corridors is None or self._corridors[0] != built:
            self._corridors = (built, self._theatre.corridor_outlines())
        return self._corridors[1]

    def zone_lines(self, now: datetime) -> list[ZoneLine]:
        """The zones of the agreements in force at ``now``, each as the outline at its
        distance from each of its two parties' land, where the theatre has been built
        (as :meth:`corridor_lines`); nothing before the first track or agreement."""
        if self._theatre is None or self.agreements is None:
            return []
        wanted: list[tuple[Agreement, Sequence[str], AgreementZone]] = [
            (found, parties, zone)
            for found, parties in self.agreements()
            if found.state(parties, now) == "in force"
            for zone in found.terms.zones
        ]
        if not wanted:
            return []
        distances = tuple(sorted({zone.km * 1000 for _, _, zone in wanted}))
        key = (self._theatre.built, distances)
        if self._zone_outlines is None or self._zone_outlines[0] != key:
            self._zone_outlines = (key, self._theatre.corridor_outlines(distances=distances))
        outlines = self._zone_outlines[1]
        return [
            ZoneLine(party, found.id, found.terms.title, zone, line)
            for found, parties, zone in wanted
            for party in parties
            if (line := outlines.get(party, {}).get(zone.km * 1000)) is not None
        ]

    @property
    def zones(self) -> list[Zone]:
        """Airspaces and caution areas from the ``zones_file`` GeoJSON, if set."""
        if self._zones is None:
            if self.zones_file is None:
                self._zones = []
            else:
                try:
                    collection = json.loads(self.zones_file.read_text("utf-8"))
                    self._zones = zones_from(collection)
                except (OSError, ValueError, KeyError, TypeError) as exc:
                    raise InvalidInput(
                        "zones_file",
                        f"cannot use {self.zones_file}: {exc}",
                        hint="a GeoJSON FeatureCollection of polygons",
                    ) from exc
        return self._zones

    def ingest(self, batch: Sequence[Track]) -> int:
        self.picture.upsert(batch)
        if self.capture is not None:
            self.capture(batch)
        return len(batch)

    def announced(self, now: datetime) -> list[Announced]:
        """Live notifications of intent (not cancelled), with their areas."""
        found = []
        for view in self.notices.notices(None):
            c = view.current.content
            if view.cancelled is not None or "window" not in c or "area" not in c:
                continue
            start = datetime.fromisoformat(c["window"]["start"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(c["window"]["end"].replace("Z", "+00:00"))
            if end < now:
                continue
            found.append(
                Announced(
                    view.original.party,
                    Area(c["area"]),
                    start,
                    end,
                    view.original.id,
                )
            )
        return found

    def evaluate(self, now: datetime) -> Changes:
        """Run every rule on the live picture and update the alerts."""
        tracks = self.picture.tracks(since=now - FORGET_AFTER)
        if not tracks:
            live = self._book.live if self._book is not None else self.picture.live_alerts()
            if not live:
                return Changes()  # nothing to watch: the theatre is not even built
        theatre = self.theatre
        old = stale(tracks, now)
        gone = {f.uid for f in old}
        fresh = [t for t in tracks if t.uid not in gone] if gone else tracks
        picture = Picture.of(theatre, fresh)
        announced = self.announced(now)
        near = border_rules(theatre, picture)
        if self.agreements is not None:
            near = by_agreements(near, self.agreements(), announced, now, margin=theatre.margin)
        findings = [
            *near,
            *cpa_pairs(picture, dcpa_m=self.cpa_m, tcpa_s=self.cpa_s),
            *unannounced(theatre, picture, announced, now),
            *old,
            *zone_rules(picture, self.zones),
        ]
        if self._book is None:
            self._book = AlertBook(self.picture.live_alerts(), corridors=self.corridors)
        changes = self._book.update(findings, now, RULES)
        if changes:
            self.picture.save(changes)
        return changes

    # -- drafts ------------------------------------------------------------------------

    def draft(self, alert_id: int, now: datetime) -> tuple[LineState, MessageDraft]:
        """A message for the watch officer to review and send about alert ``alert_id``
        (the rules are :func:`hotline.domain.drafting.draft_of`)."""
        alert, _ = self.picture.alert(alert_id)
        return draft_of(alert, alert_id, self.party, self.store.lines(self.party), now)

    def live(self) -> list[Alert]:
        return self.picture.live_alerts()


@dataclass(frozen=True)
class ZoneLine:
    """An agreement's zone drawn around one party's land."""

    party: str  # whose border it is measured from
    agreement: str
    title_by_lang: Mapping[str, str]  # the agreement's title, by language
    zone: AgreementZone
    outline: BaseGeometry


def by_agreements(
    findings: Sequence[Finding],
    agreements: Sequence[tuple[Agreement, Sequence[str]]],
    announced: Sequence[Announced],
    now: datetime,
    lang: str = "en",
    margin: float = 0.0,
) -> list[Finding]:
    """Proximity findings as the agreements in force between the two parties say: a track
    whose kind a zone names is alerted within the zone's distance of the other party's
    border, not beyond it, and its alert names the clause (of two agreements naming the
    kind, the zone reaching furthest); a zone the terms let a notification lift does not
    apply to a track inside an area its party announced for now, and raises nothing.
    Kinds no agreement names, and incursions, keep the node's corridors. A track out of
    its zone by no more than ``margin`` (m) opens no alert, but keeps one open (as a
    corridor's does: a track hovering at the zone's edge does not flap)."""
    if not agreements:
        return list(findings)
    out = []
    for f in findings:
        if f.rule != "proximity" or f.party is None or f.other is None:
            out.append(f)
            continue
        clause, lifted = None, False
        for found, _ in clauses_between(agreements, f.party, f.other, now):
            zone = found.terms.zone_for(f.kind)
            if zone is None:
                continue
            if zone.id in found.terms.exceptions and any(
                a.party == f.party
                and a.start <= now <= a.end
                and bool(a.area.contains(np.array([f.lon]), np.array([f.lat]))[0])
                for a in announced
            ):
                lifted = True  # the activity is notified: this zone does not apply
            elif clause is None or zone.km > clause.zone.km:  # the strictest zone holds
                clause = Clause(found.id, found.terms.title_in(lang), zone)
        if clause is None:
            if not lifted:
                out.append(f)
        else:
            detail = {**f.detail, "agreement": clause.agreement, "clause": clause.describe()}
            if f.value <= clause.zone.km * 1000:
                out.append(f._replace(detail=detail))
            elif f.value <= clause.zone.km * 1000 + margin:  # held, never opened, here
                out.append(f._replace(detail=detail, band=None, holds=f.holds or f.band))
    return out
