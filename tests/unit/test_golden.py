"""Golden vectors: fixed keys and the exact bytes of four signed events.

tests/vectors/golden.json holds two Ed25519 seeds (SHA-256 of "golden-us" and
"golden-ru"), their public keys, and a line.propose, line.accept, message and ack with
their canonical bodies, ids and signatures. Each event is rebuilt here with sign_event
and must match the file byte for byte, so any change to canonical form, hashing, time
format or signing fails this test. The file was generated once; never regenerate it to
make this test pass: a mismatch means stored ledgers would no longer verify.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hotline.domain.canonical import canonical, content_id, digest
from hotline.domain.clock import parse_time
from hotline.domain.crypto import PublicKey, SigningKey, b64decode, b64encode
from hotline.domain.events import Event, EventKind, sign_event
from hotline.domain.ledger import accept_content, ack_content, propose_content
from hotline.domain.message import MessageDraft
from hotline.domain.policy import LineKind, MessageKind, make_line
from hotline.domain.precedence import Precedence
from hotline.domain.verify import RefTarget, StoredEvent, Verifier, expected_ref

GOLDEN = json.loads(
    (Path(__file__).parent.parent / "vectors" / "golden.json").read_text(encoding="utf-8")
)
EVENTS: list[dict[str, Any]] = GOLDEN["events"]


def signing_key(owner: str) -> SigningKey:
    return SigningKey(bytes.fromhex(GOLDEN["keys"][owner]["seed"]))


def rebuild(entry: dict[str, Any]) -> Event:
    return sign_event(
        line=entry["line"],
        party=entry["party"],
        seq=entry["seq"],
        prev=entry["prev"],
        kind=EventKind(entry["kind"]),
        author=entry["author"],
        key=signing_key(entry["author"]),
        ts=parse_time(entry["ts"]),
        content=entry["content"],
    )


@pytest.fixture(params=EVENTS, ids=[e["name"] for e in EVENTS])
def entry(request: pytest.FixtureRequest) -> dict[str, Any]:
    value: dict[str, Any] = request.param
    return value


def test_the_file_holds_the_four_events() -> None:
    assert [e["name"] for e in EVENTS] == ["propose", "accept", "message", "ack"]
    assert [e["kind"] for e in EVENTS] == ["line.propose", "line.accept", "message", "ack"]


@pytest.mark.parametrize(("owner", "source"), [("US", b"golden-us"), ("RU", b"golden-ru")])
def test_seeds_give_the_golden_public_keys(owner: str, source: bytes) -> None:
    golden = GOLDEN["keys"][owner]
    assert bytes.fromhex(golden["seed"]) == hashlib.sha256(source).digest()
    key = signing_key(owner)
    assert key.public.text() == golden["public"]
    assert key.public.key_id == golden["key_id"]
    assert PublicKey.from_text(golden["public"]) == key.public


def test_rebuilt_event_is_byte_identical(entry: dict[str, Any]) -> None:
    event = rebuild(entry)
    assert event.raw == entry["canonical"].encode("utf-8")
    assert event.id == entry["id"]
    assert b64encode(event.sig) == entry["sig"]


def test_canonical_body_and_id(entry: dict[str, Any]) -> None:
    raw = entry["canonical"].encode("utf-8")
    assert canonical(json.loads(raw)) == raw
    assert digest(raw) == hashlib.sha256(raw).hexdigest() == entry["id"]
    body = json.loads(raw)
    assert body["key"] == GOLDEN["keys"][entry["author"]]["key_id"]
    assert body["content"] == entry["content"]
    assert (body["line"], body["party"], body["seq"], body["prev"], body["ts"]) == (
        entry["line"],
        entry["party"],
        entry["seq"],
        entry["prev"],
        entry["ts"],
    )


def test_stored_signature_verifies(entry: dict[str, Any]) -> None:
    public = PublicKey.from_text(GOLDEN["keys"][entry["author"]]["public"])
    raw = entry["canonical"].encode("utf-8")
    sig = b64decode(entry["sig"])
    assert public.verify(raw, sig)
    assert not public.verify(raw + b" ", sig)
    other = "RU" if entry["author"] == "US" else "US"
    assert not PublicKey.from_text(GOLDEN["keys"][other]["public"]).verify(raw, sig)


def test_event_from_raw_gives_the_same_event(entry: dict[str, Any]) -> None:
    raw = entry["canonical"].encode("utf-8")
    event = Event.from_raw(raw, b64decode(entry["sig"]))
    assert event.id == entry["id"]
    assert event.body == json.loads(raw)
    assert event.ts == parse_time(entry["ts"])


def test_the_events_link_into_chains() -> None:
    by_name = {e["name"]: e for e in EVENTS}
    assert by_name["message"]["prev"] == by_name["propose"]["id"]
    assert by_name["ack"]["prev"] == by_name["accept"]["id"]
    assert by_name["ack"]["content"]["ref"] == by_name["message"]["id"]
    terms_id = content_id(by_name["propose"]["content"]["terms"])
    assert by_name["accept"]["content"]["terms_id"] == terms_id


def test_the_golden_ledger_verifies() -> None:
    keys = {
        golden["key_id"]: (owner, PublicKey.from_text(golden["public"]))
        for owner, golden in GOLDEN["keys"].items()
    }
    rows = sorted(
        (
            StoredEvent(
                id=e["id"],
                line=e["line"],
                party=e["party"],
                seq=e["seq"],
                prev=e["prev"],
                kind=e["kind"],
                author=e["author"],
                ts=e["ts"],
                ref=expected_ref(e["kind"], e["content"]),
                raw=e["canonical"].encode("utf-8"),
                sig=b64decode(e["sig"]),
            )
            for e in EVENTS
        ),
        key=lambda r: (r.line, r.party, r.seq),
    )
    targets = {r.id: RefTarget(r.line, r.party, r.seq, r.kind) for r in rows}
    terms = EVENTS[0]["content"]["terms"]
    verifier = Verifier(keys, {terms["id"]: content_id(terms)})
    verifier.feed_all(rows)
    report = verifier.finish(lambda ids: {i: targets[i] for i in ids if i in targets})
    assert report.ok, [p.describe() for p in report.problems]
    assert report.events == 4


def test_the_golden_contents_are_what_the_domain_builds() -> None:
    """Pins the JSON form of line terms, message content and acks, which are signed."""
    line = make_line(
        line_id="us-ru-deconfliction",
        kind=LineKind.DECONFLICTION,
        title="US–RU deconfliction",
        principals=["US/EUCOM-JOC", "RU/NDMC"],
        deadlines={Precedence.ROUTINE: timedelta(hours=12)},
    )
    draft = MessageDraft(
        kind=MessageKind.NOTIFICATION,
        precedence=Precedence.IMMEDIATE,
        subject="Air activity near the coast",
        body="Two aircraft will transit the area.\nAltitude 9 000 m.",
        lang="en",
        to=("RU/NDMC",),
        area={"center": [30.5, 45.25], "radius": 25, "unit": "NM"},
        window={"start": "2026-03-01T14:00:00Z", "end": "2026-03-01T16:30:00Z"},
    )
    propose, accept, sent, ack = EVENTS
    assert propose["content"] == propose_content(line.terms())
    assert accept["content"] == accept_content(line.terms_id())
    assert sent["content"] == draft.content()
    assert ack["content"] == ack_content(sent["id"], "Принято. Received.", "ru")
