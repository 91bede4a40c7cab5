"""Exercise controls of the operator API: cut a link to a peer for a while (admins of
the node's own party only)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hotline.api.access import Me
from hotline.api.limits import JsonRoute
from hotline.api.problems import errors_of
from hotline.api.schemas.people import LinkCut, LinkOutage
from hotline.domain import errors
from hotline.domain.exercise import parse_exercise_id
from hotline.domain.identity import Principal, Role

if TYPE_CHECKING:
    from hotline.app import Node


class Outage(BaseModel):
    minutes: float = Field(gt=0, le=24 * 60, description="how long the link stays cut")
    exercise: str = Field(description="the exercise that cuts it")


def exercise_router(node: Node) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["exercise"], route_class=JsonRoute)

    def admin(who: Principal) -> None:
        if who.party != node.party or Role.ADMIN not in who.roles:
            raise errors.Forbidden(f"{who.id} is not an admin of {node.party}'s node")

    @router.get(
        "/outages",
        operation_id="listOutages",
        response_model=dict[str, LinkOutage],
        responses=errors_of(401, 403),
    )
    async def outages(who: Me) -> dict[str, Any]:
        """The link outages an exercise has on now."""
        admin(who)
        return node.outages.active()

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
        party = peer.upper()
        if party == node.party or party not in {p.party for p in node.peers.peers()}:
            raise errors.NotFound("peer", party, hint="see `hotline peer list`")
        until = node.writer.now() + timedelta(minutes=body.minutes)
        node.outages.cut(party, until, exercise)
        return {"peer": party, **node.outages.active().get(party, {})}

    return router
