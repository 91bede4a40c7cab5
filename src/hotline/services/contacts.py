"""Contact requests: ask for a call, answer, cancel, record the call; list and count."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from hotline.domain.contact import (
    CONTACT_KINDS,
    ContactRequest,
    ContactStatus,
    PairStats,
    accept_content,
    check_request,
    check_step,
    fold,
    held_content,
    reason_content,
    request_content,
    stats,
)
from hotline.domain.errors import InvalidInput, LineNotActive, PolicyRefused
from hotline.domain.events import Event, EventKind
from hotline.domain.identity import parse_principal_id, party_of
from hotline.domain.policy import LineKind, LineState, LineStatus
from hotline.services.directory import Directory
from hotline.services.writer import LedgerWriter
from hotline.storage.transaction import WriteTx

LATER_KINDS = [k.value for k in CONTACT_KINDS - {EventKind.CONTACT_REQUEST}]


class Contacts:
    def __init__(self, writer: LedgerWriter, directory: Directory) -> None:
        self.writer = writer
        self.store = writer.store
        self.directory = directory

    def _leaders_line(self, requester: str, addressee: str, line_id: str | None) -> LineState:
        if line_id is not None:
            state = self.store.line(line_id)
            check_request(state.line, requester, addressee)
        else:
            found = [
                s
                for s in self.store.lines(party_of(requester))
                if s.line.kind is LineKind.LEADERS
                and {requester, addressee} <= set(s.line.policy.principals)
            ]
            if not found:
                leaders = [
                    s.line.id
                    for s in self.store.lines(party_of(requester))
                    if s.line.kind is LineKind.LEADERS
                ]
                raise PolicyRefused(
                    f"no leaders line joins {requester} and {addressee}",
                    hint="leaders lines here: "
                    + (", ".join(leaders) or "none")
                    + "; propose one with `hotline line create ... --kind leaders`",
                )
            active = [s for s in found if s.status is LineStatus.ACTIVE]
            state = (active or found)[0]
            check_request(state.line, requester, addressee)  # neither only receives there
        if state.status is not LineStatus.ACTIVE:
            raise LineNotActive(
                f"line {state.line.id} is proposed, not active",
                hint="waiting for " + ", ".join(state.waiting_for) + " to accept its terms",
            )
        return state

    def request(
        self,
        requester: str,
        addressee: str,
        topic: str,
        *,
        line: str | None = None,
        window: timedelta | None = None,
        lang: str = "en",
        exercise: str | None = None,
    ) -> Event:
        """Sign a request for a call from ``requester`` to ``addressee`` on their leaders
        line; the answer is due within the line's contact window (or ``window``)."""
        who, whom = parse_principal_id(requester), parse_principal_id(addressee)
        self.store.require_principal(who)
        self.store.require_principal(whom)
        state = self._leaders_line(who, whom, line)
        span = window or state.line.policy.contact_window
        now = self.writer.now()
        content = request_content(whom, topic, lang, now + span, span, exercise)
        hosted = self.directory.hosted()
        return self.writer.transact(
            lambda tx: self.writer.append(
                tx, state.line, EventKind.CONTACT_REQUEST, who, content, hosted=hosted, now=now
            ),
            state.line.id,
        )

    def get(self, ref: str) -> ContactRequest:
        event = self.store.event(ref)
        if event.kind != EventKind.CONTACT_REQUEST:
            raise InvalidInput("request", f"{event.id[:12]} is a {event.kind}, not a request")
        return fold(event, self.store.referring([event.id], LATER_KINDS))

    def _record(
        self, ref: str, kind: EventKind, author: str, content_of: Callable[[str], dict[str, Any]]
    ) -> Event:
        who = parse_principal_id(author)
        self.store.require_principal(who)
        request = self.get(ref)
        state = self.store.line(request.line)
        now = self.writer.now()
        hosted = self.directory.hosted()

        def answer(tx: WriteTx) -> Event:
            tx.head(state.line.id, party_of(who))  # answers to one request are serialised
            current = fold(
                tx.event(request.id) or self.store.event(request.id),
                tx.referring(request.id, LATER_KINDS),
            )
            check_step(current, kind, who, now, state.line)
            content = content_of(request.id)
            return self.writer.append(tx, state.line, kind, who, content, hosted=hosted, now=now)

        return self.writer.transact(answer, state.line.id)

    def accept(self, ref: str, author: str, proposed: datetime, note: str = "") -> Event:
        if proposed < self.writer.now() - timedelta(minutes=1):
            raise InvalidInput("time", "the proposed time of the call has passed")
        return self._record(
            ref, EventKind.CONTACT_ACCEPT, author, lambda r: accept_content(r, proposed, note)
        )

    def decline(self, ref: str, author: str, reason: str = "") -> Event:
        return self._record(
            ref, EventKind.CONTACT_DECLINE, author, lambda r: reason_content(r, reason)
        )

    def cancel(self, ref: str, author: str, reason: str = "") -> Event:
        return self._record(
            ref, EventKind.CONTACT_CANCEL, author, lambda r: reason_content(r, reason)
        )

    def held(
        self, ref: str, author: str, at: datetime, summary: str, minutes: int | None = None
    ) -> Event:
        if at > self.writer.now() + timedelta(minutes=5):
            raise InvalidInput("at", "a call is recorded as held once it has taken place")
        return self._record(
            ref, EventKind.CONTACT_HELD, author, lambda r: held_content(r, at, minutes, summary)
        )

    def requests(self, party: str | None = None) -> list[ContactRequest]:
        """Every request on the leaders lines of ``party`` (all lines if None), newest
        first, each folded with what came after it."""
        states = self.store.lines(party)
        asked = self.store.events_on([s.line.id for s in states], [EventKind.CONTACT_REQUEST])
        later: dict[str, list[Event]] = {}
        for e in self.store.referring([a.id for a in asked], LATER_KINDS):
            later.setdefault(str(e.content["ref"]), []).append(e)
        folded = [fold(a, later.get(a.id, ())) for a in asked]
        return sorted(folded, key=lambda r: r.requested_at, reverse=True)

    def stats(self, now: datetime, days: int, party: str | None = None) -> list[PairStats]:
        if days < 1:
            raise InvalidInput("days", "count at least one day")
        return stats(self.requests(party), now, days)


def select(
    requests: Iterable[ContactRequest], status: ContactStatus | None, principal: str | None
) -> list[ContactRequest]:
    return [
        r
        for r in requests
        if (status is None or r.status is status)
        and (principal is None or principal in (r.requester, r.addressee))
    ]


def history(
    requests: Iterable[ContactRequest], now: datetime, days: int, bucket_days: int
) -> list[tuple[datetime, datetime, list[PairStats]]]:
    """The record of contact requests over the last ``days`` days in buckets of
    ``bucket_days`` (the last bucket ends at ``now``), oldest first: per bucket, per
    (requester, addressee), the requests made in it and what came of them by ``now``."""
    if days < 1 or bucket_days < 1:
        raise InvalidInput("days", "count at least one day")
    start = now - timedelta(days=days)
    width = timedelta(days=bucket_days)
    made = [r for r in requests if start <= r.requested_at <= now]
    buckets = []
    low = start
    while low < now:
        high = min(low + width, now)
        inside = [r for r in made if low <= r.requested_at < high or r.requested_at == now == high]
        buckets.append((low, high, stats(inside, now, days + 1)))
        low = high
    return buckets
