"""Alerts from rule findings: deduplicated, with hysteresis, and a lifecycle.

One alert per key: ``proximity:<track>:<party>``, ``incursion:<track>:<party>``,
``cpa:<track>:<track>``, ``unannounced:<track>``, ``stale:<track>``. An alert opens when
its rule first finds the condition, changes when it gets worse (a tighter corridor) or
eases, and closes when the condition has been gone for ``clear_after`` evaluations in a
row. A proximity alert holds its corridor until the track leaves it by more than the
theatre's margin, so a track hovering at 29.9-30.1 km does not flap. Operators
acknowledge alerts; an acknowledged alert stays acknowledged until it closes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from hotline.domain.clock import format_time
from hotline.domain.finding import Finding
from hotline.domain.tracks import TrackKind


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


SEVERITIES = ("critical", "high", "medium", "low")


def key_of(f: Finding) -> str:
    if f.rule == "cpa":
        pair = sorted((f.uid, str(f.detail.get("with_uid"))))
        return f"cpa:{pair[0]}:{pair[1]}"
    if f.rule in ("proximity", "incursion"):
        return f"{f.rule}:{f.uid}:{f.other}"
    if f.rule == "zone":
        return f"zone:{f.uid}:{f.detail.get('zone')}"
    return f"{f.rule}:{f.uid}"


def severity_of(f: Finding, corridors: tuple[float, ...]) -> str:
    missile = f.kind is TrackKind.MISSILE or TrackKind.MISSILE.value in f.detail.get("kinds", ())
    if f.rule == "incursion" or (missile and f.rule in ("proximity", "cpa")):
        return "critical"
    if f.rule in ("cpa", "zone"):
        return "high"
    if f.rule == "proximity" and f.band is not None:
        rank = corridors.index(f.band) if f.band in corridors else len(corridors) - 1
        return SEVERITIES[min(1 + rank, 3)]
    return "medium" if f.rule == "unannounced" else "low"


@dataclass(frozen=True)
class Alert:
    key: str
    rule: str
    severity: str
    state: AlertState
    uid: str
    party: str | None
    other: str | None
    band: float | None
    value: float
    kind: TrackKind
    lat: float
    lon: float
    opened_at: datetime
    updated_at: datetime
    detail: Mapping[str, Any] = field(default_factory=dict)
    missed: int = 0  # evaluations in a row without the condition
    id: int | None = None  # the stored row

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "rule": self.rule,
            "severity": self.severity,
            "state": self.state.value,
            "summary": self.summary(),
            "uid": self.uid,
            "party": self.party,
            "other": self.other,
            "band_m": self.band,
            "value": round(self.value, 1),
            "kind": self.kind.value,
            "lat": self.lat,
            "lon": self.lon,
            "opened_at": format_time(self.opened_at),
            "updated_at": format_time(self.updated_at),
            "detail": dict(self.detail),
        }

    def summary(self) -> str:
        who = f"{self.party or '?'} {self.kind.value} {self.uid}"
        if self.rule == "proximity":
            clause = self.detail.get("clause")
            within = f", inside the zone of {clause}" if clause else ""
            return f"{who} {self.value / 1000:.1f} km from {self.other}'s border{within}"
        if self.rule == "incursion":
            return f"{who} inside {self.other}'s territory"
        if self.rule == "cpa":
            other = self.detail.get("with_uid")
            tcpa = float(self.detail.get("tcpa_s", 0))
            return (
                f"{who} and {self.other} {other} will pass within "
                f"{self.value / 1852:.1f} NM in {tcpa / 60:.1f} min"
            )
        if self.rule == "zone":
            return f"{who} inside {self.detail.get('zone_kind')} area {self.detail.get('zone')}"
        if self.rule == "unannounced":
            return f"{who} near {self.other} matches no notification of {self.party}"
        return f"{who} not heard from for {self.value:.0f} s"


@dataclass
class Changes:
    opened: list[Alert] = field(default_factory=list)
    changed: list[Alert] = field(default_factory=list)
    closed: list[Alert] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.opened or self.changed or self.closed)


class AlertBook:
    """The live alerts, updated from each evaluation's findings."""

    def __init__(
        self,
        live: Iterable[Alert] = (),
        *,
        corridors: tuple[float, ...] = (30_000.0, 50_000.0, 100_000.0),
        clear_after: int = 3,
    ) -> None:
        self.live: dict[str, Alert] = {a.key: a for a in live if a.state is not AlertState.CLOSED}
        self.corridors = corridors
        self.clear_after = clear_after

    def update(self, findings: Iterable[Finding], now: datetime, rules: Iterable[str]) -> Changes:
        """Apply one evaluation of ``rules``; alerts of other rules are left alone."""
        evaluated = set(rules)
        changes = Changes()
        seen: set[str] = set()
        for f in findings:
            key = key_of(f)
            current = self.live.get(key)
            band = f.band
            if f.rule == "proximity":
                holds = f.holds
                if current is not None and current.band is not None:
                    if holds is not None and holds <= current.band:
                        # not out of its corridor by the margin: keep it (or tighten)
                        band = current.band if band is None else min(band, current.band)
                    elif band is None:
                        band = holds  # eased to the corridor it still holds
                if band is None:
                    continue
            seen.add(key)
            severity = severity_of(f._replace(band=band), self.corridors)
            if current is None:
                alert = Alert(
                    key,
                    f.rule,
                    severity,
                    AlertState.OPEN,
                    f.uid,
                    f.party,
                    f.other,
                    band,
                    f.value,
                    f.kind,
                    f.lat,
                    f.lon,
                    now,
                    now,
                    dict(f.detail),
                )
                self.live[key] = alert
                changes.opened.append(alert)
                continue
            worse_or_eased = band != current.band or severity != current.severity
            updated = replace(
                current,
                band=band,
                severity=severity,
                value=f.value,
                lat=f.lat,
                lon=f.lon,
                detail=dict(f.detail),
                missed=0,
                updated_at=now if worse_or_eased else current.updated_at,
            )
            self.live[key] = updated
            if worse_or_eased:
                changes.changed.append(updated)
        for key, alert in list(self.live.items()):
            if key in seen or alert.rule not in evaluated:
                continue
            missed = alert.missed + 1
            if missed >= self.clear_after:
                closed = replace(alert, state=AlertState.CLOSED, missed=missed, updated_at=now)
                del self.live[key]
                changes.closed.append(closed)
            else:
                self.live[key] = replace(alert, missed=missed)
        return changes

    def acknowledge(self, key: str) -> Alert | None:
        alert = self.live.get(key)
        if alert is None:
            return None
        self.live[key] = replace(alert, state=AlertState.ACKNOWLEDGED)
        return self.live[key]
