"""The watch roster in the operator API: who is on watch at each desk of the
principal's party (and who comes next), and a shift handover signed by the desk."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hotline.api.access import Access, Me
from hotline.api.context import Now
from hotline.api.problems import errors_of
from hotline.api.routing import JsonRoute
from hotline.api.schemas.desks import WatchBoard
from hotline.api.schemas.events import Event as EventAnswer
from hotline.domain import errors
from hotline.domain.clock import parse_time
from hotline.domain.events import Event
from hotline.services.views import event_json, watch_json
from hotline.services.watch import Watch


class Handover(BaseModel):
    desk: str | None = Field(default=None, description="the desk handed over (default: yours)")
    to: str = Field(min_length=1, description="the officer taking over")
    note: str = Field(min_length=1, description="the handover note")
    line: str | None = Field(default=None, description="the line to record it on")


def watch_router(access: Access, watch: Watch, now: Now) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["watch"], route_class=JsonRoute)

    @router.get(
        "/watch",
        operation_id="watchBoard",
        response_model=WatchBoard,
        responses=errors_of(400, 401),
    )
    async def board(
        who: Me,
        at: Annotated[str | None, Query(description="another moment (RFC 3339)")] = None,
    ) -> dict[str, Any]:
        """Who is on watch at each desk of the principal's party, until when, and who
        comes next (as `hotline watch --json`)."""
        moment = parse_time(at, field="at") if at else now()
        rows = await run_in_threadpool(watch.board, who.party, moment)
        return watch_json(moment, rows)

    @router.post(
        "/watch/handover",
        status_code=201,
        operation_id="handOver",
        response_model=EventAnswer,
        responses=errors_of(400, 401, 403, 404),
    )
    async def handover(body: Handover, who: Me) -> dict[str, Any]:
        """Record a shift handover at the principal's desk, signed by the desk, on one of
        its lines (the given one, or its first active line)."""
        access.writer(who)
        desk = (body.desk or who.id).strip().upper()
        if desk != who.id:
            raise errors.Forbidden(
                f"a handover at {desk} is signed by {desk}", hint=f"sign in as {desk}"
            )

        def go() -> Event:
            line = body.line.strip().lower() if body.line else None
            if line is not None:
                access.on_line(who, line)
            return watch.handover(desk, body.to.strip(), body.note, line)

        event: Event = await run_in_threadpool(go)
        return event_json(event)

    return router
