"""Lines: propose terms, accept them, list what this node holds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from hotline.domain.clock import format_time
from hotline.domain.errors import InvalidInput, NotFound, Refused
from hotline.domain.events import EventKind
from hotline.domain.identity import parse_party_id
from hotline.domain.ledger import accept_content, propose_content
from hotline.domain.policy import (
    Line,
    LineKind,
    LineState,
    LineStatus,
    MessageKind,
    ProofTerms,
    make_line,
)
from hotline.domain.precedence import Precedence
from hotline.services.directory import Directory
from hotline.services.writer import LedgerWriter
from hotline.storage.transaction import WriteTx


class Lines:
    def __init__(self, writer: LedgerWriter, directory: Directory, own_party: str) -> None:
        self.writer = writer
        self.store = writer.store
        self.directory = directory
        self.own_party = own_party

    def propose(
        self,
        *,
        line_id: str,
        kind: LineKind,
        title: str,
        members: Iterable[str],
        kinds: Iterable[MessageKind] | None = None,
        deadlines: Mapping[Precedence, timedelta] | None = None,
        contact_window: timedelta | None = None,
        by: str | None = None,
        proofs: ProofTerms | None = None,
        roll_calls: Iterable[str] = (),
        observers: Iterable[str] = (),
        mediator: str | None = None,
        mediator_reads: bool = True,
    ) -> LineState:
        """Propose a line's terms, signed by ``by``'s node (default: this node's party).

        Every member must be a known principal. The proposer signs the terms at once;
        the line becomes active when every other party has accepted them.
        """
        line = make_line(
            line_id=line_id,
            kind=kind,
            title=title,
            principals=members,
            kinds=kinds,
            deadlines=deadlines,
            contact_window=contact_window,
            proofs=proofs,
            roll_calls=roll_calls,
            observers=observers,
            mediator=mediator,
            mediator_reads=mediator_reads,
        )
        proposer = parse_party_id(by) if by else self.own_party
        known = {p.id for p in self.store.principals()}
        for member in line.policy.principals:
            if member not in known:
                raise NotFound(
                    "principal", member, hint=f"add it first: hotline principal add {member}"
                )
        hosted = self.directory.hosted()
        if proposer not in line.parties:
            raise InvalidInput("proposer", f"{proposer} is not a party of line {line.id}")
        if proposer not in hosted:
            raise Refused(f"{proposer} is not hosted on this node, so this node cannot sign for it")
        state = LineState(
            line=line,
            status=LineStatus.PROPOSED,
            proposed_by=proposer,
            accepted_by=frozenset(),
            created_at=format_time(self.writer.now()),
        )
        content = propose_content(line.terms(), self._directory(line, proposer))

        def propose(tx: WriteTx) -> None:
            tx.add_line(state)
            event = self.writer.append(
                tx, line, EventKind.LINE_PROPOSE, proposer, content, hosted=hosted
            )
            tx.record_acceptance(line.id, proposer, event.id)

        self.writer.transact(propose, line.id)
        return self.store.line(line.id)

    def _directory(self, line: Line, party: str) -> list[dict[str, Any]]:
        members = set(line.principals_of(party))
        return [p.entry() for p in self.store.principals(party) if p.id in members]

    def accept(self, line_id: str, party: str) -> LineState:
        """Sign ``party``'s acceptance of the line's terms, by its node hosted here."""
        state = self.store.line(line_id)
        pid = parse_party_id(party)
        if pid not in state.line.parties:
            raise InvalidInput(
                "party",
                f"{pid} is not a party of line {state.line.id}",
                hint="its parties are " + ", ".join(state.line.parties),
            )
        if pid in state.accepted_by:
            raise Refused(f"{pid} has already signed the terms of line {state.line.id}")
        hosted = self.directory.hosted()
        if pid not in hosted:
            raise Refused(
                f"{pid} is not hosted on this node, so this node cannot accept for it",
                hint=f"{pid}'s own node accepts the terms",
            )

        def accept(tx: WriteTx) -> None:
            tx.head(state.line.id, pid)  # holds pid's chain: a second accept waits, then sees
            if tx.has_accepted(state.line.id, pid):
                raise Refused(f"{pid} has already signed the terms of line {state.line.id}")
            event = self.writer.append(
                tx,
                state.line,
                EventKind.LINE_ACCEPT,
                pid,
                accept_content(state.line.terms_id()),
                hosted=hosted,
            )
            tx.record_acceptance(state.line.id, pid, event.id)

        self.writer.transact(accept, state.line.id)
        return self.store.line(state.line.id)
