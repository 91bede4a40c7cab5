"""Pre-agreed messages: the catalogue in force on a line, in the reader's language, and
sending one of its entries with its slots filled."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hotline.api.access import Access, LineId, Me
from hotline.api.problems import errors_of
from hotline.api.routing import JsonRoute
from hotline.api.schemas.events import Catalogue
from hotline.api.schemas.events import Event as EventAnswer
from hotline.domain.precedence import parse_precedence
from hotline.services.catalogues import Catalogues
from hotline.services.views import event_json


class Coded(BaseModel):
    line: str
    code: str
    number: int
    slots: dict[str, Any] = Field(default_factory=dict)
    precedence: str = "IMMEDIATE"
    lang: str = "en"


def catalogue_router(access: Access, catalogues: Catalogues, language: str) -> APIRouter:
    """``language``: the node's, for a reader who names none."""
    router = APIRouter(prefix="/api/v1", tags=["catalogue"], route_class=JsonRoute)

    @router.get(
        "/lines/{line_id}/catalogue",
        operation_id="lineCatalogue",
        response_model=Catalogue,
        responses=errors_of(400, 401, 404),
    )
    async def catalogue(line_id: LineId, who: Me, lang: str | None = None) -> dict[str, Any]:
        """The catalogue in force on a line, its entries in the reader's language."""
        state = await run_in_threadpool(access.on_line, who, line_id)
        found = await run_in_threadpool(catalogues.in_force, state.line.id)
        reader = lang or language
        return {
            "id": found.id,
            "name": found.name,
            "version": found.version,
            "entries": [
                {
                    "code": e.code,
                    "number": e.number,
                    "title": e.title_in(reader),
                    "text": e.text_in(reader),
                    "slots": [
                        {"name": s.name, "type": s.type, "values": list(s.values)} for s in e.slots
                    ],
                }
                for e in found.entries.values()
            ],
        }

    @router.post(
        "/messages/coded",
        status_code=201,
        operation_id="sendCodedMessage",
        response_model=EventAnswer,
        responses=errors_of(400, 401, 403, 404, 409),
    )
    async def send_coded(body: Coded, who: Me) -> dict[str, Any]:
        """Send a pre-agreed message: an entry of the line's catalogue, slots filled."""
        access.writer(who)
        state = await run_in_threadpool(access.on_line, who, body.line)
        event = await run_in_threadpool(
            catalogues.send,
            state.line.id,
            who.id,
            body.code,
            body.number,
            body.slots,
            precedence=parse_precedence(body.precedence),
            lang=body.lang,
        )
        return event_json(event)

    return router
