"""``POST /ingest/v1/tracks``: batches of tracks from local sensors and gateways.

The body is ``{"tracks": [{"uid", "party", "kind", "lat", "lon", "time", "alt_m",
"speed_mps", "course_deg", "callsign"}, ...]}``; the request carries
``Authorization: Bearer <ingest_token>``. Without a configured token the endpoint is
off. Bad records are refused one by one, with the reason; the good ones are kept.

A request refused as a whole (no token, a body too large or not a batch, tracks that
could not be stored) is answered with an RFC 9457 problem, mapped where the operator
API's are (:mod:`hotline.http.problems`): the caller's fault a 4xx, the node's a 5xx.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hotline.domain.clock import parse_time
from hotline.domain.errors import HotlineError, InvalidInput
from hotline.domain.json_input import parse_json
from hotline.domain.tracks import Track, TrackKind, make_track
from hotline.http.bearer import bearer_refusal
from hotline.http.limits import BodyTooLarge
from hotline.http.problems import from_error, problem

MAX_BATCH = 10_000
#: What a batch looks like, for a caller that sent something else.
BATCH_HINT = (
    'send JSON such as {"tracks": [{"uid": "ru-1", "lat": 55, "lon": 21, '
    '"time": "2026-03-01T12:00:00Z"}]}'
)


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


def mount_ingest(app: FastAPI, sink: Callable[[Sequence[Track]], object], token: str) -> None:
    @app.post("/ingest/v1/tracks")
    async def post_tracks(request: Request) -> JSONResponse:
        turned_away = bearer_refusal(request, token, "ingest", "ingest_token")
        if turned_away is not None:
            return turned_away
        try:
            body = parse_json(await request.body())
        except BodyTooLarge as over:
            return problem(413, over.message, hint=over.hint)
        except InvalidInput as exc:
            exc.hint = exc.hint or BATCH_HINT
            return from_error(exc)
        items = body.get("tracks") if isinstance(body, dict) else None
        if not isinstance(items, list) or len(items) > MAX_BATCH:
            return from_error(
                InvalidInput(
                    "body",
                    f"give {{'tracks': [...]}} with at most {MAX_BATCH} tracks",
                    hint=BATCH_HINT,
                )
            )
        good, refused = [], []
        for n, item in enumerate(items):
            try:
                good.append(track_of(item))
            except InvalidInput as exc:
                refused.append({"index": n, "error": exc.message})
        try:
            await run_in_threadpool(sink, good)
        except HotlineError as exc:  # NATS or the database away (503), stored data (500)
            return from_error(exc)
        return JSONResponse({"ingested": len(good), "refused": refused})
