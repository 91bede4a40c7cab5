"""Delivery between two nodes: chain order, exactly once, receipts, gaps, batches, failover
and backoff."""

from __future__ import annotations

import base64
import itertools
import json
import threading
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest

from hotline.domain.clock import parse_time
from hotline.domain.events import Event, EventKind
from hotline.domain.merkle import root_of
from hotline.domain.message import MessageDraft
from hotline.domain.policy import LineKind, LineStatus, MessageKind
from hotline.domain.precedence import Precedence
from hotline.federation.workers import Federation, Timing
from hotline.services.verification import verify_store
from hotline.storage.peers import Cursor
from tests.federation.conftest import RU_BACKUP, RU_URL, US_URL, Pair

LINE = "us-ru-deconfliction"
AUTHOR = {"US": "US/EUCOM-JOC", "RU": "RU/NDMC"}


def send(pair: Pair, party: str, count: int, line: str = LINE) -> list[Event]:
    node = pair.us if party == "US" else pair.ru
    return [
        node.messages.send(
            line,
            AUTHOR[party],
            MessageDraft(
                MessageKind.NOTIFICATION, Precedence.ROUTINE, f"{party} item {i}", f"Body {i}."
            ),
        )
        for i in range(count)
    ]


def cursor(pair: Pair, line: str = LINE) -> Cursor:
    """US's delivery cursor of its own chain on ``line`` towards RU."""
    return pair.us.peers.cursors()[("RU", line, "US")]


def ids(events: list[Event]) -> list[str]:
    return [e.id for e in events]


def stored_ids(pair: Pair, side: str) -> list[str]:
    node = pair.us if side == "US" else pair.ru
    return [row.id for row in node.store.rows()]


def fresh_federation(pair: Pair, side: str) -> Federation:
    """A delivery worker with no memory of earlier rounds: it must go by the cursors."""
    node = pair.us if side == "US" else pair.ru
    return Federation(
        party=node.party,
        writer=node.writer,
        peers=node.peers,
        receiver=node.receiver,
        http=pair.net.client(),
        timing=Timing(),
    )


def pushes(pair: Pair) -> list[tuple[str, dict[str, Any]]]:
    """(host, body) of every push request the network saw."""
    return [
        (r.url.host, json.loads(r.content))
        for r in pair.net.requests
        if r.method == "POST" and r.url.path.endswith("/events")
    ]


def test_many_messages_both_ways_arrive_in_order_exactly_once(pair: Pair) -> None:
    from_us = send(pair, "US", 12)
    from_ru = send(pair, "RU", 9)
    pair.settle()

    assert sorted(i.message.id for i in pair.ru.messages.inbox("RU")) == sorted(ids(from_us))
    assert sorted(i.message.id for i in pair.us.messages.inbox("US")) == sorted(ids(from_ru))
    for node in (pair.us, pair.ru):
        us_chain = node.store.chain(LINE, "US", 0, 1000)
        ru_chain = node.store.chain(LINE, "RU", 0, 1000)
        assert [e.seq for e in us_chain] == list(range(1, len(us_chain) + 1))
        assert [e.seq for e in ru_chain] == list(range(1, len(ru_chain) + 1))
        messages = [e.id for e in us_chain if e.kind == EventKind.MESSAGE]
        assert messages == ids(from_us)
        assert [e.id for e in ru_chain if e.kind == EventKind.MESSAGE] == ids(from_ru)
    for side in ("US", "RU"):
        counted = Counter(stored_ids(pair, side))
        assert all(n == 1 for n in counted.values())
    assert sorted(stored_ids(pair, "US")) == sorted(stored_ids(pair, "RU"))
    assert pair.us.store.heads() == pair.ru.store.heads()
    assert verify_store(pair.us.store).ok
    assert verify_store(pair.ru.store).ok


