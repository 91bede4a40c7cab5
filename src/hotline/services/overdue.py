"""Accountability: every message and contact request past its deadline, either way,
with what the escalation engine has done about it so far."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hotline.domain.addressing import awaited
from hotline.domain.clock import format_time
from hotline.domain.contact import ContactStatus
from hotline.domain.events import Event, EventKind
from hotline.domain.precedence import Precedence
from hotline.services.contacts import Contacts
from hotline.storage.store import Store


@dataclass(frozen=True)
class Overdue:
    """One item past its deadline. ``owed_by`` are the parties whose answer is missing."""

    kind: str  # message or request
    id: str
    line: str
    author: str
    owed_by: tuple[str, ...]
    what: str
    sent: datetime
    deadline: datetime
    status: str
    steps: list[dict[str, Any]]

    def overdue_s(self, now: datetime) -> float:
        return (now - self.deadline).total_seconds()

    def to_json(self, now: datetime) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "line": self.line,
            "from": self.author,
            "owed_by": list(self.owed_by),
            "what": self.what,
            "sent": _iso(self.sent),
            "deadline": _iso(self.deadline),
            "overdue_seconds": round(self.overdue_s(now), 3),
            "status": self.status,
            "steps": self.steps,
        }


def _iso(moment: datetime) -> str:
    return format_time(moment)


def overdue(
    store: Store, contacts: Contacts, party: str, now: datetime, days: int
) -> list[Overdue]:
    """Items of ``party``'s lines sent in the last ``days`` days and past their deadline
    without the answer due: messages not acknowledged (by the other side, or by
    ``party``), and contact requests not answered in their window. Oldest deadline first."""
    since = now - timedelta(days=days)
    states = {s.line.id: s for s in store.lines(party)}
    messages = [
        m for m in store.events_on(list(states), [EventKind.MESSAGE.value]) if m.ts >= since
    ]
    late: list[tuple[Event, tuple[str, ...]]] = []
    due_at: dict[str, datetime] = {}
    for m in messages:
        line = states[m.line].line
        deadline = m.counted_from + line.policy.deadline(Precedence(m.content["precedence"]))
        if deadline < now:
            due_at[m.id] = deadline
    acked: dict[str, set[str]] = {}
    for a in store.acks_of(list(due_at)):
        acked.setdefault(str(a.content["ref"]), set()).add(a.party)
    for m in messages:
        if m.id not in due_at:
            continue
        waiting = set(awaited(m, states[m.line].line)) - acked.get(m.id, set())
        if m.party != party:
            waiting &= {party}
        if waiting:
            late.append((m, tuple(sorted(waiting))))
    steps: dict[str, list[Event]] = {}
    for e in store.referring([m.id for m, _ in late], [EventKind.ESCALATION.value]):
        steps.setdefault(str(e.content["ref"]), []).append(e)
    items = [
        Overdue(
            kind="message",
            id=m.id,
            line=m.line,
            author=m.author,
            owed_by=owed,
            what=f"{m.content['precedence']} {m.content['kind']}: {m.content['subject']}",
            sent=m.ts,
            deadline=due_at[m.id],
            status="escalating" if steps.get(m.id) else "unacknowledged",
            steps=steps_taken(steps.get(m.id, [])),
        )
        for m, owed in late
    ]
    requests = [
        r
        for r in contacts.requests(party)
        if r.requested_at >= since
        and (
            r.status is ContactStatus.EXPIRED
            or (r.status is ContactStatus.PENDING and r.respond_by < now)
        )
    ]
    expiries: dict[str, list[Event]] = {}
    for e in store.referring([r.id for r in requests], [EventKind.CONTACT_EXPIRE.value]):
        expiries.setdefault(str(e.content["ref"]), []).append(e)
    items.extend(
        Overdue(
            kind="request",
            id=r.id,
            line=r.line,
            author=r.requester,
            owed_by=(r.addressee,),
            what=f"call with {r.addressee}: {r.topic}",
            sent=r.requested_at,
            deadline=r.respond_by,
            status=r.status.value,
            steps=[
                {"at": e.body["ts"], "action": "expire", "line": e.line, "event": e.id}
                for e in expiries.get(r.id, [])
            ],
        )
        for r in requests
    )
    return sorted(items, key=lambda i: i.deadline)


def steps_taken(events: Iterable[Event]) -> list[dict[str, Any]]:
    """The escalation events about one item, as the overdue report shows them."""
    return [
        {
            "at": e.body["ts"],
            "action": e.content.get("action"),
            "step": e.content.get("step"),
            "cycle": e.content.get("cycle"),
            "line": e.line,
            "outcome": e.content.get("outcome"),
            "to": e.content.get("to"),
            "event": e.id,
        }
        for e in events
    ]
