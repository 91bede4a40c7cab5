"""Outages and catch-up: pushing again, pulling what the peer cannot push, re-queueing what
a peer lost, and comparing chains with a peer."""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from hotline.domain.events import Event, EventKind, sign_event
from hotline.domain.message import MessageDraft
from hotline.domain.policy import LineKind, MessageKind
from hotline.domain.precedence import Precedence
from hotline.federation.compare import ChainView
from hotline.services.verification import verify_store
from hotline.storage.schema import events
from tests.federation.conftest import RU_BACKUP, RU_URL, US_BACKUP, US_URL, Pair

LINE = "us-ru-deconfliction"
AUTHOR = {"US": "US/EUCOM-JOC", "RU": "RU/NDMC"}


def send(pair: Pair, party: str, count: int) -> list[Event]:
    node = pair.us if party == "US" else pair.ru
    return [
        node.messages.send(
            LINE,
            AUTHOR[party],
            MessageDraft(MessageKind.NOTIFICATION, Precedence.ROUTINE, f"Item {i}", f"Body {i}."),
        )
        for i in range(count)
    ]


def run_until_settled(pair: Pair, rounds: int = 20) -> None:
    """What the workers do over time: catch up, deliver, and let the clock run."""
    for _ in range(rounds):
        views = pair.us_fed.catch_up_once() + pair.ru_fed.catch_up_once()
        pair.settle()
        in_step = views and all(v.state == "in step" for v in views)
        if in_step and pair.us.store.heads() == pair.ru.store.heads():
            return
        pair.clock.advance(seconds=31)
    raise AssertionError("the two nodes did not settle")


def message_ids(pair: Pair, side: str, party: str) -> list[str]:
    node = pair.us if side == "US" else pair.ru
    return [e.id for e in node.store.chain(LINE, party, 0, 10_000) if e.kind == EventKind.MESSAGE]


def states(views: list[ChainView]) -> dict[tuple[str, str], str]:
    return {(v.line, v.party): v.state for v in views}


def test_after_an_outage_fifty_messages_arrive_in_order_once(pair: Pair) -> None:
    pair.settle()
    pair.net.down |= {RU_URL, RU_BACKUP}
    sent = send(pair, "US", 50)
    pair.settle()
    pair.us_fed.catch_up_once()
    assert not [e for e in sent if e.id in message_ids(pair, "RU", "US")]
    assert pair.us.peers.cursors()[("RU", LINE, "US")].last_error

    pair.net.down.clear()
    run_until_settled(pair)

    assert message_ids(pair, "RU", "US") == [e.id for e in sent]
    inbox = [i.message.id for i in pair.ru.messages.inbox("RU")]
    assert sorted(inbox) == sorted(e.id for e in sent)
    assert Counter(r.id for r in pair.ru.store.rows()).most_common(1)[0][1] == 1
    assert pair.us.store.heads() == pair.ru.store.heads()
    assert (
        pair.us.peers.cursors()[("RU", LINE, "US")].acked_id
        == pair.us.store.heads()[(LINE, "US")].id
    )
    assert verify_store(pair.us.store).ok
    assert verify_store(pair.ru.store).ok


def test_receiver_pulls_what_the_sender_cannot_push(pair: Pair) -> None:
    pair.settle()
    pair.net.down |= {RU_URL, RU_BACKUP}  # US cannot reach RU; RU still reaches US
    sent = send(pair, "US", 7)
    pair.settle()
    assert not [e for e in sent if e.id in message_ids(pair, "RU", "US")]

    views = pair.ru_fed.catch_up_once()
    assert states(views)[(LINE, "US")] == "in step"
    assert message_ids(pair, "RU", "US") == [e.id for e in sent]
    # RU receipted what it pulled, and can tell US so: RU -> US still works
    pair.settle()
    last = pair.us.store.events(LINE, party="RU", kinds=[EventKind.RECEIPT.value])[-1]
    us_head = pair.us.store.heads()[(LINE, "US")]
    assert (last.content["upto_seq"], last.content["upto_id"]) == (us_head.seq, us_head.id)

    # once RU answers again, US's queue drains without storing anything twice
    pair.net.down.clear()
    count = pair.ru.store.count_events()
    pair.clock.advance(seconds=31)
    pair.settle()
    cursor = pair.us.peers.cursors()[("RU", LINE, "US")]
    assert (cursor.acked_seq, cursor.acked_id) == (us_head.seq, us_head.id)
    assert cursor.failures == 0
    assert pair.ru.store.count_events() == count
    assert pair.us.store.heads() == pair.ru.store.heads()


