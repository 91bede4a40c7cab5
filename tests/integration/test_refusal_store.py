"""The refusal log and the peer clocks on SQLite and PostgreSQL: counts from several
processes add up, retention drops only what is old, a peer event's time of receipt is
kept beside it."""

from __future__ import annotations

from datetime import timedelta

from hotline.app import Node
from hotline.domain.errors import RequestRefused
from hotline.domain.events import EventKind, sign_event
from hotline.services.refusals import Refusals
from tests.conftest import FakeClock

BAD = RequestRefused("bad signature", "not signed by RU's node key")


def test_counts_from_several_processes_add_up(lab_node: Node, clock: FakeClock) -> None:
    first = Refusals(lab_node.peers, clock, limit=1000)
    second = Refusals(lab_node.peers, clock, limit=1000)  # another worker process
    for _ in range(7):
        first.unproven("198.51.100.1", "RU", BAD)
    for _ in range(5):
        second.unproven("198.51.100.1", "RU", BAD)
    second.unproven("198.51.100.2", "", RequestRefused("unsigned", "missing headers"))
    first.flush(force=True)
    second.flush(force=True)
    counted = {(c.client, c.claimed, c.reason): c.count for c in lab_node.peers.refusal_counts()}
    assert counted == {
        ("198.51.100.1", "RU", "bad signature"): 12,
        ("198.51.100.2", "", "unsigned"): 1,
    }
    assert lab_node.peers.rejections() == []
    assert lab_node.peers.count_rejections() == 13


def test_retention_drops_only_old_refusals(lab_node: Node, clock: FakeClock) -> None:
    refusals = Refusals(lab_node.peers, clock, retention=timedelta(days=30))
    refusals.proven(peer="RU", client="192.0.2.1", kind="request", refused=BAD)
    refusals.unproven("198.51.100.1", "RU", BAD)
    refusals.flush(force=True)
    clock.advance(days=20)
    refusals.proven(peer="RU", client="192.0.2.1", kind="request", refused=BAD)
    clock.advance(days=15)
    assert lab_node.peers.prune_refusals("2026-03-05T00:00:00.000Z") == 2
    assert [r.at for r in lab_node.peers.rejections()] == ["2026-03-21T12:00:00.000Z"]
    assert lab_node.peers.refusal_counts() == []


def test_peer_clocks_are_kept_and_replaced(lab_node: Node) -> None:
    lab_node.peers.set_clock("RU", 1_800_000, 12, "2026-03-01T12:00:00.000Z")
    lab_node.peers.set_clock("RU", -250, 9, "2026-03-01T12:05:00.000Z")
    [(peer, clock)] = lab_node.peers.clocks().items()
    assert (peer, clock.offset_ms, clock.rtt_ms) == ("RU", -250, 9)


def test_a_peer_events_time_of_receipt_is_kept_beside_it(lab_node: Node, clock: FakeClock) -> None:
    line = "us-ru-deconfliction"
    head = lab_node.store.heads()[(line, "RU")]
    event = sign_event(
        line=line,
        party="RU",
        seq=head.seq + 1,
        prev=head.id,
        kind=EventKind.LINKTEST,
        author="RU",
        key=lab_node.writer.key("RU"),
        ts=clock.now() + timedelta(minutes=30),
        content={"peer": "US", "round": 1, "state": "up", "paths": []},
    )
    with lab_node.store.write() as tx:
        tx.append_many([event], received_at="2026-03-01T12:00:00.000Z")
    [stored] = lab_node.store.chain(line, "RU", head.seq, 1)
    assert stored.received == clock.now()
    assert stored.ts == clock.now() + timedelta(minutes=30)
    assert stored.counted_from == clock.now()
