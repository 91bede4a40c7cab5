"""Exercise controls of the operator API: cut a link to a peer for a while (admins of
the node's own party only)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hotline.api.access import Me
from hotline.api.context import Now
from hotline.api.problems import errors_of
from hotline.api.routing import JsonRoute
from hotline.api.schemas.people import LinkCut, LinkOutage
from hotline.domain import errors
from hotline.domain.exercise import parse_exercise_id
from hotline.domain.identity import Principal, Role
from hotline.services.outages import Outages
from hotline.storage.peers import PeerStore


class Outage(BaseModel):
    minutes: float = Field(gt=0, le=24 * 60, description="how long the link stays cut")
    exercise: str = Field(description="the exercise that cuts it")


def exercise_router(party: str, peers: PeerStore, cuts: Outages, now: Now) -> APIRouter:
    """``party``: the node's own; ``cuts``: the link outages exercises have on."""
    router = APIRouter(prefix="/api/v1", tags=["exercise"], route_class=JsonRoute)

    def admin(who: Principal) -> None:
        if who.party != party or Role.ADMIN not in who.roles:
            raise errors.Forbidden(f"{who.id} is not an admin of {party}'s node")

    @router.get(
        "/outages",
        operation_id="listOutages",
        response_model=dict[str, LinkOutage],
        responses=errors_of(401, 403),
    )
    async def outages(who: Me) -> dict[str, Any]:
        """The link outages an exercise has on now."""
        admin(who)
        return cuts.active()

    @router.post(
        "/links/{peer}/outage",
        status_code=201,
        operation_id="cutLink",
        response_model=LinkCut,
        responses=errors_of(400, 401, 403, 404),
    )
    async def cut(peer: str, body: Outage, who: Me) -> dict[str, Any]:
        """Cut the link to ``peer`` for ``minutes`` (node time): this node neither calls it
        nor answers it meanwhile. For exercises; the link tests record the outage."""
        admin(who)
        exercise = parse_exercise_id(body.exercise)
        other = peer.upper()
        if other == party or other not in {p.party for p in peers.peers()}:
            raise errors.NotFound("peer", other, hint="see `hotline peer list`")
        until = now() + timedelta(minutes=body.minutes)
        cuts.cut(other, until, exercise)
        return {"peer": other, **cuts.active().get(other, {})}

    return router
