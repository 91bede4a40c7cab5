"""Signed notes, checkpoints and cosignatures (hotline.domain.notes) in the C2SP forms:
the Go reference implementation's published notes verify, our golden note is checked
against the spec's formulas written out here independently, and bad notes are refused."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from pathlib import Path

import nacl.signing
import pytest

from hotline.domain.crypto import PublicKey, SigningKey
from hotline.domain.errors import InvalidInput
from hotline.domain.notes import (
    Checkpoint,
    Note,
    PqSigningKey,
    SignatureType,
    Verifier,
    cosign,
    parse_checkpoint,
    parse_note,
    sign_ed25519,
    sign_pq,
    verify_note,
)

VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "signed_notes.json").read_text("utf-8")
)


def go_key(text: str) -> tuple[str, bytes, bytes]:
    """A Go note verifier key ``name+hash+base64(0x01 || key)``: name, key id, key."""
    name, key_hash, blob = text.split("+")
    raw = base64.b64decode(blob)
    assert raw[0] == 0x01  # Ed25519
    return name, bytes.fromhex(key_hash), raw[1:]


def test_the_go_reference_notes_verify() -> None:
    go = VECTORS["go"]
    note = parse_note(go["text"] + "\n" + "\n".join(go["signatures"]) + "\n")
    assert note.text == go["text"]
    verifiers = []
    for text in go["keys"]:
        name, key_hash, raw = go_key(text)
        verifier = Verifier(name, SignatureType.ED25519, PublicKey(raw))
        assert verifier.key_id == key_hash  # the spec's key id, as Go computes it
        verifiers.append(verifier)
    assert [v.name for v in verify_note(note, verifiers)] == ["PeterNeumann", "EnochRoot"]
    # a known name and key id whose signature fails refuses the whole note
    flipped = go["signatures"][0][:-6] + "AAAAA="
    with pytest.raises(InvalidInput, match="does not verify"):
        verify_note(parse_note(go["text"] + "\n" + flipped + "\n"), verifiers)
    # a signature of an unknown key is ignored; none known refuses the note
    assert verify_note(note, verifiers[:1])[0].name == "PeterNeumann"
    with pytest.raises(InvalidInput, match="no signature by a known key"):
        verify_note(note, [])


def test_our_golden_note_follows_the_c2sp_formulas() -> None:
    golden = VECTORS["hotline"]
    seeds = {k: bytes.fromhex(v) for k, v in golden["seeds"].items()}
    note = parse_note(golden["note"])
    checkpoint = parse_checkpoint(note.text)
    assert (checkpoint.origin, checkpoint.size) == ("hotline/us-ru-deconfliction/US", 42)
    log, peer, witness = note.signatures
    public = {
        k: bytes(nacl.signing.SigningKey(seeds[k]).verify_key) for k in ("US", "RU", "witness")
    }

    def key_id(name: str, kind: int, key: bytes) -> bytes:
        return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + key).digest()[:4]

    # signed-note: Ed25519 over the text, key id with type 0x01
    assert log.key_id == key_id("hotline/US", 0x01, public["US"])
    nacl.signing.VerifyKey(public["US"]).verify(note.text.encode(), log.signature)
    # tlog-cosignature v1: type 0x04, 8-byte big-endian time, then Ed25519 over
    # "cosignature/v1\ntime <t>\n" and the note text
    for line, name, who in (
        (peer, "hotline/RU", "RU"),
        (witness, "witness.osce.example", "witness"),
    ):
        assert line.name == name and line.key_id == key_id(name, 0x04, public[who])
        (t,) = struct.unpack(">Q", line.signature[:8])
        message = f"cosignature/v1\ntime {t}\n".encode() + note.text.encode()
        nacl.signing.VerifyKey(public[who]).verify(message, line.signature[8:])
    # and the same bytes are made again from the seeds
    again = Note(note.text)
    again = again.with_signature(sign_ed25519(again, "hotline/US", SigningKey(seeds["US"])))
    again = again.with_signature(cosign(again, "hotline/RU", SigningKey(seeds["RU"]), 1796472000))
    again = again.with_signature(
        cosign(again, "witness.osce.example", SigningKey(seeds["witness"]), 1796472005)
    )
    assert again.render() == golden["note"]
    pq = sign_pq(note, "hotline/US", PqSigningKey(seeds["pq"]))
    assert pq.key_id.hex() == golden["pq_key_id"]


def test_ml_dsa_65_signatures_round_trip_and_a_tampered_one_fails() -> None:
    key = PqSigningKey(bytes(range(32)))
    note = Note(Checkpoint("hotline/l/US", 3, b"\x05" * 32).text())
    signed = note.with_signature(sign_pq(note, "hotline/US", key))
    verifier = Verifier("hotline/US", SignatureType.OTHER, key.public)
    assert verify_note(parse_note(signed.render()), [verifier])[0].kind is SignatureType.OTHER
    other = Note(Checkpoint("hotline/l/US", 4, b"\x05" * 32).text(), signed.signatures)
    with pytest.raises(InvalidInput):
        verify_note(other, [verifier])


def test_a_cosignature_time_cannot_be_changed() -> None:
    key = SigningKey(bytes(range(32)))
    note = Note(Checkpoint("hotline/l/US", 3, b"\x05" * 32).text())
    line = cosign(note, "w", key, 1000)
    moved = type(line)(line.name, line.key_id, struct.pack(">Q", 1001) + line.signature[8:])
    verifier = Verifier("w", SignatureType.COSIGNATURE, key.public)
    assert verify_note(Note(note.text, (line,)), [verifier])[0].time == 1000
    with pytest.raises(InvalidInput):
        verify_note(Note(note.text, (moved,)), [verifier])


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("a\x01b\n\n\u2014 n AAAAAAA=\n", "control character"),
        ("text\n\u2014 n AAAAAAA=\n", "no blank line"),
        ("text\n\n\u2014 n not*base64\n", "not base64"),
        ("text\n\n\u2014 n AAA=\n", "too short"),
        ("text\n\n- n AAAAAAA=\n", "malformed signature line"),
        ("text\n\n\u2014 a+b AAAAAAA=\n", "malformed signature line"),
        ("text\n\n" + "\u2014 n AAAAAAA=\n" * 33, "more than 32"),
        ("text\n\n\u2014 n AAAAAAA=", "newline"),
    ],
)
def test_malformed_notes_are_refused(text: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        parse_note(text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("origin\n007\n" + base64.b64encode(b"\x00" * 32).decode() + "\n", "decimal"),
        ("origin\n7\n" + base64.b64encode(b"\x00" * 31).decode() + "\n", "32 bytes"),
        ("origin\n7\n", "one a line"),
        ("\n7\n" + base64.b64encode(b"\x00" * 32).decode() + "\n", "origin"),
        ("o\n7\n" + base64.b64encode(b"\x00" * 32).decode() + "\n\n", "extension"),
    ],
)
def test_malformed_checkpoints_are_refused(text: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        parse_checkpoint(text)


def test_a_checkpoint_with_extension_lines_round_trips() -> None:
    checkpoint = Checkpoint("hotline/l/US", 12, b"\x09" * 32, ("ext one",))
    assert parse_checkpoint(checkpoint.text()) == checkpoint
