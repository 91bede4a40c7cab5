"""Agreements in the operator API: those of a line, in the reader's language; proposing,
signing and terminating one (signed by the node, for its party: leaders and
administrators only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hotline.api.access import Access, LineId, Me
from hotline.api.context import Now
from hotline.api.problems import errors_of
from hotline.api.routing import JsonRoute
from hotline.api.schemas.desks import AgreementItem
from hotline.api.schemas.events import Event as EventAnswer
from hotline.domain import errors
from hotline.domain.identity import Principal
from hotline.services.agreements import Agreements, describe, read_terms
from hotline.services.views import event_json

#: Who may sign for the party: an agreement binds it, as a line's terms do.
SIGNERS = frozenset({"leader", "admin"})


class Proposal(BaseModel):
    terms: dict[str, Any] | str = Field(
        description="the terms as an object, or as YAML text (docs/operations.md#agreements)"
    )
    amends: str | None = Field(default=None, max_length=64, description="the agreement replaced")


def _signer(who: Principal) -> None:
    if not SIGNERS & set(who.roles):
        raise errors.Forbidden(f"{who.id} may not sign for {who.party}: leaders and admins do")


def agreements_router(access: Access, agreements: Agreements, now: Now, language: str) -> APIRouter:
    """``language``: the node's, for a reader who names none."""
    router = APIRouter(prefix="/api/v1", tags=["agreements"], route_class=JsonRoute)

    @router.get(
        "/lines/{line_id}/agreements",
        operation_id="lineAgreements",
        response_model=list[AgreementItem],
        responses=errors_of(400, 401, 404),
    )
    async def listed(line_id: LineId, who: Me, lang: str | None = None) -> list[dict[str, Any]]:
        """The agreements of a line, in the order proposed, with their state now."""
        state = await run_in_threadpool(access.on_line, who, line_id)
        found = await run_in_threadpool(agreements.of_line, state.line.id)
        moment = now()
        return [describe(a, state.line.acting, moment, lang or language) for a in found]

    @router.post(
        "/lines/{line_id}/agreements",
        status_code=201,
        operation_id="proposeAgreement",
        response_model=EventAnswer,
        responses=errors_of(400, 401, 403, 404, 409),
    )
    async def propose(line_id: LineId, body: Proposal, who: Me) -> dict[str, Any]:
        """Propose an agreement on the line, for the principal's party."""
        state = await run_in_threadpool(access.on_line, who, line_id)
        _signer(who)
        terms = read_terms(body.terms) if isinstance(body.terms, str) else body.terms
        event = await run_in_threadpool(
            lambda: agreements.propose(state.line.id, terms, amends=body.amends, party=who.party)
        )
        return event_json(event)

    @router.post(
        "/lines/{line_id}/agreements/{ident}/sign",
        status_code=201,
        operation_id="signAgreement",
        response_model=EventAnswer,
        responses=errors_of(400, 401, 403, 404, 409),
    )
    async def sign(line_id: LineId, ident: str, who: Me) -> dict[str, Any]:
        """Sign a proposed agreement for the principal's party."""
        state = await run_in_threadpool(access.on_line, who, line_id)
        _signer(who)
        event = await run_in_threadpool(agreements.sign, state.line.id, ident, who.party)
        return event_json(event)

    @router.post(
        "/lines/{line_id}/agreements/{ident}/terminate",
        status_code=201,
        operation_id="terminateAgreement",
        response_model=EventAnswer,
        responses=errors_of(400, 401, 403, 404, 409),
    )
    async def terminate(line_id: LineId, ident: str, who: Me) -> dict[str, Any]:
        """Sign the termination of an agreement for the principal's party; it ends once
        every party has."""
        state = await run_in_threadpool(access.on_line, who, line_id)
        _signer(who)
        event = await run_in_threadpool(agreements.terminate, state.line.id, ident, who.party)
        return event_json(event)

    return router
