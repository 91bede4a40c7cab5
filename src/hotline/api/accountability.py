"""Accountability: every message and contact request past its deadline, either way, with
what the escalation engine has done about it so far (its steps, in order)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from hotline.api.access import Access, Days, Me
from hotline.api.context import Now
from hotline.api.problems import errors_of
from hotline.api.routing import JsonRoute
from hotline.api.schemas.desks import OverdueItem
from hotline.services.contacts import Contacts
from hotline.services.overdue import overdue
from hotline.storage.store import Store


def accountability_router(access: Access, store: Store, contacts: Contacts, now: Now) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["accountability"], route_class=JsonRoute)

    @router.get(
        "/overdue",
        operation_id="overdueBoard",
        response_model=list[OverdueItem],
        responses=errors_of(400, 401),
    )
    async def overdue_board(who: Me, days: Days = 30) -> list[dict[str, Any]]:
        """What is overdue on the principal's lines (as `hotline overdue --json`), each
        with its escalation steps: when, what, and how it went."""
        at = now()
        mine = await run_in_threadpool(access.line_ids, who)
        items = await run_in_threadpool(overdue, store, contacts, who.party, at, days)
        return [i.to_json(at) for i in items if i.line in mine]

    return router
