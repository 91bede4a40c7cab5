"""Messages: the inbox with each deadline on the node's clock, what the party sent, one
message (as stored, or as its reader reads it with its thread), sending one and
acknowledging one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hotline.api.access import Access, Ident, Limit, Me
from hotline.api.context import Now
from hotline.api.problems import errors_of
from hotline.api.routing import JsonRoute
from hotline.api.schemas.events import (
    AckMatrix,
    InboxItem,
    MessageDetail,
    MessageRead,
    SentMessage,
)
from hotline.api.schemas.events import (
    Event as EventAnswer,
)
from hotline.domain import errors
from hotline.domain.addressing import awaited
from hotline.domain.events import Event, EventKind
from hotline.domain.identity import Principal
from hotline.domain.message import MessageDraft
from hotline.domain.policy import parse_message_kind
from hotline.domain.precedence import parse_precedence
from hotline.services.catalogues import Catalogues
from hotline.services.messages import Messages
from hotline.services.translations import Translations
from hotline.services.views import ack_json, event_json, inbox_json, translation_json
from hotline.storage.store import Store


class Send(BaseModel):
    line: str
    subject: str
    body: str
    kind: str = "free"
    precedence: str = "ROUTINE"
    lang: str = "en"
    to: list[str] = Field(
        default_factory=list, description="addressees (none: every party that writes on the line)"
    )
    info: list[str] = Field(
        default_factory=list, description="desks informed: they receive it and owe no ack"
    )
    refs: list[str] = Field(default_factory=list)
    area: dict[str, Any] | None = None
    start: str | None = None
    end: str | None = None
    activity: str | None = None
    units: list[str] = Field(default_factory=list)
    exercise: str | None = Field(default=None, description="the exercise id; marks it as one")
    alert: str | None = Field(default=None, description="the awareness alert it was drafted from")
    attachments: list[dict[str, Any]] = Field(
        default_factory=list,
        description="map attachments (an area, a track, positions), signed with the message; "
        "each {name, kind, geometry, times?}; see docs/messages.md",
    )


class Ack(BaseModel):
    reply: str | None = None
    lang: str = "en"
    exercise: str | None = Field(
        default=None, description="the exercise id (an exercise message's own, if not given)"
    )


def messages_router(
    access: Access,
    store: Store,
    messages: Messages,
    translations: Translations,
    catalogues: Catalogues,
    language: str,
    now: Now,
) -> APIRouter:
    """``language``: the node's, for a reader who names none."""
    router = APIRouter(prefix="/api/v1", tags=["messages"], route_class=JsonRoute)

    @router.get(
        "/inbox",
        operation_id="inbox",
        response_model=list[InboxItem],
        responses=errors_of(400, 401),
    )
    async def inbox(who: Me, include_acked: bool = False) -> list[dict[str, Any]]:
        """Messages from the other side on the principal's lines, by precedence, each with
        its deadline and the seconds left to it on the node's clock."""
        items = await run_in_threadpool(
            messages.inbox, who.party, principal=who.id, include_acked=include_acked
        )
        at = now()
        return [inbox_json(i, at) for i in items]

    @router.get(
        "/sent",
        operation_id="sentMessages",
        response_model=list[SentMessage],
        responses=errors_of(400, 401),
    )
    async def sent(who: Me, limit: Limit = 50) -> list[dict[str, Any]]:
        """The party's latest messages on the principal's lines, with who acknowledged."""

        def mine() -> list[dict[str, Any]]:
            ids = access.line_ids(who)
            latest = [
                m for m in store.events_on(ids, [EventKind.MESSAGE.value]) if m.party == who.party
            ][-limit:]
            acks: dict[str, list[Event]] = {}
            for a in store.acks_of([m.id for m in latest]):
                acks.setdefault(str(a.content["ref"]), []).append(a)
            lines = {s.line.id: s.line for s in access.lines_of(who)}
            return [
                {
                    **event_json(m),
                    "acks": [ack_json(a) for a in acks.get(m.id, [])],
                    "owed": sorted(awaited(m, lines[m.line])) if m.line in lines else [],
                }
                for m in reversed(latest)
            ]

        found: list[dict[str, Any]] = await run_in_threadpool(mine)
        return found

    @router.get(
        "/messages/{ident}",
        operation_id="getMessage",
        response_model=MessageDetail,
        responses=errors_of(400, 401, 404),
    )
    async def message(ident: Ident, who: Me) -> dict[str, Any]:
        """A message (or any event on the principal's lines) with its acknowledgements."""
        event = await run_in_threadpool(access.event, who, ident)
        acks = await run_in_threadpool(store.acks_of, [event.id])
        return {**event_json(event), "acks": [event_json(a) for a in acks]}

    @router.get(
        "/messages/{ident}/acknowledgements",
        operation_id="getAckMatrix",
        response_model=AckMatrix,
        responses=errors_of(400, 401, 404),
    )
    async def acknowledgements(ident: Ident, who: Me) -> dict[str, Any]:
        """The message's acknowledgement matrix: each other party of its line, what it
        owes (to, info, observer, mediator), when its node signed that it holds the
        message, who acknowledged it and when, and what the sender's node did about a
        missing answer."""

        def build() -> dict[str, Any]:
            event = access.event(who, ident)
            return messages.matrix(event.id, now()).to_json()

        found: dict[str, Any] = await run_in_threadpool(build)
        return found

    def thread(who: Principal, message: Event) -> dict[str, Any]:
        refs = message.content.get("refs") if isinstance(message.content, dict) else None
        mine = access.line_ids(who)
        earlier = []
        for ref in refs if isinstance(refs, list) else []:
            try:
                found = store.event(str(ref))
            except errors.HotlineError:
                continue
            if found.line in mine:
                earlier.append(event_json(found))
        later = [
            event_json(m)
            for m in store.events_on([message.line], [EventKind.MESSAGE.value])
            if message.id in (m.content.get("refs") or [])
        ]
        return {
            "refs": earlier,
            "referred_by": later,
            "acks": [ack_json(a) for a in store.acks_of([message.id])],
        }

    @router.get(
        "/messages/{ident}/read",
        operation_id="readMessage",
        response_model=MessageRead,
        responses=errors_of(400, 401, 403, 404),
    )
    async def read(ident: Ident, who: Me, lang: str | None = None) -> dict[str, Any]:
        """A message as its reader reads it: the original, its pre-agreed text in the
        reader's language, its translations with who made and certified them, and its
        thread (what it refers to, what refers to it, its acknowledgements)."""

        def build() -> dict[str, Any]:
            access.event(who, ident)
            message, items = translations.of(ident)
            reader = lang or language
            coded = catalogues.render(message, reader)
            return {
                **event_json(message),
                "reader_lang": reader,
                "catalogue": {"title": coded[0], "text": coded[1]} if coded else None,
                "translations": [translation_json(t) for t in items],
                "thread": thread(who, message),
            }

        found: dict[str, Any] = await run_in_threadpool(build)
        return found

    @router.post(
        "/messages",
        status_code=201,
        operation_id="sendMessage",
        response_model=EventAnswer,
        responses=errors_of(400, 401, 403, 404, 409),
    )
    async def send(body: Send, who: Me) -> dict[str, Any]:
        """Send a message on one of the principal's lines (signed by the principal)."""
        access.writer(who)
        if (body.start is None) != (body.end is None):
            raise errors.InvalidInput("window", "give both start and end, or neither")
        draft = MessageDraft(
            kind=parse_message_kind(body.kind),
            precedence=parse_precedence(body.precedence),
            subject=body.subject,
            body=body.body,
            lang=body.lang,
            to=tuple(body.to),
            info=tuple(body.info),
            refs=tuple(body.refs),
            area=body.area,
            window={"start": body.start, "end": body.end} if body.start and body.end else None,
            activity=body.activity,
            units=tuple(body.units),
            exercise=body.exercise,
            alert=body.alert,
            attachments=tuple(body.attachments),
        )

        def checked_send() -> Event:
            state = access.on_line(who, body.line)
            return messages.send(state.line.id, who.id, draft)

        event: Event = await run_in_threadpool(checked_send)
        return event_json(event)

    @router.post(
        "/messages/{ident}/ack",
        status_code=201,
        operation_id="acknowledgeMessage",
        response_model=EventAnswer,
        responses=errors_of(400, 401, 403, 404, 409),
    )
    async def ack(ident: Ident, who: Me, body: Ack | None = None) -> dict[str, Any]:
        """Acknowledge a message for the principal's party, with a reply if any."""
        body = body or Ack()
        access.writer(who)
        await run_in_threadpool(access.event, who, ident)
        event = await run_in_threadpool(
            messages.ack,
            ident,
            who.id,
            reply=body.reply,
            lang=body.lang,
            exercise=body.exercise,
        )
        return event_json(event)

    return router
