"""The check of every signed tree head on record against the events, from scratch.

``hotline verify`` runs it: each checkpoint (its signatures, and that the chain's first
``size`` events still give its root) and each receipt that names a root. No stored tree
hash is trusted: the roots are made again from the events with a compact range, in
O(log n) memory. A party that rewrote its own chain, even re-signing every event, or
cut it short, is found by the checkpoints and receipts its peer signed.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from hotline.domain.errors import InvalidInput
from hotline.domain.events import Event, EventKind
from hotline.domain.merkle import CompactRange, leaf_hash
from hotline.domain.notes import SignatureType, Verifier, parse_checkpoint, parse_note, verify_note
from hotline.domain.proofs import key_name
from hotline.services.checkpoints import INDEX_BATCH, Checkpoints
from hotline.storage.store import Store
from hotline.storage.trees import StoredCheckpoint


@dataclass(frozen=True)
class CheckpointProblem:
    """A signed checkpoint the record no longer matches."""

    line: str
    party: str
    size: int
    detail: str


def audit(checkpoints: Checkpoints) -> tuple[int, list[CheckpointProblem]]:
    """Check every stored checkpoint, and every receipt naming a root, against the
    events, from scratch (no stored tree hash is trusted): a checkpoint's signatures,
    and that the chain's first ``size`` events still give the root it (or the
    receipt) states. A party that rewrote its own chain, even re-signing every event,
    is found by the checkpoints and receipts its peer signed. The number of tree
    heads checked, and what fails."""
    problems: list[CheckpointProblem] = []
    # (line, party) -> size -> [(root, who stated it)]
    heads: dict[tuple[str, str], dict[int, list[tuple[bytes, str]]]] = {}
    chains: dict[tuple[str, str], list[StoredCheckpoint]] = {}
    for cp in checkpoints.trees.checkpoints():
        chains.setdefault((cp.line, cp.party), []).append(cp)
        cosigned = f", cosigned {cp.cosigned_at}" if cp.cosigned_at else ""
        heads.setdefault((cp.line, cp.party), {}).setdefault(cp.size, []).append(
            (cp.root, f"the checkpoint {cp.party} signed on {cp.made_at}{cosigned}")
        )
    for (_, party), cps in sorted(chains.items()):
        problems += _signatures(checkpoints, party, cps)
    for receipt in _receipts_with_roots(checkpoints.store):
        content = receipt.content
        key = (receipt.line, str(content["of"]))
        heads.setdefault(key, {}).setdefault(int(content["upto_seq"]), []).append(
            (
                base64.b64decode(str(content["root"])),
                f"{receipt.party}'s receipt {receipt.id[:12]} of {receipt.body['ts']}",
            )
        )
    for (line, party), wanted in sorted(heads.items()):
        tree = CompactRange()
        while tree.size < max(wanted):
            leaves = checkpoints.trees.leaves(line, party, tree.size, INDEX_BATCH)
            if not leaves:
                break
            for raw in leaves:
                tree.append(leaf_hash(raw))
                for root, who in wanted.get(tree.size, ()):
                    if tree.root() != root:
                        problems.append(
                            CheckpointProblem(
                                line,
                                party,
                                tree.size,
                                f"the first {tree.size} events of {party}'s chain no "
                                f"longer give the root of {who}: the chain was rewritten",
                            )
                        )
        for size, stated in sorted(wanted.items()):
            if size > tree.size:
                problems += [
                    CheckpointProblem(
                        line,
                        party,
                        size,
                        f"{party}'s chain holds {tree.size} events, but {who} covers "
                        f"{size}: events were removed",
                    )
                    for _, who in stated
                ]
    return sum(len(s) for w in heads.values() for s in w.values()), problems


def _receipts_with_roots(store: Store) -> list[Event]:
    lines = [s.line.id for s in store.lines()]
    return [
        r
        for r in store.events_on(lines, [EventKind.RECEIPT.value])
        if isinstance(r.content.get("root"), str)
    ]


def _signatures(
    checkpoints: Checkpoints, party: str, cps: list[StoredCheckpoint]
) -> list[CheckpointProblem]:
    problems = []
    own = [
        Verifier(key_name(party), SignatureType.ED25519, k) for k in checkpoints.node_keys(party)
    ]
    for cp in cps:
        try:
            note = parse_note(cp.note)
            checkpoint = parse_checkpoint(note.text)
            verify_note(note, own)
            if (checkpoint.size, checkpoint.root) != (cp.size, cp.root):
                raise InvalidInput("checkpoint", "its text is not the stored size and root")
        except InvalidInput as exc:
            problems.append(CheckpointProblem(cp.line, party, cp.size, exc.message))
    return problems
