"""The demo's timeline, read from what its nodes hold: both ledgers (messages,
acknowledgements, call requests and answers, escalations, expiries, link tests, and the
receipts that say when each side held the other's words) and the awareness alerts.

:class:`Record` reads both nodes as their records grow and gives each new thing once, in
order of scenario time; :func:`describe` says what one event means, in a line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hotline.domain.alerting import Alert
from hotline.domain.clock import Clock, truncate_ms
from hotline.domain.events import Event, EventKind

if TYPE_CHECKING:
    from hotline.storage.peers import PeerStore
    from hotline.storage.picture import PictureStore
    from hotline.storage.store import Store

KINDS = (
    EventKind.MESSAGE.value,
    EventKind.ACK.value,
    EventKind.ESCALATION.value,
    EventKind.LINKTEST.value,
    EventKind.RECEIPT.value,
    EventKind.CONTACT_REQUEST.value,
    EventKind.CONTACT_ACCEPT.value,
    EventKind.CONTACT_DECLINE.value,
    EventKind.CONTACT_CANCEL.value,
    EventKind.CONTACT_EXPIRE.value,
    EventKind.CONTACT_HELD.value,
)
DONE = {"resend": "resent", "relay": "relayed", "alert": "leadership alerted"}


@dataclass(frozen=True)
class NodeRecord:
    """One node's record as the exercise tools read it (this timeline and the
    after-action report): its party and language, its ledger (``store``), the refusals of
    its federation API (``peers``), its awareness ``picture`` and its ``clock``. Built by
    the composition root (``hotline.app.node_record``), and for the operator API's
    reports from its :class:`~hotline.api.context.ApiContext`."""

    party: str
    language: str
    store: Store
    peers: PeerStore
    picture: PictureStore
    clock: Clock

    def now(self) -> datetime:
        """The node's time, as its ledger records it."""
        return truncate_ms(self.clock.now())


@dataclass(frozen=True, order=True)
class Entry:
    """One line of the timeline: at ``at`` (scenario time), ``party``'s side."""

    at: datetime
    order: int  # ties at one instant: the order the record gave them
    party: str = field(compare=False)
    text: str = field(compare=False)
    style: str = field(compare=False)


@dataclass(frozen=True)
class AlertState:
    """An awareness alert as the record showed it at one time."""

    node: str
    id: int
    rule: str
    severity: str
    party: str | None
    km: float
    at: datetime  # when it opened, or last changed severity or corridor
    summary: str


def _quote(text: Any) -> str:
    return f': "{text}"' if text else ""


def describe(event: Event, known: Mapping[str, Event]) -> tuple[str, str] | None:
    """(text, style) of a line about ``event`` (``known``: events by id, for what it
    refers to); None for events the timeline does not show by themselves."""
    c = event.content
    ref = known.get(str(c.get("ref")))
    kind = event.kind
    if kind == EventKind.MESSAGE:
        how = "the drafted " if c.get("alert") is not None else ""
        return (
            f"{event.author} sends {how}{c.get('precedence', 'ROUTINE')} "
            f"{c.get('kind', 'free')} on {event.line}: {c.get('subject', '')}",
            "send",
        )
    if kind == EventKind.ACK:
        reply = c.get("reply")
        body = reply.get("body") if isinstance(reply, dict) else None
        return f"{event.author} acknowledges{_quote(body)}", "ack"
    if kind == EventKind.CONTACT_REQUEST:
        return f"{event.author} asks {c.get('to')} for a call: {c.get('topic')}", "request"
    if kind == EventKind.CONTACT_DECLINE:
        return f"{event.author} declines{_quote(c.get('reason'))}", "answer"
    if kind == EventKind.CONTACT_ACCEPT:
        return f"{event.author} accepts{_quote(c.get('note'))}", "answer"
    if kind == EventKind.CONTACT_HELD:
        return f"{event.author} records the call held{_quote(c.get('summary'))}", "answer"
    if kind == EventKind.CONTACT_CANCEL:
        return f"{event.author} cancels the call request", "answer"
    if kind == EventKind.CONTACT_EXPIRE:
        about = f" ({ref.author} to {ref.content.get('to')})" if ref is not None else ""
        return f"a call request went unanswered: its window closed{about}", "expire"
    if kind == EventKind.ESCALATION:
        action, outcome = str(c.get("action")), c.get("outcome", "done")
        if action == "stop":
            return f"escalation ends: {c.get('reason', 'acknowledged')}", "arrival"
        over = f" over {event.line}" if c.get("from_line") else ""
        return (
            f"deadline passed: {DONE.get(action, action)}{over} (step {c.get('step')}, {outcome})",
            "escalation",
        )
    return None


