"""Rotation of a node key between two nodes: the peer follows the signed statement and
pins the new key; both ledgers keep verifying, old events included; a forged or skipped
rotation is refused and recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.domain.canonical import canonical
from hotline.domain.crypto import SigningKey, b64encode
from hotline.domain.errors import InvalidInput, PeerUnavailable, RequestRefused
from hotline.domain.events import EventKind, sign_event
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from hotline.domain.rotation import (
    ROTATION_HEADER,
    ROTATIONS_INFO,
    check_node_rotation,
    follow,
    header_value,
    node_rotate_content,
    open_rotation,
    sign_rotation,
)
from hotline.services.verification import verify_store
from tests.conftest import FakeClock
from tests.federation.conftest import Pair, make_pair

LINE = "us-ru-deconfliction"
DRAFT = MessageDraft(MessageKind.NOTIFICATION, Precedence.ROUTINE, "Patrol", "Routine.")


def _send_us(pair: Pair, subject: str) -> str:
    draft = MessageDraft(MessageKind.NOTIFICATION, Precedence.ROUTINE, subject, "Routine.")
    return pair.us.messages.send(LINE, "US/EUCOM-JOC", draft).id


def _head(pair: Pair, node: str, party: str) -> int:
    store = (pair.us if node == "US" else pair.ru).store
    return store.heads()[(LINE, party)].seq


def test_a_rotated_node_key_is_followed_by_the_peer_and_both_ledgers_verify(pair: Pair) -> None:
    before = _send_us(pair, "before the rotation")
    pair.settle()
    old = pair.us.store.party("US").node_key
    assert old is not None and pair.ru.store.party("US").node_key == old

    new, retired, lines = pair.us.directory.rotate_node_key("US")
    assert retired == old.key_id
    assert set(lines) == {"us-ru-deconfliction", "us-ru-attache", "us-ru-service"}
    assert pair.us.store.party("US").node_key == new
    assert pair.us.writer.key("US").public == new  # the node signs with it from now on

    after = _send_us(pair, "after the rotation")
    pair.settle()

    # RU followed the statement and pinned the new key; the old one is kept, retired
    assert pair.ru.store.party("US").node_key == new
    assert old.key_id in pair.ru.store.key_directory()
    for node in (pair.us, pair.ru):
        assert {node.store.event(before).id, node.store.event(after).id} == {before, after}
        rotations = [
            e for e in node.store.chain(LINE, "US", 0, 1000) if e.kind == EventKind.NODE_ROTATE
        ]
        assert len(rotations) == 1 and rotations[0].key_id == old.key_id
        report = verify_store(node.store)
        assert report.ok, report.problems
    # receipts RU signs after US's rotation still verify on US (RU's key is unchanged)
    assert _head(pair, "US", "US") == _head(pair, "RU", "US")
    assert pair.ru.peers.rejections() == []
    assert pair.us.peers.rejections() == []


def test_the_rotating_side_follows_the_peers_rotation_from_its_answers(pair: Pair) -> None:
    pair.ru.directory.rotate_node_key("RU")
    new = pair.ru.store.party("RU").node_key
    # US learns of it first from an answer: US pushes, RU answers signed by its new key
    _send_us(pair, "to a peer that rotated")
    pair.settle()
    assert pair.us.store.party("RU").node_key == new
    assert verify_store(pair.us.store).ok
    assert verify_store(pair.ru.store).ok


def test_two_rotations_in_a_row_are_followed_from_the_first_key(pair: Pair) -> None:
    pair.us.directory.rotate_node_key("US")
    newest, _, _ = pair.us.directory.rotate_node_key("US")
    statements = pair.us.store.info(ROTATIONS_INFO)
    assert statements is not None and statements.count('"') == 4  # two statements kept
    _send_us(pair, "two keys later")
    pair.settle()
    assert pair.ru.store.party("US").node_key == newest
    assert verify_store(pair.ru.store).ok


def test_events_signed_before_the_rotation_and_delivered_after_are_taken(pair: Pair) -> None:
    pair.net.down.update({"http://ru.test:8100", "http://ru-backup.test:8100"})
    queued = [_send_us(pair, f"queued {n}") for n in range(3)]
    pair.us.directory.rotate_node_key("US")
    late = _send_us(pair, "after the rotation")
    pair.net.down.clear()
    pair.settle()
    for event_id in [*queued, late]:
        assert pair.ru.store.event(event_id).id == event_id
    assert pair.ru.peers.rejections() == []
    assert verify_store(pair.ru.store).ok


def test_the_old_node_key_signs_nothing_after_the_rotation(pair: Pair) -> None:
    old = pair.us.writer.key("US")
    pair.us.directory.rotate_node_key("US")
    pair.settle()
    head = pair.us.store.heads()[(LINE, "US")]
    forged = sign_event(
        line=LINE,
        party="US",
        seq=head.seq + 1,
        prev=head.id,
        kind=EventKind.RECEIPT,
        author="US",
        key=old,
        ts=pair.clock.now(),
        content={"of": "RU", "upto_seq": 1, "upto_id": pair.ru.store.chain(LINE, "RU", 0, 1)[0].id},
    )
    answer = pair.us_fed.client(pair.us.peers.peer("RU")).push(LINE, "US", [forged])
    assert answer.data["error"] == "retired key"
    assert pair.ru.peers.rejections()[-1].reason == "retired key"
    assert verify_store(pair.ru.store).ok


def test_a_request_signed_by_the_old_key_is_refused_once_the_new_one_is_pinned(
    pair: Pair,
) -> None:
    client = pair.us_fed.client(pair.us.peers.peer("RU"))
    pair.us.directory.rotate_node_key("US")
    pair.settle()
    _send_us(pair, "pins the new key")
    pair.settle()
    # a stale client still holding the old key (a stolen key, say) is refused
    client.rotations = None
    with pytest.raises(PeerUnavailable):
        client.heads()
    pair.ru.refusals.flush(force=True)
    assert pair.ru.peers.refusal_counts()[0].reason == "bad signature"


def _forged_statement(thief: SigningKey, replaces: str, ts: str) -> str:
    """A statement claiming to replace ``replaces`` by the thief's key, signed by the
    thief (who does not hold the replaced key)."""
    body = canonical(
        {
            "type": "hotline.node-rotation",
            "v": 1,
            "party": "US",
            "replaces": replaces,
            "public_key": thief.public.text(),
            "ts": ts,
        }
    )
    return f"{b64encode(body)}.{b64encode(thief.sign(body))}"


class _Fixed:
    """Rotations that send a given header and follow nothing (a forger's client)."""

    def __init__(self, header: str) -> None:
        self.value = header

    def header(self) -> str:
        return self.value

    def follow(self, party: str, pinned: object, text: object) -> list[object]:
        return []


def test_a_rotation_statement_not_signed_by_the_pinned_key_is_refused_and_recorded(
    pair: Pair,
) -> None:
    thief = SigningKey(b"\x07" * 32)
    pinned = pair.ru.store.party("US").node_key
    assert pinned is not None
    text = _forged_statement(thief, pinned.key_id, "2026-03-01T12:00:00.000Z")
    with pytest.raises(RequestRefused) as refused:
        follow(pinned, "US", text)
    assert refused.value.reason == "bad rotation"

    client = pair.us_fed.client(pair.us.peers.peer("RU"))
    client.key = thief
    client.rotations = _Fixed(text)  # type: ignore[assignment]
    with pytest.raises(PeerUnavailable):  # RU's answer: 401 bad rotation
        client.heads()
    pair.ru.refusals.flush(force=True)
    assert pair.ru.peers.refusal_counts()[0].reason == "bad rotation"
    assert pair.ru.store.party("US").node_key == pinned


def test_a_node_rotate_event_must_be_signed_by_the_key_it_replaces(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    pair = make_pair(tmp_path, clock, service_line=False)
    try:
        key = pair.us.writer.key("US")
        other = SigningKey(b"\x09" * 32)
        event = sign_event(
            line=LINE,
            party="US",
            seq=9,
            prev="0" * 64,
            kind=EventKind.NODE_ROTATE,
            author="US",
            key=key,
            ts=clock.now(),
            content=node_rotate_content("US", other.public.text(), other.public.key_id),
        )
        with pytest.raises(RequestRefused) as refused:
            check_node_rotation(event)
        assert refused.value.reason == "bad rotation"
    finally:
        pair.us.close()
        pair.ru.close()


def test_statements_round_trip_and_bad_ones_are_refused(clock: FakeClock) -> None:
    first = SigningKey(b"\x01" * 32)
    second = SigningKey(b"\x02" * 32)
    third = SigningKey(b"\x03" * 32)
    one = sign_rotation(first, "US", second.public, clock.now())
    two = sign_rotation(second, "US", third.public, clock.now() + timedelta(minutes=1))
    assert open_rotation(one.text()) == one
    header = header_value([one.text(), two.text()])
    assert [r.new_key for r in follow(first.public, "US", header)] == [
        second.public,
        third.public,
    ]
    assert [r.new_key for r in follow(second.public, "US", header)] == [third.public]
    assert follow(third.public, "US", header) == []
    with pytest.raises(RequestRefused):
        follow(first.public, "RU", header)  # statements of another party
    with pytest.raises(RequestRefused):
        follow(first.public, "US", header_value([one.text(), "e30.AAAA"]))
    with pytest.raises(InvalidInput):
        open_rotation("not a statement")


def test_a_failed_rotation_leaves_the_old_key_in_force(pair: Pair, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    old = pair.us.writer.key("US").public

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(type(pair.us.store), "write", broken)
    with pytest.raises(RuntimeError):
        pair.us.directory.rotate_node_key("US")
    monkeypatch.undo()
    assert pair.us.writer.key("US").public == old
    assert pair.us.store.party("US").node_key == old
    assert not list(pair.us.settings.keys_dir.glob("US.key.new"))
    _send_us(pair, "still on the old key")
    pair.settle()
    assert verify_store(pair.ru.store).ok


def test_a_party_not_hosted_here_cannot_be_rotated(pair: Pair) -> None:
    with pytest.raises(InvalidInput):
        pair.us.directory.rotate_node_key("RU")


def test_the_header_is_sent_only_after_a_rotation(pair: Pair) -> None:
    _send_us(pair, "plain")
    pair.settle()
    assert not any(ROTATION_HEADER in r.headers for r in pair.net.requests)
    pair.us.directory.rotate_node_key("US")
    pair.settle()
    assert any(ROTATION_HEADER in r.headers for r in pair.net.requests)
