"""The checkpoint round: sign what is due, have each peer cosign it, show it to witnesses.

One round (``hotline serve`` runs it every few seconds under its lease):

1. sign a checkpoint of each of our chains that is due (:meth:`Checkpoints.sign_due`);
2. offer each of our latest checkpoints the peer has not cosigned to the peers of its
   line; keep the cosignature. A peer that answers with a larger checkpoint of our own
   chain than we now hold shows we were rolled back: the chain halts (see
   :mod:`hotline.domain.rollback`). On a line this node mediates, it carries each other
   party's latest checkpoint to the line's remaining parties to cosign, as it carries
   their chains: each party can then prove the others' events (an acknowledgement) to a
   third party;
3. submit each chain's latest checkpoint to every witness the node names (setting
   ``witnesses``) that has not cosigned it, with a consistency proof from the last
   one that witness cosigned; keep its cosignature. A witness that holds another
   size says so, and the proof is made again from there.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from hotline.domain.errors import HotlineError, InvalidInput, RequestRefused
from hotline.domain.notes import SignatureType, Verifier, parse_checkpoint, parse_note, verify_note
from hotline.domain.proofs import WitnessRef, key_name
from hotline.federation.workers import Federation
from hotline.services.checkpoints import Checkpoints
from hotline.storage.peers import Peer
from hotline.storage.trees import StoredCheckpoint

log = logging.getLogger(__name__)

#: A checkpoint a party took is carried to it again after this long (it may have been
#: restored from a backup since, and lost it).
CARRY_AGAIN_S = 600.0


@dataclass
class RoundResult:
    signed: int = 0
    cosigned: int = 0
    witnessed: int = 0
    problems: list[str] = field(default_factory=list)


class CheckpointRound:
    def __init__(
        self,
        fed: Federation,
        checkpoints: Checkpoints,
        witnesses: Sequence[WitnessRef],
        http: httpx.Client,
    ) -> None:
        self.fed = fed
        self.checkpoints = checkpoints
        self.witnesses = tuple(witnesses)
        self.http = http
        # (line, chain, to) -> (size, when): what a peer took or refused for good
        self._carried: dict[tuple[str, str, str], tuple[int, float]] = {}
        self._uncarried: set[str] = set()  # peers of a release that takes no carried one

    def once(self, *, force: bool = False) -> RoundResult:
        """One round; what it did. Never raises for a peer's or a witness's trouble: it
        is logged and tried again next round."""
        result = RoundResult(signed=len(self.checkpoints.sign_due(force=force)))
        for checkpoint in self.checkpoints.pending():
            result.cosigned += self._offer(checkpoint, result.problems)
        for checkpoint in self.checkpoints.carried():
            result.cosigned += self._carry(checkpoint, result.problems)
        for checkpoint in self.checkpoints.latest_own():
            witnesses = self._witnesses_of(checkpoint.line, result.problems)
            if witnesses:
                result.witnessed += self._witness(checkpoint, witnesses, result.problems)
        for problem in result.problems:
            log.warning("checkpoints: %s", problem)
        return result

    def _offer(self, checkpoint: StoredCheckpoint, problems: list[str]) -> int:
        """Offer ``checkpoint`` to the peers of its line; how many cosigned it."""
        done = 0
        pinned = {p.party: p for p in self.fed.peers.peers()}
        try:
            line = self.checkpoints.store.line(checkpoint.line).line
        except HotlineError as exc:
            problems.append(f"{checkpoint.line}: {exc}")
            return 0
        for other in line.route(checkpoint.party):  # (mediated: the mediator cosigns)
            if other == checkpoint.party or other not in pinned:
                continue
            try:
                status, data = self._ask(pinned[other], checkpoint)
            except HotlineError as exc:
                problems.append(f"{other} could not be asked to cosign: {exc}")
                continue
            held = data.get("held")
            if isinstance(held, str):
                self._held(other, checkpoint, held, problems)
            if status != 200:
                problems.append(
                    f"{other} did not cosign {checkpoint.line}/{checkpoint.party} at "
                    f"{checkpoint.size}: {data.get('error')}: {data.get('detail')}"
                )
                continue
            try:
                checkpoint = self.checkpoints.cosigned(
                    checkpoint, other, str(data.get("cosignature", ""))
                )
                done += 1
            except RequestRefused as exc:
                problems.append(str(exc))
        return done

    def _carry(self, checkpoint: StoredCheckpoint, problems: list[str]) -> int:
        """Carry another party's ``checkpoint`` of a line this node mediates to the line's
        other parties, each once (and again after :data:`CARRY_AGAIN_S`); how many
        cosigned it (their cosignatures stay with them: the checkpoint is its author's,
        kept here as the author had it cosigned)."""
        done = 0
        pinned = {p.party: p for p in self.fed.peers.peers()}
        try:
            line = self.checkpoints.store.line(checkpoint.line).line
        except HotlineError as exc:
            problems.append(f"{checkpoint.line}: {exc}")
            return 0
        for other in line.parties:
            key = (checkpoint.line, checkpoint.party, other)
            if other in (checkpoint.party, self.fed.party, *self._uncarried) or other not in pinned:
                continue
            size, when = self._carried.get(key, (0, 0.0))
            if size >= checkpoint.size and time.monotonic() - when < CARRY_AGAIN_S:
                continue
            try:
                status, data = self._ask(pinned[other], checkpoint)
            except HotlineError as exc:
                problems.append(
                    f"{other} could not be given {checkpoint.party}'s checkpoint: {exc}"
                )
                continue
            error = data.get("error")
            if status == 200 or (status == 409 and error == "behind"):
                self._carried[key] = (checkpoint.size, time.monotonic())
                done += status == 200
                continue
            if error == "wrong chain":  # a node of an earlier release: carried nothing
                self._uncarried.add(other)
            elif error == "divergence":  # two histories: it is on its record, once
                self._carried[key] = (checkpoint.size, time.monotonic())
            if error != "not yet":  # (it does not hold the events yet: next round)
                problems.append(
                    f"{other} did not cosign {checkpoint.party}'s checkpoint of "
                    f"{checkpoint.line} at {checkpoint.size}: {data.get('error')}: "
                    f"{data.get('detail')}"
                )
        return done

    def _ask(self, peer: Peer, checkpoint: StoredCheckpoint) -> tuple[int, dict[str, Any]]:
        """Ask ``peer`` to cosign ``checkpoint`` (with its author's post-quantum key, when
        it carries that signature): the answer's status and data. Raises HotlineError
        when the peer cannot be reached."""
        body = {"note": checkpoint.note}
        pq = self.checkpoints.pq_public(checkpoint.party)
        if pq is not None and self._has_pq(checkpoint):
            body["pq_key"] = base64.b64encode(pq[0]).decode()
            body["pq_binding"] = base64.b64encode(pq[1]).decode()
        answer = self.fed.client(peer).call("POST", "/checkpoints", body=body)
        return answer.status, answer.data if isinstance(answer.data, dict) else {}

    def _has_pq(self, checkpoint: StoredCheckpoint) -> bool:
        return any(len(s.signature) > 8 + 64 for s in parse_note(checkpoint.note).signatures)

    def _held(self, peer: str, ours: StoredCheckpoint, text: str, problems: list[str]) -> None:
        """The peer cosigned a larger checkpoint of our chain before: if it is ours
        (signed by our node) and larger than our head, we were rolled back."""
        try:
            note = parse_note(text)
            checkpoint = parse_checkpoint(note.text)
            keys = [
                Verifier(key_name(ours.party), SignatureType.ED25519, k)
                for k in self.checkpoints.node_keys(ours.party)
            ]
            verify_note(note, keys)
        except InvalidInput as exc:
            problems.append(f"{peer} named a checkpoint of ours that does not verify: {exc}")
            return
        stored = StoredCheckpoint(
            ours.line, ours.party, checkpoint.size, checkpoint.root, text, ours.made_at, None, 0
        )
        halt = self.checkpoints.rolled_back(peer, stored)
        if halt is not None:
            problems.append(halt.describe())

    def _witnesses_of(self, line: str, problems: list[str]) -> tuple[WitnessRef, ...]:
        """The witnesses a line's checkpoints go to: those its terms name (each must be
        in the node's ``witnesses`` setting), else every one the node names."""
        try:
            proofs = self.checkpoints.store.line(line).line.proofs
        except HotlineError:
            return ()
        if proofs is None or not proofs.witnesses:
            return self.witnesses
        known = {w.name: w for w in self.witnesses}
        for name in proofs.witnesses:
            if name not in known:
                problems.append(
                    f"line {line} names witness {name}, which the setting witnesses does not "
                    "give (NAME=URL=KEY)"
                )
        return tuple(known[n] for n in proofs.witnesses if n in known)

    def _witness(
        self,
        checkpoint: StoredCheckpoint,
        witnesses: Sequence[WitnessRef],
        problems: list[str],
    ) -> int:
        """Submit ``checkpoint`` to each witness that has not cosigned it; how many did."""
        from hotline.witness.client import WitnessConflict, WitnessRefused, submit

        done = 0
        for witness in witnesses:
            verifier = Verifier(witness.name, SignatureType.COSIGNATURE, witness.key)
            note = parse_note(checkpoint.note)
            if any(s.name == witness.name and s.key_id == verifier.key_id for s in note.signatures):
                continue
            old = self._witnessed_size(checkpoint, verifier)
            for _ in range(2):  # again from the size the witness says it holds
                proof = self.checkpoints.consistency(
                    checkpoint.line, checkpoint.party, old, checkpoint.size
                )
                try:
                    lines = submit(self.http, witness.url, old, proof, checkpoint.note)
                except WitnessConflict as exc:
                    if exc.size > checkpoint.size:
                        problems.append(
                            f"witness {witness.name} holds {checkpoint.line}/"
                            f"{checkpoint.party} at {exc.size}, past our {checkpoint.size}"
                        )
                        break
                    old = exc.size
                    continue
                except (WitnessRefused, HotlineError) as exc:
                    problems.append(f"witness {witness.name}: {exc}")
                    break
                try:
                    signed = parse_note(note.text + "\n" + lines)
                    verify_note(signed, [verifier])
                except InvalidInput as exc:
                    problems.append(f"witness {witness.name}'s cosignature: {exc}")
                    break
                checkpoint = self.checkpoints.witnessed(checkpoint, lines, witness)
                done += 1
                break
        return done

    def _witnessed_size(self, checkpoint: StoredCheckpoint, verifier: Verifier) -> int:
        """The size of the largest checkpoint of the chain this witness cosigned (0: none)."""
        for cp in self.checkpoints.trees.newest_first(
            checkpoint.line, checkpoint.party, checkpoint.size
        ):
            if any(
                s.name == verifier.name and s.key_id == verifier.key_id
                for s in parse_note(cp.note).signatures
            ):
                return cp.size
        return 0
