"""Sealed content: opened by each reader's node key, by nobody else, to one text only."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hotline.domain.crypto import SigningKey, b64decode, b64encode
from hotline.domain.errors import InvalidInput
from hotline.domain.events import EventKind, sign_event
from hotline.domain.sealing import (
    RANDOM_BYTES,
    check_sealing,
    is_sealed,
    open_content,
    readers_of,
    seal,
    unwrap,
)
from tests.conftest import FakeClock


def key(name: str) -> SigningKey:
    return SigningKey(hashlib.sha256(name.encode()).digest())


RU, UA, OSCE, UN = key("RU"), key("UA"), key("OSCE"), key("UN")
READERS = {"RU": RU.public, "UA": UA.public, "OSCE": OSCE.public}
RANDOM = bytes(range(RANDOM_BYTES))
MESSAGE = {
    "kind": "warning",
    "precedence": "FLASH",
    "subject": "Impact near the border",
    "body": "Missile impact near the border: not directed at you.",
    "lang": "ru",
    "refs": [],
    "to": [],
    "number": 3,
}


def test_every_reader_opens_what_was_sealed_and_the_clear_fields_stay_clear() -> None:
    sealed, content_key = seal("message", MESSAGE, READERS, RANDOM)
    assert content_key is not None and is_sealed(sealed)
    assert {k for k in sealed if k != "sealed"} == {"kind", "precedence", "refs", "to", "number"}
    text = repr(sealed)
    assert "Impact" not in text and "directed" not in text and "ru" not in sealed
    assert readers_of(sealed) == {p: k.key_id for p, k in READERS.items()}
    for party, secret in (("RU", RU), ("UA", UA), ("OSCE", OSCE)):
        assert unwrap(sealed, party, secret) == content_key
        assert open_content("message", sealed, unwrap(sealed, party, secret)) == MESSAGE


def test_the_mediator_and_a_wrong_key_open_nothing() -> None:
    sealed, _ = seal("message", MESSAGE, READERS, RANDOM)
    with pytest.raises(InvalidInput, match="not sealed for UN"):
        unwrap(sealed, "UN", UN)
    with pytest.raises(InvalidInput, match="node key"):
        unwrap(sealed, "RU", UA)  # another key than the one it was sealed to
    with pytest.raises(InvalidInput, match="commits to"):
        open_content("message", sealed, bytes(32))


def test_a_key_wrapped_for_a_reader_that_is_not_the_committed_key_does_not_open() -> None:
    sealed, _ = seal("message", MESSAGE, READERS, RANDOM)
    other, _ = seal("message", MESSAGE, READERS, bytes(reversed(RANDOM)))
    sealed["sealed"]["to"]["UA"] = other["sealed"]["to"]["UA"]  # the wrap of another seal
    with pytest.raises(InvalidInput, match="does not open"):
        unwrap(sealed, "UA", UA)


def test_an_altered_box_does_not_open() -> None:
    sealed, content_key = seal("message", MESSAGE, READERS, RANDOM)
    assert content_key is not None
    box = bytearray(b64decode(sealed["sealed"]["box"]))
    box[5] ^= 1
    sealed["sealed"]["box"] = b64encode(bytes(box))
    with pytest.raises(InvalidInput, match="does not open"):
        open_content("message", sealed, content_key)


def test_kinds_and_contents_with_nothing_to_hide_are_left_as_they_are() -> None:
    receipt = {"of": "RU", "upto_seq": 3, "upto_id": "a" * 64}
    assert seal("receipt", receipt, READERS, RANDOM) == (receipt, None)
    bare_ack = {"ref": "b" * 64, "officer": "Lt Petrenko"}
    assert seal("ack", bare_ack, READERS, RANDOM) == (bare_ack, None)
    with_reply = {**bare_ack, "reply": {"body": "Understood.", "lang": "uk"}}
    sealed, content_key = seal("ack", with_reply, READERS, RANDOM)
    assert content_key is not None and "reply" not in sealed and sealed["ref"] == "b" * 64


def test_a_line_that_seals_takes_only_what_is_sealed_for_all_its_readers() -> None:
    sealed, _ = seal("message", MESSAGE, READERS, RANDOM)
    check_sealing("message", sealed, READERS)
    with pytest.raises(InvalidInput, match="in the clear"):
        check_sealing("message", MESSAGE, READERS)
    with pytest.raises(InvalidInput, match="sealed for RU, UA"):
        check_sealing(
            "message",
            seal("message", MESSAGE, {"RU": RU.public, "UA": UA.public}, RANDOM)[0],
            READERS,
        )
    with pytest.raises(InvalidInput, match="subject"):
        check_sealing("message", {**sealed, "subject": "shown"}, READERS)
    with pytest.raises(InvalidInput, match="not sealed"):
        check_sealing("message", sealed, None)  # a line whose mediator reads, or none
    with pytest.raises(InvalidInput, match="not sealed"):
        check_sealing("receipt", {"of": "RU", "sealed": sealed["sealed"]}, READERS)
    check_sealing("receipt", {"of": "RU", "upto_seq": 1}, READERS)
    check_sealing("message", MESSAGE, None)


@pytest.mark.parametrize(
    "damage",
    [
        lambda s: s.pop("commit"),
        lambda s: s.update(v=2),
        lambda s: s.update(nonce="AAAA"),
        lambda s: s.update(to={}),
        lambda s: s["to"].update(UA={"node": "x", "key": "AAAA"}),
        lambda s: s.update(box=""),
    ],
)
def test_a_malformed_seal_is_refused_with_what_is_wrong(damage: object) -> None:
    sealed, _ = seal("message", MESSAGE, READERS, RANDOM)
    damage(sealed["sealed"])  # type: ignore[operator]
    with pytest.raises(InvalidInput, match="sealed"):
        readers_of(sealed)


def test_an_event_carries_the_sealed_form_signed_and_opens_with_its_key(clock: FakeClock) -> None:
    sealed, content_key = seal("message", MESSAGE, READERS, RANDOM)
    assert content_key is not None
    event = sign_event(
        line="ru-ua",
        party="RU",
        seq=1,
        prev=None,
        kind=EventKind.MESSAGE,
        author="RU/NRRC",
        key=RU,
        ts=clock.now(),
        content=sealed,
    )
    assert event.content == sealed and b"Impact" not in event.raw
    opened = event.with_key(content_key)
    assert opened.content == MESSAGE and opened.raw == event.raw and opened == event
    assert RU.public.verify(opened.raw, opened.sig)


def _reboxed(plain: bytes) -> tuple[dict[str, Any], bytes]:
    """A sealed message whose box holds ``plain``, as a dishonest sender could make it."""
    sealed, content_key = seal("message", MESSAGE, READERS, RANDOM)
    assert content_key is not None
    part = sealed["sealed"]
    part["box"] = b64encode(AESGCM(content_key).encrypt(b64decode(part["nonce"]), plain, None))
    return sealed, content_key


@pytest.mark.parametrize(
    ("plain", "why"),
    [
        # a clear field in the box: the mediator and the readers would see different ones
        (b'{"body":"b","info":["UA/GS"],"lang":"ru","subject":"s"}', "other than its sealed"),
        (b'{"body":"b","lang":"ru","number":9,"subject":"s"}', "other than its sealed"),
        (b"{}", "other than its sealed"),
        (b'["subject"]', "other than its sealed"),
        # not the one canonical form: a duplicate key, a lone surrogate, spaces
        (b'{"body":"b","lang":"ru","subject":"s","subject":"t"}', "canonical"),
        (b'{"body":"b","lang":"ru","subject":"\\ud800"}', "canonical"),
        (b'{"body": "b","lang":"ru","subject":"s"}', "canonical"),
    ],
)
def test_a_box_that_would_show_readers_other_fields_or_bytes_is_refused(
    plain: bytes, why: str
) -> None:
    sealed, content_key = _reboxed(plain)
    with pytest.raises(InvalidInput, match=why):
        open_content("message", sealed, content_key)


def test_an_ephemeral_key_that_agrees_no_key_is_refused_not_a_crash() -> None:
    sealed, _ = seal("message", MESSAGE, READERS, RANDOM)
    sealed["sealed"]["eph"] = b64encode(bytes(32))  # a low-order point
    with pytest.raises(InvalidInput, match="low-order"):
        unwrap(sealed, "UA", UA)


def test_a_kind_that_is_never_sealed_does_not_open() -> None:
    sealed, content_key = seal("message", MESSAGE, READERS, RANDOM)
    assert content_key is not None
    with pytest.raises(InvalidInput, match="never sealed"):
        open_content("line.propose", sealed, content_key)


def test_the_standalone_verifiers_hold_the_same_clear_fields() -> None:
    """verify_proof.py and verify-proof.html run without hotline: each keeps its own copy
    of the fields a sealed box may not hold, which must be this one."""
    import json
    import re
    from pathlib import Path

    from hotline.data import verify_proof
    from hotline.domain.sealing import CLEAR

    assert {k: set(v) for k, v in verify_proof.CLEAR.items()} == {
        k: set(v) for k, v in CLEAR.items()
    }
    page = (Path(verify_proof.__file__).parent / "verify-proof.html").read_text("utf-8")
    found = re.search(r"const CLEAR = (\{.*?\});", page, re.S)
    assert found is not None
    table = re.sub(r"(\w+|\"[\w.]+\"):", lambda m: f'"{m.group(1).strip(chr(34))}":', found[1])
    table = re.sub(r",\s*}", "}", table)
    assert {k: set(v) for k, v in json.loads(table).items()} == {
        k: set(v) for k, v in CLEAR.items()
    }
