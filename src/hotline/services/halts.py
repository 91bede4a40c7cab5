"""Halted chains: the node's own chains on which it signs nothing, kept in the database
(``node_info``) so that a halt outlives a restart and holds for every process of a node.

A halt is put when a peer shows more of one of our chains than we hold (its heads, the
answer to a push, its receipts, ``hotline verify --peer``), and after ``hotline
restore`` until the chain has been compared with the peer. The writer refuses every
append on a halted chain (:func:`refuse_if_halted`); recovery
(:mod:`hotline.federation.recovery`) lifts it once the chain is whole again. See
:mod:`hotline.domain.rollback`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from hotline.domain.clock import format_time
from hotline.domain.events import Event
from hotline.domain.ledger import ChainHead
from hotline.domain.rollback import HALT_PREFIX, Cause, Halt, halt_key
from hotline.storage.peers import PeerStore
from hotline.storage.store import Store
from hotline.storage.transaction import WriteTx

log = logging.getLogger("hotline.rollback")

ALERT_KIND = "rollback"


def halted(tx: WriteTx, line: str, party: str) -> Halt | None:
    """The halt on (line, party)'s chain as this transaction sees it, if any."""
    text = tx.info(halt_key(line, party))
    return None if text is None else Halt.from_text(text)


def refuse_if_halted(tx: WriteTx, line: str, party: str) -> None:
    """Raise ChainHalted if (line, party)'s chain is halted."""
    halt = halted(tx, line, party)
    if halt is not None:
        raise halt.error()


def put(tx: WriteTx, halt: Halt) -> None:
    """Halt a chain in ``tx``. A rollback found replaces a halt that only waited for a
    comparison (after a restore); a halt already found stays as first recorded."""
    found = halted(tx, halt.line, halt.party)
    if found is None or (found.cause is Cause.RESTORED and halt.cause is not Cause.RESTORED):
        tx.set_info(halt_key(halt.line, halt.party), halt.to_text())


def alert_key(line: str, party: str) -> str:
    return f"rollback:{line}:{party}"


class ChainHalts:
    """Reading, putting and lifting halts; each change also opens or closes an alert."""

    def __init__(self, store: Store, peers: PeerStore) -> None:
        self.store = store
        self.peers = peers

    def all(self) -> list[Halt]:
        """Every halted chain of this node, by line and party."""
        found = [Halt.from_text(v) for v in self.store.infos(HALT_PREFIX).values()]
        return sorted(found, key=lambda h: (h.line, h.party))

    def of(self, line: str, party: str) -> Halt | None:
        text = self.store.info(halt_key(line, party))
        return None if text is None else Halt.from_text(text)

    def put(self, halt: Halt) -> Halt:
        """Halt a chain (see :func:`put`); the halt in force afterwards."""
        with self.store.write() as tx:
            tx.head(halt.line, halt.party)  # holds the chain: no append can race this
            put(tx, halt)
            now = halted(tx, halt.line, halt.party) or halt
        self.alert(now)
        return now

    def alert(self, halt: Halt) -> None:
        """Open (or refresh) the alert that shows a halt on the console and in status."""
        if halt.cause is Cause.RESTORED:
            return  # waiting for a comparison is not an alarm
        log.error("%s", halt.describe())
        self.peers.open_alert(
            alert_key(halt.line, halt.party),
            ALERT_KIND,
            f"{halt.party} halted on {halt.line}",
            f"{halt.describe()}; {halt.hint()}",
            halt.found_at,
        )

    def lift(self, line: str, party: str, at: str) -> Halt | None:
        """Sign on (line, party)'s chain again; the halt lifted, if there was one."""
        with self.store.write() as tx:
            tx.head(line, party)
            found = halted(tx, line, party)
            if found is not None:
                tx.drop_info(halt_key(line, party))
        if found is not None:
            self.peers.close_alert(alert_key(line, party), at)
            log.warning("signing resumes on %s's chain of line %s", party, line)
        return found

    def lift_compared(
        self,
        peer: str,
        ours: Mapping[tuple[str, str], ChainHead],
        theirs: Mapping[tuple[str, str], ChainHead],
        same_at: Mapping[tuple[str, str], bool],
        at: str,
    ) -> list[Halt]:
        """Lift the halts that a comparison with ``peer`` shows to be over: the peer
        holds no more of the chain than we do, and what it holds is ours (``same_at``:
        whether the peer's head is the event we hold at its seq). Halts after a restore
        go as soon as the chain compares; rollbacks once the chain is back up to what the
        peer held or receipted when they were found."""
        lifted = []
        for halt in self.all():
            key = (halt.line, halt.party)
            if halt.cause is Cause.FORK or key not in same_at or not same_at[key]:
                continue
            mine, held = ours.get(key, ChainHead()), theirs.get(key, ChainHead())
            if held.seq > mine.seq or (halt.theirs or 0) > mine.seq:
                continue
            if halt.cause is not Cause.RESTORED and halt.peer not in ("", peer):
                continue
            if self.lift(halt.line, halt.party, at) is not None:
                lifted.append(halt)
        return lifted


def rollback_by_receipt(receipt: Event, own: str, head: ChainHead, now: datetime) -> Halt:
    """The halt a peer's receipt of our chain past our ``head`` calls for."""
    return Halt(
        line=receipt.line,
        party=own,
        cause=Cause.RECEIPTED,
        peer=receipt.party,
        ours=head.seq,
        theirs=int(receipt.content.get("upto_seq", 0)),
        found_at=format_time(now),
    )
