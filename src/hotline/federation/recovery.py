"""Rollback, seen with a peer: finding that the peer holds more of one of our chains than
we do, and recovering our own events from it.

A peer's word that it holds more of our chain is not enough to halt signing (a peer
could otherwise stop us with a false claim): the next event past our head is fetched from
it and must be ours, signed by our keys and linked to our head. Recovery fetches the rest
the same way (``GET /federation/v1/events?line=&party=OURS&after_seq=``), checks every
event against our own keys and the chain, stores them, and lifts the halt once the chain
is back up to what the peer held or receipted. See :mod:`hotline.domain.rollback`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hotline.domain.clock import format_time
from hotline.domain.crypto import PublicKey
from hotline.domain.errors import ChainConflict, HotlineError, RequestRefused
from hotline.domain.events import Event, EventKind
from hotline.domain.identity import party_of
from hotline.domain.ledger import ChainHead, receipt_content
from hotline.domain.policy import Line
from hotline.domain.rollback import Cause, Halt, behind, check_own_events
from hotline.domain.rotation import check_node_rotation
from hotline.domain.verify import KeyDirectory
from hotline.federation.client import PeerClient, decode_events
from hotline.services.halts import ChainHalts
from hotline.services.sealing import Opener
from hotline.services.writer import LedgerWriter
from hotline.storage.peers import PeerStore
from hotline.storage.transaction import WriteTx

log = logging.getLogger("hotline.rollback")

#: Events asked for per request while recovering.
BATCH = 1000


@dataclass(frozen=True)
class ChainRecovery:
    """What recovery did for one chain of ours."""

    line: str
    party: str
    before: ChainHead
    after: ChainHead
    theirs: ChainHead
    fetched: int
    lifted: Halt | None
    halt: Halt | None  # the halt still in force afterwards
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.halt is None


class RollbackGuard:
    """Our own chains against a peer's copy of them."""

    def __init__(self, writer: LedgerWriter, peers: PeerStore) -> None:
        self.writer = writer
        self.store = writer.store
        self.halts = ChainHalts(self.store, peers)

    def _now(self) -> str:
        return format_time(self.writer.now())

    def _own_keys(self, party: str) -> KeyDirectory:
        return {
            k: entry
            for k, entry in self.store.key_directory().items()
            if party_of(entry[0]) == party
        }

    def _shared(self, peer: str) -> set[str]:
        return {s.line.id for s in self.store.lines() if peer in s.line.parties}

    def _id_at(self, line: str, party: str, seq: int) -> str | None:
        found = self.store.chain(line, party, seq - 1, 1)
        return found[0].id if found and found[0].seq == seq else None

    def _fetch(
        self, client: PeerClient, line: str, party: str, after: int, limit: int
    ) -> list[Event]:
        answer = client.pull(line, party, after, limit)
        if answer.status != 200 or not isinstance(answer.data, dict):
            detail = answer.data.get("detail") if isinstance(answer.data, dict) else answer.data
            raise RequestRefused("refused", f"{client.peer} answered {answer.status}: {detail}")
        return [Event.from_raw(raw, sig) for raw, sig in decode_events(answer.data.get("events"))]

    def evidence(self, client: PeerClient, line: str, party: str, ours: ChainHead) -> Cause | None:
        """Whether the peer shows an event of ours past ``ours``: PEER_HOLDS when it
        follows our head, FORK when it is ours but does not, None when the peer shows
        nothing of ours there (its claim is not backed)."""
        try:
            events = self._fetch(client, line, party, ours.seq, 1)
        except HotlineError as exc:
            log.warning(
                "%s: no evidence of %s's chain on %s past seq %d: %s",
                client.peer,
                party,
                line,
                ours.seq,
                exc,
            )
            return None
        got = check_own_events(line, party, ours, events, self._own_keys(party))
        if got.events:
            return Cause.PEER_HOLDS
        if got.forked:
            return Cause.FORK
        if events:
            log.warning(
                "%s shows %s's chain on %s past seq %d, but %s",
                client.peer,
                party,
                line,
                ours.seq,
                got.problem,
            )
        return None

    def observe(
        self, client: PeerClient, theirs: Mapping[tuple[str, str], ChainHead]
    ) -> list[Halt]:
        """Compare our chains on the lines shared with the peer with its heads
        (``theirs``): halt each one the peer shows to be further than ours, and lift the
        halts the comparison shows to be over. The halts found."""
        own = self.store.hosted_parties()
        shared = self._shared(client.peer)
        ours = self.store.heads(parties=list(own))
        found = []
        for (line, party), held in sorted(theirs.items()):
            if party not in own or line not in shared:
                continue
            mine = ours.get((line, party), ChainHead())
            if behind(mine, held):
                cause = self.evidence(client, line, party, mine)
                if cause is not None:
                    halt = Halt(line, party, cause, client.peer, mine.seq, held.seq, self._now())
                    found.append(self.halts.put(halt))
        same_at: dict[tuple[str, str], bool] = {}
        for halt in self.halts.all():
            key = (halt.line, halt.party)
            if halt.line not in shared or halt.party not in own:
                continue
            held, mine = theirs.get(key, ChainHead()), ours.get(key, ChainHead())
            if held.seq <= mine.seq:
                same_at[key] = held.seq == 0 or self._id_at(*key, held.seq) == held.id
        self.halts.lift_compared(client.peer, ours, theirs, same_at, self._now())
        return found

    def after_push(self, client: PeerClient, line: str, party: str, held: ChainHead) -> Halt | None:
        """A push answer says the peer holds (line, party) up to ``held``, which is not
        what we hold there: the halt, if it shows a rollback."""
        mine = self.store.heads(parties=[party]).get((line, party), ChainHead())
        if not behind(mine, held):
            return None
        cause = self.evidence(client, line, party, mine)
        if cause is None:
            return None
        return self.halts.put(
            Halt(line, party, cause, client.peer, mine.seq, held.seq, self._now())
        )

    # -- recovery --------------------------------------------------------------------

    def recover(
        self, client: PeerClient, lines: Sequence[str] | None = None
    ) -> list[ChainRecovery]:
        """Take back from the peer every event of ours it holds past our heads, on the
        lines shared with it (``lines`` only, if given), and lift the halts that are over.
        Raises PeerUnavailable when the peer does not answer."""
        theirs = client.heads()
        own = self.store.hosted_parties()
        shared = self._shared(client.peer)
        wanted = shared if lines is None else shared & set(lines)
        chains = {(h.line, h.party) for h in self.halts.all() if h.line in wanted}
        chains |= {k for k in theirs if k[0] in wanted and k[1] in own}
        chains |= {k for k in self.store.heads(parties=list(own)) if k[0] in wanted}
        return [
            self._recover_chain(client, line, party, theirs.get((line, party), ChainHead()))
            for line, party in sorted(chains)
        ]

    def _recover_chain(
        self, client: PeerClient, line: str, party: str, held: ChainHead
    ) -> ChainRecovery:
        before = ours = self.store.heads(parties=[party]).get((line, party), ChainHead())
        fetched, problem, forked = 0, None, False
        while ours.seq < held.seq:
            try:
                events = self._fetch(client, line, party, ours.seq, BATCH)
            except HotlineError as exc:
                problem = exc.message
                break
            got = check_own_events(line, party, ours, events, self._own_keys(party))
            if got.events:
                self._store(line, party, ours, got.events)
                ours, fetched = got.head, fetched + len(got.events)
            elif not events:
                problem = (
                    f"{client.peer} holds {party}'s chain up to seq {held.seq} but gives "
                    f"nothing past seq {ours.seq}"
                )
                break
            else:
                problem, forked = f"{client.peer}'s copy: {got.problem}", got.forked
                break
        halt = self.halts.of(line, party)
        lifted = None
        if forked:
            halt = self.halts.put(
                Halt(line, party, Cause.FORK, client.peer, ours.seq, held.seq, self._now())
            )
        elif problem is None and halt is not None:
            same = held.seq == 0 or self._id_at(line, party, held.seq) == held.id
            if not same:
                problem = f"{client.peer} holds seq {held.seq} as {held.id}, which is not ours"
            elif (halt.theirs or 0) > ours.seq:
                problem = (
                    f"{halt.peer or client.peer} receipted seq {halt.theirs}, but "
                    f"{client.peer} gives {party}'s chain only up to seq {ours.seq}"
                )
            elif halt.cause is not Cause.FORK:
                lifted = self.halts.lift(line, party, self._now())
                halt = None
        return ChainRecovery(line, party, before, ours, held, fetched, lifted, halt, problem)

    def receipt_held(self, peer: str, lines: Sequence[str] | None = None) -> list[Event]:
        """Receipt what of ``peer``'s chains came in while ours were halted (no receipt is
        signed on a halted chain): on each line shared with it whose chain of ours signs
        again, a receipt up to the peer's head held here, if the last one does not reach
        it. The receipts signed."""
        own = self.store.hosted_parties()
        halted = {(h.line, h.party) for h in self.halts.all()}
        heads = self.store.heads()
        signed = []
        for state in self.store.lines():
            line = state.line
            if peer not in line.parties or (lines is not None and line.id not in lines):
                continue
            # the peer's chain, and on a line it mediates every chain it carried to us
            sources = [p for p in line.parties if p not in own] if line.mediator == peer else [peer]
            for party in sorted(own & set(line.parties)):
                if (line.id, party) in halted:
                    continue
                last = self.store.events(line.id, party=party, kinds=[EventKind.RECEIPT.value])
                for source in sources:
                    theirs = heads.get((line.id, source))
                    if theirs is None:
                        continue
                    upto = max(
                        (
                            int(e.content.get("upto_seq", 0))
                            for e in last
                            if e.content.get("of") == source
                        ),
                        default=0,
                    )
                    if upto < theirs.seq:
                        signed.append(self._receipt(line, party, source, theirs))
        return signed

    def _receipt(self, line: Line, party: str, peer: str, theirs: ChainHead) -> Event:
        content = receipt_content(peer, theirs.seq, theirs.id or "")

        def sign(tx: WriteTx) -> Event:
            return self.writer.append(
                tx, line, EventKind.RECEIPT, party, content, hosted=frozenset({party})
            )

        return self.writer.transact(sign, line.id)

    def _store(self, line: str, party: str, head: ChainHead, events: Sequence[Event]) -> None:
        """Store checked events of our chain, with what they changed on this node (lines
        signed, keys rotated), as when they were first appended: what they sealed from
        the line's mediator opened again with our node key."""
        opener = Opener(self.writer, party)
        events = [_opened(opener, e) for e in events]

        def store(tx: WriteTx) -> None:
            if tx.head(line, party) != head:
                raise ChainConflict(
                    f"{party}'s chain on {line} moved during recovery", hint="run it again"
                )
            for event in events:
                _apply(tx, event)
                tx.append(event)

        self.writer.transact(store, line)


def _opened(opener: Opener, event: Event) -> Event:
    """``event`` opened with our node key; as it is when that key is no longer held (the
    chain is recovered all the same, and the text stays sealed on this node)."""
    try:
        return opener.open(event)
    except RequestRefused as exc:
        log.warning("recovered %s %s stays sealed: %s", event.kind, event.id[:12], exc.message)
        return event


def _apply(tx: WriteTx, event: Event) -> None:
    content = event.content
    at = str(event.body["ts"])
    if event.kind == EventKind.LINE_ACCEPT and not tx.has_accepted(event.line, event.party):
        tx.record_acceptance(event.line, event.party, event.id)
    elif event.kind == EventKind.KEY_ROTATE:
        tx.rotate_key(
            str(content["principal"]), PublicKey.from_text(str(content["public_key"])), at
        )
    elif event.kind == EventKind.NODE_ROTATE:
        key, _ = check_node_rotation(event)
        tx.rotate_key(event.party, key, at)
