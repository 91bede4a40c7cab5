"""Escalation and contact requests between two nodes (in process, fake clock): a FLASH
message left unacknowledged is resent, relayed over the attaché line and reported to
leadership, each step once and on both nodes' records, until the other side acks; scope
is enforced by the receiving node too; contact requests are answered, expire, and race."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hotline.domain.clock import format_time
from hotline.domain.contact import ContactStatus
from hotline.domain.crypto import b64encode
from hotline.domain.events import EventKind, sign_event
from hotline.domain.ledger import escalation_content
from hotline.domain.message import MessageDraft
from hotline.domain.policy import LineKind, MessageKind
from hotline.domain.precedence import Precedence
from hotline.services.verification import verify_store
from tests.federation.conftest import RU_URL, Pair

LINE = "us-ru-deconfliction"
ATTACHE = "us-ru-attache"
LEADERS = "us-ru-leaders"


def flash(subject: str = "Missile test", kind: MessageKind = MessageKind.NOTIFICATION) -> Any:
    return MessageDraft(kind, Precedence.FLASH, subject, "Test launch from Kapustin Yar.")


def escalations(node: Any, line: str, ref: str) -> list[dict[str, Any]]:
    return [
        dict(e.content)
        for e in node.store.events(line, kinds=[EventKind.ESCALATION.value])
        if e.content["ref"] == ref
    ]


def push_forged(pair: Pair, line: str, kind: EventKind, author: str, content: Any) -> Any:
    """Sign an event as US's node would, bypassing its checks, and push it to RU."""
    head = pair.ru.store.heads()[(line, "US")]
    forged = sign_event(
        line=line,
        party="US",
        seq=head.seq + 1,
        prev=head.id,
        kind=kind,
        author=author,
        key=pair.us.writer.key(author),
        ts=pair.us.writer.now(),
        content=content,
    )
    return pair.us_fed.client(pair.us.peers.peer("RU")).push(line, "US", [forged])


@pytest.fixture
def leaders(pair: Pair) -> Pair:
    pair.us.directory.add_principal("US/SECDEF", "Secretary of Defense", ["leader"])
    pair.us.lines.propose(
        line_id=LEADERS,
        kind=LineKind.LEADERS,
        title="leaders",
        members=["US/SECDEF", "RU/MINDEF"],
    )
    pair.settle()
    pair.ru.lines.accept(LEADERS, "RU")
    pair.settle()
    return pair


def test_flash_unacknowledged_is_resent_relayed_alerted_then_stopped(leaders: Pair) -> None:
    pair = leaders
    message = pair.us.messages.send(LINE, "US/EUCOM-JOC", flash())
    pair.settle()
    pair.clock.advance(minutes=9, seconds=59)
    assert pair.us.escalations.tick() == []

    pair.clock.advance(seconds=1)  # +10 min: the deadline
    (resend,) = pair.us.escalations.tick()
    assert (resend.line, resend.content["action"], resend.content["step"]) == (LINE, "resend", 1)
    pair.settle()
    assert escalations(pair.ru, LINE, message.id)[0]["action"] == "resend"

    pair.clock.advance(minutes=5)  # +15: relayed via the attaché line
    (relay,) = pair.us.escalations.tick()
    assert relay.line == ATTACHE
    assert relay.content["to"] == ["RU/MINDEF"]
    pair.settle()
    (relayed,) = pair.ru.relays.relayed("RU", "RU/MINDEF")
    assert relayed.original.id == message.id  # the original id and signature, verified
    assert relayed.original.sig == message.sig
    forward = pair.ru.relays.forward(relayed.relay.id, "RU/MINDEF", ["RU/NDMC"])
    pair.settle()
    assert pair.us.store.event(forward.id).content["to"] == ["RU/NDMC"]

    pair.clock.advance(minutes=5)  # +20: own leadership alerted
    (alert,) = pair.us.escalations.tick()
    assert alert.content["action"] == "alert"
    assert alert.content["to"] == ["US/SECDEF"]
    assert [a.kind for a in pair.us.peers.alerts()] == ["escalation"]

    pair.clock.advance(minutes=1)
    ack = pair.ru.messages.ack(message.id, "RU/NDMC")
    pair.settle()
    (stop,) = pair.us.escalations.tick()
    assert stop.content["action"] == "stop"
    assert stop.content["by"] == "RU/NDMC"
    assert stop.content["acked_at"] == ack.body["ts"]
    assert pair.us.peers.alerts() == []
    pair.clock.advance(hours=3)
    assert pair.us.escalations.tick() == []  # no step after the ack, repeats included
    pair.settle()
    actions = [c["action"] for c in escalations(pair.ru, LINE, message.id)]
    assert actions == ["resend", "alert", "stop"]
    assert verify_store(pair.us.store).ok
    assert verify_store(pair.ru.store).ok


