"""The receiving side of federation: events a peer pushes, or this node pulls.

A batch is one chain's events in order. Each is checked (signature, chain, content) and
placed against the chain head this node holds: the next one is stored, a duplicate is
skipped, a gap stops the batch (the sender is told where this node stands), and a fork or
any refused event stops it too and is recorded with its bytes as evidence. What was
stored is receipted by this node in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from hotline.domain.canonical import digest
from hotline.domain.clock import format_time
from hotline.domain.errors import HotlineError, NotFound, RequestRefused
from hotline.domain.events import Event, EventKind
from hotline.domain.intake import check_content, check_time
from hotline.domain.ledger import ChainHead, Placement, place, receipt_content
from hotline.domain.policy import Line, LineState
from hotline.domain.verify import KeyDirectory
from hotline.services.halts import halted
from hotline.services.peer_events import PeerEvents
from hotline.services.pushed import Checked, check_batch, check_signed
from hotline.services.refusals import Refusals
from hotline.services.sealing import Opener
from hotline.services.writer import LedgerWriter
from hotline.storage.library import Library
from hotline.storage.peers import PeerStore
from hotline.storage.transaction import WriteTx

#: Kinds whose checks also change this node's directory or lines: each is applied in a
#: savepoint, so that a refusal found half-way leaves nothing behind.
WRITES_BEYOND_THE_EVENT = frozenset(
    {EventKind.LINE_PROPOSE, EventKind.LINE_ACCEPT, EventKind.KEY_ROTATE, EventKind.NODE_ROTATE}
)


#: (transaction, line, party, the events just stored) -> the chain's root, or None
ReceiptRoots = Callable[[WriteTx, str, str, Sequence[Event]], str | None]


@dataclass(frozen=True)
class BatchResult:
    stored: int
    duplicates: int
    head: ChainHead
    receipt: Event | None
    gap: bool
    refused: RequestRefused | None


@dataclass(frozen=True)
class _Taken:
    """A batch as its transaction left it: the answer, the link tests to note once it
    has committed, and the refused event's bytes (and the event, if it could be read)."""

    result: BatchResult
    after_commit: list[Event]
    evidence: tuple[bytes, bytes] | None
    bad: Event | None


#: Every how many requests the nonces too old to matter are dropped.
FORGET_EVERY = 500


@dataclass(frozen=True)
class NonceUse:
    """A signed request's nonce, to be spent with what the request stores."""

    nonce: str
    forget_before: str  # nonces seen before then are dropped now and then


