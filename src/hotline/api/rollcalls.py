"""Roll calls in the operator API: those on the principal's service lines, those its
party has yet to answer, answering one (signed by the desk), a month's figures and the
month as a statement signed by the node's key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hotline.api.access import Access, Me
from hotline.api.context import Now
from hotline.api.problems import errors_of
from hotline.api.routing import JsonRoute
from hotline.api.schemas.desks import RollCallItem, RollCallMonth
from hotline.api.schemas.events import Event as EventAnswer
from hotline.domain.identity import parse_party_id
from hotline.services.rollcalls import RollCalls
from hotline.services.views import event_json

MONTH = Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")


class Answering(BaseModel):
    officer: str | None = Field(
        default=None, max_length=120, description="the officer answering (default: the roster's)"
    )


def rollcalls_router(access: Access, rollcalls: RollCalls, now: Now) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["rollcalls"], route_class=JsonRoute)

    @router.get(
        "/rollcalls",
        operation_id="listRollCalls",
        response_model=list[RollCallItem],
        responses=errors_of(401),
    )
    async def listed(who: Me) -> list[dict[str, Any]]:
        """Roll calls on the service lines the principal is on, newest first."""
        lines = [s.line.id for s in access.lines_of(who) if s.line.roll_calls]

        def read() -> list[dict[str, Any]]:
            moment = now()
            calls = sorted(rollcalls.calls(lines), key=lambda c: c.at, reverse=True)
            return [c.to_json(moment) for c in calls[:200]]

        return await run_in_threadpool(read) if lines else []

    @router.get(
        "/rollcalls/waiting",
        operation_id="waitingRollCalls",
        response_model=list[RollCallItem],
        responses=errors_of(401),
    )
    async def waiting(who: Me) -> list[dict[str, Any]]:
        """Roll calls asked of the principal's party on its lines, not answered yet (the
        console rings for them)."""
        calls = await run_in_threadpool(rollcalls.waiting, who.id)
        moment = now()
        return [c.to_json(moment) for c in calls]

    @router.post(
        "/rollcalls/{ident}/answer",
        status_code=201,
        operation_id="answerRollCall",
        response_model=EventAnswer,
        responses=errors_of(400, 401, 403, 404),
    )
    async def answer(ident: str, body: Answering, who: Me) -> dict[str, Any]:
        """Answer a roll call as the principal's desk (signed by it), with the officer on
        watch; after its window it counts as late."""
        access.writer(who)
        event = await run_in_threadpool(rollcalls.answer, ident, who.id, body.officer)
        return event_json(event)

    @router.get(
        "/rollcalls/stats",
        operation_id="rollCallMonth",
        response_model=RollCallMonth,
        responses=errors_of(400, 401, 404),
    )
    async def stats(
        who: Me,
        line: str,
        party: str,
        month: Annotated[str, MONTH],
    ) -> dict[str, Any]:
        """A month's roll calls asked of a party on a service line the principal is on."""
        state = access.on_line(who, line)
        counted = await run_in_threadpool(
            rollcalls.month, state.line.id, parse_party_id(party), month
        )
        return counted.to_json()

    @router.get(
        "/rollcalls/statement",
        operation_id="rollCallStatement",
        responses=errors_of(400, 401, 404),
    )
    async def statement(
        who: Me,
        line: str,
        party: str,
        month: Annotated[str, MONTH],
    ) -> dict[str, Any]:
        """The month as a statement signed by this node's key, to publish (check it with
        `hotline rollcall verify`)."""
        state = access.on_line(who, line)
        signed: dict[str, Any] = await run_in_threadpool(
            rollcalls.statement, state.line.id, parse_party_id(party), month
        )
        return signed

    return router
