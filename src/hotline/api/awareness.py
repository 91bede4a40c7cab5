"""Situational awareness for the node's own party: alerts (acknowledge one, draft a
deconfliction message from one) and the map's layers, answered from a cache with an
``ETag`` so a console that has them gets ``304 Not Modified``."""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hotline.api.access import Access, AlertId, Me
from hotline.api.context import Now
from hotline.api.maps import dynamic_layers, static_layers
from hotline.api.problems import errors_of
from hotline.api.routing import JsonRoute
from hotline.api.schemas.record import (
    Alert,
    AlertAck,
    AlertDraft,
    MapLayers,
    MapTile,
    TrackPositions,
)
from hotline.domain.clock import format_time, parse_time
from hotline.domain.errors import InvalidInput
from hotline.domain.tracks import Track
from hotline.services.awareness import Awareness, load_countries
from hotline.services.basemap import Basemap
from hotline.services.notices import Notices
from hotline.storage.history import MAX_POSITIONS, HistoryStore


def position_json(t: Track) -> dict[str, Any]:
    return {
        "uid": t.uid,
        "party": t.party,
        "kind": t.kind.value,
        "lat": t.lat,
        "lon": t.lon,
        "time": format_time(t.time),
        "alt": t.alt,
        "speed": t.speed,
        "course": t.course,
        "callsign": t.callsign,
        "source": t.source,
    }


