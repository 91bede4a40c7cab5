"""Relayed messages in the operator API: what other parties relayed to the principal's
side (with whether the original's signature checks), and passing one on to its desk."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hotline.api.access import Access, Ident, Me
from hotline.api.problems import errors_of
from hotline.api.routing import JsonRoute
from hotline.api.schemas.desks import Relayed
from hotline.api.schemas.events import Event as EventAnswer
from hotline.domain.events import Event
from hotline.services.relays import Relays
from hotline.services.views import event_json, relayed_json
from hotline.storage.store import Store


class Forward(BaseModel):
    to: list[str] = Field(
        default_factory=list,
        description="desks of your party (default: the message's addressees)",
    )


def relays_router(access: Access, store: Store, relays: Relays) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["relays"], route_class=JsonRoute)

    @router.get(
        "/relays",
        operation_id="listRelayed",
        response_model=list[Relayed],
        responses=errors_of(401),
    )
    async def relayed(who: Me) -> list[dict[str, Any]]:
        """Messages other parties relayed to the principal's party on its lines, newest
        first, and whether they were passed on."""

        def mine() -> list[dict[str, Any]]:
            keys = store.key_directory()
            return [relayed_json(r, keys) for r in relays.relayed(who.party, who.id)]

        found: list[dict[str, Any]] = await run_in_threadpool(mine)
        return found

    @router.post(
        "/relays/{ident}/forward",
        status_code=201,
        operation_id="forwardRelayed",
        response_model=EventAnswer,
        responses=errors_of(400, 401, 403, 404, 409),
    )
    async def forward(ident: Ident, who: Me, body: Forward | None = None) -> dict[str, Any]:
        """Pass a relayed message on to the desks it is for (recorded on the relay line)."""
        access.writer(who)
        to = [d.strip() for d in (body.to if body else []) if d.strip()]

        def go() -> Event:
            access.visible(who, store.event(ident))
            return relays.forward(ident, who.id, to or None)

        event: Event = await run_in_threadpool(go)
        return event_json(event)

    return router
