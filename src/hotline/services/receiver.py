"""The receiving side of federation: events a peer pushes, or this node pulls.

A batch is one chain's events in order. Each is checked (signature, chain, content) and
placed against the chain head this node holds: the next one is stored, a duplicate is
skipped, a gap stops the batch (the sender is told where this node stands), and a fork or
any refused event stops it too and is recorded with its bytes as evidence. What was
stored is receipted by this node in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from hotline.domain.canonical import digest
from hotline.domain.catalogue import adoptions_of, ever_agreed, fill
from hotline.domain.clock import format_time
from hotline.domain.contact import CONTACT_KINDS, check_form, fold
from hotline.domain.crypto import PublicKey
from hotline.domain.errors import (
    AlreadyExists,
    HotlineError,
    InvalidInput,
    NotFound,
    RequestRefused,
)
from hotline.domain.events import Event, EventKind
from hotline.domain.identity import (
    Principal,
    is_node_author,
    parse_principal_id,
    party_of,
)
from hotline.domain.intake import (
    check_content,
    check_escalation,
    check_forward,
    check_message,
    check_time,
)
from hotline.domain.ledger import ChainHead, Placement, place, receipt_content
from hotline.domain.linktest import LinkState
from hotline.domain.policy import Line, LineState, LineStatus, check_member
from hotline.domain.rotation import check_node_rotation
from hotline.domain.translation import check_certifier, check_translator
from hotline.domain.translation import check_form as check_translation_form
from hotline.domain.verify import KeyDirectory
from hotline.services.halts import halted, rollback_by_receipt
from hotline.services.halts import put as put_halt
from hotline.services.pushed import Checked, check_batch, check_signed
from hotline.services.refusals import Refusals
from hotline.services.writer import LedgerWriter
from hotline.storage.library import Library
from hotline.storage.peers import PeerStore
from hotline.storage.transaction import WriteTx

NODE_KINDS = frozenset(
    {
        EventKind.RECEIPT,
        EventKind.LINE_PROPOSE,
        EventKind.LINE_ACCEPT,
        EventKind.LINKTEST,
        EventKind.KEY_ROTATE,
        EventKind.NODE_ROTATE,
        EventKind.ESCALATION,
        EventKind.CONTACT_EXPIRE,
        EventKind.CATALOGUE_ADOPT,
        EventKind.EVIDENCE,
    }
)


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
        if party != sender:
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
        return check_batch(items, self._keys, sender, held, self._heads.get((line_id, party)))

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
                    keys = check_signed(event, keys, self._keys, sender)
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
                        line = self._check_and_apply(tx, event, after_commit, states)
                    states.clear()
                else:
                    line = self._check_and_apply(tx, event, after_commit, states)
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

    @staticmethod
    def _line(tx: WriteTx, line_id: str, states: dict[str, LineState]) -> LineState:
        if line_id not in states:
            state = tx.line(line_id)  # in the transaction: earlier events of the batch count
            if state is None:
                raise RequestRefused("unknown line", f"no line {line_id!r} here")
            states[line_id] = state
        return states[line_id]

    def _check_and_apply(
        self,
        tx: WriteTx,
        event: Event,
        after_commit: list[Event],
        states: dict[str, LineState],
    ) -> Line:
        """Content checks by kind, and what storing the event changes on this node.
        Returns the event's line."""
        kind, author = event.kind, event.author
        if is_node_author(author) != (kind in NODE_KINDS):
            raise RequestRefused("malformed", f"{kind} events are not written by {author}")
        if kind == EventKind.LINE_PROPOSE:
            return self._proposal(tx, event)
        state = self._line(tx, event.line, states)
        if self.own not in state.line.parties or event.party not in state.line.parties:
            raise RequestRefused(
                "not a party", f"line {event.line} is not between {event.party} and {self.own}"
            )
        content: Any = event.content
        if kind == EventKind.MESSAGE:
            if state.status is not LineStatus.ACTIVE:
                raise RequestRefused("line not active", f"line {event.line} is not active")
            check_message(state.line, event, _lines_of(tx, event.author))
            if "coded" in content:
                self._check_coded(tx, state.line, event, content["coded"])
            intent = content.get("intent")
            if isinstance(intent, dict) and "of" in intent:
                changed = tx.event(str(intent["of"]))
                if (
                    changed is None
                    or changed.line != event.line
                    or changed.party != event.party
                    or not isinstance(changed.content.get("intent"), dict)
                    or changed.content["intent"].get("op") != "notify"
                ):
                    raise RequestRefused(
                        "bad reference",
                        "an amendment or cancellation names the original notification",
                    )
        elif kind in (EventKind.TRANSLATION, EventKind.CERTIFICATION):
            self._check_translation(tx, state.line, event)
        elif kind == EventKind.ESCALATION:
            self._check_escalation(tx, state.line, event, content)
        elif kind == EventKind.RELAY_FORWARD:
            check_forward(state.line, event, tx.event(str(content.get("ref"))))
        elif kind in CONTACT_KINDS:
            self._check_contact(tx, state.line, event, content)
        elif kind == EventKind.ACK:
            self._check_ack(tx, state.line, event, content)
        elif kind == EventKind.RECEIPT:
            if content.get("of") == self.own:
                upto = int(content.get("upto_seq", 0))
                ours = tx.id_at(event.line, self.own, upto)
                mine = tx.head(event.line, self.own)
                if ours is None and upto > mine.seq:  # we were rolled back: kept as evidence
                    put_halt(tx, rollback_by_receipt(event, self.own, mine, self.writer.now()))
                elif ours != content.get("upto_id"):
                    raise RequestRefused(
                        "divergence",
                        f"{event.party} receipts our seq {content.get('upto_seq')}"
                        f" as {content.get('upto_id')}, we hold {ours}",
                    )
        elif kind == EventKind.KEY_ROTATE:
            self._rotation(tx, event, content)
        elif kind == EventKind.NODE_ROTATE:
            key, _ = check_node_rotation(event)
            try:  # already pinned, when the rotation statement came with a request
                tx.rotate_key(event.party, key, str(event.body["ts"]))
            except AlreadyExists as exc:
                raise RequestRefused("key conflict", exc.message) from exc
        elif kind == EventKind.LINE_ACCEPT:
            if event.party in state.accepted_by:
                raise RequestRefused("duplicate acceptance", f"{event.party} already accepted")
            if content.get("terms_id") != state.line.terms_id():
                raise RequestRefused("terms mismatch", "accepts terms other than proposed")
            tx.record_acceptance(event.line, event.party, event.id)
        elif (
            kind == EventKind.LINKTEST
            and content.get("peer") == self.own
            and content.get("state") in set(LinkState)
        ):
            after_commit.append(event)
        return state.line

    def _check_coded(self, tx: WriteTx, line: Line, event: Event, block: Any) -> None:
        """A catalogue message must use a catalogue the parties agreed on this line, and
        its slots must be of their types."""
        adopts = tx.events_of(line.id, [EventKind.CATALOGUE_ADOPT.value])
        used = str(block["catalogue"])
        if used not in ever_agreed(adopts, line.parties):
            ours = adoptions_of(adopts).get(self.own)
            raise RequestRefused(
                "catalogue",
                f"catalogue version mismatch on line {line.id}: the message uses catalogue "
                f"{used[:12]}, which the parties have not both adopted there; "
                f"{self.own} has {ours[:12] if ours else 'none'} in force",
            )
        held = self.library.held(used) if self.library is not None else None
        if held is None:
            raise RequestRefused("catalogue", f"catalogue {used[:12]} is not held here")
        try:
            entry = held.entry(str(block["code"]), int(block["number"]))
            typed = fill(entry, block["slots"])
        except InvalidInput as exc:
            raise RequestRefused("catalogue", exc.message) from exc
        if typed != block["slots"]:
            raise RequestRefused("catalogue", "slot values are not in normal form")

    def _check_translation(self, tx: WriteTx, line: Line, event: Event) -> None:
        try:
            check_translation_form(event)
            roles = tx.principal(event.author).roles
            target = tx.event(str(event.content.get("ref")))
            if target is None or target.line != event.line:
                raise RequestRefused("bad reference", f"{event.kind} of an event not on the line")
            if event.kind == EventKind.TRANSLATION:
                check_translator(event.author, roles, target, line.parties)
                if event.content.get("lang") == target.content.get("lang"):
                    raise RequestRefused("malformed", "a translation into the original's language")
            else:
                check_certifier(event.author, roles, target)
        except NotFound as exc:
            raise RequestRefused("unknown principal", exc.message) from exc
        except InvalidInput as exc:
            raise RequestRefused("malformed", exc.message) from exc
        except HotlineError as exc:
            if isinstance(exc, RequestRefused):
                raise
            raise RequestRefused("policy", exc.message) from exc

    def _check_escalation(self, tx: WriteTx, line: Line, event: Event, content: Any) -> None:
        message = tx.event(str(content.get("ref")))
        came_from = tx.line(str(content.get("from_line") or event.line))
        line_here = came_from is not None and set(came_from.line.parties) == set(line.parties)
        check_escalation(line, event, message, self._keys(), line_here)

    def _check_contact(self, tx: WriteTx, line: Line, event: Event, content: Any) -> None:
        request = None
        if event.kind != EventKind.CONTACT_REQUEST:
            ref = str(content.get("ref"))
            asked = tx.event(ref)
            if asked is not None and asked.kind == EventKind.CONTACT_REQUEST:
                later = [k.value for k in CONTACT_KINDS - {EventKind.CONTACT_REQUEST}]
                request = fold(asked, tx.referring(ref, later))
        try:
            check_form(event, request, line, self.skew)
        except (KeyError, TypeError, ValueError) as exc:
            raise RequestRefused("malformed", f"{event.kind} content: {exc!r}") from exc
        except HotlineError as exc:
            reason = "malformed" if isinstance(exc, InvalidInput) else "policy"
            raise RequestRefused(reason, exc.message) from exc

    def _proposal(self, tx: WriteTx, event: Event) -> Line:
        terms = event.content.get("terms")
        try:
            line = Line.from_terms(terms if isinstance(terms, dict) else {})
        except InvalidInput as exc:
            raise RequestRefused("malformed", f"proposed terms: {exc}") from exc
        if line.id != event.line or event.seq != 1:
            raise RequestRefused("malformed", "a proposal opens its proposer's chain of its line")
        if self.own not in line.parties or event.party not in line.parties:
            raise RequestRefused(
                "not a party", f"line {line.id} is not between {event.party} and {self.own}"
            )
        known = {p.id for p in tx.principals()}
        offered = self._offered_principals(event)
        for principal in offered:
            if principal.id not in known and principal.id in line.policy.principals:
                try:
                    tx.add_principal(principal, str(event.body["ts"]))
                except AlreadyExists as exc:
                    raise RequestRefused("key conflict", exc.message) from exc
                known.add(principal.id)
        unknown = [p for p in line.policy.principals if p not in known]
        if unknown:
            raise RequestRefused(
                "unknown principal",
                ", ".join(unknown) + " not pinned here",
                hint="import the peer's newer bundle",
            )
        if tx.line(line.id) is not None:
            raise RequestRefused("line exists", f"line {line.id} already exists here")
        tx.add_line(
            LineState(
                line=line,
                status=LineStatus.PROPOSED,
                proposed_by=event.party,
                accepted_by=frozenset(),
                created_at=str(event.body["ts"]),
            )
        )
        tx.record_acceptance(line.id, event.party, event.id)
        return line

    def _rotation(self, tx: WriteTx, event: Event, content: Any) -> None:
        """A principal's new key, announced by its own party's node."""
        try:
            principal = parse_principal_id(content["principal"])
            key = PublicKey.from_text(content["public_key"])
        except (KeyError, TypeError, AttributeError, InvalidInput) as exc:
            raise RequestRefused("malformed", f"key rotation: {exc}") from exc
        if party_of(principal) != event.party:
            raise RequestRefused("malformed", f"{event.party} cannot rotate {principal}'s key")
        try:
            tx.principal(principal)
            tx.rotate_key(principal, key, str(event.body["ts"]))
        except NotFound as exc:
            raise RequestRefused("unknown principal", exc.message) from exc
        except AlreadyExists as exc:
            raise RequestRefused("key conflict", exc.message) from exc

    @staticmethod
    def _offered_principals(event: Event) -> list[Principal]:
        """Directory entries in a proposal: the proposer's own principals only."""
        offered = []
        entries = event.content.get("directory")
        for entry in entries if isinstance(entries, list) else []:
            try:
                principal = Principal.from_entry(entry)
            except InvalidInput as exc:
                raise RequestRefused("malformed", f"directory entry: {exc}") from exc
            if principal.party != event.party:
                raise RequestRefused("malformed", f"{event.party} cannot vouch for {principal.id}")
            offered.append(principal)
        return offered

    def _check_ack(self, tx: WriteTx, line: Line, event: Event, content: Any) -> None:
        ref = content.get("ref")
        target = tx.resolve([ref]).get(ref) if isinstance(ref, str) else None
        if target is None or target.line != line.id or target.kind != EventKind.MESSAGE:
            raise RequestRefused("bad reference", f"acknowledges {ref}, not a message here")
        if target.party == party_of(event.author):
            raise RequestRefused("bad reference", "acknowledges a message of its own party")
        try:
            check_member(line, event.author)
        except HotlineError as exc:
            raise RequestRefused("policy", exc.message) from exc


def _seq(event: Event | None) -> int | None:
    if event is None:
        return None
    seq = event.body.get("seq")
    return seq if isinstance(seq, int) else None


def _lines_of(tx: WriteTx, principal: str) -> Iterator[Line]:
    """The lines ``principal`` may use, read only if asked for (to name the lines that
    would take a refused kind): not once per message stored."""
    for state in tx.lines():
        if principal in state.line.policy.principals:
            yield state.line
