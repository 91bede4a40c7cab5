"""The live stream, ``/api/v1/stream``: server-sent events of new events on the
principal's lines, fed by the process's one :class:`~hotline.services.feed.Feed`.

- A ledger event is an unnamed (``message``) event whose ``id`` is its storage position
  and whose data is the event as ``GET /messages/{id}`` shows it. Receipts are left out.
- A client that reconnects with ``Last-Event-ID`` first gets what it missed on its lines,
  then the live events.
- ``event: alert`` (data ``{"id", "state"}``) when an awareness alert of the node's own
  party is raised, acknowledged or closed (only to principals of that party).
- ``event: session-ended`` and the stream closes when the session or token behind it ends:
  sign-out, expiry, a new password, a revoked token (see
  :mod:`hotline.services.sessionwatch`).
- A comment (``: ping``) every :data:`PING` seconds keeps proxies from closing it.

Nothing here reads the database per client while the stream is idle: the feed reads each
new event once for every stream of the process, and the session watch asks for every
held token at once.
"""

import json
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from hotline.api.access import token_of
from hotline.domain.events import Event, EventKind
from hotline.domain.identity import Principal
from hotline.domain.policy import LineState
from hotline.services.accounts import Accounts
from hotline.services.feed import Feed, Item
from hotline.services.sessionwatch import SessionWatch
from hotline.services.views import event_json
from hotline.storage.marks import alert_mark, alert_states
from hotline.storage.picture import PictureStore
from hotline.storage.store import Store

STREAM_KINDS = [k.value for k in EventKind if k is not EventKind.RECEIPT]
#: Seconds between keep-alive comments.
PING = 15
#: Events read at once for a reconnecting client (it gets all it missed, page by page).
BACKLOG = 1000
#: The named event that ends a session on screen.
SESSION_ENDED = "session-ended"


class StreamRouter(APIRouter):
    """The router of ``GET /api/v1/stream``, with the feed and session watch it uses."""

    feed: Feed
    watch: SessionWatch


def stream_router(
    store: Store,
    picture: PictureStore,
    accounts: Accounts,
    party: str,
    signed_in: Callable[..., Any],
    lines_of: Callable[[Principal], list[LineState]],
) -> StreamRouter:
    """The router of ``GET /api/v1/stream``, its feed and its session watch (``party``:
    the node's own, whose alerts only its principals get)."""
    feed = Feed(
        store,
        STREAM_KINDS,
        alert_mark=lambda: alert_mark(picture.engine),
        alert_states=lambda: alert_states(picture.engine),
        listen_url=store.listen_url(),
    )
    watch = SessionWatch(accounts, accounts.clock)
    router = StreamRouter(prefix="/api/v1")
    router.feed, router.watch = feed, watch

    def mine(who: Principal) -> set[str]:
        return {s.line.id for s in lines_of(who)}

    def missed(after: int, upto: int, lines: set[str]) -> list[tuple[int, Event]]:
        """The events on ``lines`` stored after ``after`` up to ``upto``, in order."""
        found: list[tuple[int, Event]] = []
        while after < upto:
            page = store.events_after(after, STREAM_KINDS, BACKLOG)
            found += [(pos, e) for pos, e in page if pos <= upto and e.line in lines]
            if len(page) < BACKLOG:
                break
            after = page[-1][0]
        return found

    @router.get(
        "/stream",
        tags=["messages"],
        operation_id="streamEvents",
        response_class=EventSourceResponse,
        responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
    )
    async def stream(
        request: Request,
        who: Annotated[Principal, Depends(signed_in)],
        last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    ) -> EventSourceResponse:
        """New events on the principal's lines as server-sent events (ids are ledger
        positions; ``Last-Event-ID`` resumes), ``alert`` and ``session-ended`` events."""
        token = token_of(request) or ""
        resume = _position(last_event_id)
        expires = await run_in_threadpool(accounts.expires_at, token)
        own_party = who.party == party

        async def events() -> AsyncIterator[ServerSentEvent]:
            sub, start = await feed.subscribe()
            held = watch.hold(token, who.id, expires, sub.end)
            try:
                lines = await run_in_threadpool(mine, who)
                yield ServerSentEvent(comment="connected")
                sent: set[int] = set()
                if resume is not None and resume < start:
                    for pos, e in await run_in_threadpool(missed, resume, start, lines):
                        sent.add(pos)
                        yield _event(pos, e)
                while True:
                    item = await sub.get()
                    if item.ended:
                        yield ServerSentEvent(data="{}", event=SESSION_ENDED)
                        return
                    if any(e.kind == EventKind.LINE_ACCEPT for _, e in item.events):
                        lines = await run_in_threadpool(mine, who)
                    for out in _items(item, sent, lines, own_party):
                        yield out
            finally:
                watch.release(held)
                sub.close()

        return EventSourceResponse(events(), ping=PING, sep="\n")

    return router


def _position(header: str | None) -> int | None:
    if header is None or not header.strip().isdigit() or len(header.strip()) > 18:
        return None
    return int(header.strip())


def _event(pos: int, e: Event) -> ServerSentEvent:
    return ServerSentEvent(data=json.dumps(event_json(e)), id=str(pos))


def _items(item: Item, sent: set[int], lines: set[str], own_party: bool) -> list[ServerSentEvent]:
    out = [_event(pos, e) for pos, e in item.events if pos not in sent and e.line in lines]
    if own_party:
        out += [ServerSentEvent(data=json.dumps(a), event="alert") for a in item.alerts]
    return out
