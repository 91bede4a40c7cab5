"""Relayed messages in the operator API: what other parties relayed to the principal's
side (with whether the original's signature checks), and passing one on to its desk."""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations, and
# ``me`` below is local to the router's function.
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hotline.api.access import Access, errors_of
from hotline.api.limits import JsonRoute
from hotline.api.models import event_json
from hotline.domain.events import Event
from hotline.domain.identity import Principal
from hotline.domain.intake import row_of
from hotline.domain.verify import KeyDirectory, check_event
from hotline.services.relays import Relayed

if TYPE_CHECKING:
    from hotline.app import Node


class Forward(BaseModel):
    to: list[str] = Field(
        default_factory=list,
        description="desks of your party (default: the message's addressees)",
    )


def relayed_json(r: Relayed, keys: KeyDirectory) -> dict[str, Any]:
    """A row of `hotline relay list --json`, with the original's time, language and
    whether its author's signature checks against the key this node holds."""
    c = r.original.content
    problem, _ = check_event(row_of(r.original), keys)
    return {
        "relay": r.relay.id,
        "line": r.relay.line,
        "message": r.original.id,
        "from_line": r.original.line,
        "from": r.original.author,
        "precedence": c.get("precedence"),
        "subject": c.get("subject"),
        "body": c.get("body"),
        "lang": c.get("lang"),
        "relayed_at": r.relay.body["ts"],
        "original_sent": r.original.body["ts"],
        "to": r.to,
        "signature_verified": problem is None,
        "signature_problem": problem.describe() if problem else None,
        "forwarded": [
            {"by": f.author, "to": f.content.get("to"), "at": f.body["ts"]} for f in r.forwards
        ],
    }


def relays_router(node: "Node", signed_in: Callable[..., Any], access: Access) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["relays"], route_class=JsonRoute)
    me = Annotated[Principal, Depends(signed_in)]
    store = node.store

    @router.get("/relays", operation_id="listRelayed", responses=errors_of(401))
    async def relayed(who: me) -> list[dict[str, Any]]:
        """Messages other parties relayed to the principal's party on its lines, newest
        first, and whether they were passed on."""

        def mine() -> list[dict[str, Any]]:
            keys = store.key_directory()
            return [relayed_json(r, keys) for r in node.relays.relayed(who.party, who.id)]

        found: list[dict[str, Any]] = await run_in_threadpool(mine)
        return found

    @router.post(
        "/relays/{ident}/forward",
        status_code=201,
        operation_id="forwardRelayed",
        responses=errors_of(400, 401, 403, 404, 409),
    )
    async def forward(ident: str, who: me, body: Forward | None = None) -> dict[str, Any]:
        """Pass a relayed message on to the desks it is for (recorded on the relay line)."""
        access.writer(who)
        to = [d.strip() for d in (body.to if body else []) if d.strip()]

        def go() -> Event:
            access.visible(who, store.event(ident))
            return node.relays.forward(ident, who.id, to or None)

        event: Event = await run_in_threadpool(go)
        return event_json(event)

    return router
