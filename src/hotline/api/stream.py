"""The live stream, ``/api/v1/stream``: server-sent events of new events on the
principal's lines, fed by the process's one :class:`~hotline.services.feed.Feed`.

- A ledger event is an unnamed (``message``) event whose ``id`` is its storage position
  and whose data is the event as ``GET /messages/{id}`` shows it. Receipts are left out.
- A client that reconnects with ``Last-Event-ID`` first gets what it missed on its lines,
  then the live events.
- ``event: alert`` (data ``{"id", "state"}``) when an awareness alert of the node's own
  party is raised, acknowledged or closed (only to principals of that party).
- ``event: session-ended`` and the stream closes when the session or token behind it ends:
  sign-out, expiry, a new password, a revoked token.
- A comment (``: ping``) every :data:`PING` seconds keeps proxies from closing it.
"""

import json
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from hotline.api.models import event_json
from hotline.domain.events import EventKind
from hotline.domain.identity import Principal
from hotline.domain.policy import LineState
from hotline.services.accounts import Accounts
from hotline.services.feed import Feed, Item
from hotline.storage.marks import alert_mark, alert_states

if TYPE_CHECKING:
    from hotline.app import Node

STREAM_KINDS = [k.value for k in EventKind if k is not EventKind.RECEIPT]
#: Seconds between keep-alive comments.
PING = 15
#: Seconds between two looks at whether the session still holds (at most).
SESSION_CHECK = 0.5
#: Events sent at most to a reconnecting client before the live ones (older: refetch).
BACKLOG = 1000
#: The named event that ends a session on screen.
SESSION_ENDED = "session-ended"


def stream_router(
    node: "Node",
    signed_in: Callable[..., Any],
    lines_of: Callable[[Principal], list[LineState]],
) -> APIRouter:
    """The router of ``GET /api/v1/stream`` and its feed (``router.feed``)."""
    store = node.store
    picture = node.awareness.picture
    feed = Feed(
        store,
        STREAM_KINDS,
        alert_mark=lambda: alert_mark(picture.engine),
        alert_states=lambda: alert_states(picture.engine),
    )
    router = APIRouter(prefix="/api/v1")

    @router.get(
        "/stream",
        tags=["messages"],
        operation_id="stream",
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
        from hotline.api.app import token_of  # the app module imports this one

        accounts: Accounts = request.app.state.accounts
        token = token_of(request) or ""
        resume = _position(last_event_id)
        sub, start = await feed.subscribe()

        async def events() -> AsyncIterator[ServerSentEvent]:
            try:
                position = start
                mine = {s.line.id for s in await run_in_threadpool(lines_of, who)}
                yield ServerSentEvent(comment="connected")
                if resume is not None and resume < start:
                    missed = await run_in_threadpool(
                        store.events_after, resume, STREAM_KINDS, BACKLOG
                    )
                    for pos, e in missed:
                        if pos <= start and e.line in mine:
                            yield _event(pos, e)
                revision = accounts.revision
                while True:
                    item = await sub.get(SESSION_CHECK)
                    if revision != accounts.revision or accounts.cached(token) is None:
                        revision = accounts.revision
                        if not await run_in_threadpool(accounts.valid, token):
                            yield ServerSentEvent(data="{}", event=SESSION_ENDED)
                            return
                    if item is None:
                        continue
                    if item.events and any(e.kind == EventKind.LINE_ACCEPT for _, e in item.events):
                        mine = {s.line.id for s in await run_in_threadpool(lines_of, who)}
                    for out in _items(item, position, mine, who.party == node.party):
                        yield out
                    position = max([position, *(pos for pos, _ in item.events)])
            finally:
                sub.close()

        return EventSourceResponse(events(), ping=PING, sep="\n")

    router.feed = feed  # type: ignore[attr-defined]
    return router


def _position(header: str | None) -> int | None:
    if header is None or not header.strip().isdigit():
        return None
    return int(header.strip())


def _event(pos: int, e: Any) -> ServerSentEvent:
    return ServerSentEvent(data=json.dumps(event_json(e)), id=str(pos))


def _items(item: Item, after: int, mine: set[str], own_party: bool) -> list[ServerSentEvent]:
    out = [_event(pos, e) for pos, e in item.events if pos > after and e.line in mine]
    if own_party:
        out += [ServerSentEvent(data=json.dumps(a), event="alert") for a in item.alerts]
    return out