def test_sender_pulls_the_peers_chain_when_the_peer_cannot_push(pair: Pair) -> None:
    pair.settle()
    pair.net.down |= {US_URL, US_BACKUP}  # RU cannot reach US
    sent = send(pair, "RU", 3)
    pair.settle()
    assert pair.us.messages.inbox("US") == []
    pair.us_fed.catch_up_once()
    assert [i.message.id for i in pair.us.messages.inbox("US")] == [e.id for e in sent]


def drop_sqlite_guards(pair: Pair) -> None:
    with pair.ru.store.engine.begin() as c:
        c.execute(sa.text("DROP TRIGGER events_no_update"))
        c.execute(sa.text("DROP TRIGGER events_no_delete"))


@pytest.mark.sqlite
def test_a_peer_that_lost_events_gets_them_again(pair: Pair) -> None:
    sent = send(pair, "US", 5)
    pair.settle()
    lost = sent[2:]
    drop_sqlite_guards(pair)
    with pair.ru.store.engine.begin() as c:
        c.execute(sa.delete(events).where(events.c.id.in_([e.id for e in lost])))
    assert pair.ru.store.heads()[(LINE, "US")].id == sent[1].id
    assert pair.us_fed.deliver_once() == 0  # the cursor still says RU holds them

    views = pair.us_fed.catch_up_once()
    assert states(views)[(LINE, "US")] == "ahead"
    cursor = pair.us.peers.cursors()[("RU", LINE, "US")]
    assert (cursor.acked_seq, cursor.acked_id) == (sent[1].seq, sent[1].id)

    pair.settle()
    assert message_ids(pair, "RU", "US") == [e.id for e in sent]
    assert pair.us.store.heads()[(LINE, "US")] == pair.ru.store.heads()[(LINE, "US")]
    assert states(pair.us_fed.compare_with(pair.us.peers.peer("RU")))[(LINE, "US")] == "in step"


def test_compare_with_reports_in_step_ahead_and_behind(pair: Pair) -> None:
    send(pair, "US", 2)
    send(pair, "RU", 1)
    pair.settle()
    ru_peer, us_peer = pair.us.peers.peer("RU"), pair.ru.peers.peer("US")
    views = pair.us_fed.compare_with(ru_peer)
    assert views
    assert {v.state for v in views} == {"in step"}
    assert {(v.line, v.party) for v in views} == set(pair.us.store.heads())
    assert all(v.peer == "RU" and v.ours == v.theirs for v in views)

    send(pair, "US", 2)  # not delivered yet
    seen_by_us = states(pair.us_fed.compare_with(ru_peer))
    seen_by_ru = states(pair.ru_fed.compare_with(us_peer))
    assert seen_by_us[(LINE, "US")] == "ahead"
    assert seen_by_ru[(LINE, "US")] == "behind"
    assert seen_by_us[(LINE, "RU")] == seen_by_ru[(LINE, "RU")] == "in step"
    # comparing changes nothing
    assert pair.ru.store.heads()[(LINE, "US")] != pair.us.store.heads()[(LINE, "US")]

    pair.settle()
    assert {v.state for v in pair.us_fed.compare_with(ru_peer)} == {"in step"}


def other_event_at(pair: Pair, original: Event) -> Event:
    """A different, validly signed US event at the same place in the chain."""
    return sign_event(
        line=LINE,
        party="US",
        seq=original.seq,
        prev=original.prev,
        kind=EventKind.MESSAGE,
        author="US/EUCOM-JOC",
        key=pair.us.writer.key("US/EUCOM-JOC"),
        ts=pair.us.writer.now() + timedelta(seconds=1),
        content=MessageDraft(
            MessageKind.NOTIFICATION, Precedence.ROUTINE, "Other", "Not what US sent."
        ).content(),
    )


