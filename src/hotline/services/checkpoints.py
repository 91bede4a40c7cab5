"""Checkpoints: each chain's Merkle tree kept up with the ledger, signed tree heads, the
peer's cosignatures, and the proofs a disclosure bundle carries.

- **Indexing** adds the chain's new events to its tree (leaf *i* is the canonical body
  of seq *i + 1*), in batches, behind the ledger: appending an event costs nothing here.
- **Signing**: a node signs a checkpoint of each chain of its own once the chain has
  grown and the cadence is due (``checkpoint_interval`` since the last one, or
  ``checkpoint_events`` new events), and always when asked (the end of an exercise).
  While a chain is halted nothing is signed on it.
- **Cosigning**: a peer's checkpoint is cosigned only when this node holds that chain
  up to the checkpoint's size and its own tree there has the same root; the answer
  also names the largest checkpoint of that chain this node cosigned before, so a node
  restored from an old backup learns it stands behind what it once signed.
"""

from __future__ import annotations

import base64
import logging
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hotline.domain.clock import format_time, parse_time
from hotline.domain.crypto import PublicKey, SigningKey
from hotline.domain.errors import InvalidInput, NotFound, RequestRefused
from hotline.domain.events import Event
from hotline.domain.merkle import (
    CompactRange,
    consistency_proof,
    extend,
    inclusion_proof,
    leaf_hash,
    tree_root,
)
from hotline.domain.notes import (
    Checkpoint,
    Note,
    NoteSignature,
    PqPublicKey,
    PqSigningKey,
    SignatureType,
    Verifier,
    cosign,
    parse_checkpoint,
    parse_note,
    parse_signature_line,
    sign_ed25519,
    sign_pq,
    verify_note,
)
from hotline.domain.proofs import (
    ORIGIN_PREFIX,
    WitnessRef,
    key_name,
    origin,
    parse_origin,
    pq_binding,
)
from hotline.domain.rollback import Cause, Halt
from hotline.services.halts import ChainHalts
from hotline.services.writer import LedgerWriter
from hotline.storage.peers import PeerStore
from hotline.storage.transaction import WriteTx
from hotline.storage.trees import StoredCheckpoint, TreeStore

log = logging.getLogger(__name__)

INDEX_BATCH = 5000
#: node_info key prefix of a peer's ML-DSA-65 key (and its node's binding signature).
PQ_INFO = "pq-key:"
#: node_info key prefix of a witness's key, kept once it cosigned one of our checkpoints.
WITNESS_INFO = "witness:"


