"""Translations: a translator's queue, translating a message, and certifying a
translation (or correcting it: the correction is certified, the original and the first
translation stay on record)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hotline.api.access import Access, Days, Ident, Me
from hotline.api.context import Now
from hotline.api.problems import errors_of
from hotline.api.routing import JsonRoute
from hotline.api.schemas.events import Event as EventAnswer
from hotline.api.schemas.events import QueuedMessage
from hotline.domain.events import EventKind
from hotline.domain.sealing import is_sealed
from hotline.domain.translation import Translation
from hotline.domain.translation import translations as translations_of
from hotline.services.translations import Translations
from hotline.services.views import event_json, translation_json
from hotline.storage.store import Store

#: At most this many messages in the queue (the newest).
QUEUE_LIMIT = 500


class Translate(BaseModel):
    lang: str
    body: str
    subject: str = ""


class Certify(BaseModel):
    """Certify a translation as it stands, or give a correction to certify instead."""

    body: str | None = Field(default=None, description="the corrected body, if corrected")
    subject: str | None = Field(default=None, description="the corrected subject, if corrected")


def translation_router(
    access: Access, store: Store, translations: Translations, now: Now
) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["translation"], route_class=JsonRoute)

    @router.get(
        "/translations/pending",
        operation_id="translationQueue",
        response_model=list[QueuedMessage],
        responses=errors_of(400, 401),
    )
    async def queue(who: Me, days: Days = 30) -> list[dict[str, Any]]:
        """Messages from the other side on the principal's lines of the last ``days``,
        newest first (at most 500), each with its translations."""

        def build() -> list[dict[str, Any]]:
            since = now() - timedelta(days=days)
            # (what is sealed from this node, a line's mediator, is not its to read)
            found = [
                m
                for m in store.events_on(access.line_ids(who), [EventKind.MESSAGE.value])
                if m.party != who.party and m.ts >= since and not is_sealed(m.content)
            ][-QUEUE_LIMIT:]
            made = store.referring([m.id for m in found], [EventKind.TRANSLATION.value])
            certs = store.referring([t.id for t in made], [EventKind.CERTIFICATION.value])
            by_message: dict[str, list[Translation]] = {}
            for t in translations_of(made, certs):
                by_message.setdefault(str(t.event.content["ref"]), []).append(t)
            return [
                {
                    "id": m.id,
                    "line": m.line,
                    "from": m.author,
                    "precedence": m.content.get("precedence"),
                    "kind": m.content.get("kind"),
                    "subject": m.content.get("subject"),
                    "body": m.content.get("body"),
                    "lang": m.content.get("lang"),
                    "sent": m.body["ts"],
                    "translations": [translation_json(t) for t in by_message.get(m.id, [])],
                }
                for m in reversed(found)
            ]

        rows: list[dict[str, Any]] = await run_in_threadpool(build)
        return rows

    @router.post(
        "/messages/{ident}/translations",
        status_code=201,
        operation_id="translateMessage",
        response_model=EventAnswer,
        responses=errors_of(400, 401, 403, 404, 409),
    )
    async def translate(ident: Ident, body: Translate, who: Me) -> dict[str, Any]:
        """Add a translation of a message (signed by the translator)."""
        access.writer(who)
        await run_in_threadpool(access.event, who, ident)
        event = await run_in_threadpool(
            translations.add, ident, who.id, body.lang, body.body, body.subject
        )
        return event_json(event)

    @router.post(
        "/translations/{ident}/certify",
        status_code=201,
        operation_id="certifyTranslation",
        response_model=EventAnswer,
        responses=errors_of(400, 401, 403, 404, 409),
    )
    async def certify(ident: Ident, body: Certify, who: Me) -> dict[str, Any]:
        """Certify a translation; with a body or subject, certify that correction of it."""
        access.writer(who)
        await run_in_threadpool(access.event, who, ident)
        event = await run_in_threadpool(
            translations.certify, ident, who.id, body=body.body, subject=body.subject
        )
        return event_json(event)

    return router
