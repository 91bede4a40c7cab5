"""What a witness decides about a checkpoint a log submits (C2SP tlog-witness).

The witness holds, per log, the latest checkpoint it cosigned. A submission names the
size it believes the witness holds (``old``), a consistency proof from there, and the
new checkpoint. The witness cosigns (tlog-cosignature v1) only a checkpoint that is
signed by a key it trusts for that log's party and consistent with what it holds; a
checkpoint of the size it holds with another root, or one the proof does not tie to
it, is a *split view*: both signed checkpoints are kept as evidence and the submission
is refused. Logs are hotline chains, ``hotline/<line>/<party>``; the witness trusts
parties (their node keys), not single logs.
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from hotline.domain.clock import format_time
from hotline.domain.crypto import PublicKey, SigningKey
from hotline.domain.errors import InvalidInput
from hotline.domain.merkle import verify_consistency
from hotline.domain.notes import (
    Note,
    PqPublicKey,
    SignatureType,
    Verifier,
    cosign,
    parse_checkpoint,
    parse_note,
    verify_note,
)
from hotline.domain.proofs import key_name, parse_origin
from hotline.witness.store import WitnessStore

log = logging.getLogger(__name__)

MAX_BODY = 128 * 1024
MAX_PROOF = 64  # hashes: a consistency proof of a tree of 2**63 leaves is shorter


def system_now() -> datetime:
    """The machine's clock: a witness keeps its own time, on no party's clock."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Answer:
    """The witness's answer: HTTP status, content type and body."""

    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


def _refuse(status: int, why: str) -> Answer:
    return Answer(status, why.rstrip("\n") + "\n")


def parse_request(body: bytes) -> tuple[int, list[bytes], str]:
    """``old <size>``, the proof (one base64 hash a line), a blank line, the note.
    Raises InvalidInput saying what is wrong."""
    if len(body) > MAX_BODY:
        raise InvalidInput("body", f"longer than {MAX_BODY} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("body", "not UTF-8") from exc
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise InvalidInput("body", "no blank line between the proof and the checkpoint")
    lines = head.split("\n")
    first = lines[0]
    if not first.startswith("old ") or not first[4:].isdigit():
        raise InvalidInput("body", "the first line is not 'old <size>'")
    if first[4:] != "0" and first[4:].startswith("0"):
        raise InvalidInput("body", "the old size has leading zeroes")
    if len(lines) - 1 > MAX_PROOF:
        raise InvalidInput("body", f"a proof of more than {MAX_PROOF} hashes")
    proof = []
    for line in lines[1:]:
        try:
            digest = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInput("body", "a proof line is not base64") from exc
        if len(digest) != 32:
            raise InvalidInput("body", "a proof hash is not 32 bytes")
        proof.append(digest)
    return int(first[4:]), proof, note


class Witness:
    def __init__(
        self, store: WitnessStore, name: str, key: SigningKey, now: Callable[[], datetime]
    ) -> None:
        self.store = store
        self.name = name
        self.key = key
        self.now = now
        self._lock = threading.Lock()  # one submission at a time in this process

    def _verifiers(self, party: str) -> tuple[list[Verifier], Verifier | None, bool]:
        """The Ed25519 note verifiers trusted for ``party``, its post-quantum one and
        whether that one is required."""
        name = key_name(party)
        keys = [PublicKey.from_text(k) for k in self.store.keys().get(party, [])]
        ed = [Verifier(name, SignatureType.ED25519, k) for k in keys]
        pq = self.store.pq_keys().get(party)
        if pq is None:
            return ed, None, False
        verifier = Verifier(name, SignatureType.OTHER, PqPublicKey(base64.b64decode(pq[0])))
        return ed, verifier, pq[1]

    def add_checkpoint(self, body: bytes) -> Answer:
        """One ``POST /add-checkpoint``."""
        try:
            old, proof, text = parse_request(body)
            note = parse_note(text)
            checkpoint = parse_checkpoint(note.text)
            _, party = parse_origin(checkpoint.origin)
        except InvalidInput as exc:
            return _refuse(400, exc.message)
        if old > checkpoint.size:
            return _refuse(400, f"old size {old} is past the checkpoint's {checkpoint.size}")
        ed, pq, pq_required = self._verifiers(party)
        if not ed:
            return _refuse(404, f"unknown log {checkpoint.origin}: {party} is not trusted here")
        try:
            verify_note(Note(note.text, note.signatures), ed)
        except InvalidInput as exc:
            return _refuse(403, f"not signed by a key trusted for {party}: {exc.message}")
        if pq is not None:
            mine = tuple(s for s in note.signatures if s.key_id == pq.key_id)
            if mine:
                try:
                    verify_note(Note(note.text, mine), [pq])
                except InvalidInput:
                    return _refuse(403, f"{party}'s post-quantum signature does not verify")
            elif pq_required:
                return _refuse(403, f"{party}'s checkpoints need a post-quantum signature here")
        with self._lock, self.store.log(checkpoint.origin) as (held, writer):
            at = format_time(self.now())
            size = held.size if held is not None else 0
            # the same size with another root, both signed by the party: a split view
            # whatever `old` says, and proof of it on its own
            if held is not None and checkpoint.size == held.size and checkpoint.root != held.root:
                writer.keep_evidence("same size, another root", held.note, text, at)
                log.error("split view of %s at size %s", checkpoint.origin, held.size)
                return Answer(409, f"{size}\n", "text/x.tlog.size")
            if old != size:
                return Answer(409, f"{size}\n", "text/x.tlog.size")
            # (an empty tree is a prefix of every tree: nothing to prove from size 0). A
            # proof that fails proves nothing against the party (anyone can send a bad
            # one): refused, not kept as evidence
            if (
                held is not None
                and 0 < held.size < checkpoint.size
                and not verify_consistency(
                    held.size, checkpoint.size, held.root, checkpoint.root, proof
                )
            ):
                log.warning(
                    "%s: no consistency proof from %s to %s",
                    checkpoint.origin,
                    held.size,
                    checkpoint.size,
                )
                return _refuse(
                    422, f"the checkpoint is not consistent with the one of size {held.size}"
                )
            timestamp = int(self.now().timestamp())
            signature = cosign(note, self.name, self.key, timestamp)
            writer.hold(
                checkpoint.size, checkpoint.root, note.with_signature(signature).render(), at
            )
        return Answer(200, signature.line())