def pq_key(node_key: SigningKey) -> PqSigningKey:
    """The node's ML-DSA-65 key, derived from its Ed25519 seed (HKDF-SHA-256 with its own
    label): it rotates with the node key and needs no file of its own."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    seed = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"hotline checkpoint ml-dsa-65"
    ).derive(node_key.seed())
    return PqSigningKey(seed)


@dataclass(frozen=True)
class Cosigned:
    """A peer's answer to a checkpoint: its cosignature line, and the largest checkpoint
    of that chain it had cosigned before when larger than the one offered."""

    signature: NoteSignature | None  # None: not cosigned, the chain is behind ``held``
    held: StoredCheckpoint | None


class Checkpoints:
    def __init__(
        self,
        writer: LedgerWriter,
        trees: TreeStore,
        peers: PeerStore,
        party: str,
        *,
        every: timedelta,
        every_events: int,
        post_quantum: bool,
    ) -> None:
        self.writer = writer
        self.store = writer.store
        self.trees = trees
        self.peers = peers
        self.party = party
        self.every = every
        self.every_events = every_events
        self.post_quantum = post_quantum
        self._lock = threading.Lock()
        # (line, party) -> the compact range of the chain after the last receipted
        # event, and that event's id (see receipt_root)
        self._frontiers: dict[tuple[str, str], tuple[CompactRange, str]] = {}

    # -- the trees -------------------------------------------------------------------

    def index(self, line: str, party: str, upto: int | None = None) -> int:
        """Bring the chain's tree up to ``upto`` events (default: its head as it is now),
        in batches of a write each; the number of leaves indexed. It never chases a
        chain that grows meanwhile one event a write: what comes later waits for the
        next call."""
        size = self.trees.size(line, party)
        if upto is None:
            head = self.store.heads([party]).get((line, party))
            upto = head.seq if head is not None else 0
        read = self.trees.reader(line, party)
        while size < upto:
            leaves = self.trees.leaves(line, party, size, min(INDEX_BATCH, upto - size))
            if not leaves:
                break
            made = extend(size, [leaf_hash(raw) for raw in leaves], read)
            self.trees.grow(line, party, size, size + len(leaves), made)
            size += len(leaves)
        return size

    def root(self, line: str, party: str, size: int) -> bytes:
        """The root of the chain's first ``size`` events (indexing as far as needed).
        Raises NotFound when the chain is shorter."""
        if self.index(line, party, size) < size:
            raise NotFound("chain events", f"{line}/{party} up to {size}")
        return tree_root(size, self.trees.reader(line, party))

    def inclusion(self, event: Event, size: int) -> list[bytes]:
        """The proof that ``event`` is in its chain's tree of ``size`` events."""
        self.index(event.line, event.party, size)
        return inclusion_proof(event.seq - 1, size, self.trees.reader(event.line, event.party))

    def consistency(self, line: str, party: str, old: int, new: int) -> list[bytes]:
        self.index(line, party, new)
        return consistency_proof(old, new, self.trees.reader(line, party))

    def receipt_root(
        self, tx: WriteTx, line: str, party: str, stored: Sequence[Event]
    ) -> str | None:
        """The root of (line, party)'s tree once ``stored`` (events just stored in ``tx``,
        in chain order, the last one its new head) are in it, for this node's receipt to
        name: standard base64. Kept from one batch to the next as a compact range (a few
        hashes per chain), so a receipt costs a hash per event; made again from the
        stored tree and the events in ``tx`` when it does not follow on."""
        if not stored:
            return None
        first = stored[0]
        with self._lock:
            cached = self._frontiers.get((line, party))
        if cached is not None and cached[0].size == first.seq - 1 and cached[1] == first.prev:
            frontier = cached[0].copy()
        else:
            indexed = min(self.trees.size(line, party), first.seq - 1)
            frontier = CompactRange.of(indexed, self.trees.reader(line, party))
            for raw in tx.bodies(line, party, indexed, first.seq - 1):
                frontier.append(leaf_hash(raw))
        for event in stored:
            frontier.append(leaf_hash(event.raw))
        with self._lock:
            self._frontiers[(line, party)] = (frontier, stored[-1].id)
        return base64.b64encode(frontier.root()).decode("ascii")

    # -- signing ---------------------------------------------------------------------

    def node_keys(self, party: str) -> list[PublicKey]:
        """Every node key of ``party`` the record holds, retired ones included."""
        return [key for owner, key in self.store.key_directory().values() if owner == party]

    def sign_due(self, *, force: bool = False) -> list[StoredCheckpoint]:
        """Sign a checkpoint of each of our chains that has grown and is due (all that
        have grown with ``force``); the checkpoints made."""
        hosted = self.store.hosted_parties()
        now = self.writer.now()
        halts = {(h.line, h.party) for h in ChainHalts(self.store, self.peers).all()}
        made = []
        for (line, party), head in sorted(self.store.heads(hosted).items()):
            if (line, party) in halts:
                continue  # it stands behind a peer's copy: nothing signed until recovered
            latest = self.trees.latest(line, party)
            if latest is not None and latest.size >= head.seq:
                continue
            if not force and latest is not None and not self._due(latest, head.seq, now):
                continue
            made.append(self.sign(line, party, head.seq, now))
        return made

    def _due(self, latest: StoredCheckpoint, head: int, now: datetime) -> bool:
        return (
            head - latest.size >= self.every_events
            or now - parse_time(latest.made_at) >= self.every
        )

    def sign(self, line: str, party: str, size: int, now: datetime) -> StoredCheckpoint:
        """Sign the checkpoint of our chain at ``size`` and keep it."""
        root = self.root(line, party, size)
        note = Note(Checkpoint(origin(line, party), size, root).text())
        key = self.writer.key(party)
        note = note.with_signature(sign_ed25519(note, key_name(party), key))
        if self.post_quantum or self.pq_required(line):
            note = note.with_signature(sign_pq(note, key_name(party), pq_key(key)))
        stored = StoredCheckpoint(line, party, size, root, note.render(), format_time(now), None, 0)
        self.trees.put(stored)
        return stored

    def latest_own(self) -> list[StoredCheckpoint]:
        """The latest checkpoint of each of our chains."""
        return self.trees.latest_of(self.store.hosted_parties())

    def pending(self) -> list[StoredCheckpoint]:
        """Our checkpoints the peer has not cosigned yet, the latest of each chain."""
        return [cp for cp in self.latest_own() if cp.cosigned_at is None]

    # -- cosigning -------------------------------------------------------------------

    def pq_required(self, line: str) -> bool:
        """Whether the line's terms require a post-quantum signature on checkpoints."""
        try:
            proofs = self.store.line(line).line.proofs
        except NotFound:
            return False
        return proofs is not None and proofs.post_quantum

    def pq_public(self, party: str) -> tuple[bytes, bytes] | None:
        """``party``'s ML-DSA-65 public key and its node's signature vouching for it:
        ours derived from our node key, a peer's as it last sent them."""
        if party in self.store.hosted_parties():
            node = self.writer.key(party)
            public = pq_key(node).public.raw
            return public, node.sign(pq_binding(party, public))
        text = self.store.info(PQ_INFO + party)
        if text is None:
            return None
        key, vouch = text.split(" ")
        return base64.b64decode(key), base64.b64decode(vouch)

    def _check_pq(self, party: str, note: Note, pq: tuple[bytes, bytes] | None) -> bool:
        """Verify the note's post-quantum signature with the key the sender sent, vouched
        for by its node key; keep that key. False when the note has none. Raises
        RequestRefused when one is there and does not verify."""
        if pq is None:
            return False
        public, binding = pq
        if not any(k.verify(pq_binding(party, public), binding) for k in self.node_keys(party)):
            raise RequestRefused("bad signature", f"{party}'s ML-DSA-65 key is not vouched for")
        try:
            verifier = Verifier(key_name(party), SignatureType.OTHER, PqPublicKey(public))
        except InvalidInput as exc:
            raise RequestRefused("malformed", exc.message) from exc
        mine = [s for s in note.signatures if s.key_id == verifier.key_id]
        if not mine:
            return False
        try:
            verify_note(Note(note.text, tuple(mine)), [verifier])
        except InvalidInput as exc:
            raise RequestRefused("bad signature", f"{party}'s post-quantum signature") from exc
        encoded = f"{base64.b64encode(public).decode()} {base64.b64encode(binding).decode()}"
        if self.store.info(PQ_INFO + party) != encoded:
            self.writer.transact(lambda tx: tx.set_info(PQ_INFO + party, encoded))
        return True

    def cosign(self, sender: str, text: str, pq: tuple[bytes, bytes] | None = None) -> Cosigned:
        """Cosign ``sender``'s checkpoint of one of its chains, as the peer that holds
        it; not when this node cosigned a larger one of that chain before (then that one
        is the answer: the sender stands behind what it signed). On a mediated line the
        mediator carries the other parties' checkpoints as it carries their chains.
        Raises RequestRefused: not its chain (nor one it carries), not signed by its
        author's node, not held here yet ("not yet"), or not the chain this node holds
        ("divergence"). ``pq``: the author's ML-DSA-65 key and its node's signature
        vouching for it, when the checkpoint carries that signature (required when the
        line's terms say so: "post-quantum")."""
        try:
            note = parse_note(text)
            checkpoint = parse_checkpoint(note.text)
            line, party = parse_origin(checkpoint.origin)
        except InvalidInput as exc:
            raise RequestRefused("malformed", exc.message) from exc
        carried = party != sender
        if carried and not self._carried(sender, line, party):
            raise RequestRefused("wrong chain", f"{sender} sent a checkpoint of {party}'s chain")
        verifiers = [
            Verifier(key_name(party), SignatureType.ED25519, k) for k in self.node_keys(party)
        ]
        try:
            verify_note(note, verifiers)
        except InvalidInput as exc:
            if self.index(line, party, checkpoint.size) < checkpoint.size:
                raise RequestRefused(  # (signed by a key whose rotation is not here yet?)
                    "not yet",
                    f"{party}'s checkpoint of {line} at size {checkpoint.size} does not "
                    f"verify with the keys held here, and neither is its chain: {exc.message}",
                    hint="deliver the events first; the checkpoint is offered again",
                ) from exc
            raise RequestRefused("bad signature", exc.message) from exc
        if not self._check_pq(party, note, pq) and self.pq_required(line):
            raise RequestRefused(
                "post-quantum",
                f"the terms of line {line} require an ML-DSA-65 signature on checkpoints",
            )
        if carried:  # what the carrier added: its own cosignature if it verifies, no more
            note = self._as_carried(note, party, sender)
        held = self.index(line, party, checkpoint.size)
        if held < checkpoint.size:
            raise RequestRefused(
                "not yet",
                f"this node holds {party}'s chain of {line} up to seq {held}, "
                f"not {checkpoint.size}",
                hint="deliver the events first; the checkpoint is offered again",
            )
        mine = tree_root(checkpoint.size, self.trees.reader(line, party))
        if mine != checkpoint.root:
            raise RequestRefused(
                "divergence",
                f"{party}'s checkpoint of {line} at size {checkpoint.size} has another root "
                "than the chain this node holds: two histories",
            )
        before = self.trees.latest(line, party)
        if before is not None and before.size > checkpoint.size:
            return Cosigned(None, before)  # a cosignature says "the largest I have seen"
        now = self.writer.now()
        own = self.writer.key(self.party)
        signature = cosign(note, key_name(self.party), own, int(now.timestamp()))
        stored = StoredCheckpoint(
            line,
            party,
            checkpoint.size,
            checkpoint.root,
            note.with_signature(signature).render(),
            format_time(now),
            format_time(now),
            0,
        )
        existing = next(
            (c for c in self.trees.checkpoints(line, party) if c.size == checkpoint.size), None
        )
        if existing is not None:
            stored = _merged(existing, stored.note, stored.cosigned_at)
        self.trees.put(stored)
        return Cosigned(signature, None)

    def _carried(self, sender: str, line: str, party: str) -> bool:
        """Whether ``sender`` is the mediator of ``line``, carrying ``party``'s chain of it
        to this node."""
        try:
            terms = self.store.line(line).line
        except NotFound:
            return False
        return terms.mediator == sender and party in terms.parties and party != self.party

    def _as_carried(self, note: Note, author: str, carrier: str) -> Note:
        """``note`` with the author's signature lines (checked before) and the carrier's
        cosignature where it verifies: nothing else a carrier added is kept, so no line
        under another name can spoil the note for a reader of it."""
        cosigners = [
            Verifier(key_name(carrier), SignatureType.COSIGNATURE, k)
            for k in self.node_keys(carrier)
        ]
        kept = []
        for signature in note.signatures:
            if signature.name == key_name(author) or any(
                (v.name, v.key_id) == (signature.name, signature.key_id)
                and v.check(note, signature) is not None
                for v in cosigners
            ):
                kept.append(signature)
        return Note(note.text, tuple(kept))

    def carried(self) -> list[StoredCheckpoint]:
        """On the lines this node mediates, the latest checkpoint of each other party's
        chain: what it carries to the line's other parties to cosign."""
        found = []
        for state in self.store.lines(self.party):
            if state.line.mediator != self.party:
                continue
            for party in state.line.parties:
                if party != self.party:
                    latest = self.trees.latest(state.line.id, party)
                    if latest is not None:
                        found.append(latest)
        return found

    def cosigned(self, checkpoint: StoredCheckpoint, peer: str, line: str) -> StoredCheckpoint:
        """Keep the peer's cosignature line of our ``checkpoint``. Raises RequestRefused
        if it does not verify under the peer's node key."""
        try:
            signature = parse_signature_line(line)
        except InvalidInput as exc:
            raise RequestRefused("malformed", f"the cosignature of {peer}: {exc.message}") from exc
        note = parse_note(checkpoint.note)
        with_it = Note(note.text, (signature,))
        verifiers = [
            Verifier(key_name(peer), SignatureType.COSIGNATURE, k) for k in self.node_keys(peer)
        ]
        try:
            good = verify_note(with_it, verifiers)
        except InvalidInput as exc:
            raise RequestRefused("bad signature", f"{peer}'s cosignature: {exc.message}") from exc
        at = format_time(datetime.fromtimestamp(good[0].time, UTC))
        merged = _merged(checkpoint, note.with_signature(signature).render(), at)
        self.trees.put(merged)
        return merged

    def witnesses_seen(self, named: Sequence[WitnessRef] = ()) -> list[WitnessRef]:
        """Every witness whose cosignature this node keeps (its key as it was when the
        cosignature came), and those ``named``."""
        found = {w.name: w for w in named}
        for key, value in self.store.infos(WITNESS_INFO).items():
            name = key.removeprefix(WITNESS_INFO)
            if name not in found:
                found[name] = WitnessRef(name, "", PublicKey.from_text(value))
        return [found[n] for n in sorted(found)]

    def witnessed(
        self, checkpoint: StoredCheckpoint, lines: str, witness: WitnessRef | None = None
    ) -> StoredCheckpoint:
        """Keep a witness's cosignature line(s) of ``checkpoint`` (checked by the caller
        against the witness key it trusts), and that witness's key, so that bundles can
        carry it whatever the setting says later."""
        if witness is not None and self.store.info(WITNESS_INFO + witness.name) != (
            witness.key.text()
        ):
            key = WITNESS_INFO + witness.name
            self.writer.transact(lambda tx: tx.set_info(key, witness.key.text()))
        note = parse_note(checkpoint.note)
        for line in lines.splitlines():
            if line.strip():
                note = note.with_signature(parse_signature_line(line))
        stored = StoredCheckpoint(
            checkpoint.line,
            checkpoint.party,
            checkpoint.size,
            checkpoint.root,
            note.render(),
            checkpoint.made_at,
            checkpoint.cosigned_at,
            checkpoint.witnesses + 1,
        )
        self.trees.put(stored)
        return stored

    def rolled_back(self, peer: str, held: StoredCheckpoint) -> Halt | None:
        """The peer cosigned a checkpoint of our chain larger than what we hold: our
        record was rolled back (an old backup restored, or events removed). Halt the
        chain until its events are recovered from the peer; the halt, or None if our
        chain is not behind after all."""
        head = self.store.heads([held.party]).get((held.line, held.party))
        ours = head.seq if head is not None else 0
        if ours >= held.size:
            return None
        halt = Halt(
            line=held.line,
            party=held.party,
            cause=Cause.CHECKPOINTED,
            peer=peer,
            ours=ours,
            theirs=held.size,
            found_at=format_time(self.writer.now()),
        )
        return ChainHalts(self.store, self.peers).put(halt)