@pytest.mark.sqlite
def test_compare_with_reports_divergence_at_the_same_seq(pair: Pair) -> None:
    sent = send(pair, "US", 3)
    pair.settle()
    head = pair.us.store.heads()[(LINE, "US")]
    target = pair.us.store.chain(LINE, "US", head.seq - 1, 1)[0]
    other = other_event_at(pair, target)
    drop_sqlite_guards(pair)
    with pair.ru.store.engine.begin() as c:
        c.execute(
            sa.update(events)
            .where(events.c.id == target.id)
            .values(id=other.id, raw=other.raw, sig=other.sig, kind=other.kind)
        )
    assert sent  # RU now holds another event where US's head is

    seen_by_us = states(pair.us_fed.compare_with(pair.us.peers.peer("RU")))
    seen_by_ru = states(pair.ru_fed.compare_with(pair.ru.peers.peer("US")))
    assert seen_by_us[(LINE, "US")] == "divergent"
    assert seen_by_ru[(LINE, "US")] == "divergent"
    assert seen_by_us[(LINE, "RU")] == "in step"

    # US one event further: the common seq differs, so it is divergence, not "ahead"
    send(pair, "US", 1)
    assert states(pair.us_fed.compare_with(pair.us.peers.peer("RU")))[(LINE, "US")] == ("divergent")
    # and delivery does not paper over it: RU refuses the fork, US records the divergence
    pair.us_fed.deliver_once()
    assert pair.ru.store.heads()[(LINE, "US")].id == other.id
    assert pair.ru.peers.rejections()[0].reason == "fork"
    cursor = pair.us.peers.cursors()[("RU", LINE, "US")]
    assert cursor.last_error is not None and "divergence" in cursor.last_error


def copy_database(source: str, target: str) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


@pytest.mark.sqlite
def test_a_peer_restored_from_before_a_whole_chain_gets_it_again(
    pair: Pair, tmp_path: Path
) -> None:
    pair.ru.lines.propose(
        line_id="ru-us-extra",
        kind=LineKind.DECONFLICTION,
        title="proposed by RU",
        members=["RU/NDMC", "US/EUCOM-JOC"],
    )
    live = str(tmp_path / "ru" / "hotline.db")
    saved = str(tmp_path / "ru-backup.db")
    copy_database(live, saved)  # RU's backup: it holds none of US's chain on the line
    pair.settle()
    pair.us.lines.accept("ru-us-extra", "US")
    sent = pair.us.messages.send(
        "ru-us-extra",
        "US/EUCOM-JOC",
        MessageDraft(MessageKind.NOTIFICATION, Precedence.ROUTINE, "Flight", "RC-135."),
    )
    run_until_settled(pair)
    assert pair.ru.store.heads()[("ru-us-extra", "US")].id == (
        pair.us.store.heads()[("ru-us-extra", "US")].id
    )

    pair.ru.store.engine.dispose()
    copy_database(saved, live)  # RU is restored from the backup
    assert ("ru-us-extra", "US") not in pair.ru.store.heads()
    view = states(pair.us_fed.compare_with(pair.us.peers.peer("RU")))
    assert view[("ru-us-extra", "US")] == "ahead"

    pair.us_fed.catch_up_once()
    assert pair.us.peers.cursors()[("RU", "ru-us-extra", "US")].acked_seq == 0
    pair.us_fed.deliver_once()
    assert sent.id in [i.message.id for i in pair.ru.messages.inbox("RU")]


def test_catch_up_pulls_a_line_the_peer_proposed_during_an_outage(pair: Pair) -> None:
    pair.net.down |= {RU_URL, RU_BACKUP}  # US cannot push; RU can still pull
    pair.us.lines.propose(
        line_id="us-ru-attache-2",
        kind=LineKind.RELAY,
        title="second attaché line",
        members=["US/DATT-MOSCOW", "RU/MINDEF"],
    )
    pair.settle()
    views = pair.ru_fed.catch_up_once()
    assert ("us-ru-attache-2", "US") in states(views)
    assert pair.ru.store.line("us-ru-attache-2").proposed_by == "US"


def test_a_long_pull_comes_page_by_page_in_order_and_its_receipts_go_back_at_once(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RU pulls what US could not push, a page at a time, the next page fetched and
    checked while the one before is stored. Nothing of a pull went back in an answer to
    US: RU pushes its receipts at once, not after ``receipt_grace``."""
    from hotline.federation import pulls

    monkeypatch.setattr(pulls, "PULL_PAGE", 7)
    pair.settle()
    pair.net.down |= {RU_URL, RU_BACKUP}
    sent = send(pair, "US", 30)
    pair.settle()
    pair.net.down.clear()
    pulls_before = sum(1 for r in pair.net.requests if r.method == "GET")
    pair.ru_fed.catch_up_once()
    assert message_ids(pair, "RU", "US")[-30:] == [e.id for e in sent]
    pulls = [
        r
        for r in pair.net.requests[pulls_before:]
        if r.method == "GET" and "after_seq" in str(r.url)
    ]
    assert len(pulls) >= 30 // 7
    assert verify_store(pair.ru.store).ok
    assert pair.ru_fed.deliver_once() >= 1  # the pulled events' receipts, without waiting
    assert pair.us.store.heads()[(LINE, "RU")] == pair.ru.store.heads()[(LINE, "RU")]
