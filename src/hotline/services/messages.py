"""Messages on a line: send, acknowledge, the inbox by precedence, a line's log."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotline.domain.addressing import MatrixRow, Role, ack_matrix, awaited, check_addressees
from hotline.domain.clock import format_time
from hotline.domain.errors import (
    AlreadyAcknowledged,
    InvalidInput,
    LineNotActive,
    NotFound,
    PolicyRefused,
)
from hotline.domain.events import Event, EventKind
from hotline.domain.exercise import marked
from hotline.domain.identity import parse_principal_id, party_of
from hotline.domain.language import parse_lang
from hotline.domain.ledger import ack_content
from hotline.domain.message import MessageDraft
from hotline.domain.policy import Line, LineState, LineStatus, check_member, check_send
from hotline.domain.precedence import Precedence
from hotline.domain.roster import on_watch
from hotline.domain.sealing import is_sealed
from hotline.services.directory import Directory
from hotline.services.writer import LedgerWriter
from hotline.storage.library import Library
from hotline.storage.transaction import WriteTx


@dataclass(frozen=True)
class InboxItem:
    """A message from another party, with its deadline and (if any) this party's ack."""

    message: Event
    line: LineState
    deadline: datetime
    ack: Event | None
    escalations: tuple[str, ...] = ()  # what the sender's node did: resend, relay, alert
    owed: bool = True  # whether the party owes it an acknowledgement (not: informed, observer)

    @property
    def precedence(self) -> Precedence:
        return Precedence(self.message.content["precedence"])

    def time_left(self, now: datetime) -> float:
        """Seconds until the deadline; negative when overdue."""
        return (self.deadline - now).total_seconds()


@dataclass(frozen=True)
class Matrix:
    """A message's acknowledgement matrix (see :mod:`hotline.domain.addressing`)."""

    message: Event
    line: LineState
    deadline: datetime
    rows: list[MatrixRow]

    def to_json(self) -> dict[str, Any]:
        c = self.message.content
        return {
            "message": self.message.id,
            "line": self.line.line.id,
            "from": self.message.author,
            "number": c.get("number"),
            "precedence": c.get("precedence"),
            "subject": c.get("subject"),
            "sent": format_time(self.message.ts),
            "deadline": format_time(self.deadline),
            "owed": sum(1 for r in self.rows if r.role is Role.TO),
            "acknowledged": sum(
                1 for r in self.rows if r.role is Role.TO and r.acked_at is not None
            ),
            "parties": [r.to_json() for r in self.rows],
        }


def deadline_of(message: Event, line: LineState) -> datetime:
    """When the acknowledgement of ``message`` falls due under its line's policy."""
    return message.counted_from + line.line.policy.deadline(
        Precedence(message.content["precedence"])
    )