class Record:
    """Both nodes' records, read as they grow. ``nodes``: party -> its record, opened in
    this process on the same database its server uses."""

    def __init__(self, nodes: Mapping[str, NodeRecord]) -> None:
        self.nodes = dict(nodes)
        self.events: dict[str, Event] = {}  # every event seen, by id
        self.alerts: list[AlertState] = []  # every state of every alert seen, in order
        self._pos = dict.fromkeys(self.nodes, 0)
        self._link: dict[tuple[str, str], bool] = {}
        self._held: dict[tuple[str, str, str], int] = {}  # (line, of, holder) -> seq
        self._waiting: list[Event] = []  # messages and acks not yet held by the other side
        self._alert_seen: dict[tuple[str, int], tuple[str, float | None]] = {}
        self._order = 0

    def read(self) -> list[Entry]:
        """What is new on either node since the last call, in order of time."""
        entries: list[Entry] = []
        for party, node in self.nodes.items():
            for pos, event in node.store.events_after(self._pos[party], KINDS):
                self._pos[party] = pos
                if event.id not in self.events:
                    self.events[event.id] = event
                    entries.extend(self._entries(event))
        for party, node in self.nodes.items():
            entries.extend(self._alerts(party, node))
        return sorted(entries)

    def _entry(self, at: datetime, party: str, text: str, style: str) -> Entry:
        self._order += 1
        return Entry(at, self._order, party, text, style)

    def _entries(self, event: Event) -> list[Entry]:
        out = []
        if event.kind == EventKind.LINKTEST:
            peer = str(event.content.get("peer"))
            up = any(p.get("ok") for p in event.content.get("paths", []))
            if self._link.get((event.party, peer)) != up:
                state = "up" if up else "DOWN"
                out.append(
                    self._entry(event.ts, event.party, f"link test to {peer}: {state}", "link")
                )
            self._link[(event.party, peer)] = up
        elif event.kind == EventKind.RECEIPT:
            key = (event.line, str(event.content.get("of")), event.party)
            self._held[key] = max(self._held.get(key, 0), int(event.content.get("upto_seq", 0)))
        else:
            said = describe(event, self.events)
            if said is not None:
                out.append(self._entry(event.ts, event.party, *said))
            if event.kind in (EventKind.MESSAGE, EventKind.ACK):
                self._waiting.append(event)
        out.extend(self._arrivals(event.ts))
        return out

    def _arrivals(self, now: datetime) -> list[Entry]:
        """Messages and acknowledgements the other side's receipts now cover."""
        out, still = [], []
        for e in self._waiting:
            holders = [
                holder
                for (line, of, holder), seq in self._held.items()
                if line == e.line and of == e.party and holder != e.party and seq >= e.seq
            ]
            if not holders:
                still.append(e)
                continue
            what = "message" if e.kind == EventKind.MESSAGE else "acknowledgement"
            for holder in holders:
                text = f"{holder}'s node holds {e.party}'s {what} {e.id[:10]}"
                out.append(self._entry(max(now, e.ts), holder, text, "arrival"))
        self._waiting = still
        return out

    def _alerts(self, party: str, node: NodeRecord) -> list[Entry]:
        out = []
        found: list[Alert] = node.picture.alerts(include_closed=True, limit=100)
        for a in sorted(found, key=lambda a: (a.updated_at, a.id or 0)):
            if a.id is None:
                continue
            seen = self._alert_seen.get((party, a.id))
            if seen == (a.severity, a.band):
                continue
            self._alert_seen[(party, a.id)] = (a.severity, a.band)
            at = a.opened_at if seen is None else a.updated_at
            state = AlertState(
                party, a.id, a.rule, a.severity, a.party, a.value / 1000, at, a.summary()
            )
            self.alerts.append(state)
            text = f"alert {a.id} ({a.rule}, {a.severity}): {a.summary()}"
            out.append(self._entry(at, party, text, "alert"))
        return out
