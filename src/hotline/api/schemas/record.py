"""A line's record for the auditor, exercise reports, alerts and the map."""

from __future__ import annotations

from typing import Any

from hotline.api.schemas.base import FROM, Answer, Field


class RecordEvent(Answer):
    id: str
    seq: int
    party: str
    kind: str
    author: str
    ts: str
    received: str | None
    verified: bool
    problem: str | None
    summary: str
    content: dict[str, Any]


class LineVerification(Answer):
    ok: bool
    events: int
    problems: list[str]


class ChainPoint(Answer):
    seq: int
    id: str | None


class PeerChain(Answer):
    peer: str
    party: str
    ours: ChainPoint | None
    theirs: ChainPoint | None
    state: str = Field(description="unknown, in step, ahead, behind or divergent")


class LineRecord(Answer):
    line: str
    events: list[RecordEvent]
    verification: LineVerification
    peer: list[PeerChain]


class ExerciseReportItem(Answer):
    id: str
    exercise: str
    events: int
    first: str
    last: str
    lang: str


class Alert(Answer):
    id: int | None
    key: str
    rule: str
    severity: str
    state: str
    summary: str
    uid: str
    party: str | None
    other: str | None
    band_m: float | None
    value: float
    kind: str
    lat: float
    lon: float
    opened_at: str
    updated_at: str
    detail: dict[str, Any]


class AlertAck(Answer):
    id: int
    state: str


class AlertDraft(Answer):
    line: str
    content: dict[str, Any]


class MapLayers(Answer):
    countries: list[dict[str, Any]] = Field(
        description="each country's a3, a2, names by language, label point and label zoom"
    )
    borders: list[dict[str, Any]] = Field(description="each party's land and its countries")
    tracks: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    announced: list[dict[str, Any]]
    corridors: list[dict[str, Any]] = Field(
        description="each party's border corridors as lines, where tracks have been"
    )
    zones: list[dict[str, Any]] = Field(
        default_factory=list,
        description="the zones of the agreements in force, as lines around each of the "
        "agreement's parties' land (agreement, titles by language, zone, kinds, km)",
    )


class TrackPositions(Answer):
    positions: list[dict[str, Any]] = Field(
        description="each position: uid, party, kind, lat, lon, time, alt, speed, course, "
        "callsign, source; by time"
    )
    truncated: bool = Field(description="more positions match than ``limit``")


class MapTile(Answer):
    z: int
    x: int
    y: int
    land: list[dict[str, Any]] = Field(
        description="each country (a3) in the tile, its land as a GeoJSON geometry"
    )


class IncidentAlert(Alert):
    acked_by: str | None
    acked_at: str | None
    closed_at: str | None


class IncidentEvent(Answer):
    id: str
    kind: str = Field(description="message or ack")
    time: str = Field(description="when its author signed it (UTC)")
    line: str
    party: str
    from_: str = FROM
    ref: str | None = Field(default=None, description="an acknowledgement: what it acknowledges")
    precedence: str | None = None
    subject: str | None = None
    type: str | None = Field(default=None, description="a message's kind (query, incident...)")


class IncidentTimeline(Answer):
    """What an area held over a window: alerts, notices, messages, acknowledgements."""

    since: str
    until: str
    bbox: list[float] | None
    alerts: list[IncidentAlert]
    notices: list[dict[str, Any]] = Field(description="as GET /notices gives each")
    events: list[IncidentEvent] = Field(description="messages and acknowledgements, by time")


class ReplayPositions(Answer):
    """Track history in columns, for replay: position ``n`` is track ``track[n]`` (an
    index into ``tracks``) at ``since`` + ``t[n]`` seconds."""

    since: str
    tracks: list[dict[str, Any]] = Field(description="uid, party, kind, callsign of each")
    track: list[int]
    t: list[float] = Field(description="seconds after ``since``")
    lat: list[float]
    lon: list[float]
    course: list[float | None]
    speed: list[float | None]
    alt: list[float | None]
    truncated: bool = Field(description="more positions match than ``limit``")