def test_cursor_reaches_the_head_of_every_shared_chain(pair: Pair) -> None:
    send(pair, "US", 3)
    send(pair, "RU", 2)
    pair.settle()
    for node, peer in ((pair.us, "RU"), (pair.ru, "US")):
        cursors = node.peers.cursors()
        for (line, party), head in node.store.heads(parties=[node.party]).items():
            moved = cursors[(peer, line, party)]
            assert (moved.acked_seq, moved.acked_id) == (head.seq, head.id)
            assert moved.failures == 0
            assert moved.next_attempt_at is None
            assert moved.last_success_at is not None


def test_receiver_receipts_what_it_stored_and_the_sender_holds_the_receipt(pair: Pair) -> None:
    sent = send(pair, "US", 4)
    pair.settle()
    head = pair.us.store.heads()[(LINE, "US")]
    assert head.id == sent[-1].id

    receipts = pair.ru.store.events(LINE, party="RU", kinds=[EventKind.RECEIPT.value])
    assert receipts
    for receipt in receipts:
        assert receipt.author == "RU"
        assert set(receipt.content) == {"of", "upto_seq", "upto_id", "root"}
        assert receipt.content["of"] == "US"
        held = pair.us.store.chain(LINE, "US", receipt.content["upto_seq"] - 1, 1)
        assert held[0].id == receipt.content["upto_id"]
    last = receipts[-1].content
    assert (last["upto_seq"], last["upto_id"]) == (head.seq, head.id)

    held_by_us = pair.us.store.events(LINE, party="RU", kinds=[EventKind.RECEIPT.value])
    assert ids(held_by_us) == ids(receipts)


def test_receipts_are_not_receipted_and_nothing_moves_after_settling(pair: Pair) -> None:
    send(pair, "US", 2)
    send(pair, "RU", 2)
    pair.settle()
    before = (pair.us.store.count_events(), pair.ru.store.count_events())

    assert pair.us_fed.deliver_once() == 0
    assert pair.ru_fed.deliver_once() == 0
    # workers that remember nothing go by the cursors alone: still nothing to send
    assert fresh_federation(pair, "US").deliver_once() == 0
    assert fresh_federation(pair, "RU").deliver_once() == 0
    pair.settle()
    assert (pair.us.store.count_events(), pair.ru.store.count_events()) == before


def test_a_receipt_is_not_answered_by_a_receipt(pair: Pair) -> None:
    pair.settle()
    before = pair.us.store.heads()
    sent = send(pair, "RU", 1)
    pair.settle()
    after = pair.us.store.heads()
    assert after == pair.ru.store.heads()
    # RU's chain grew by its message only; US's by one receipt of it, never receipted back
    assert after[(LINE, "RU")].seq == before[(LINE, "RU")].seq + 1
    assert after[(LINE, "RU")].id == sent[0].id
    assert after[(LINE, "US")].seq == before[(LINE, "US")].seq + 1
    receipt = pair.us.store.chain(LINE, "US", before[(LINE, "US")].seq, 1)[0]
    assert receipt.kind == EventKind.RECEIPT
    assert receipt.content == {
        "of": "RU",
        "upto_seq": sent[0].seq,
        "upto_id": sent[0].id,
        "root": base64.b64encode(
            root_of([e.raw for e in pair.ru.store.chain(LINE, "RU", 0, sent[0].seq)])
        ).decode(),
    }
    assert pair.us_fed.deliver_once() == 0
    assert pair.ru_fed.deliver_once() == 0


def test_duplicate_push_is_idempotent(pair: Pair) -> None:
    held = pair.ru.store.heads()[(LINE, "US")]
    sent = send(pair, "US", 3)
    client = pair.us_fed.client(pair.us.peers.peer("RU"))
    batch = pair.us.store.chain(LINE, "US", held.seq, 100)
    assert ids(batch) == ids(sent)

    first = client.push(LINE, "US", batch)
    assert first.status == 200
    assert (first.data["stored"], first.data["duplicates"]) == (3, 0)
    assert first.data["receipt"] is not None
    count = pair.ru.store.count_events()

    second = client.push(LINE, "US", batch)
    assert second.status == 200
    assert (second.data["stored"], second.data["duplicates"]) == (0, 3)
    assert second.data["receipt"] is None
    assert second.data["head"] == {"seq": sent[-1].seq, "id": sent[-1].id}
    assert pair.ru.store.count_events() == count

    pair.settle()
    assert Counter(stored_ids(pair, "RU")).most_common(1)[0][1] == 1
    assert sorted(stored_ids(pair, "US")) == sorted(stored_ids(pair, "RU"))
    assert verify_store(pair.ru.store).ok


