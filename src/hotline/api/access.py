"""Who is asking and what they may see and do: the dependencies every router of the
operator API shares.

Every request but sign-in carries a session (cookie ``hotline_session``) or a bearer token
(:func:`signed_in`). A principal sees only the lines it is on (anything else answers as if
it did not exist, 404), auditors read and never write (403), and of the node's internal
data (alerts, tracks, link state) a principal sees only its own party's (403).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from hotline.domain import errors
from hotline.domain.events import Event
from hotline.domain.identity import Principal, Role
from hotline.domain.policy import LineState
from hotline.http.limits import MAX_INT64
from hotline.services.accounts import Accounts
from hotline.storage.store import Store

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
Ident = Annotated[str, Path(description="an event id, or 6 or more of its first characters")]
LineId = Annotated[str, Path(description="the line's id")]


class Access:
    """The checks of one node's operator API (``party``: the node's own). Each raises
    NotFound or Forbidden."""

    def __init__(self, store: Store, party: str) -> None:
        self.store = store
        self.party = party

    def lines_of(self, who: Principal) -> list[LineState]:
        """The lines the principal is on."""
        return [s for s in self.store.lines(who.party) if who.id in s.line.policy.principals]

    def line_ids(self, who: Principal) -> set[str]:
        return {s.line.id for s in self.lines_of(who)}

    def writer(self, who: Principal) -> None:
        """Refuses an auditor (it reads, never writes)."""
        if not WRITERS & set(who.roles):
            raise errors.Forbidden(f"{who.id} may read, not write (roles: auditor)")

    def own_party(self, who: Principal) -> None:
        """Refuses a principal of another party than the node's."""
        if who.party != self.party:
            raise errors.Forbidden(f"{who.party}'s principals do not see {self.party}'s data")

    def on_line(self, who: Principal, line_id: str) -> LineState:
        """The line, if the principal is on it; else as if it did not exist."""
        try:
            state = self.store.line(line_id.strip().lower())
        except errors.NotFound:
            state = None
        if (
            state is None
            or who.party not in state.line.parties
            or (who.id not in state.line.policy.principals)
        ):
            raise errors.NotFound("line", line_id, hint="see GET /api/v1/lines")
        return state

    def visible(self, who: Principal, event: Event) -> Event:
        """The event, if it is on one of the principal's lines; else as if it did not exist."""
        if event.line not in self.line_ids(who):
            raise errors.NotFound("event", event.id[:12], hint="see GET /api/v1/inbox")
        return event

    def event(self, who: Principal, ident: str) -> Event:
        """The event ``ident`` names, if the principal may see it (else NotFound)."""
        return self.visible(who, self.store.event(ident))
