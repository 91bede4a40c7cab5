"""Roll calls on service lines (:mod:`hotline.domain.rollcall`): the node asks at the
times the line's terms fix when its turn comes, records a roll call unanswered once its
window has passed, and records the answers of its own desks. Counted per month from the
record, and signed as a statement either side can publish."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from typing import Any

from hotline.domain.clock import format_time, parse_time
from hotline.domain.errors import Forbidden, InvalidInput, NotFound
from hotline.domain.events import Event, EventKind
from hotline.domain.identity import parse_principal_id, party_of
from hotline.domain.policy import Line, LineState, LineStatus
from hotline.domain.rollcall import (
    WINDOW_MAX,
    WINDOW_MIN,
    Month,
    Outcome,
    RollCall,
    due,
    month_of,
    statement,
    tally,
)
from hotline.services.directory import Directory
from hotline.services.watch import Watch
from hotline.services.writer import LedgerWriter
from hotline.storage.transaction import WriteTx

KINDS = (
    EventKind.ROLLCALL.value,
    EventKind.ROLLCALL_ANSWER.value,
    EventKind.ROLLCALL_CLOSE.value,
)


class RollCalls:
    def __init__(
        self,
        writer: LedgerWriter,
        directory: Directory,
        watch: Watch,
        party: str,
        window: timedelta,
    ) -> None:
        self.writer = writer
        self.store = writer.store
        self.directory = directory
        self.watch = watch
        self.party = party
        if not WINDOW_MIN <= window <= WINDOW_MAX:
            raise InvalidInput(
                "roll_call_window",
                f"{window} is not a roll-call window",
                hint="from 30s to 1h, e.g. 5m",
            )
        self.window = window

    def lines(self, party: str | None = None) -> list[LineState]:
        """The active lines of ``party`` (default: the node's) whose terms fix roll calls."""
        return [
            s
            for s in self.store.lines(party or self.party)
            if s.line.roll_calls and s.status is LineStatus.ACTIVE
        ]

    def calls(self, line_ids: Collection[str] | None = None) -> list[RollCall]:
        """The roll calls on these lines (default: the node's lines with roll calls), as
        the record holds them, oldest first."""
        ids = list(line_ids) if line_ids is not None else [s.line.id for s in self.lines()]
        found = self.store.events_on(ids, KINDS)
        asked: dict[str, RollCall] = {}
        answers: dict[str, Event] = {}
        closed: set[str] = set()
        for e in found:
            c = e.content
            try:
                if e.kind == EventKind.ROLLCALL:
                    asked[e.id] = RollCall(
                        e.id,
                        e.line,
                        e.party,
                        str(c["to"]),
                        parse_time(str(c["at"])),
                        e.ts,
                        timedelta(seconds=int(c["window_s"])),
                    )
                elif e.kind == EventKind.ROLLCALL_ANSWER:
                    answers.setdefault(str(c["ref"]), e)  # the first answer counts
                else:
                    closed.add(str(c["ref"]))
            except (KeyError, TypeError, ValueError, OverflowError, InvalidInput):
                continue  # not of its form (stored before the checks): it counts for nothing
        out = []
        for call in asked.values():
            answer = answers.get(call.id)
            out.append(
                RollCall(
                    call.id,
                    call.line,
                    call.asked_by,
                    call.to,
                    call.at,
                    call.asked,
                    call.window,
                    answer.ts if answer else None,
                    answer.author if answer else None,
                    (str(answer.content.get("officer") or "") or None) if answer else None,
                    call.id in closed,
                )
            )
        return out

    def tick(self) -> list[Event]:
        """Ask the roll calls due from this node, and close unanswered those it asked
        that nobody answered in their window and :data:`LATE_GRACE`. Each is checked
        again inside its transaction, so a roll call is asked (or closed) once whichever
        process runs this. Returns the events recorded."""
        now = self.writer.now()
        written: list[Event] = []
        hosted = self.directory.hosted()
        for state in self.lines():
            line = state.line
            for at in due(line.roll_calls, line.acting, self.party, now, self.window):
                for to in [p for p in line.acting if p != self.party]:
                    content = {
                        "at": format_time(at),
                        "window_s": int(self.window.total_seconds()),
                        "to": to,
                    }
                    event = self._append_once(line, EventKind.ROLLCALL, content, hosted)
                    if event is not None:
                        written.append(event)
            for c in self.calls([line.id]):
                mine = c.asked_by == self.party
                if mine and c.answered is None and not c.closed and now >= c.closes:
                    content = {"ref": c.id, "outcome": Outcome.UNANSWERED.value}
                    event = self._append_once(line, EventKind.ROLLCALL_CLOSE, content, hosted)
                    if event is not None:
                        written.append(event)
        return written

    def _append_once(
        self, line: Line, kind: EventKind, content: dict[str, Any], hosted: frozenset[str]
    ) -> Event | None:
        """Append the event unless the record holds it already (the same roll call
        asked, or a roll call answered or closed), checked in the transaction."""

        def record(tx: WriteTx) -> Event | None:
            if kind == EventKind.ROLLCALL:
                for e in tx.events_of(line.id, [EventKind.ROLLCALL.value]):
                    same = e.content.get("at") == content["at"]
                    if e.party == self.party and same and e.content.get("to") == content["to"]:
                        return None
            elif tx.referring(
                str(content["ref"]),
                [EventKind.ROLLCALL_ANSWER.value, EventKind.ROLLCALL_CLOSE.value],
            ):
                return None
            return self.writer.append(tx, line, kind, self.party, content, hosted=hosted)

        return self.writer.transact(record, line.id)

    def waiting(self, principal: str) -> list[RollCall]:
        """Roll calls asked of ``principal``'s party on its lines, not answered yet and
        not closed (past the window, an answer still counts, as late, until it closes)."""
        who = parse_principal_id(principal)
        lines = [s.line.id for s in self.lines(party_of(who)) if who in s.line.policy.principals]
        now = self.writer.now()
        return [
            c
            for c in self.calls(lines)
            if c.to == party_of(who) and c.answered is None and not c.closed and now < c.closes
        ]

    def answer(self, call_id: str, principal: str, officer: str | None = None) -> Event:
        """A person at ``principal``'s desk answers the roll call, recorded with the
        officer on watch there (``officer``, or the roster's). Raises NotFound, Forbidden
        (not a desk of the party asked, on the line) or InvalidInput (answered already, or
        closed unanswered)."""
        who = parse_principal_id(principal)
        self.store.require_principal(who)
        try:
            asked = self.store.event(call_id)
        except NotFound:
            raise NotFound("roll call", call_id, hint="see `hotline rollcall list`") from None
        if asked.kind != EventKind.ROLLCALL:
            raise NotFound("roll call", call_id, hint="see `hotline rollcall list`")
        state = self.store.line(asked.line)
        if asked.content.get("to") != party_of(who) or who not in state.line.policy.principals:
            raise Forbidden(
                f"{who} cannot answer a roll call of {asked.content.get('to')} on {asked.line}",
                hint="a desk of the party asked, on the line, answers",
            )
        [call] = [c for c in self.calls([asked.line]) if c.id == asked.id]
        now = self.writer.now()
        if call.answered is not None:
            raise InvalidInput(
                "roll call",
                f"answered already by {call.answered_by} at {format_time(call.answered)}",
                hint="nothing to do",
            )
        if call.closed or now >= call.closes:
            raise InvalidInput(
                "roll call",
                f"closed unanswered at {format_time(call.closes)}: an answer no longer counts",
                hint="answer the next roll call in its window",
            )
        name = (officer or "").strip() or self.watch.officer(who, now)
        content: dict[str, Any] = {"ref": asked.id, "officer": name}
        hosted = self.directory.hosted()

        def record(tx: WriteTx) -> Event:
            if tx.referring(asked.id, [EventKind.ROLLCALL_ANSWER.value]):
                raise InvalidInput("roll call", "answered already", hint="nothing to do")
            return self.writer.append(
                tx, state.line, EventKind.ROLLCALL_ANSWER, who, content, hosted=hosted
            )

        return self.writer.transact(record, state.line.id)

    def month(self, line_id: str, party: str, month: str) -> Month:
        """The roll calls scheduled in ``month`` (YYYY-MM) that ``party`` was asked on
        the line, counted."""
        state = self.store.line(line_id)
        if party not in state.line.acting:
            raise InvalidInput("party", f"{party} is not a party of line {state.line.id}")
        start, _ = month_of(month)
        return tally(
            self.calls([state.line.id]),
            state.line.id,
            party,
            start.strftime("%Y-%m"),
            self.writer.now(),
        )

    def statement(self, line_id: str, party: str, month: str) -> dict[str, Any]:
        """:meth:`month` as a statement signed by this node's key."""
        counted = self.month(line_id, party, month)
        now = self.writer.now()
        ids = [
            c.id
            for c in self.calls([counted.line])
            if c.to == party and format_time(c.at)[:7] == counted.month
        ]
        return statement(counted, ids, party=self.party, key=self.writer.key(self.party), at=now)
