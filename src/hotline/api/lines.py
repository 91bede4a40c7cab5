"""The principal's lines and the events on one of them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from hotline.api.access import Access, Limit, LineId, Me
from hotline.api.problems import errors_of
from hotline.api.routing import JsonRoute
from hotline.api.schemas.events import Event as EventAnswer
from hotline.api.schemas.events import Line
from hotline.domain.events import EventKind
from hotline.services.views import event_json, line_json
from hotline.storage.store import Store


def lines_router(access: Access, store: Store) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["lines"], route_class=JsonRoute)

    @router.get(
        "/lines", operation_id="listLines", response_model=list[Line], responses=errors_of(401)
    )
    async def lines(who: Me) -> list[dict[str, Any]]:
        """The lines the principal is on, with their terms."""
        return [line_json(s) for s in await run_in_threadpool(access.lines_of, who)]

    @router.get(
        "/lines/{line_id}/events",
        operation_id="lineEvents",
        response_model=list[EventAnswer],
        responses=errors_of(400, 401, 404),
    )
    async def line_events(line_id: LineId, who: Me, limit: Limit = 200) -> list[dict[str, Any]]:
        """The latest events of a line (receipts left out), oldest first."""
        state = await run_in_threadpool(access.on_line, who, line_id)
        found = await run_in_threadpool(store.events, state.line.id)
        return [event_json(e) for e in found if e.kind != EventKind.RECEIPT][-limit:]

    return router
