"""Paging in the operator API: the items paged at the principal's desk (the console
rings for the open ones), taking one ("I have it"), and the paging plan (read by every
desk of the party; set by an administrator)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hotline.api.access import Access, Me
from hotline.api.problems import errors_of
from hotline.api.routing import JsonRoute
from hotline.api.schemas.desks import PagedItem, PageReaction, PagingPlanAnswer
from hotline.domain import errors
from hotline.domain.identity import Role
from hotline.services.paging import Pager

PLAN_MAX = 256 * 1024


class Take(BaseModel):
    item: str = Field(min_length=1, max_length=200, description="the item paged")


class PlanText(BaseModel):
    text: str = Field(max_length=PLAN_MAX, description="the plan, YAML or JSON")
    format: Literal["yaml", "json"] = "yaml"


def paging_router(access: Access, pager: Pager) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["paging"], route_class=JsonRoute)

    @router.get(
        "/pages",
        operation_id="pagedItems",
        response_model=list[PagedItem],
        responses=errors_of(401, 403),
    )
    async def paged(who: Me) -> list[dict[str, Any]]:
        """Items paged at the principal's desk, open ones first: each page (to whom, by
        which means, how it went) and who reacted when."""
        access.own_party(who)
        items = await run_in_threadpool(pager.board, [who.id])
        return [i.to_json() for i in items]

    @router.post(
        "/pages/take",
        operation_id="takePage",
        response_model=PageReaction,
        responses=errors_of(400, 401, 403, 404),
    )
    async def take(body: Take, who: Me) -> dict[str, Any]:
        """Take an item paged at the principal's desk ("I have it"): paging it stops;
        its acknowledgement is still due."""
        access.own_party(who)
        access.writer(who)
        reaction = await run_in_threadpool(pager.take, body.item.strip(), who.id)
        return reaction.to_json()

    @router.get(
        "/paging/plan",
        operation_id="pagingPlan",
        response_model=PagingPlanAnswer,
        responses=errors_of(401, 403),
    )
    async def plan(who: Me) -> dict[str, Any]:
        """The paging plan in force (secrets are shown as "(set)")."""
        access.own_party(who)

        def read() -> dict[str, Any]:
            record = pager.paging.plan()
            return {
                **pager.plan().to_json(),
                "set_by": record.set_by if record else None,
                "set_at": record.set_at if record else None,
            }

        return await run_in_threadpool(read)

    @router.put(
        "/paging/plan",
        operation_id="setPagingPlan",
        response_model=PagingPlanAnswer,
        responses=errors_of(400, 401, 403, 404),
    )
    async def set_plan(body: PlanText, who: Me) -> dict[str, Any]:
        """Set the paging plan (an administrator of the node's party); it is checked
        first, and the earlier plan is kept on the node's record."""
        access.own_party(who)
        if Role.ADMIN not in who.roles:
            raise errors.Forbidden(f"{who.id} is not an administrator", hint="roles: admin")

        def write() -> dict[str, Any]:
            plan = pager.set_plan(body.text, body.format, who.id)
            record = pager.paging.plan()
            return {
                **plan.to_json(),
                "set_by": record.set_by if record else None,
                "set_at": record.set_at if record else None,
            }

        return await run_in_threadpool(write)

    return router