class Messages:
    def __init__(
        self, writer: LedgerWriter, directory: Directory, library: Library | None = None
    ) -> None:
        self.writer = writer
        self.store = writer.store
        self.directory = directory
        self.library = library

    def send(self, line_id: str, sender: str, draft: MessageDraft) -> Event:
        """Sign and record a message. Raises on anything the line's policy refuses;
        nothing is stored then."""
        return self.send_many(line_id, sender, [draft])[0]

    def send_many(self, line_id: str, sender: str, drafts: Sequence[MessageDraft]) -> list[Event]:
        """Sign and record several messages in one transaction (one commit), in order.
        Every one is checked first: if any is refused, none is stored."""
        author = parse_principal_id(sender)
        state = self.store.line(line_id)
        self.store.require_principal(author)
        party = party_of(author)
        self._check_active(state)

        def other_lines() -> Iterator[Line]:  # read only if the kind is refused
            yield from (s.line for s in self.store.lines(party) if s.status is LineStatus.ACTIVE)

        contents = []
        for draft in drafts:
            content = draft.content()
            check_send(state.line, author, draft.kind, draft.precedence, draft.body, other_lines())
            check_addressees(state.line, author, content["to"], content.get("info", ()))
            if content["refs"]:
                found = self.store.resolve(content["refs"])
                for ref in content["refs"]:
                    if ref not in found:
                        raise NotFound("event", ref, hint="--ref names an event on the record")
            contents.append(content)
        hosted = self.store.hosted_among(state.line.parties)

        numbered = len(state.line.parties) > 2  # (see docs/ledger.md: message numbers)

        def record(tx: WriteTx) -> list[Event]:
            sent = 0
            if numbered:
                head = tx.head(state.line.id, party)
                sent = tx.count_kind(state.line.id, party, EventKind.MESSAGE.value, 0, head.seq + 1)
            return [
                self.writer.append(
                    tx,
                    state.line,
                    EventKind.MESSAGE,
                    author,
                    {**content, "number": sent + i} if numbered else content,
                    hosted=hosted,
                )
                for i, content in enumerate(contents, start=1)
            ]

        return self.writer.transact(record, state.line.id)

    def ack(
        self,
        event_ref: str,
        principal: str,
        *,
        reply: str | None = None,
        lang: str = "en",
        officer: str | None = None,
        exercise: str | None = None,
    ) -> Event:
        """Acknowledge a message of another party as ``principal``, recorded with the
        officer on watch at that desk (``officer``, or the roster's at this moment).
        An acknowledgement of an exercise message is marked with its exercise."""
        author = parse_principal_id(principal)
        self.store.require_principal(author)
        message = self.store.event(event_ref)
        if message.kind != EventKind.MESSAGE:
            raise InvalidInput("event", f"{message.id[:12]} is a {message.kind}, not a message")
        state = self.store.line(message.line)
        check_member(state.line, author)
        if party_of(author) == message.party:
            raise PolicyRefused(
                f"{author} cannot acknowledge a message of its own party",
                hint="the acknowledgement comes from the receiving side",
            )
        self._check_active(state)
        if officer is None and self.library is not None:
            now = self.writer.now()
            shift = on_watch(self.library.shifts(now, author), author, now)
            officer = shift.officer if shift else None
        content = ack_content(
            message.id,
            reply,
            parse_lang(lang) if reply else None,
            (officer or "").strip(),
            exercise or marked(message.content),
        )
        hosted = self.store.hosted_among(state.line.parties)

        def record(tx: WriteTx) -> Event:
            tx.head(state.line.id, party_of(author))  # holds the chain: no ack can race this
            for earlier in tx.acks_of(message.id):
                if earlier.party == party_of(author):
                    raise AlreadyAcknowledged(
                        f"{party_of(author)} already acknowledged {message.id[:12]}: "
                        f"{earlier.author} at {earlier.body['ts']}",
                    )
            return self.writer.append(tx, state.line, EventKind.ACK, author, content, hosted=hosted)

        return self.writer.transact(record, state.line.id)

    def inbox(
        self, party: str, *, principal: str | None = None, include_acked: bool = False
    ) -> list[InboxItem]:
        """Messages from other parties on ``party``'s active lines (those ``principal``
        is on, if given), most urgent first: by precedence, then by deadline. Those it
        owes no acknowledgement (sent to it for information, or to an observer) come
        after the rest, and only with ``include_acked``."""
        states = {
            s.line.id: s
            for s in self.store.lines(party)
            if principal is None or principal in s.line.policy.principals
        }
        messages = [  # (what is sealed from this node, its mediator, is carried, not read)
            m
            for m in self.store.events_on(list(states), [EventKind.MESSAGE.value])
            if m.party != party and not is_sealed(m.content)
        ]
        acks = {
            a.content["ref"]: a
            for a in self.store.acks_of([m.id for m in messages])
            if a.party == party
        }
        steps: dict[str, list[str]] = {}
        for e in self.store.referring([m.id for m in messages], [EventKind.ESCALATION.value]):
            if e.content.get("action") != "stop" and e.content.get("outcome") == "done":
                steps.setdefault(str(e.content["ref"]), []).append(str(e.content["action"]))
        items = [
            InboxItem(
                m,
                states[m.line],
                deadline_of(m, states[m.line]),
                acks.get(m.id),
                tuple(steps.get(m.id, ())),
                party in awaited(m, states[m.line].line),
            )
            for m in messages
        ]
        if not include_acked:  # what is still to do: no information copy waits for an ack
            items = [i for i in items if i.ack is None and i.owed]
        items.sort(key=lambda i: (i.ack is not None or not i.owed, i.precedence.rank, i.deadline))
        return items

    def matrix(self, event_ref: str, now: datetime | None = None) -> Matrix:
        """Who of a message's line owes it an acknowledgement, holds it, acknowledged it
        and when, and what the sender's node did about those missing."""
        message = self.store.event(event_ref)
        if message.kind != EventKind.MESSAGE:
            raise InvalidInput("event", f"{message.id[:12]} is a {message.kind}, not a message")
        state = self.store.line(message.line)
        escalations = self.store.referring([message.id], [EventKind.ESCALATION.value])
        deadline, rows = ack_matrix(
            message,
            state.line,
            self.store.first_receipts(message),
            [a for a in self.store.acks_of([message.id]) if a.content.get("ref") == message.id],
            escalations,
            now or self.writer.now(),
        )
        return Matrix(message, state, deadline, rows)

    def log(self, line_id: str) -> tuple[LineState, list[Event]]:
        state = self.store.line(line_id)
        return state, self.store.events(state.line.id)

    @staticmethod
    def _check_active(state: LineState) -> None:
        if state.status is not LineStatus.ACTIVE:
            raise LineNotActive(
                f"line {state.line.id} is proposed, not active: "
                f"waiting for {', '.join(state.waiting_for)} to sign its terms",
                hint=f"on a node hosting them: hotline line accept {state.line.id} --party "
                + (state.waiting_for[0] if state.waiting_for else "PARTY"),
            )