def test_a_restart_and_an_outage_neither_repeat_nor_skip_a_step(leaders: Pair) -> None:
    pair = leaders
    message = pair.us.messages.send(LINE, "US/EUCOM-JOC", flash())
    pair.clock.advance(minutes=10)
    assert [e.content["action"] for e in pair.us.escalations.tick()] == ["resend"]
    pair.us.escalations.rebuild()  # a restart: the engine reads the record again
    assert pair.us.escalations.tick() == []
    pair.clock.advance(minutes=30)  # an outage: +40 min, five steps fell due
    steps = [(e.content["step"], e.content["cycle"]) for e in pair.us.escalations.tick()]
    assert steps == [(2, 0), (3, 0), (1, 1), (2, 1), (3, 1)]
    pair.clock.advance(minutes=-20)  # the clock goes back
    assert pair.us.escalations.tick() == []
    pair.us.escalations.rebuild()
    assert pair.us.escalations.tick() == []
    recorded = [(c["step"], c["cycle"]) for c in escalations(pair.us, LINE, message.id)]
    recorded += [(c["step"], c["cycle"]) for c in escalations(pair.us, ATTACHE, message.id)]
    assert sorted(recorded) == [(1, 0), (1, 1), (2, 0), (2, 1), (3, 0), (3, 1)]


def test_two_schedulers_record_each_step_once(leaders: Pair) -> None:
    pair = leaders
    pair.us.messages.send(LINE, "US/EUCOM-JOC", flash())
    other = type(pair.us.escalations)(
        pair.us.writer, pair.us.directory, pair.us.peers, pair.us.party
    )
    pair.us.escalations.tick()
    other.tick()
    pair.clock.advance(minutes=10)
    first, second = pair.us.escalations.tick(), other.tick()
    assert len(first) + len(second) == 1


def test_a_relay_without_a_route_is_recorded_as_skipped(leaders: Pair, tmp_path: Any) -> None:
    pair = leaders
    policy = tmp_path / "policy.toml"
    policy.write_text('[[steps]]\naction = "relay"\nafter = "0"\nvia = "us-ru-service"\n', "utf-8")
    pair.us.escalations.set_policy(LINE, policy.read_text("utf-8"), "toml")
    warning = pair.us.messages.send(LINE, "US/EUCOM-JOC", flash("Warning", MessageKind.WARNING))
    pair.clock.advance(minutes=10)
    (relay,) = pair.us.escalations.tick()
    assert (relay.line, relay.content["action"], relay.content["ref"]) == (
        LINE,
        "relay",
        warning.id,
    )
    assert relay.content["outcome"] == (
        "skipped: us-ru-service is not an active line to RU that takes a warning"
    )
    pair.clock.advance(hours=1)
    assert pair.us.escalations.tick() == []  # recorded once, not tried again


def test_the_receiving_node_refuses_a_relay_the_line_would_not_take(leaders: Pair) -> None:
    """A peer cannot relay a protest onto a line that does not take protests."""
    pair = leaders
    pair.settle()
    service = "us-ru-service"
    protest = MessageDraft(MessageKind.PROTEST, Precedence.FLASH, "Protest", "Over the line.")
    original = pair.us.messages.send(ATTACHE, "US/DATT-MOSCOW", protest)
    pair.settle()
    answer = push_forged(
        pair,
        service,
        EventKind.ESCALATION,
        "US",
        escalation_content(
            action="relay",
            ref=original.id,
            step=2,
            cycle=0,
            due=format_time(pair.us.writer.now()),
            reason="test",
            from_line=ATTACHE,
            to=["RU/NDMC"],
            original={"raw": b64encode(original.raw), "sig": b64encode(original.sig)},
        ),
    )
    assert answer.status == 422
    assert answer.data["error"] == "policy"
    assert "protest is not allowed on line us-ru-service" in answer.data["detail"]
    assert pair.ru.peers.rejections()[0].reason == "policy"


