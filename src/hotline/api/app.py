"""The operator REST API under ``/api/v1`` (its OpenAPI document, ``/api/v1/openapi.json``,
is the contract), an SSE stream of new events, and the console's static files.

Every request but sign-in carries a session (cookie ``hotline_session``) or a bearer token.
A principal sees only the lines it is on and, of the node's internal data (alerts, tracks,
link state), only its own party's. Errors become RFC 9457 problems in one place,
:mod:`hotline.api.problems`; the document is built in :mod:`hotline.api.contract`.
"""

from __future__ import annotations

from datetime import timedelta
from importlib.resources import files
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from hotline.api import problems
from hotline.api.contract import document, operation_id
from hotline.api.desks import Access, desk_routers, desk_routes
from hotline.api.exercise import exercise_router
from hotline.api.limits import MAX_INT64, JsonRoute
from hotline.api.maps import map_layers
from hotline.api.models import (
    Ack,
    Certify,
    Coded,
    ContactAnswer,
    ContactAsk,
    Login,
    Send,
    Translate,
    event_json,
    line_json,
)
from hotline.api.preferences import preferences_router
from hotline.api.stream import stream_router
from hotline.domain import errors
from hotline.domain.clock import format_time, parse_time
from hotline.domain.contact import ContactRequest, stats
from hotline.domain.events import Event, EventKind
from hotline.domain.identity import Principal, Role
from hotline.domain.message import MessageDraft
from hotline.domain.policy import LineState, parse_message_kind
from hotline.domain.precedence import parse_precedence
from hotline.services.accounts import LANGUAGES, Accounts
from hotline.services.overdue import overdue as overdue_items
from hotline.services.verification import verify_store

if TYPE_CHECKING:
    from hotline.app import Node

COOKIE = "hotline_session"
WRITERS = {Role.WATCH_OFFICER, Role.LEADER, Role.RELAY, Role.TRANSLATOR, Role.ADMIN}


def token_of(request: Request) -> str | None:
    """The bearer token, else the session cookie."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(COOKIE)


async def signed_in(request: Request) -> Principal:
    """The principal of the request's session or token. Raises NotAuthenticated."""
    accounts: Accounts = request.app.state.accounts
    token = token_of(request)
    principal = accounts.cached(token)  # most requests: no database, no thread
    if principal is None:
        principal = await run_in_threadpool(accounts.authenticate, token)
    return principal


Me = Annotated[Principal, Depends(signed_in)]
Days = Annotated[int, Query(ge=1, le=3660, description="how many days back")]
Limit = Annotated[int, Query(ge=1, le=10_000, description="at most this many")]
AlertId = Annotated[int, Path(ge=1, le=MAX_INT64, description="the alert's number")]