class Receiver:
    def __init__(
        self,
        writer: LedgerWriter,
        peers: PeerStore,
        own_party: str,
        skew: timedelta,
        library: Library | None,
        refusals: Refusals,
        roots: ReceiptRoots | None = None,
    ) -> None:
        """``roots``: the Merkle root of a chain once a batch is stored in a transaction,
        for the receipt to name (see :meth:`Checkpoints.receipt_root`)."""
        self.roots = roots
        self.library = library
        self.refusals = refusals
        self.writer = writer
        self.store = writer.store
        self.peers = peers
        self.own = own_party
        self.skew = skew
        self._key_cache: KeyDirectory | None = None
        self.events = PeerEvents(writer, own_party, skew, library, self._keys)
        self.opener = Opener(writer, own_party)
        self._heads: dict[tuple[str, str], int] = {}  # (line, party) -> seq, as last stored
        self._nonce_uses = 0

    def _keys(self, *, refresh: bool = False) -> KeyDirectory:
        """The key directory, read once and again only when a key is not in it. Keys
        are only ever added, so a cached directory is never wrong, only short."""
        if refresh or self._key_cache is None:
            self._key_cache = self.store.key_directory()
        return self._key_cache

    def accept(
        self,
        sender: str,
        line_id: str,
        party: str,
        items: Sequence[tuple[bytes, bytes]],
        nonce: NonceUse | None = None,
        checked: Sequence[Checked] | None = None,
    ) -> BatchResult:
        """Check and store a batch of (line, party)'s events sent by ``sender``'s node.
        ``nonce``: the nonce of the request that carried it, recorded in the same commit
        as the events. Raises RequestRefused ("replay") when it was used before.
        ``checked``: what :meth:`check` found of ``items``, when it was asked before."""
        if party != sender and not self.carries(sender, line_id, party, items):
            if not self.store.has_line(line_id):  # a mediator's relay ahead of the proposal: not
                # a fault of the sender's; the proposal comes first next time
                unknown = RequestRefused(
                    "unknown line", f"no line {line_id!r} here yet: its proposal comes first"
                )
                return BatchResult(0, 0, ChainHead(), None, False, unknown)
            wrong = RequestRefused("wrong chain", f"{sender} pushed {party}'s chain")
            self._record(sender, wrong, line_id, party, items[0] if items else None)
            return BatchResult(0, 0, ChainHead(), None, False, wrong)
        arrived = format_time(self.writer.now())  # beside each event's own claimed time
        forget = None
        if nonce is not None:
            self._nonce_uses += 1
            if self._nonce_uses % FORGET_EVERY == 1:
                forget = nonce.forget_before
        if checked is None:
            checked = self.check(sender, line_id, party, items)  # before the write lock
        taken = self.writer.transact(
            partial(self._take, sender, line_id, party, items, checked, arrived, nonce, forget),
            line_id,
        )
        after_commit, refused = taken.after_commit, taken.result.refused
        # the head as this transaction left it: a later batch wholly past it holds nothing
        # already stored, unless another process stored more meanwhile (then its events
        # are checked again: that costs time, never a wrong answer)
        self._heads[(line_id, party)] = taken.result.head.seq
        known = self.peers.link_states() if after_commit else {}
        for test in after_commit:  # bookkeeping only once the event is stored
            content = test.content
            last = known.get(test.party, {}).get("round")
            if isinstance(last, int) and int(content.get("round", -1)) < last:
                continue  # a late result of an older round says nothing about now
            self.peers.set_link_state(
                test.party,
                str(content["state"]),
                content.get("round"),
                str(test.body["ts"]),
                {"by": test.party, "paths": content.get("paths")},
            )
        if refused is not None:
            self._record(sender, refused, line_id, party, taken.evidence, taken.bad)
        return taken.result

    def check(
        self, sender: str, line_id: str, party: str, items: Sequence[tuple[bytes, bytes]]
    ) -> list[Checked]:
        """Each of ``items`` read and its signature checked, as :meth:`accept` needs them:
        a batch can be checked while the one before it is stored. Stores nothing."""
        held = partial(self.store.chain_bytes, line_id, party)
        owner = party if self.carries(sender, line_id, party, items) else sender
        return check_batch(items, self._keys, owner, held, self._heads.get((line_id, party)))

    def carries(
        self, sender: str, line_id: str, party: str, items: Sequence[tuple[bytes, bytes]] = ()
    ) -> bool:
        """Whether ``sender``'s node may deliver ``party``'s chain of ``line_id``: its
        own, or any party's when it is the mediator of that line (it relays what the
        authors signed; an altered event does not verify, and is refused as any other).
        A line new here is the one whose proposal opens ``items``: it is checked as any
        proposal is, signed by its proposer's node."""
        if sender == party:
            return True
        if party == self.own:
            return False  # our own chain is ours to deliver, not the mediator's
        terms: Any
        try:
            terms = self.store.line(line_id).line.terms()
        except NotFound:
            terms = _proposed_terms(items[0]) if items else None
        if not isinstance(terms, dict):
            return False
        parties = terms.get("parties")
        return terms.get("mediator") == sender and isinstance(parties, list) and party in parties

    def note_held(
        self, sender: str, line_id: str, seq: int, event_id: str, after: int = 0
    ) -> list[tuple[bytes, bytes]]:
        """``sender``'s node says (in a signed request) it holds this node's chain on
        ``line_id`` up to ``seq``, ``event_id``: if that is the event stored there, the
        delivery cursor moves on, and the events up to it are not pushed again (receipts
        reach the sender in the answers to its pushes). Returns up to ``after`` of the
        events that follow it, as stored, for the answer: the sender then holds our
        chain without a gap, whatever reached it since by other ways (none when the
        sender's word is not what we hold there: delivery finds out and says so)."""
        ours = self.store.chain_bytes(line_id, self.own, seq - 1, 1 + after)
        if not ours or digest(ours[0][0]) != event_id:
            return []
        at = format_time(self.writer.now())
        self.peers.held((sender, line_id, self.own), seq, event_id, at)
        return list(ours[1:])

    def _take(
        self,
        sender: str,
        line_id: str,
        party: str,
        items: Sequence[tuple[bytes, bytes]],
        checked: Sequence[Checked],
        arrived: str,
        nonce: NonceUse | None,
        forget: str | None,
        tx: WriteTx,
    ) -> _Taken:
        """Check and store the batch in ``tx`` (one write of the group commit): what was
        stored, and what was refused. Begins afresh each time it runs (a transaction
        that met a deadlock is run again)."""
        if nonce is not None and not tx.use_nonce(sender, nonce.nonce, arrived, forget):
            raise RequestRefused("replay", f"nonce {nonce.nonce} was used before")
        keys = self._keys()
        stored = duplicates = 0
        refused: RequestRefused | None = None
        bad: Event | None = None
        bad_bytes: tuple[bytes, bytes] | None = None  # refused before it could be read
        gap = False
        receipt = None
        line: Line | None = None
        worth_receipt = False  # receipts are not receipted: that would never end
        after_commit: list[Event] = []
        retired: set[str] | None = None  # read once per batch, again after a rotation
        states: dict[str, LineState] = {}  # lines as this batch sees them
        head = tx.head(line_id, party)
        kept: list[Event] = []
        for (raw, sig), pre in zip(items, checked, strict=False):
            if pre.event is None:
                refused, bad_bytes = RequestRefused("malformed", str(pre.malformed)), (raw, sig)
                break
            event = pre.event
            try:
                if event.body.get("line") != line_id:
                    raise RequestRefused("malformed", "event of another line in the batch")
                if pre.refused is not None:
                    raise pre.refused
                if not pre.authentic:  # its key unknown before: maybe rotated in this batch
                    # of the chain's own party (its node's, or relayed by the mediator)
                    keys = check_signed(event, keys, self._keys, party)
                if retired is None:
                    retired = tx.retired_key_ids()
                if event.key_id in retired and tx.retired_in_chain(
                    event.line, event.party, event.key_id, event.seq
                ):
                    raise RequestRefused(
                        "retired key",
                        f"{event.author} signed with key {event.key_id}, "
                        "which its node has replaced",
                    )
                check_time(event)
                event = self.opener.open(event)
                if event.kind not in (EventKind.MESSAGE, EventKind.LINE_PROPOSE):
                    check_content(event)
                at = tx.id_at(line_id, party, event.seq) if event.seq <= head.seq else None
                placement = place(head, event, at)
                if placement is Placement.DUPLICATE:
                    duplicates += 1
                    continue
                if placement is Placement.GAP:
                    gap = True
                    break
                if placement is Placement.FORK:
                    raise RequestRefused(
                        "fork",
                        f"{party} seq {event.seq} differs from the stored event "
                        f"{at or head.id}: evidence kept, chain unchanged",
                    )
                if event.kind in WRITES_BEYOND_THE_EVENT:
                    states.clear()  # lines may change: read them afresh
                    with tx.savepoint():  # a refusal leaves no trace of this event
                        line = self.events.check_and_apply(tx, event, after_commit, states)
                    states.clear()
                else:
                    line = self.events.check_and_apply(tx, event, after_commit, states)
                if event.kind == EventKind.KEY_ROTATE:  # later events may use the key
                    keys = {**keys, **tx.keys_of(event.content["principal"])}
                    retired = None
                elif event.kind == EventKind.NODE_ROTATE:
                    keys = {**keys, **tx.keys_of(event.party)}
                    retired = None
            except RequestRefused as exc:
                refused, bad = exc, event
                break
            tx.append_many([event], received_at=arrived)
            kept.append(event)
            head = head.after(event)
            stored += 1
            worth_receipt = worth_receipt or event.kind != EventKind.RECEIPT
        if worth_receipt and line is not None and not halted(tx, line.id, self.own):
            root = self.roots(tx, line_id, party, kept) if self.roots is not None else None
            receipt = self.writer.append(
                tx,
                line,
                EventKind.RECEIPT,
                self.own,
                receipt_content(party, head.seq, head.id or "", root),
                hosted=frozenset({self.own}),
            )
        return _Taken(
            BatchResult(stored, duplicates, head, receipt, gap, refused),
            after_commit,
            (bad.raw, bad.sig) if bad else bad_bytes,
            bad,
        )

    def _record(
        self,
        sender: str,
        refused: RequestRefused,
        line: str | None,
        party: str | None,
        evidence: tuple[bytes, bytes] | None = None,
        event: Event | None = None,
    ) -> None:
        """Keep the refusal with the refused bytes (cut to the node's limit)."""
        raw, sig = evidence if evidence else (None, None)
        self.refusals.proven(
            peer=sender,
            client=None,
            kind="event",
            refused=refused,
            line=line,
            party=party,
            seq=_seq(event),
            event_id=event.id if event else None,
            raw=raw,
            sig=sig,
        )


def _proposed_terms(item: tuple[bytes, bytes]) -> Any:
    """The terms a line's proposal carries, if ``item`` reads as one (checked later)."""
    try:
        event = Event.from_raw(*item)
    except HotlineError:
        return None
    if event.kind != EventKind.LINE_PROPOSE or not isinstance(event.content, dict):
        return None
    return event.content.get("terms")


def _seq(event: Event | None) -> int | None:
    if event is None:
        return None
    seq = event.body.get("seq")
    return seq if isinstance(seq, int) else None
