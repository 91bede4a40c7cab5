"""Incidents in the operator API: the timeline of an area over a window (alerts,
notifications of intent, messages and acknowledgements), track history in columns for
replay, and the incident's export (GeoJSON, KML, a CoT stream, or all of them in one
archive with the proof bundle of its messages)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from hotline.api.access import Access, Me
from hotline.api.awareness import parse_bbox
from hotline.api.context import Now
from hotline.api.problems import errors_of
from hotline.api.routing import JsonRoute
from hotline.api.schemas.record import IncidentTimeline, ReplayPositions
from hotline.domain.clock import format_time, parse_time
from hotline.domain.incident import Incident, Window, window_json
from hotline.services.incidents import Incidents
from hotline.storage.history import MAX_POSITIONS

Since = Annotated[str, Query(description="the window's start (UTC)")]
Until = Annotated[str, Query(description="the window's end (UTC)")]
Bbox = Annotated[str | None, Query(description="west,south,east,north (degrees)")]
Every = Annotated[
    int | None,
    Query(ge=1, le=3600, description="one position per track per this many seconds"),
]
Format = Literal["zip", "geojson", "kml", "cot"]
MEDIA = {
    "zip": ("application/zip", "zip"),
    "geojson": ("application/geo+json", "geojson"),
    "kml": ("application/vnd.google-earth.kml+xml", "kml"),
    "cot": ("application/xml", "cot"),
}


def window_of(since: str, until: str, bbox: str | None) -> Window:
    return Window.of(
        parse_time(since, field="since"),
        parse_time(until, field="until"),
        parse_bbox(bbox) if bbox else None,
    )


def columns(incident: Incident) -> dict[str, Any]:
    """The incident's positions as :class:`ReplayPositions`."""
    start = incident.window.since
    index: dict[str, int] = {}
    tracks: list[dict[str, Any]] = []
    out: dict[str, list[Any]] = {k: [] for k in ("track", "t", "lat", "lon", "course", "speed")}
    alt: list[float | None] = []
    for p in incident.positions:
        n = index.get(p.uid)
        if n is None:
            n = index[p.uid] = len(tracks)
            tracks.append(
                {"uid": p.uid, "party": p.party, "kind": p.kind.value, "callsign": p.callsign}
            )
        out["track"].append(n)
        out["t"].append(round((p.time - start).total_seconds(), 3))
        out["lat"].append(round(p.lat, 5))
        out["lon"].append(round(p.lon, 5))
        out["course"].append(None if p.course is None else round(p.course))
        out["speed"].append(None if p.speed is None else round(p.speed, 1))
        alt.append(None if p.alt is None else round(p.alt))
    return {
        "since": format_time(start),
        "tracks": tracks,
        **out,
        "alt": alt,
        "truncated": incident.truncated,
    }


def incidents_router(access: Access, incidents: Incidents, now: Now) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["awareness"], route_class=JsonRoute)

    @router.get(
        "/incident",
        operation_id="incidentTimeline",
        response_model=IncidentTimeline,
        responses=errors_of(400, 401, 403),
    )
    async def timeline(who: Me, since: Since, until: Until, bbox: Bbox = None) -> dict[str, Any]:
        """What an area held over a window, for replay: the alerts open in it, the
        notifications of intent in force or sent in it, and the messages and
        acknowledgements sent in it on the principal's lines. Positions: GET
        /tracks/replay."""
        access.own_party(who)
        window = window_of(since, until, bbox)

        def gather() -> Incident:
            return incidents.gather(window, access.line_ids(who), who.party, positions=False)

        incident = await run_in_threadpool(gather)
        return {
            **window_json(window),
            "alerts": list(incident.alerts),
            "notices": list(incident.notices),
            "events": list(incident.events),
        }

    @router.get(
        "/tracks/replay",
        operation_id="trackReplay",
        response_model=ReplayPositions,
        responses=errors_of(400, 401, 403),
    )
    async def replay(
        who: Me,
        since: Since,
        until: Until,
        bbox: Bbox = None,
        every: Every = None,
        limit: Annotated[int, Query(ge=1, le=MAX_POSITIONS)] = MAX_POSITIONS,
    ) -> dict[str, Any]:
        """Track history over a window and an area, in columns (a tenth the size of
        GET /tracks/history's), thinned to one position per track per ``every`` seconds:
        what the console's replay loads, a piece of the window at a time."""
        access.own_party(who)
        window = window_of(since, until, bbox)

        def gather() -> dict[str, Any]:
            incident = incidents.gather(
                window,
                (),
                who.party,
                timeline=False,
                every=timedelta(seconds=every) if every else None,
                limit=limit,
            )
            return columns(incident)

        found: dict[str, Any] = await run_in_threadpool(gather)
        return found

    @router.get(
        "/incident/export",
        operation_id="exportIncident",
        response_class=Response,
        responses={
            200: {
                "description": "the incident as a file: a ZIP archive (GeoJSON, KML, CoT, "
                "proof bundle, manifest), or one of its formats",
                "content": {
                    "application/zip": {"schema": {"type": "string", "format": "binary"}},
                    "application/geo+json": {"schema": {"type": "object"}},
                },
            },
            **errors_of(400, 401, 403),
        },
    )
    async def export(
        who: Me,
        since: Since,
        until: Until,
        bbox: Bbox = None,
        every: Every = None,
        format: Annotated[Format, Query(description="zip (all), geojson, kml or cot")] = "zip",
    ) -> Response:
        """The incident — tracks, alerts, notifications of intent, messages and
        acknowledgements of an area over a window — for other tools: GeoJSON (RFC 7946),
        KML 2.2, a stream of Cursor on Target events for TAK, or (``zip``) all three
        with ``proof.json``, the disclosure bundle of its messages and acknowledgements,
        and a manifest of SHA-256 digests."""
        access.own_party(who)
        window = window_of(since, until, bbox)

        def make() -> bytes:
            incident = incidents.gather(
                window,
                access.line_ids(who),
                who.party,
                every=timedelta(seconds=every) if every else None,
                now=now(),
            )
            return incidents.render(incident, format)

        data = await run_in_threadpool(make)
        media, ext = MEDIA[format]
        stamp = format_time(window.since)[:16].replace(":", "").replace("-", "")
        return Response(
            data,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="incident-{stamp}.{ext}"'},
        )

    return router