def signers_of(note: str, party: str) -> list[dict[str, Any]]:
    """Who cosigned a stored checkpoint of ``party``'s chain, and when (the time its
    cosignature states; each was verified when it reached this node): ``name``,
    ``time``, and ``peer`` (a party's node rather than a witness)."""
    found: list[dict[str, Any]] = []
    for signature in parse_note(note).signatures:
        if signature.name == key_name(party) or len(signature.signature) != 8 + 64:
            continue  # the chain's own signatures
        (seconds,) = struct.unpack(">Q", signature.signature[:8])
        found.append(
            {
                "name": signature.name.removeprefix(ORIGIN_PREFIX),
                "time": format_time(datetime.fromtimestamp(seconds, UTC)),
                "peer": signature.name.startswith(ORIGIN_PREFIX),
            }
        )
    return found


def _merged(held: StoredCheckpoint, note: str, cosigned_at: str | None) -> StoredCheckpoint:
    """``held`` with the signatures of ``note`` added (one checkpoint, two copies)."""
    merged = parse_note(held.note)
    for signature in parse_note(note).signatures:
        merged = merged.with_signature(signature)
    return StoredCheckpoint(
        held.line,
        held.party,
        held.size,
        held.root,
        merged.render(),
        held.made_at,
        held.cosigned_at or cosigned_at,
        held.witnesses,
    )
