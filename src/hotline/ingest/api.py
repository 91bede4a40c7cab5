"""``POST /ingest/v1/tracks``: batches of tracks from local sensors and gateways.

The body is ``{"tracks": [{"uid", "party", "kind", "lat", "lon", "time", "alt_m",
"speed_mps", "course_deg", "callsign"}, ...]}``; the request carries
``Authorization: Bearer <ingest_token>``. Without a configured token the endpoint is
off. Bad records are refused one by one, with the reason; the good ones are kept.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hotline.api.limits import BodyTooLarge
from hotline.domain.clock import parse_time
from hotline.domain.errors import InvalidInput
from hotline.domain.json_input import parse_json
from hotline.domain.tracks import Track, TrackKind, make_track

MAX_BATCH = 10_000


def track_of(item: Any) -> Track:
    if not isinstance(item, dict):
        raise InvalidInput("track", "a track is an object")
    try:
        return make_track(
            uid=str(item["uid"]),
            party=str(item["party"]).upper() if item.get("party") else None,
            kind=TrackKind(str(item.get("kind") or "unknown")),
            lat=float(item["lat"]),
            lon=float(item["lon"]),
            time=parse_time(str(item["time"])),
            alt=_opt(item.get("alt_m")),
            speed=_opt(item.get("speed_mps")),
            course=_opt(item.get("course_deg")),
            callsign=item.get("callsign"),
            source=str(item.get("source") or "api"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput("track", f"{exc!r}") from exc


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)


def bearer_refusal(request: Request, token: str, what: str, setting: str) -> JSONResponse | None:
    """The answer refusing a request without the bearer ``token`` of ``setting`` (403 while
    the setting is empty: ``what`` is off), or None when it carries it."""
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not token:
        return JSONResponse({"error": f"{what} is off: set {setting}"}, status_code=403)
    if not hmac.compare_digest(given.encode(), token.encode()):
        return JSONResponse({"error": "wrong or missing bearer token"}, status_code=401)
    return None


def mount_ingest(app: FastAPI, sink: Callable[[Sequence[Track]], object], token: str) -> None:
    @app.post("/ingest/v1/tracks")
    async def post_tracks(request: Request) -> JSONResponse:
        turned_away = bearer_refusal(request, token, "ingest", "ingest_token")
        if turned_away is not None:
            return turned_away
        try:
            body = parse_json(await request.body())
        except BodyTooLarge as over:
            return JSONResponse({"error": over.message, "hint": over.hint}, status_code=413)
        except InvalidInput as exc:
            return JSONResponse({"error": exc.message}, status_code=400)
        items = body.get("tracks") if isinstance(body, dict) else None
        if not isinstance(items, list) or len(items) > MAX_BATCH:
            return JSONResponse(
                {"error": f"give {{'tracks': [...]}} with at most {MAX_BATCH} tracks"},
                status_code=400,
            )
        good, refused = [], []
        for n, item in enumerate(items):
            try:
                good.append(track_of(item))
            except InvalidInput as exc:
                refused.append({"index": n, "error": exc.message})
        await run_in_threadpool(sink, good)
        return JSONResponse({"ingested": len(good), "refused": refused})
