"""Notifications of intent in the operator API: list them with where each stands, send,
amend and cancel one, and the activities with the notice each needs.

A notification giving less notice than its activity's rule asks is refused (409) with
the extension member ``short_notice: {required_seconds, given_seconds}``; sent again
with ``confirm_short_notice: true`` it goes, the confirmation recorded on the event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hotline.api.access import Access, Ident, Me
from hotline.api.problems import errors_of
from hotline.api.routing import JsonRoute
from hotline.api.schemas.desks import Notice, NoticeActivity
from hotline.api.schemas.events import Event as EventAnswer
from hotline.domain.clock import parse_time
from hotline.domain.events import Event
from hotline.domain.intent import ACTIVITY_LABELS, Activity, ShortNotice, parse_activity
from hotline.domain.precedence import parse_precedence
from hotline.services.notices import Notices
from hotline.services.views import event_json, notice_json
from hotline.storage.store import Store

CONFIRM_HINT = (
    "send it again with confirm_short_notice: true (recorded on the event), or move the window"
)


class NoticeFields(BaseModel):
    """A notification's fields, all of them (an amendment gives them again, as they now
    stand)."""

    activity: str = Field(description=", ".join(a.value for a in Activity))
    start: str = Field(description="the window's start (RFC 3339, with a zone)")
    end: str = Field(description="the window's end (RFC 3339, with a zone)")
    area: dict[str, Any] = Field(
        description='a GeoJSON Polygon, or {"center": [lon, lat], "radius": 25, "unit": "km"}'
    )
    units: list[str] = Field(min_length=1, description="the units or assets")
    remark: str = ""
    precedence: str = "PRIORITY"
    to: list[str] = Field(default_factory=list, description="addressees (principals)")
    confirm_short_notice: bool = Field(
        default=False, description="send although it gives less notice than the rule asks"
    )


class NoticeSend(NoticeFields):
    line: str


class NoticeCancel(BaseModel):
    reason: str = ""
    precedence: str = "IMMEDIATE"


def _fields(body: NoticeFields) -> dict[str, Any]:
    return {
        "activity": parse_activity(body.activity),
        "start": parse_time(body.start, field="start"),
        "end": parse_time(body.end, field="end"),
        "area": body.area,
        "units": tuple(body.units),
        "remark": body.remark,
        "precedence": parse_precedence(body.precedence),
        "to": tuple(body.to),
        "confirm_short_notice": body.confirm_short_notice,
    }


def notices_router(access: Access, store: Store, notices: Notices, language: str) -> APIRouter:
    """``language``: the node's, that names the activities."""
    router = APIRouter(prefix="/api/v1", tags=["notices"], route_class=JsonRoute)

    def sending(fn: Callable[[], Event]) -> Event:
        try:
            return fn()
        except ShortNotice as exc:
            exc.hint = CONFIRM_HINT
            raise

    @router.get(
        "/notices",
        operation_id="listNotices",
        response_model=list[Notice],
        responses=errors_of(401),
    )
    async def list_notices(who: Me) -> list[dict[str, Any]]:
        """Notifications of intent on the principal's lines, newest first, each with its
        latest amendment or cancellation."""

        def mine() -> list[dict[str, Any]]:
            lines = {s.line.id for s in access.lines_of(who)}
            return [notice_json(v) for v in notices.notices(who.party) if v.original.line in lines]

        found: list[dict[str, Any]] = await run_in_threadpool(mine)
        return found

    @router.get(
        "/notices/activities",
        operation_id="noticeActivities",
        response_model=list[NoticeActivity],
        responses=errors_of(401),
    )
    async def activities(who: Me, line: str | None = None) -> list[dict[str, Any]]:
        """Each activity, its name in the node's language, and the notice (seconds) this
        node's rule asks for it (on ``line``, as the agreements in force there say);
        null: none."""
        if line is None:
            rules = notices.lead_times
        else:
            state = await run_in_threadpool(access.on_line, who, line)
            rules = await run_in_threadpool(notices.rules, state.line.id)
        return [
            {
                "activity": a.value,
                "label": ACTIVITY_LABELS[a].get(language, ACTIVITY_LABELS[a]["en"]),
                "lead_time_seconds": int(rules[a].total_seconds()) if a in rules else None,
            }
            for a in Activity
        ]

    @router.post(
        "/notices",
        status_code=201,
        operation_id="sendNotice",
        response_model=EventAnswer,
        responses=errors_of(400, 401, 403, 404, 409),
    )
    async def send(body: NoticeSend, who: Me) -> dict[str, Any]:
        """Notify the other side of an activity: type, window, area, units, remark."""
        access.writer(who)
        fields = _fields(body)
        line = body.line.strip().lower()

        def go() -> Event:
            access.on_line(who, line)
            return notices.send(line, who.id, **fields)

        event: Event = await run_in_threadpool(sending, go)
        return event_json(event)

    @router.post(
        "/notices/{ident}/amend",
        status_code=201,
        operation_id="amendNotice",
        response_model=EventAnswer,
        responses=errors_of(400, 401, 403, 404, 409),
    )
    async def amend(ident: Ident, body: NoticeFields, who: Me) -> dict[str, Any]:
        """Amend a notification: all its fields again, as they now stand."""
        access.writer(who)
        fields = _fields(body)

        def go() -> Event:
            access.visible(who, store.event(ident))
            return notices.amend(ident, who.id, **fields)

        event: Event = await run_in_threadpool(sending, go)
        return event_json(event)

    @router.post(
        "/notices/{ident}/cancel",
        status_code=201,
        operation_id="cancelNotice",
        response_model=EventAnswer,
        responses=errors_of(400, 401, 403, 404, 409),
    )
    async def cancel(ident: Ident, body: NoticeCancel, who: Me) -> dict[str, Any]:
        """Withdraw a notification: the activity will not take place."""
        access.writer(who)
        precedence = parse_precedence(body.precedence)

        def go() -> Event:
            access.visible(who, store.event(ident))
            return notices.cancel(ident, who.id, body.reason, precedence)

        event: Event = await run_in_threadpool(go)
        return event_json(event)

    return router
