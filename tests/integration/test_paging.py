"""Paging the watch against each database, a real mail server and a webhook receiver on
loopback that checks every signature: a FLASH unacknowledged pages the officer on watch,
again, then the deputy too; an acknowledgement ends it and the on-call tools are told;
an escalation alert pages the alerted desk; "I have it" stops the paging."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from functools import partial

import pytest

from hotline.app import Node
from hotline.domain.clock import format_time
from hotline.domain.errors import Forbidden, NotFound
from hotline.domain.mail import parse_smtp_url
from hotline.domain.message import MessageDraft
from hotline.domain.paging import PageDue
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from hotline.outbound.smtp import send_mail
from hotline.outbound.webhooks import WebhookClient
from hotline.services.paging import Pager
from hotline.storage.paging import PagingStore
from tests.conftest import FakeClock, MailServer
from tests.webhook_receiver import Expect, WebhookReceiver

LINE = "us-ru-deconfliction"
SECRET = "a-secret-shared-with-the-tool"


@pytest.fixture
def receiver(lab_node: Node, clock: FakeClock) -> Iterator[WebhookReceiver]:
    found = WebhookReceiver(
        {
            "/oncall": Expect("oncall", secret=SECRET),
            "/joc": Expect("US", public_key=lab_node.writer.key("US").public),
        },
        clock.now,
    ).start()
    yield found
    found.stop()


def pager_of(node: Node, mail: MailServer) -> Pager:
    smtp = parse_smtp_url(f"smtp://{mail.host}:{mail.smtp_port}?starttls=off")
    return Pager(
        node.writer,
        node.watch,
        node.peers,
        PagingStore(node.peers.engine),
        "US",
        send_mail=partial(send_mail, smtp),
        post=WebhookClient(timeout=5).post,
        mail_from="hotline@us.hotline.test",
        console_url="https://console.us.example",
    )


def flash(subject: str) -> MessageDraft:
    return MessageDraft(
        MessageKind.INCIDENT, Precedence.FLASH, subject, "Impact 3 km from the border."
    )


def test_a_flash_pages_the_watch_then_the_deputy_until_acknowledged(
    lab_node: Node, clock: FakeClock, mail_server: MailServer, receiver: WebhookReceiver
) -> None:
    smith, jones = mail_server.mailbox("smith"), mail_server.mailbox("jones")
    pager = pager_of(lab_node, mail_server)
    pager.set_plan(
        f"""
repeat: {{FLASH: 1m}}
next_after: {{FLASH: 3m}}
people:
  Maj. A. Smith: {{email: {smith}}}
  Lt Col B. Jones: {{email: {jones}, webhook: oncall}}
webhooks:
  oncall: {{url: "{receiver.url}/oncall", sign: hmac, secret: "{SECRET}"}}
  joc: {{url: "{receiver.url}/joc"}}
desks:
  US/EUCOM-JOC: {{chain: [watch, Lt Col B. Jones], webhooks: [joc]}}
""",
        "yaml",
        "US/EUCOM-JOC",
    )
    start = clock.now() - timedelta(hours=1)
    lab_node.watch.add(
        "US/EUCOM-JOC",
        "Maj. A. Smith",
        start.isoformat(),
        (start + timedelta(hours=8)).isoformat(),
        None,
    )
    assert pager.tick() == 0  # nothing waits
    message = lab_node.messages.send(LINE, "RU/NDMC", flash("Missile impact near Przewodów"))

    assert pager.tick() == 2  # Smith by e-mail, the desk's webhook
    mail = mail_server.fetch(smith)
    assert len(mail) == 1
    assert mail[0]["Subject"] == f"FLASH on {LINE} from RU/NDMC: Missile impact near Przewodów"
    assert "Page 1 to Maj. A. Smith" in mail[0].get_content()
    assert f"https://console.us.example/#/inbox/{message.id}" in mail[0].get_content()
    assert [p.path for p in receiver.pages] == ["/joc"]
    assert receiver.pages[0].body["person"] == "Maj. A. Smith"

    clock.advance(seconds=30)
    assert pager.tick() == 0  # not yet again
    clock.advance(seconds=31)
    assert pager.tick() == 2  # Smith's second page
    clock.advance(minutes=2)
    assert (
        pager.tick() == 5
    )  # Smith again (e-mail, the desk's webhook); Jones (e-mail, his, the desk's)
    assert len(mail_server.fetch(jones)) == 1
    assert {(p.path, p.body["person"]) for p in receiver.pages[-2:]} == {
        ("/oncall", "Lt Col B. Jones"),
        ("/joc", "Lt Col B. Jones"),
    }
    assert receiver.refused == []

    clock.advance(seconds=20)
    lab_node.messages.ack(message.id, "US/EUCOM-JOC")
    assert pager.tick() == 0
    [item] = pager.board(["US/EUCOM-JOC"])
    assert item.reaction is not None
    assert (item.reaction.how, item.reaction.by) == ("ack", "US/EUCOM-JOC")
    assert item.reaction.officer == "Maj. A. Smith"
    # the tools told of it are told it is over
    over = [p for p in receiver.pages if p.body.get("state") == "resolved"]
    assert sorted(p.path for p in over) == ["/joc", "/oncall"]
    assert len([p for p in item.pages if p.channel == "email" and p.state == "sent"]) == 4
    clock.advance(minutes=10)
    assert pager.tick() == 0  # acknowledged: never paged again


def test_nobody_on_watch_hands_on_to_the_deputy_and_taking_stops_it(
    lab_node: Node, clock: FakeClock, mail_server: MailServer
) -> None:
    jones = mail_server.mailbox("jones")
    pager = pager_of(lab_node, mail_server)
    pager.set_plan(
        f"""