class MapCache:
    """The map's layers as JSON text: the borders once (they do not change while the
    node runs), tracks, alerts and announced areas as they stand; the ``ETag`` is a
    digest of the whole."""

    def __init__(self, awareness: Awareness, notices: Notices, now: Now) -> None:
        self.awareness = awareness
        self.notices = notices
        self.now = now
        self._lock = threading.Lock()
        self._static: tuple[str, str] | None = None

    def layers(self) -> tuple[bytes, str]:
        """The layers (JSON, UTF-8) and their ETag."""
        with self._lock:
            if self._static is None:
                text = json.dumps(static_layers(self.awareness), separators=(",", ":"))
                self._static = (text[1:-1], hashlib.sha256(text.encode()).hexdigest())
            fixed, fixed_tag = self._static
        layers = dynamic_layers(self.awareness, self.awareness.picture, self.notices, self.now())
        live = json.dumps(layers, separators=(",", ":"))
        body = "{" + fixed + "," + live[1:]
        tag = hashlib.sha256((fixed_tag + live).encode()).hexdigest()[:32]
        return body.encode(), f'"{tag}"'


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``W,S,E,N`` in degrees (W > E crosses the antimeridian). Raises InvalidInput."""
    parts = text.split(",")
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError as exc:
        raise InvalidInput(
            "bbox", f"{text!r} is not four numbers", hint="west,south,east,north in degrees"
        ) from exc
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south < north <= 90):
        raise InvalidInput(
            "bbox",
            f"{text!r} is not a box on Earth",
            hint="longitudes -180..180, latitudes -90..90, south below north",
        )
    return west, south, east, north


def awareness_router(
    access: Access,
    awareness: Awareness,
    notices: Notices,
    now: Now,
    history: HistoryStore | None = None,
) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["awareness"], route_class=JsonRoute)
    picture = awareness.picture
    cache = MapCache(awareness, notices, now)

    @router.get(
        "/alerts",
        operation_id="listAlerts",
        response_model=list[Alert],
        responses=errors_of(401, 403),
    )
    async def alerts(who: Me) -> list[dict[str, Any]]:
        """The awareness alerts open on this node."""
        access.own_party(who)
        return [a.to_json() for a in await run_in_threadpool(picture.alerts)]

    @router.post(
        "/alerts/{ident}/ack",
        operation_id="acknowledgeAlert",
        response_model=AlertAck,
        responses=errors_of(400, 401, 403, 404, 409),
    )
    async def alert_ack(ident: AlertId, who: Me) -> dict[str, Any]:
        """Acknowledge an alert (it stays open until its cause goes)."""
        access.own_party(who)
        access.writer(who)
        alert = await run_in_threadpool(picture.acknowledge, ident, who.id, now())
        return {"id": ident, "state": alert.state.value}

    @router.get(
        "/alerts/{ident}/draft",
        operation_id="draftFromAlert",
        response_model=AlertDraft,
        responses=errors_of(400, 401, 403, 404, 409),
    )
    async def alert_draft(ident: AlertId, who: Me) -> dict[str, Any]:
        """A deconfliction message drafted from an alert, for the line to the party
        concerned (not sent: POST /messages sends it)."""
        access.own_party(who)
        line, draft = await run_in_threadpool(awareness.draft, ident, now())
        return {"line": line.line.id, "content": draft.content()}

    @router.get(
        "/map",
        operation_id="mapLayers",
        response_model=MapLayers,
        response_class=JSONResponse,
        responses={
            200: {
                "description": "The layers, with their ETag",
                "headers": {"ETag": {"schema": {"type": "string"}}},
            },
            304: {"description": "Not modified: the layers are those of the ETag given"},
            **errors_of(401, 403),
        },
    )
    async def map_view(request: Request, who: Me) -> Response:
        """The map's layers as GeoJSON: countries, the parties' borders, tracks, alerts,
        announced areas. Send ``If-None-Match`` with the last ``ETag`` to be told 304
        when nothing changed."""
        access.own_party(who)
        body, tag = await run_in_threadpool(cache.layers)
        headers = {"ETag": tag, "Cache-Control": "no-cache"}
        if tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/json", headers=headers)

    @router.get(
        "/tracks/history",
        operation_id="trackHistory",
        response_model=TrackPositions,
        responses=errors_of(400, 401, 403),
    )
    async def track_history(
        who: Me,
        uid: Annotated[list[str] | None, Query(description="these tracks only (repeat)")] = None,
        since: Annotated[str | None, Query(description="from this time (UTC)")] = None,
        until: Annotated[str | None, Query(description="until this time (UTC)")] = None,
        bbox: Annotated[str | None, Query(description="west,south,east,north (degrees)")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_POSITIONS)] = 10_000,
    ) -> dict[str, Any]:
        """Positions kept as track history (every position received, thinned with age),
        by time: of some tracks, in a window, in a box. For replay."""
        access.own_party(who)
        if history is None:
            return {"positions": [], "truncated": False}
        box = parse_bbox(bbox) if bbox else None
        start = parse_time(since, field="since") if since else None
        end = parse_time(until, field="until") if until else None

        def read() -> list[Track]:
            return history.positions(uids=uid, since=start, until=end, bbox=box, limit=limit + 1)

        found = await run_in_threadpool(read)
        return {
            "positions": [position_json(t) for t in found[:limit]],
            "truncated": len(found) > limit,
        }

    basemap: list[Basemap] = []
    lock = threading.Lock()

    def tile_of(z: int, x: int, y: int) -> dict[str, Any]:
        with lock:
            if not basemap:
                basemap.append(Basemap(load_countries()))
        return basemap[0].tile(z, x, y)

    @router.get(
        "/map/tiles/{z}/{x}/{y}",
        operation_id="mapTile",
        response_model=MapTile,
        responses=errors_of(400, 401, 403),
    )
    async def map_tile(z: int, x: int, y: int, who: Me, response: Response) -> dict[str, Any]:
        """The basemap's land in tile ``z/x/y`` of the Web Mercator grid (zoom 0 to 10),
        cut from the shipped Natural Earth borders: nothing is fetched from elsewhere.
        Tiles do not change while the node runs, so a console may keep them."""
        access.own_party(who)
        response.headers["Cache-Control"] = "private, max-age=86400"
        return await run_in_threadpool(tile_of, z, x, y)

    return router