def test_a_refused_message_names_the_line_that_would_take_it(pair: Pair) -> None:
    pair.settle()
    content = flash("Protest", MessageKind.PROTEST).content()
    answer = push_forged(pair, LINE, EventKind.MESSAGE, "US/EUCOM-JOC", content)
    assert answer.status == 422
    assert "not allowed on line us-ru-deconfliction" in answer.data["detail"]


def test_contact_requests_declined_expired_accepted_and_held(leaders: Pair) -> None:
    pair = leaders
    us, ru = pair.us.contacts, pair.ru.contacts
    declined = us.request("US/SECDEF", "RU/MINDEF", "Incident over the Black Sea")
    silent = us.request("US/SECDEF", "RU/MINDEF", "Strikes near the border")
    held = us.request("US/SECDEF", "RU/MINDEF", "Prisoner exchange")
    pair.settle()
    pair.clock.advance(hours=2)
    ru.decline(declined.id, "RU/MINDEF", "The minister is unavailable.")
    call_at = pair.clock.now() + timedelta(days=1)
    ru.accept(held.id, "RU/MINDEF", call_at)
    pair.settle()
    assert us.get(declined.id).status is ContactStatus.DECLINED
    assert us.get(held.id).proposed_time == call_at

    pair.clock.advance(hours=45, minutes=59, seconds=59)  # 2 h + this: 1 s before 48 h
    assert [e.kind for e in pair.us.escalations.tick()] == []
    pair.clock.advance(seconds=1)  # 48 h after the requests
    expired = pair.us.escalations.tick()
    assert [(e.kind, e.content["ref"]) for e in expired] == [("contact.expire", silent.id)]
    assert pair.us.escalations.tick() == []
    pair.settle()
    assert ru.get(silent.id).status is ContactStatus.EXPIRED

    pair.clock.advance(hours=1)
    us.held(held.id, "US/SECDEF", call_at, "30 minutes; both sides restated positions.", 30)
    pair.settle()
    for node in (pair.us, pair.ru):
        states = {r.id: r.status for r in node.contacts.requests()}
        assert states == {
            declined.id: ContactStatus.DECLINED,
            silent.id: ContactStatus.EXPIRED,
            held.id: ContactStatus.HELD,
        }
        (row,) = node.contacts.stats(pair.clock.now(), 30)
        assert (row.requested, row.accepted, row.held, row.declined, row.unanswered) == (
            3,
            1,
            1,
            1,
            1,
        )
        assert row.median_answer_s == 2 * 3600


def test_an_answer_signed_in_time_wins_over_an_expiry_recorded_first(leaders: Pair) -> None:
    pair = leaders
    request = pair.us.contacts.request("US/SECDEF", "RU/MINDEF", "Call", window=timedelta(hours=1))
    pair.settle()
    pair.net.down.add(RU_URL)
    pair.net.down.add("http://ru-backup.test:8100")
    pair.clock.advance(minutes=59)
    pair.ru.contacts.accept(request.id, "RU/MINDEF", pair.clock.now() + timedelta(hours=2))
    pair.clock.advance(minutes=2)
    (expiry,) = pair.us.escalations.tick()
    assert expiry.kind == EventKind.CONTACT_EXPIRE
    assert pair.us.contacts.get(request.id).status is ContactStatus.EXPIRED
    pair.net.down.clear()
    pair.settle()
    for node in (pair.us, pair.ru):
        assert node.contacts.get(request.id).status is ContactStatus.ACCEPTED


def test_contact_scope_is_checked_on_the_receiving_node(leaders: Pair) -> None:
    """A request on the deconfliction line is refused by RU even if US's node wrote it."""
    pair = leaders
    pair.settle()
    content = {
        "to": "RU/NDMC",
        "topic": "call",
        "lang": "en",
        "respond_by": format_time(pair.clock.now() + timedelta(hours=48)),
        "window": 172800,
    }
    answer = push_forged(pair, LINE, EventKind.CONTACT_REQUEST, "US/EUCOM-JOC", content)
    assert answer.status == 422
    assert answer.data["error"] == "policy"
    assert "leaders lines" in answer.data["detail"]