def test_an_event_held_byte_for_byte_is_not_checked_again(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """During a catch-up the pulls and the pushes carry the same events: what is held
    already, with the same signature, is not verified a second time. A copy whose
    signature differs is checked, and refused."""
    from hotline.services import pushed

    held = pair.ru.store.heads()[(LINE, "US")]
    send(pair, "US", 3)
    client = pair.us_fed.client(pair.us.peers.peer("RU"))
    batch = pair.us.store.chain(LINE, "US", held.seq, 100)
    assert client.push(LINE, "US", batch).data["stored"] == 3

    checked = pushed.check_authentic
    calls: list[str] = []

    def counted(event: Event, *args: Any, **kwargs: Any) -> Any:
        calls.append(event.id)
        return checked(event, *args, **kwargs)

    monkeypatch.setattr(pushed, "check_authentic", counted)
    again = client.push(LINE, "US", batch)
    assert (again.data["stored"], again.data["duplicates"]) == (0, 3)
    assert calls == []

    forged = replace(batch[1], sig=bytes(64))
    answer = client.push(LINE, "US", [batch[0], forged, batch[2]])
    assert calls == [forged.id]
    assert (answer.status, answer.data["error"], answer.data["duplicates"]) == (
        422,
        "bad signature",
        1,
    )
    assert pair.ru.peers.rejections()[0].reason == "bad signature"
    assert ids(pair.ru.store.chain(LINE, "US", held.seq, 100)) == ids(batch)


def test_a_batch_past_the_head_as_last_stored_is_not_looked_up(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Looking up what is held is a query: a push that begins past the head the last
    batch left holds nothing stored already, and is not looked up. One that begins
    before it is, and what it repeats is not checked again."""
    held = pair.ru.store.heads()[(LINE, "US")]
    send(pair, "US", 4)
    client = pair.us_fed.client(pair.us.peers.peer("RU"))
    batch = pair.us.store.chain(LINE, "US", held.seq, 100)
    assert client.push(LINE, "US", batch[:2]).data["stored"] == 2

    store = pair.ru.receiver.store
    looked: list[int] = []
    chain_bytes = store.chain_bytes

    def counted(line: str, party: str, after_seq: int, limit: int) -> Any:
        looked.append(after_seq)
        return chain_bytes(line, party, after_seq, limit)

    monkeypatch.setattr(store, "chain_bytes", counted)
    assert client.push(LINE, "US", batch[2:3]).data["stored"] == 1
    assert looked == []
    answer = client.push(LINE, "US", batch[2:])
    assert (answer.data["stored"], answer.data["duplicates"]) == (1, 1)
    assert looked == [batch[2].seq - 1]
    assert ids(pair.ru.store.chain(LINE, "US", held.seq, 100)) == ids(batch)


@pytest.mark.parametrize("seq", [[1], {"n": 1}, "1", 1.5, None, -1])
def test_a_pushed_event_whose_seq_is_no_number_is_refused_as_malformed(
    pair: Pair, seq: object
) -> None:
    """What a peer claims is read before it is checked: a seq of any JSON type gets a
    refusal, never an error of the node."""
    held = pair.ru.store.heads()[(LINE, "US")]
    send(pair, "US", 1)
    event = pair.us.store.chain(LINE, "US", held.seq, 1)[0]
    body = {**event.body, "seq": seq}
    raw = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    bad = Event.from_raw(raw, pair.us.writer.key("US/EUCOM-JOC").sign(raw))
    answer = pair.us_fed.client(pair.us.peers.peer("RU")).push(LINE, "US", [bad])
    assert answer.status == 422
    assert answer.data["stored"] == 0


def test_a_long_batch_is_checked_on_every_core_and_stored_in_order(pair: Pair) -> None:
    """Past PARALLEL_FROM events the signatures are checked in parts side by side; what
    is stored, and where a bad signature stops the batch, are as in one pass."""
    from hotline.services.pushed import PARALLEL_FROM

    held = pair.ru.store.heads()[(LINE, "US")]
    count = PARALLEL_FROM + 8
    send(pair, "US", count)
    client = pair.us_fed.client(pair.us.peers.peer("RU"))
    batch = pair.us.store.chain(LINE, "US", held.seq, 100)
    bad = count - 5
    forged = [*batch[:bad], replace(batch[bad], sig=bytes(64)), *batch[bad + 1 :]]
    answer = client.push(LINE, "US", forged)
    assert (answer.status, answer.data["error"], answer.data["stored"]) == (
        422,
        "bad signature",
        bad,
    )
    assert ids(pair.ru.store.chain(LINE, "US", held.seq, 100)) == ids(batch[:bad])
    rest = client.push(LINE, "US", batch)
    assert (rest.data["stored"], rest.data["duplicates"]) == (count - bad, bad)
    assert ids(pair.ru.store.chain(LINE, "US", held.seq, 100)) == ids(batch)


def test_a_gap_is_answered_409_and_the_cursor_rewinds_to_fill_it(pair: Pair) -> None:
    pair.settle()
    held = pair.ru.store.heads()[(LINE, "US")]
    sent = send(pair, "US", 4)
    client = pair.us_fed.client(pair.us.peers.peer("RU"))

    answer = client.push(LINE, "US", pair.us.store.chain(LINE, "US", held.seq + 1, 100))
    assert answer.status == 409
    assert answer.data["error"] == "gap"
    assert answer.data["stored"] == 0
    assert answer.data["head"] == {"seq": held.seq, "id": held.id}
    assert pair.ru.store.heads()[(LINE, "US")] == held

    # US believes RU holds two more than it does (as after RU lost them)
    pair.us.peers.delivered(("RU", LINE, "US"), sent[1].seq, sent[1].id, "2026-03-01T12:00:00Z")
    assert pair.us_fed.deliver_once() == 0
    assert (cursor(pair).acked_seq, cursor(pair).acked_id) == (held.seq, held.id)

    pair.us_fed.deliver_once()
    pair.settle()
    assert ids(pair.ru.store.chain(LINE, "US", held.seq, 100)) == ids(sent)
    assert cursor(pair).acked_id == sent[-1].id
    assert verify_store(pair.ru.store).ok


def test_batches_larger_than_the_batch_size_are_split(pair: Pair) -> None:
    pair.us_fed.timing = Timing(batch=5)
    held = pair.ru.store.heads()[(LINE, "US")]
    sent = send(pair, "US", 12)
    pair.net.requests.clear()
    while pair.us_fed.deliver_once():  # US alone: an answer to RU's push may carry ours
        pass

    ours = [body for _, body in pushes(pair) if body["line"] == LINE and body["party"] == "US"]
    sizes = [len(body["events"]) for body in ours]
    assert sizes == [5, 5, 2]
    assert ids(pair.ru.store.chain(LINE, "US", held.seq, 100)) == ids(sent)
    assert cursor(pair).acked_id == sent[-1].id


def test_delivery_fails_over_to_the_backup_url(pair: Pair) -> None:
    pair.net.down.add(RU_URL)
    pair.net.requests.clear()
    sent = send(pair, "US", 2)
    pair.settle()

    hosts = [host for host, body in pushes(pair) if body["party"] == "US"]
    assert hosts[:2] == ["ru.test", "ru-backup.test"]
    assert "ru-backup.test" in hosts
    assert [i.message.id for i in pair.ru.messages.inbox("RU")] == ids(sent)
    assert cursor(pair).acked_id == sent[-1].id
    assert cursor(pair).last_error is None


def test_unreachable_peer_backs_off_exponentially_and_loses_nothing(pair: Pair) -> None:
    pair.settle()
    pair.net.down |= {RU_URL, RU_BACKUP}
    sent = send(pair, "US", 3)
    retry_max = pair.us_fed.timing.retry_max

    assert pair.us_fed.deliver_once() == 0
    first = cursor(pair)
    assert first.failures == 1
    assert first.last_error is not None and "unreachable" in first.last_error
    assert first.next_attempt_at is not None and first.last_error_at is not None

    # before the retry time nothing is tried
    tried = len(pair.net.requests)
    assert pair.us_fed.deliver_once() == 0
    assert len(pair.net.requests) == tried
    assert cursor(pair).failures == 1

    waits = []
    for expected in range(1, 11):
        state = cursor(pair)
        assert state.failures == expected
        assert state.next_attempt_at is not None and state.last_error_at is not None
        wait = parse_time(state.next_attempt_at) - parse_time(state.last_error_at)
        waits.append(wait)
        pair.clock.moment = parse_time(state.next_attempt_at) + timedelta(milliseconds=1)
        assert pair.us_fed.deliver_once() == 0
    assert waits[0] == pair.us_fed.timing.retry_first
    for earlier, later in itertools.pairwise(waits):
        assert later == min(earlier * 2, retry_max)
    assert waits[-1] == retry_max
    assert not [e for e in sent if e.id in set(stored_ids(pair, "RU"))]

    pair.net.down.clear()
    state = cursor(pair)
    assert state.next_attempt_at is not None
    pair.clock.moment = parse_time(state.next_attempt_at) + timedelta(milliseconds=1)
    pair.settle()
    assert [i.message.id for i in pair.ru.messages.inbox("RU")] == ids(sent)
    done = cursor(pair)
    assert done.acked_id == sent[-1].id
    assert done.failures == 0 and done.next_attempt_at is None
    assert pair.us.store.heads() == pair.ru.store.heads()
    assert verify_store(pair.ru.store).ok


def test_a_line_accepted_and_used_in_one_batch_is_stored_at_once(pair: Pair) -> None:
    pair.ru.lines.propose(
        line_id="ru-us-extra",
        kind=LineKind.DECONFLICTION,
        title="proposed by RU",
        members=["RU/NDMC", "US/EUCOM-JOC"],
    )
    pair.settle()
    pair.us.lines.accept("ru-us-extra", "US")
    sent = send(pair, "US", 1, line="ru-us-extra")
    pair.settle()  # one push carries the acceptance and the message
    assert pair.ru.store.line("ru-us-extra").status is LineStatus.ACTIVE
    assert pair.ru.peers.rejections() == []
    assert [i.message.id for i in pair.ru.messages.inbox("RU")] == ids(sent)


def test_a_line_accepted_and_used_is_delivered_in_the_end(pair: Pair) -> None:
    pair.ru.lines.propose(
        line_id="ru-us-extra",
        kind=LineKind.DECONFLICTION,
        title="proposed by RU",
        members=["RU/NDMC", "US/EUCOM-JOC"],
    )
    pair.settle()
    pair.us.lines.accept("ru-us-extra", "US")
    sent = send(pair, "US", 1, line="ru-us-extra")
    for _ in range(5):
        pair.settle()
        pair.clock.advance(seconds=31)
    assert pair.ru.store.line("ru-us-extra").status is LineStatus.ACTIVE
    assert [i.message.id for i in pair.ru.messages.inbox("RU")] == ids(sent)
    assert pair.us.store.heads() == pair.ru.store.heads()


def test_receipts_wait_for_the_peer_to_say_it_holds_them(pair: Pair) -> None:
    """RU's receipts reach US in the answers to US's pushes; US's next push says how far
    it holds RU's chain, so RU does not push them again. Receipts alone, with nobody to
    say so, are pushed once ``receipt_grace`` has passed."""
    pair.settle()
    grace = timedelta(seconds=1)
    pair.ru_fed.timing = replace(pair.ru_fed.timing, receipt_grace=grace)
    pair.net.requests.clear()
    send(pair, "US", 1)
    assert pair.us_fed.deliver_once() == 1  # RU's receipt comes back in the answer
    assert pair.ru_fed.deliver_once() == 0  # only a receipt to push: it waits
    send(pair, "US", 1)
    assert pair.us_fed.deliver_once() == 1  # says "I hold RU's chain up to its receipt"
    held = pair.us.store.heads()[(LINE, "RU")]
    body = pushes(pair)[-1][1]
    assert body["held"]["seq"] < held.seq  # the second receipt is made by this very push
    ru_cursor = pair.ru.peers.cursors()[("US", LINE, "RU")]
    assert ru_cursor.acked_seq == body["held"]["seq"]
    pair.clock.advance(seconds=2)
    assert pair.ru_fed.deliver_once() == 1  # the last receipt, after the grace
    to_us = [body for host, body in pushes(pair) if host == httpx.URL(US_URL).host]
    assert len(to_us) == 1 and to_us[0]["party"] == "RU"  # the one after the grace
    assert pair.us.store.heads() == pair.ru.store.heads()
    assert pair.ru.peers.cursors()[("US", LINE, "RU")].acked_seq == held.seq


def test_the_answer_to_a_push_carries_the_receipts_the_pusher_lacks(pair: Pair) -> None:
    """RU pulled US's latest messages before US pushed them: its receipt of them went back
    in no answer. US's next push says how far it holds RU's chain, and the answer carries
    RU's chain from there, that receipt included, so US holds it without a gap at once
    (the answer's receipt alone would not follow on from what US holds, and would be
    dropped until RU pushed its chain a second later)."""
    pair.settle()
    send(pair, "US", 2)
    pair.ru_fed.catch_up_once()  # RU pulls them, and receipts them on its chain
    ru_head = pair.ru.store.heads()[(LINE, "RU")]
    assert pair.us.store.heads()[(LINE, "RU")].seq < ru_head.seq
    send(pair, "US", 1)
    assert pair.us_fed.deliver_once() == 3  # two RU held already, one new
    answered = pair.us.store.heads()[(LINE, "RU")]
    assert answered == pair.ru.store.heads()[(LINE, "RU")]
    assert answered.seq == ru_head.seq + 1  # the pulled batch's receipt, then this one's
    assert verify_store(pair.us.store).ok


def test_a_held_claim_that_is_not_our_event_moves_nothing(pair: Pair) -> None:
    pair.settle()
    head = pair.ru.store.heads()[(LINE, "RU")]
    before = pair.ru.peers.cursors()[("US", LINE, "RU")]
    assert not pair.ru.receiver.note_held("US", LINE, head.seq, "0" * 64)
    assert not pair.ru.receiver.note_held("US", LINE, head.seq + 5, head.id or "")
    assert pair.ru.peers.cursors()[("US", LINE, "RU")] == before


def test_signatures_are_checked_before_the_write_lock_is_taken(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checking a pushed batch's signatures takes most of its time: the node's other
    writers do not wait for it."""
    from hotline.services import pushed

    checked = pushed.check_authentic
    others: list[bool] = []

    def check_while_another_writes(*args: Any, **kwargs: Any) -> Any:
        if not others:

            def write() -> None:
                with pair.ru.store.write() as tx:
                    tx.set_info("test:other-writer", "wrote")

            other = threading.Thread(target=write)
            other.start()
            other.join(timeout=5)
            others.append(not other.is_alive())
        return checked(*args, **kwargs)

    monkeypatch.setattr(pushed, "check_authentic", check_while_another_writes)
    sent = pair.us.messages.send(
        LINE,
        "US/EUCOM-JOC",
        MessageDraft(MessageKind.NOTIFICATION, Precedence.ROUTINE, "Patrol", "Routine."),
    )
    pair.settle()
    assert others == [True]  # the other writer was not kept waiting
    assert [i.message.id for i in pair.ru.messages.inbox("RU")] == [sent.id]
