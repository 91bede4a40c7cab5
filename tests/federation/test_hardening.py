"""What a peer cannot do: sign with a key its node retired, send node events of the wrong
form, date events ahead of our clock; and a rotation that fails changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hotline.domain.canonical import canonical
from hotline.domain.errors import KeyUnavailable
from hotline.domain.events import Event, EventKind, sign_event
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from hotline.services.verification import verify_store
from tests.federation.conftest import Pair

LINE = "us-ru-deconfliction"
DRAFT = MessageDraft(MessageKind.NOTIFICATION, Precedence.ROUTINE, "Patrol", "Routine.")


def push_us_event(
    pair: Pair,
    kind: EventKind,
    author: str,
    content: dict[str, Any],
    *,
    key_owner: str | None = None,
    ts_shift: timedelta = timedelta(0),
    key: Any = None,
) -> Any:
    heads = pair.us.store.heads()
    head = heads[(LINE, "US")]
    event = sign_event(
        line=LINE,
        party="US",
        seq=head.seq + 1,
        prev=head.id,
        kind=kind,
        author=author,
        key=key or pair.us.writer.key(key_owner or author),
        ts=pair.clock.now() + ts_shift,
        content=content,
    )
    client = pair.us_fed.client(pair.us.peers.peer("RU"))
    return client.push(LINE, "US", [event])


def test_an_event_signed_with_a_retired_key_is_refused(pair: Pair) -> None:
    old = pair.us.writer.key("US/EUCOM-JOC")
    pair.us.directory.rotate_key("US/EUCOM-JOC")
    pair.settle()
    answer = push_us_event(pair, EventKind.MESSAGE, "US/EUCOM-JOC", DRAFT.content(), key=old)
    assert answer.status == 422
    assert answer.data["error"] == "retired key"
    assert pair.ru.peers.rejections()[0].reason == "retired key"
    assert verify_store(pair.ru.store).ok


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        (EventKind.RECEIPT, {"of": "UA", "upto_seq": "x", "upto_id": "0" * 64}),
        (EventKind.RECEIPT, {"of": "RU", "upto_seq": 1}),
        (EventKind.LINKTEST, {}),
        (EventKind.LINKTEST, {"peer": "RU", "round": 1, "state": "fine", "paths": []}),
        (EventKind.KEY_ROTATE, {"principal": "US/EUCOM-JOC"}),
    ],
)
def test_node_events_of_the_wrong_form_are_refused(
    pair: Pair, kind: EventKind, content: dict[str, Any]
) -> None:
    before = pair.ru.store.count_events()
    answer = push_us_event(pair, kind, "US", content)
    assert answer.status == 422
    assert answer.data["error"] == "malformed"
    assert pair.ru.store.count_events() == before
    assert verify_store(pair.ru.store).ok


def test_an_event_dated_ahead_of_our_clock_is_taken_and_counted_from_its_arrival(
    pair: Pair,
) -> None:
    """A signed time is its author's claim: a sender whose clock runs an hour ahead still
    gets through; the receiver keeps its own time of receipt beside the claim, and the
    deadline counts from the earlier of the two."""
    flash = MessageDraft(MessageKind.NOTIFICATION, Precedence.FLASH, "Launch", "Not at you.")
    ahead = push_us_event(
        pair, EventKind.MESSAGE, "US/EUCOM-JOC", flash.content(), ts_shift=timedelta(hours=1)
    )
    assert ahead.status == 200 and ahead.data["stored"] == 1
    [item] = pair.ru.messages.inbox("RU")
    now = pair.clock.now()
    assert item.message.ts == now + timedelta(hours=1)
    assert item.message.received == now
    assert item.deadline == now + item.line.line.policy.deadline(Precedence.FLASH)

    # the clock is put right: the next event, dated before the one above, follows it
    following = sign_event(
        line=LINE,
        party="US",
        seq=ahead.data["head"]["seq"] + 1,
        prev=ahead.data["head"]["id"],
        kind=EventKind.MESSAGE,
        author="US/EUCOM-JOC",
        key=pair.us.writer.key("US/EUCOM-JOC"),
        ts=now,
        content=DRAFT.content(),
    )
    back = pair.us_fed.client(pair.us.peers.peer("RU")).push(LINE, "US", [following])
    assert back.status == 200 and back.data["stored"] == 1
    assert len(pair.ru.messages.inbox("RU")) == 2
    assert verify_store(pair.ru.store).ok


def test_an_event_time_not_in_the_recorded_form_is_refused(pair: Pair) -> None:
    event_time = "2026-03-01T12:00:00Z"  # no milliseconds: not as a node writes it
    head = pair.us.store.heads()[(LINE, "US")]
    body = {
        "v": 1,
        "line": LINE,
        "party": "US",
        "seq": head.seq + 1,
        "prev": head.id,
        "kind": "message",
        "author": "US/EUCOM-JOC",
        "key": pair.us.writer.key("US/EUCOM-JOC").public.key_id,
        "ts": event_time,
        "content": DRAFT.content(),
    }
    raw = canonical(body)
    event = Event.from_raw(raw, pair.us.writer.key("US/EUCOM-JOC").sign(raw))
    answer = pair.us_fed.client(pair.us.peers.peer("RU")).push(LINE, "US", [event])
    assert answer.status == 422
    assert answer.data["error"] == "malformed"
    assert pair.ru.messages.inbox("RU") == []


def test_a_rotation_that_fails_leaves_the_old_key_in_force(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = pair.us.store.principal("US/EUCOM-JOC").key

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyUnavailable("node key unreadable")

    monkeypatch.setattr(pair.us.writer, "append", broken)
    with pytest.raises(KeyUnavailable):
        pair.us.directory.rotate_key("US/EUCOM-JOC")
    monkeypatch.undo()
    pair.us.writer.forget("US/EUCOM-JOC")
    assert pair.us.store.principal("US/EUCOM-JOC").key == before
    sent = pair.us.messages.send(LINE, "US/EUCOM-JOC", DRAFT)
    assert sent.key_id == before.key_id
    pair.settle()
    assert [i.message.id for i in pair.ru.messages.inbox("RU")] == [sent.id]


def test_the_writer_refuses_a_key_the_record_does_not_hold_as_current(pair: Pair) -> None:
    keystore = pair.us.writer.keystore
    keystore.stage("US/EUCOM-JOC", b"\x07" * 32)
    keystore.promote("US/EUCOM-JOC", "interrupted")  # as if the database step never ran
    pair.us.writer.forget("US/EUCOM-JOC")
    with pytest.raises(KeyUnavailable, match=r"the record holds .* as its current key"):
        pair.us.messages.send(LINE, "US/EUCOM-JOC", DRAFT)
