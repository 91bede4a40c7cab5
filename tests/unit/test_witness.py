"""A witness (hotline.witness): it cosigns a log's checkpoints that are consistent with
what it saw, and keeps a split view, both signed checkpoints, as evidence."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from hotline.domain.crypto import SigningKey
from hotline.domain.merkle import Subtree, consistency_proof, extend, leaf_hash, tree_root
from hotline.domain.notes import (
    Checkpoint,
    Note,
    PqSigningKey,
    SignatureType,
    Verifier,
    parse_note,
    sign_ed25519,
    sign_pq,
    verify_note,
)
from hotline.domain.proofs import key_name, origin
from hotline.witness.client import WitnessConflict, WitnessRefused, submit
from hotline.witness.core import Witness, parse_request
from hotline.witness.server import create_app
from hotline.witness.store import WitnessStore

NAME = "witness.osce.example"
ORIGIN = origin("us-ru-deconfliction", "US")
US = SigningKey(bytes(range(32)))
WITNESS = SigningKey(bytes(range(1, 33)))
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


class Log:
    """A log of ``n`` leaves whose checkpoints US signs."""

    def __init__(self, prefix: bytes = b"event") -> None:
        self.hashes: dict[Subtree, bytes] = {}
        self.size = 0
        self.prefix = prefix

    def read(self, wanted: list[Subtree]) -> list[bytes]:
        return [self.hashes[s] for s in wanted]

    def grow(self, n: int) -> None:
        leaves = [leaf_hash(self.prefix + str(i).encode()) for i in range(self.size, self.size + n)]
        self.hashes.update(extend(self.size, leaves, self.read))
        self.size += n

    def note(self, key: SigningKey = US, size: int | None = None) -> Note:
        size = self.size if size is None else size
        note = Note(Checkpoint(ORIGIN, size, tree_root(size, self.read)).text())
        return note.with_signature(sign_ed25519(note, key_name("US"), key))

    def body(self, old: int, note: Note | None = None) -> bytes:
        proof = consistency_proof(old, self.size, self.read) if old else []
        lines = f"old {old}\n" + "".join(base64.b64encode(h).decode() + "\n" for h in proof)
        return (lines + "\n" + (note or self.note()).render()).encode()


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    store = WitnessStore(tmp_path / "witness.db")
    store.create(NAME, "2026-12-05T12:00:00.000Z")
    store.trust("US", US.public.text(), "2026-12-05T12:00:00.000Z")
    return Witness(store, NAME, WITNESS, lambda: NOW)


def cosigns(witness: Witness, note: Note, line: str) -> int:
    signed = parse_note(note.render() + line)
    good = verify_note(signed, [Verifier(NAME, SignatureType.COSIGNATURE, WITNESS.public)])
    return good[0].time


def test_a_first_checkpoint_and_each_consistent_growth_are_cosigned(witness: Witness) -> None:
    log = Log()
    log.grow(5)
    first = witness.add_checkpoint(log.body(0))
    assert first.status == 200, first.body
    assert cosigns(witness, log.note(), first.body) == int(NOW.timestamp())
    log.grow(8)
    second = witness.add_checkpoint(log.body(5))
    assert second.status == 200, second.body
    assert [(h.origin, h.size) for h in witness.store.held()] == [(ORIGIN, 13)]
    assert witness.store.evidence() == []


def test_a_submission_from_another_size_than_held_is_told_the_size(witness: Witness) -> None:
    log = Log()
    log.grow(5)
    witness.add_checkpoint(log.body(0))
    log.grow(2)
    stale = witness.add_checkpoint(log.body(3))
    assert (stale.status, stale.body, stale.content_type) == (409, "5\n", "text/x.tlog.size")


def test_the_same_size_with_another_root_is_a_split_view_kept_as_evidence(
    witness: Witness,
) -> None:
    shown, other = Log(b"event"), Log(b"forged")
    shown.grow(6)
    other.grow(6)
    assert witness.add_checkpoint(shown.body(0)).status == 200
    refused = witness.add_checkpoint(other.body(6, other.note()))
    assert refused.status == 409
    (evidence,) = witness.store.evidence()
    assert evidence.origin == ORIGIN and evidence.reason == "same size, another root"
    assert parse_note(evidence.held).text == shown.note().text
    assert parse_note(evidence.offered).text == other.note().text
    # both are signed by US: the evidence proves US showed two histories
    us = [Verifier(key_name("US"), SignatureType.ED25519, US.public)]
    verify_note(parse_note(evidence.held), us)
    verify_note(parse_note(evidence.offered), us)


def test_a_larger_checkpoint_without_a_consistency_proof_is_refused(witness: Witness) -> None:
    shown, other = Log(b"event"), Log(b"forged")
    shown.grow(4)
    other.grow(9)
    witness.add_checkpoint(shown.body(0))
    forged_proof = other.body(4)  # a proof of `other`, which does not start with `shown`
    refused = witness.add_checkpoint(forged_proof)
    assert refused.status == 422
    assert witness.store.held()[0].size == 4
    # a failed proof proves nothing against the party (anyone can send a bad one): no
    # evidence; the same honest checkpoint with a junk proof is refused, then taken
    assert witness.store.evidence() == []
    shown.grow(3)
    junk = shown.body(4).replace(b"old 4\n", b"old 4\n" + base64.b64encode(b"j" * 32) + b"\n", 1)
    assert witness.add_checkpoint(junk).status == 422
    assert witness.store.evidence() == []
    assert witness.add_checkpoint(shown.body(4)).status == 200


def test_the_same_size_with_another_root_is_kept_whatever_old_says(witness: Witness) -> None:
    shown, other = Log(b"event"), Log(b"forged")
    shown.grow(6)
    other.grow(6)
    witness.add_checkpoint(shown.body(0))
    assert witness.add_checkpoint(other.body(0, other.note())).status == 409
    assert [e.reason for e in witness.store.evidence()] == ["same size, another root"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"old x\n\nnote\n", 400),
        (b"no blank line", 400),
        (b"old 01\n\n" + b"x", 400),
        (b"old 0\nnot-base64!\n\nx", 400),
        (b"\xff\xfe", 400),
    ],
)
def test_malformed_submissions_are_refused_with_400(
    witness: Witness, body: bytes, status: int
) -> None:
    assert witness.add_checkpoint(body).status == status


def test_an_unknown_party_is_404_and_an_untrusted_key_403(witness: Witness) -> None:
    log = Log()
    log.grow(3)
    stranger = SigningKey(bytes(32))
    assert witness.add_checkpoint(log.body(0, log.note(stranger))).status == 403
    ru = Note(Checkpoint(origin("us-ru-deconfliction", "RU"), 1, b"\x00" * 32).text())
    ru = ru.with_signature(sign_ed25519(ru, key_name("RU"), stranger))
    assert witness.add_checkpoint(b"old 0\n\n" + ru.render().encode()).status == 404


def test_a_party_that_must_sign_post_quantum_is_refused_without_it(witness: Witness) -> None:
    pq = PqSigningKey(bytes(range(32)))
    witness.store.set_pq("US", base64.b64encode(pq.public.raw).decode(), True)
    log = Log()
    log.grow(3)
    assert witness.add_checkpoint(log.body(0)).status == 403
    note = log.note()
    note = note.with_signature(sign_pq(note, key_name("US"), pq))
    assert witness.add_checkpoint(log.body(0, note)).status == 200


def test_the_request_format_is_c2sp_tlog_witness() -> None:
    old, proof, note = parse_request(b"old 3\n" + base64.b64encode(b"h" * 32) + b"\n\nbody\n")
    assert (old, proof, note) == (3, [b"h" * 32], "body\n")


@pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")
def test_the_http_api_and_the_client(witness: Witness) -> None:
    http = TestClient(create_app(witness), base_url="http://witness.test")
    log = Log()
    log.grow(4)
    line = submit(http, "http://witness.test", 0, [], log.note().render())
    assert cosigns(witness, log.note(), line)
    log.grow(3)
    with pytest.raises(WitnessConflict) as conflict:
        submit(http, "http://witness.test", 2, [], log.note().render())
    assert conflict.value.size == 4
    proof = consistency_proof(4, 7, log.read)
    assert submit(http, "http://witness.test", 4, proof, log.note().render())
    with pytest.raises(WitnessRefused) as refused:
        submit(http, "http://witness.test", 0, [], "not a note")
    assert refused.value.status == 400
    held = http.get("/checkpoints").json()
    assert [(h["origin"], h["size"]) for h in held] == [(ORIGIN, 7)]
    assert http.get("/evidence").json() == []
    assert http.get("/health").json()["public_key"] == WITNESS.public.text()


def test_a_log_witnessed_empty_grows_without_a_proof(witness: Witness) -> None:
    log = Log()
    assert witness.add_checkpoint(log.body(0)).status == 200  # size 0
    log.grow(3)
    assert witness.add_checkpoint(log.body(0)).status == 200
    assert witness.store.evidence() == []
