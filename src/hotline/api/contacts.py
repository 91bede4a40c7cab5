"""Contact requests ("call me"): list, request, accept with a time, decline with a reason,
cancel, record the call held; the counts per pair of principals, and the record over
time for a chart. Refusals and silence are facts kept and counted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hotline.api.access import Access, Days, Ident, Me
from hotline.api.context import Now
from hotline.api.problems import errors_of
from hotline.api.routing import JsonRoute
from hotline.api.schemas.desks import ContactHistory, PairStats
from hotline.api.schemas.desks import ContactRequest as ContactAnswer
from hotline.domain import errors
from hotline.domain.clock import format_time, parse_time
from hotline.domain.contact import ContactRequest, stats
from hotline.domain.identity import Principal
from hotline.services.contacts import Contacts, history


class ContactAsk(BaseModel):
    to: str
    topic: str
    window_hours: float | None = Field(None, gt=0, le=24 * 365)
    line: str | None = None
    exercise: str | None = Field(default=None, description="the exercise id; marks it as one")


class ContactAccept(BaseModel):
    time: str | None = Field(default=None, description="the proposed time of the call (UTC)")
    reason: str = Field(default="", description="a note with the acceptance")


class ContactReason(BaseModel):
    reason: str = ""


class ContactHeld(BaseModel):
    time: str | None = Field(default=None, description="when the call took place (default: now)")
    summary: str = ""


BucketDays = Annotated[int, Query(ge=1, le=3660, description="days in each bucket")]


def contacts_router(access: Access, contacts: Contacts, now: Now) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["contacts"], route_class=JsonRoute)

    def mine(who: Principal) -> list[ContactRequest]:
        lines = access.line_ids(who)
        return [r for r in contacts.requests(who.party) if r.line in lines]

    def answered(who: Principal, ident: str, act: Callable[[], Any]) -> dict[str, Any]:
        access.writer(who)
        access.event(who, ident)
        contacts.get(ident)  # refuses what is not a request
        act()
        return contacts.get(ident).to_json()

    @router.get(
        "/contacts",
        operation_id="listContacts",
        response_model=list[ContactAnswer],
        responses=errors_of(401),
    )
    async def listing(who: Me) -> list[dict[str, Any]]:
        """Contact requests on the principal's lines, newest first."""
        return [r.to_json() for r in await run_in_threadpool(mine, who)]

    @router.post(
        "/contacts",
        status_code=201,
        operation_id="requestContact",
        response_model=ContactAnswer,
        responses=errors_of(400, 401, 403, 404, 409),
    )
    async def ask(body: ContactAsk, who: Me) -> dict[str, Any]:
        """Ask for a call with a principal of the other side; an answer is due within
        the window (the line's, unless given)."""
        access.writer(who)
        window = timedelta(hours=body.window_hours) if body.window_hours is not None else None
        event = await run_in_threadpool(
            contacts.request,
            who.id,
            body.to,
            body.topic,
            line=body.line,
            window=window,
            exercise=body.exercise,
        )
        found: ContactRequest = await run_in_threadpool(contacts.get, event.id)
        return found.to_json()

    @router.post(
        "/contacts/{ident}/accept",
        operation_id="acceptContact",
        response_model=ContactAnswer,
        responses=errors_of(400, 401, 403, 404, 409),
    )
    async def accept(ident: Ident, body: ContactAccept, who: Me) -> dict[str, Any]:
        """Accept a call request, proposing a time for the call."""

        def act() -> None:
            if not body.time:
                raise errors.InvalidInput("time", "an acceptance proposes a time for the call")
            contacts.accept(ident, who.id, parse_time(body.time), body.reason)

        found: dict[str, Any] = await run_in_threadpool(answered, who, ident, act)
        return found

    @router.post(
        "/contacts/{ident}/decline",
        operation_id="declineContact",
        response_model=ContactAnswer,
        responses=errors_of(400, 401, 403, 404, 409),
    )
    async def decline(ident: Ident, body: ContactReason, who: Me) -> dict[str, Any]:
        """Decline a call request, with a reason (kept on record)."""
        found: dict[str, Any] = await run_in_threadpool(
            answered, who, ident, lambda: contacts.decline(ident, who.id, body.reason)
        )
        return found

    @router.post(
        "/contacts/{ident}/cancel",
        operation_id="cancelContact",
        response_model=ContactAnswer,
        responses=errors_of(400, 401, 403, 404, 409),
    )
    async def cancel(ident: Ident, body: ContactReason, who: Me) -> dict[str, Any]:
        """Withdraw a call request (its requester) or call off an accepted call."""
        found: dict[str, Any] = await run_in_threadpool(
            answered, who, ident, lambda: contacts.cancel(ident, who.id, body.reason)
        )
        return found

    @router.post(
        "/contacts/{ident}/held",
        operation_id="recordContactHeld",
        response_model=ContactAnswer,
        responses=errors_of(400, 401, 403, 404, 409),
    )
    async def held(ident: Ident, body: ContactHeld, who: Me) -> dict[str, Any]:
        """Record that an accepted call took place, with a summary."""

        def act() -> None:
            at = parse_time(body.time) if body.time else now()
            contacts.held(ident, who.id, at, body.summary)

        found: dict[str, Any] = await run_in_threadpool(answered, who, ident, act)
        return found

    @router.get(
        "/contacts/stats",
        operation_id="contactStats",
        response_model=list[PairStats],
        responses=errors_of(400, 401),
    )
    async def contact_stats(who: Me, days: Days = 30) -> list[dict[str, Any]]:
        """Per pair of principals, the requests of the last ``days`` and what came of them."""
        found = await run_in_threadpool(mine, who)
        return [r.to_json() for r in stats(found, now(), days)]

    @router.get(
        "/contacts/history",
        operation_id="contactHistory",
        response_model=ContactHistory,
        responses=errors_of(400, 401),
    )
    async def contact_history(
        who: Me, days: Days = 30, bucket_days: BucketDays = 7
    ) -> dict[str, Any]:
        """The record over the last ``days`` in buckets of ``bucket_days``, oldest first:
        per bucket and pair, requests made then and what came of them (for a chart),
        and the totals over the whole span."""
        found = await run_in_threadpool(mine, who)
        at = now()
        return {
            "days": days,
            "bucket_days": bucket_days,
            "now": format_time(at),
            "buckets": [
                {
                    "start": format_time(low),
                    "end": format_time(high),
                    "pairs": [p.to_json() for p in rows],
                }
                for low, high, rows in history(found, at, days, bucket_days)
            ],
            "totals": [r.to_json() for r in stats(found, at, days)],
        }

    return router