def create_api(app: FastAPI, node: Node, accounts: Accounts) -> None:
    """Mount the operator API and the console on the node's app."""
    store = node.store
    api = APIRouter(
        prefix="/api/v1", route_class=JsonRoute, generate_unique_id_function=operation_id
    )

    async def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(fn, *args, **kwargs)

    app.state.accounts = accounts

    def lines_of(who: Principal) -> list[LineState]:
        return [s for s in store.lines(who.party) if who.id in s.line.policy.principals]

    def writer(who: Principal) -> None:
        if not WRITERS & set(who.roles):
            raise errors.Forbidden(f"{who.id} may read, not write (roles: auditor)")

    def own_party(who: Principal) -> None:
        if who.party != node.party:
            raise errors.Forbidden(f"{who.party}'s principals do not see {node.party}'s data")

    def on_line(who: Principal, line_id: str) -> LineState:
        try:
            state = store.line(line_id)
        except errors.NotFound:
            state = None
        if (
            state is None
            or who.party not in state.line.parties
            or (who.id not in state.line.policy.principals)
        ):
            raise errors.NotFound("line", line_id, hint="see GET /api/v1/lines")
        return state

    def visible(who: Principal, event: Event) -> Event:
        """The event, if it is on one of the principal's lines; else as if it did not exist."""
        if event.line not in {s.line.id for s in lines_of(who)}:
            raise errors.NotFound("event", event.id[:12], hint="see GET /api/v1/inbox")
        return event

    # -- authentication --------------------------------------------------------------

    @api.post("/auth/login", tags=["auth"])
    async def login(body: Login, request: Request) -> JSONResponse:
        remote = request.client.host if request.client else None
        session = await call(accounts.login, body.principal, body.password, remote)
        answer = JSONResponse(
            {
                "token": session.token,
                "principal": session.principal,
                "expires_at": accounts.expiry(session),
            }
        )
        answer.set_cookie(
            COOKIE,
            session.token,
            httponly=True,
            samesite="strict",
            max_age=int(accounts.session_ttl.total_seconds()),
        )
        return answer

    @api.post("/auth/logout", tags=["auth"])
    async def logout(request: Request, who: Me) -> JSONResponse:
        token = token_of(request)
        if token:
            await call(accounts.logout, token)
        answer = JSONResponse({"signed_out": who.id})
        answer.delete_cookie(COOKIE)
        return answer

    def chosen_language(who: Principal) -> str:
        return accounts.language_of(who.id) or node.language

    @api.get("/me", tags=["auth"])
    async def whoami(who: Me) -> dict[str, Any]:
        """The signed-in principal, its lines, and the language it reads in (its own
        choice, else the node's)."""
        states = await call(lines_of, who)
        return {
            "principal": who.id,
            "name": who.name,
            "party": who.party,
            "node": node.party,
            "roles": [r.value for r in who.roles],
            "lines": [s.line.id for s in states],
            "language": await call(chosen_language, who),
            "node_language": node.language,
            "languages": list(LANGUAGES),
        }

    @api.get("/node", tags=["auth"])
    async def node_info() -> dict[str, Any]:
        """Whose node this is and its language, for the sign-in screen (no session)."""
        return {"party": node.party, "language": node.language, "languages": list(LANGUAGES)}

    @api.get("/time", tags=["health"])
    async def node_time(who: Me) -> dict[str, Any]:
        """The node's clock: every deadline and countdown counts on it. ``speed`` is how
        many seconds pass on it in a real second (an exercise may run faster; 0: it stands
        still between the exercise's steps)."""
        clock = node.writer.clock
        speed = getattr(clock, "speed", None)
        return {
            "now": format_time(node.writer.now()),
            "speed": 1.0 if speed is None else float(speed),
            "exercise": speed is not None,
        }

    # -- lines and messages ----------------------------------------------------------

    @api.get("/lines", tags=["lines"])
    async def lines(who: Me) -> list[dict[str, Any]]:
        return [line_json(s) for s in await call(lines_of, who)]

    @api.get("/inbox", tags=["messages"])
    async def inbox(who: Me, include_acked: bool = False) -> list[dict[str, Any]]:
        items = await call(
            node.messages.inbox, who.party, principal=who.id, include_acked=include_acked
        )
        return [
            {
                "id": i.message.id,
                "line": i.line.line.id,
                "from": i.message.author,
                "precedence": i.precedence.value,
                "kind": i.message.content["kind"],
                "subject": i.message.content["subject"],
                "body": i.message.content["body"],
                "lang": i.message.content.get("lang"),
                "sent": i.message.body["ts"],
                "deadline": format_time(i.deadline),
                "acked_by": i.ack.author if i.ack else None,
                "acked_at": i.ack.body["ts"] if i.ack else None,
                "officer": i.ack.content.get("officer") if i.ack else None,
                "escalations": list(i.escalations),
                "exercise": i.message.content.get("exercise"),
            }
            for i in items
        ]

    @api.get("/sent", tags=["messages"])
    async def sent(who: Me, limit: Limit = 50) -> list[dict[str, Any]]:
        """The party's latest messages on the principal's lines, with who acknowledged."""

        def mine() -> list[dict[str, Any]]:
            ids = [s.line.id for s in lines_of(who)]
            messages = [
                m for m in store.events_on(ids, [EventKind.MESSAGE.value]) if m.party == who.party
            ][-limit:]
            acks: dict[str, list[Event]] = {}
            for a in store.acks_of([m.id for m in messages]):
                acks.setdefault(str(a.content["ref"]), []).append(a)
            return [
                {
                    **event_json(m),
                    "acks": [
                        {
                            "by": a.author,
                            "at": a.body["ts"],
                            "officer": a.content.get("officer"),
                            "reply": (a.content.get("reply") or {}).get("body"),
                        }
                        for a in acks.get(m.id, [])
                    ],
                }
                for m in reversed(messages)
            ]

        found: list[dict[str, Any]] = await call(mine)
        return found

    @api.get("/lines/{line_id}/events", tags=["messages"])
    async def line_events(line_id: str, who: Me, limit: Limit = 200) -> list[dict[str, Any]]:
        await call(on_line, who, line_id)
        found = await call(store.events, line_id)
        return [event_json(e) for e in found if e.kind != EventKind.RECEIPT][-limit:]

    @api.get("/messages/{ident}", tags=["messages"])
    async def message(ident: str, who: Me) -> dict[str, Any]:
        event = visible(who, await call(store.event, ident))
        acks = await call(store.acks_of, [event.id])
        return {**event_json(event), "acks": [event_json(a) for a in acks]}

    @api.post("/messages", status_code=201, tags=["messages"])
    async def send(body: Send, who: Me) -> dict[str, Any]:
        writer(who)
        if (body.start is None) != (body.end is None):
            raise errors.InvalidInput("window", "give both start and end, or neither")
        draft = MessageDraft(
            kind=parse_message_kind(body.kind),
            precedence=parse_precedence(body.precedence),
            subject=body.subject,
            body=body.body,
            lang=body.lang,
            to=tuple(body.to),
            refs=tuple(body.refs),
            area=body.area,
            window={"start": body.start, "end": body.end} if body.start and body.end else None,
            activity=body.activity,
            units=tuple(body.units),
            exercise=body.exercise,
            alert=body.alert,
        )

        def checked_send() -> Event:
            on_line(who, body.line.lower())
            return node.messages.send(body.line.lower(), who.id, draft)

        event: Event = await call(checked_send)
        return event_json(event)

    @api.post("/messages/{ident}/ack", status_code=201, tags=["messages"])
    async def ack(ident: str, who: Me, body: Ack | None = None) -> dict[str, Any]:
        body = body or Ack()
        writer(who)
        visible(who, await call(store.event, ident))
        event = await call(
            node.messages.ack,
            ident,
            who.id,
            reply=body.reply,
            lang=body.lang,
            exercise=body.exercise,
        )
        return event_json(event)

    # -- contact requests ------------------------------------------------------------

    def contact_json(r: ContactRequest) -> dict[str, Any]:
        return r.to_json()

    @api.get("/contacts", tags=["contacts"])
    async def contacts(who: Me) -> list[dict[str, Any]]:
        mine = {s.line.id for s in await call(lines_of, who)}
        found = await call(node.contacts.requests, who.party)
        return [contact_json(r) for r in found if r.line in mine]

    @api.post("/contacts", status_code=201, tags=["contacts"])
    async def ask(body: ContactAsk, who: Me) -> dict[str, Any]:
        writer(who)
        window = timedelta(hours=body.window_hours) if body.window_hours is not None else None
        event = await call(
            node.contacts.request,
            who.id,
            body.to,
            body.topic,
            line=body.line,
            window=window,
            exercise=body.exercise,
        )
        return contact_json(await call(node.contacts.get, event.id))

    @api.post("/contacts/{ident}/{action}", tags=["contacts"])
    async def answer(ident: str, action: str, body: ContactAnswer, who: Me) -> dict[str, Any]:
        writer(who)
        visible(who, await call(store.event, ident))
        await call(node.contacts.get, ident)  # refuses what is not a request
        if action == "accept":
            if not body.time:
                raise errors.InvalidInput("time", "an acceptance proposes a time for the call")
            await call(node.contacts.accept, ident, who.id, parse_time(body.time), body.reason)
        elif action == "decline":
            await call(node.contacts.decline, ident, who.id, body.reason)
        elif action == "cancel":
            await call(node.contacts.cancel, ident, who.id, body.reason)
        elif action == "held":
            at = parse_time(body.time) if body.time else node.writer.now()
            await call(node.contacts.held, ident, who.id, at, body.summary)
        else:
            raise errors.InvalidInput("action", f"{action!r}: accept, decline, cancel or held")
        return contact_json(await call(node.contacts.get, ident))

    @api.get("/contacts/stats", tags=["contacts"])
    async def contact_stats(who: Me, days: Days = 30) -> list[dict[str, Any]]:
        mine = {s.line.id for s in await call(lines_of, who)}
        found = await call(node.contacts.requests, who.party)
        rows = stats([r for r in found if r.line in mine], node.writer.now(), days)
        return [r.to_json() for r in rows]

    # -- accountability, health, verification ----------------------------------------

    # -- pre-agreed messages and translations ---------------------------------------

    @api.get("/lines/{line_id}/catalogue", tags=["catalogue"])
    async def catalogue(line_id: str, who: Me, lang: str | None = None) -> dict[str, Any]:
        """The catalogue in force on a line, its entries in the reader's language."""
        await call(on_line, who, line_id)
        found = await call(node.catalogues.in_force, line_id)
        reader = lang or node.language
        return {
            "id": found.id,
            "name": found.name,
            "version": found.version,
            "entries": [
                {
                    "code": e.code,
                    "number": e.number,
                    "title": e.title.get(reader, e.title["en"]),
                    "text": e.text.get(reader, e.text["en"]),
                    "slots": [
                        {"name": s.name, "type": s.type, "values": list(s.values)} for s in e.slots
                    ],
                }
                for e in found.entries.values()
            ],
        }

    @api.post("/messages/coded", status_code=201, tags=["catalogue"])
    async def send_coded(body: Coded, who: Me) -> dict[str, Any]:
        writer(who)
        await call(on_line, who, body.line.lower())
        event = await call(
            node.catalogues.send,
            body.line.lower(),
            who.id,
            body.code,
            body.number,
            body.slots,
            precedence=parse_precedence(body.precedence),
            lang=body.lang,
        )
        return event_json(event)

    @api.get("/messages/{ident}/read", tags=["catalogue"])
    async def read(ident: str, who: Me, lang: str | None = None) -> dict[str, Any]:
        """A message as its reader reads it: original, pre-agreed text in the reader's
        language, translations with who made and certified them."""
        visible(who, await call(store.event, ident))
        message, items = await call(node.translations.of, ident)
        reader = lang or node.language
        coded = await call(node.catalogues.render, message, reader)
        return {
            **event_json(message),
            "reader_lang": reader,
            "catalogue": {"title": coded[0], "text": coded[1]} if coded else None,
            "translations": [
                {
                    "id": t.event.id,
                    "lang": t.lang,
                    "subject": t.subject,
                    "body": t.body,
                    "translator": t.translator,
                    "machine": t.machine,
                    "certified_by": t.certified_by,
                    "state": t.state,
                }
                for t in items
            ],
        }

    @api.post("/messages/{ident}/translations", status_code=201, tags=["translation"])
    async def translate(ident: str, body: Translate, who: Me) -> dict[str, Any]:
        writer(who)
        visible(who, await call(store.event, ident))
        event = await call(node.translations.add, ident, who.id, body.lang, body.body, body.subject)
        return event_json(event)

    @api.post("/translations/{ident}/certify", status_code=201, tags=["translation"])
    async def certify(ident: str, body: Certify, who: Me) -> dict[str, Any]:
        writer(who)
        visible(who, await call(store.event, ident))
        event = await call(
            node.translations.certify, ident, who.id, body=body.body, subject=body.subject
        )
        return event_json(event)

    @api.get("/overdue", tags=["accountability"])
    async def overdue(who: Me, days: Days = 30) -> list[dict[str, Any]]:
        now = node.writer.now()
        mine = {s.line.id for s in await call(lines_of, who)}
        items = await call(overdue_items, store, node.contacts, who.party, now, days)
        return [i.to_json(now) for i in items if i.line in mine]

    @api.get("/link", tags=["health"])
    async def link(who: Me) -> dict[str, Any]:
        own_party(who)
        states = await call(node.peers.link_states)
        cursors = await call(node.peers.cursors)
        heads = await call(store.heads, [node.party])
        queue = 0
        for key, cursor in cursors.items():
            head = heads.get((key[1], key[2]))
            if head is not None:
                queue += max(0, head.seq - cursor.acked_seq)
        clocks = await call(node.peers.clocks)
        alerts = await call(node.peers.alerts)
        return {
            "peers": states,
            "queue": queue,
            "clocks": {
                p: {"offset_ms": c.offset_ms, "rtt_ms": c.rtt_ms, "measured_at": c.measured_at}
                for p, c in sorted(clocks.items())
            },
            "alerts": [
                {"kind": a.kind, "subject": a.subject, "detail": a.detail, "since": a.opened_at}
                for a in alerts
            ],
        }

    @api.get("/verify", tags=["health"])
    async def verify(who: Me) -> dict[str, Any]:
        own_party(who)
        report = await call(verify_store, store)
        return {
            "ok": report.ok,
            "events": report.events,
            "problems": [p.describe() for p in report.problems[:20]],
        }

    # -- awareness -------------------------------------------------------------------

    @api.get("/alerts", tags=["awareness"])
    async def alerts(who: Me) -> list[dict[str, Any]]:
        own_party(who)
        return [a.to_json() for a in await call(node.awareness.picture.alerts)]

    @api.post("/alerts/{ident}/ack", tags=["awareness"])
    async def alert_ack(ident: AlertId, who: Me) -> dict[str, Any]:
        own_party(who)
        writer(who)
        alert = await call(node.awareness.picture.acknowledge, ident, who.id, node.writer.now())
        return {"id": ident, "state": alert.state.value}

    @api.get("/alerts/{ident}/draft", tags=["awareness"])
    async def alert_draft(ident: AlertId, who: Me) -> dict[str, Any]:
        own_party(who)
        line, draft = await call(node.awareness.draft, ident, node.writer.now())
        return {"line": line.line.id, "content": draft.content()}

    @api.get("/map", tags=["awareness"])
    async def map_view(who: Me) -> dict[str, Any]:
        own_party(who)
        layers: dict[str, Any] = await call(map_layers, node)
        return layers

    exercises = exercise_router(node, signed_in)
    live = stream_router(node, signed_in, lines_of)
    prefs = preferences_router(signed_in, whoami)
    app.include_router(prefs)
    app.include_router(api)
    app.include_router(exercises)
    app.include_router(live)
    desks = desk_routers(node, signed_in, Access(lines_of, on_line, visible, writer, own_party))
    for router in desks:
        app.include_router(router)

    @app.get("/api/v1/openapi.json", include_in_schema=False)
    async def openapi() -> dict[str, Any]:
        """The API's contract: every /api/v1 route, its bodies and answers."""
        return contract()

    def contract() -> dict[str, Any]:
        return document(
            [*api.routes, *exercises.routes, *live.routes, *prefs.routes, *desk_routes(desks)]
        )

    app.state.contract = contract
    problems.install(app)
    # compressed answers; the event stream is never compressed (GZipMiddleware skips it)
    app.add_middleware(GZipMiddleware, minimum_size=1024)

    static = files("hotline").joinpath("web/static")
    app.mount("/console", StaticFiles(directory=str(static), html=True), name="console")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/console/")