people:
  Lt Col B. Jones: {{email: {jones}}}
desks:
  US/EUCOM-JOC: {{chain: [watch, Lt Col B. Jones]}}
""",
        "yaml",
        "US/EUCOM-JOC",
    )
    lab_node.messages.send(LINE, "RU/NDMC", flash("Drone over the line"))
    assert pager.tick() == 1
    [item] = pager.board(["US/EUCOM-JOC"])
    states = sorted((p.level, p.channel, p.state) for p in item.pages)
    assert states == [(0, "none", "unreachable"), (1, "email", "sent")]
    assert "nobody on watch at US/EUCOM-JOC" in next(p.detail for p in item.pages if p.level == 0)
    assert len(mail_server.fetch(jones)) == 1

    with pytest.raises(NotFound):
        pager.take("message:nothing:US/EUCOM-JOC", "US/EUCOM-JOC")
    with pytest.raises(Forbidden):
        pager.take(item.item.key, "US/DATT-MOSCOW")
    reaction = pager.take(item.item.key, "US/EUCOM-JOC")
    assert (reaction.how, reaction.by) == ("take", "US/EUCOM-JOC")
    clock.advance(minutes=30)
    assert pager.tick() == 0  # taken: paging stops though the ack is still due


def test_an_escalation_alert_pages_the_desks_alerted(
    lab_node: Node, clock: FakeClock, mail_server: MailServer
) -> None:
    lab_node.directory.add_principal("US/SECDEF", "Secretary of Defense", ["leader"])
    staff = mail_server.mailbox("secdef-staff")
    pager = pager_of(lab_node, mail_server)
    pager.set_plan(
        f"""
people:
  SecDef duty officer: {{email: {staff}}}
desks:
  US/SECDEF: {{chain: [SecDef duty officer]}}
""",
        "yaml",
        "US/EUCOM-JOC",
    )
    ours = lab_node.messages.send(LINE, "US/EUCOM-JOC", flash("Our strike is not aimed at you"))
    clock.advance(minutes=21)  # FLASH: alert leadership 20 min after sending
    lab_node.escalations.tick()
    assert pager.tick() == 1
    [mail] = mail_server.fetch(staff)
    assert mail["Subject"].startswith("Unacknowledged: our FLASH on us-ru-deconfliction")
    [item] = pager.board(["US/SECDEF"])
    assert item.item.ref == ours.id and item.reaction is None
    lab_node.messages.ack(ours.id, "RU/NDMC")  # RU is hosted here too
    lab_node.escalations.tick()  # the ack stops the escalation and closes its alert
    pager.tick()
    [item] = pager.board(["US/SECDEF"])
    assert item.reaction is not None and item.reaction.how == "closed"


def test_pages_cut_short_are_unknown_and_every_tool_is_told_it_is_over_in_the_end(
    lab_node: Node, clock: FakeClock, mail_server: MailServer
) -> None:
    """A page left ``sending`` by a stop counts as unknown (it may have gone) and its tool
    is told when the item is over; a tool that does not answer then is told a minute
    later; a round never sends a page twice, whoever else runs one."""
    first = WebhookReceiver(
        {"/joc": Expect("US", public_key=lab_node.writer.key("US").public)}, clock.now
    ).start()
    plan = """
people:
  Lt Col B. Jones: {{webhook: joc}}
webhooks:
  joc: {{url: "{url}/joc"}}
desks:
  US/EUCOM-JOC: {{chain: [Lt Col B. Jones]}}
"""
    pager = pager_of(lab_node, mail_server)
    pager.set_plan(plan.format(url=first.url), "yaml", "US/EUCOM-JOC")
    message = lab_node.messages.send(LINE, "RU/NDMC", flash("Drone down near the line"))
    assert pager.tick() == 1
    other = pager_of(lab_node, mail_server)  # another process's pager, at the same moment
    assert other.tick() == 0  # the same page: not sent twice
    [page] = [p for p in pager.board(["US/EUCOM-JOC"])[0].pages]
    # a stop while sending the next page: its row stays "sending"
    clock.advance(minutes=5)
    cut = pager.paging.begin(
        PageDue(pager.open_items()[0], 0, "Lt Col B. Jones", 2, True),
        "webhook",
        "joc",
        "sending",
        "",
        format_time(clock.now()),
    )
    assert cut is not None
    clock.advance(minutes=2)
    pager.tick()
    states = {p.ring: p.state for p in pager.board(["US/EUCOM-JOC"])[0].pages}
    assert states[2] == "unknown"

    first.stop()  # the tool is down when the item is over
    lab_node.messages.ack(message.id, "US/EUCOM-JOC")
    pager.tick()
    resolves = [p for p in pager.board(["US/EUCOM-JOC"])[0].pages if p.ring == 0]
    assert [(r.target, r.state) for r in resolves] == [("joc", "failed")]
    second = WebhookReceiver(
        {"/joc": Expect("US", public_key=lab_node.writer.key("US").public)}, clock.now
    ).start()
    try:
        pager.set_plan(plan.format(url=second.url), "yaml", "US/EUCOM-JOC")  # it is back
        pager.tick()
        assert second.pages == []  # not before a minute has passed
        clock.advance(seconds=61)
        pager.tick()
        assert [p.body["state"] for p in second.pages] == ["resolved"]
        pager.tick()
        clock.advance(minutes=5)
        pager.tick()
        assert len(second.pages) == 1  # told once
    finally:
        second.stop()
    assert page.state == "sent"
