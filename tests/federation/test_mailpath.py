"""The e-mail path between two nodes, through the real loopback mail server (Postfix for
SMTP submission, Dovecot for IMAP IDLE): HTTPS cut, the line carried by mail, HTTPS
back, and nothing lost or doubled."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import quote

from hotline.app import Node
from hotline.domain.compact import seal
from hotline.domain.crypto import SigningKey
from hotline.domain.events import Event, EventKind
from hotline.domain.mail import parse_imap_url, parse_smtp_url
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from hotline.federation.client import decode_events
from hotline.federation.mailpath import FILENAME, UNREADABLE, MailPath
from hotline.outbound.smtp import send_mail
from hotline.services.verification import verify_store
from tests.federation.conftest import RU_BACKUP, RU_URL, US_BACKUP, US_URL, Pair
from tests.mailbox import MailServer

LINE = "us-ru-deconfliction"
AUTHOR = {"US": "US/EUCOM-JOC", "RU": "RU/NDMC"}


def with_mail(pair: Pair, mail: MailServer) -> tuple[MailPath, MailPath]:
    """Give both nodes an e-mail path (fresh mailboxes) and re-pin each other's bundle,
    which now names it."""
    paths = []
    for node, fed in ((pair.us, pair.us_fed), (pair.ru, pair.ru_fed)):
        address = mail.mailbox(node.party.lower())
        node.peering.mail = address
        path = MailPath(
            party=node.party,
            address=address,
            writer=node.writer,
            peers=node.peers,
            receiver=node.receiver,
            smtp=parse_smtp_url(f"smtp://{mail.host}:{mail.smtp_port}?starttls=off"),
            send_mail=send_mail,
            imap=parse_imap_url(
                f"imap://{quote(address)}:{mail.password}@{mail.host}:{mail.imap_port}/INBOX"
            ),
        )
        fed.mail = path
        paths.append(path)
    pair.us.peering.pin(pair.ru.peering.export())
    pair.ru.peering.pin(pair.us.peering.export())
    return paths[0], paths[1]


def send(node: Node, subject: str, precedence: Precedence = Precedence.FLASH) -> Event:
    return node.messages.send(
        LINE,
        AUTHOR[node.party],
        MessageDraft(MessageKind.WARNING, precedence, subject, f"{subject}: body."),
    )


def until(path: MailPath, want: int = 1, timeout: float = 15.0) -> int:
    """Rounds of ``path``'s mailbox until ``want`` batches were taken."""
    taken, deadline = 0, time.monotonic() + timeout
    while taken < want and time.monotonic() < deadline:
        taken += path.receive_once()
    return taken


def holds(node: Node, event_id: str) -> bool:
    return event_id in {row.id for row in node.store.rows()}


def chain_ids(node: Node, party: str) -> list[str]:
    return [e.id for e in node.store.chain(LINE, party, 0, 10_000)]


def pushed_by_https(pair: Pair, party: str, since: int) -> list[str]:
    """Ids of ``party``'s events pushed over HTTPS after the first ``since`` requests."""
    ids = []
    for request in pair.net.requests[since:]:
        if request.method == "POST" and request.url.path.endswith("/events"):
            body = json.loads(request.content)
            if body.get("party") == party:
                ids += [Event.from_raw(raw, sig).id for raw, sig in decode_events(body["events"])]
    return ids


def cut(pair: Pair) -> None:
    pair.net.down |= {US_URL, US_BACKUP, RU_URL, RU_BACKUP}


def acked(node: Node, peer: str, party: str) -> int:
    cursor = node.peers.cursors().get((peer, LINE, party))
    return cursor.acked_seq if cursor else 0


def head(node: Node, party: str) -> int:
    found = node.store.heads().get((LINE, party))
    return found.seq if found else 0


def test_a_bundle_names_the_mail_path_and_the_peer_pins_it(
    pair: Pair, mail_server: MailServer
) -> None:
    us_mail, ru_mail = with_mail(pair, mail_server)
    [ru_seen] = pair.us.peers.peers()
    assert ru_seen.mail == ru_mail.address
    assert pair.ru.peers.peers()[0].mail == us_mail.address


def test_https_cut_the_line_goes_by_mail_and_comes_back(
    pair: Pair, mail_server: MailServer
) -> None:
    us_mail, ru_mail = with_mail(pair, mail_server)
    try:
        cut(pair)
        pair.clock.advance(seconds=1)
        flash = send(pair.us, "Missile debris near Przewodów")
        assert pair.us_fed.deliver_once() == 1  # HTTPS refused: the batch went by mail
        assert "(sent by mail)" in (pair.us.peers.cursors()[("RU", LINE, "US")].last_error or "")
        assert until(ru_mail) == 1
        assert holds(pair.ru, flash.id)  # RU holds the FLASH
        receipt = [
            e for e in pair.ru.store.chain(LINE, "RU", 0, 1000) if e.kind == EventKind.RECEIPT
        ][-1]
        assert receipt.content["upto_seq"] == flash.seq
        # RU answered by mail with its receipt: US holds it, and its cursor moved
        assert until(us_mail) == 1
        assert holds(pair.us, receipt.id)
        assert acked(pair.us, "RU", "US") == flash.seq
        # US's answer says it holds RU's receipt: RU's cursor moves; no answer follows
        assert until(ru_mail) == 1
        assert acked(pair.ru, "US", "RU") == head(pair.ru, "RU")
        assert until(us_mail, timeout=1.5) == 0

        # more while HTTPS is down: mailed at once, though HTTPS waits for its retry
        later = [send(pair.us, f"Follow-up {n}", Precedence.IMMEDIATE) for n in range(3)]
        assert pair.us_fed.deliver_once() == 3
        assert until(ru_mail) == 1
        assert all(holds(pair.ru, e.id) for e in later)
        assert until(us_mail) == 1
        assert acked(pair.us, "RU", "US") == later[-1].seq
        assert pair.us.peers.paths()["RU"]["carrier"] == "mail"

        # HTTPS back: the next goes by HTTPS, and what went by mail is not sent again
        pair.net.down.clear()
        pair.clock.advance(seconds=60)
        pair.settle()
        before = len(pair.net.requests)
        after = send(pair.us, "Back on the wire", Precedence.ROUTINE)
        pair.settle()
        assert holds(pair.ru, after.id)
        assert pushed_by_https(pair, "US", before) == [after.id]
        assert acked(pair.us, "RU", "US") == head(pair.us, "US")
        assert pair.us.peers.paths()["RU"]["carrier"] == "https"
        assert pair.us.peers.paths()["RU"]["paths"]["mail"]["works"]

        # both hold both chains alike, whole; RU's watch sees each message once
        for party in ("US", "RU"):
            assert chain_ids(pair.us, party) == chain_ids(pair.ru, party)
        for node in (pair.us, pair.ru):
            assert verify_store(node.store).ok
        inbox = [item.message.id for item in pair.ru.messages.inbox("RU")]
        assert sorted(inbox) == sorted([flash.id, *(e.id for e in later), after.id])
    finally:
        us_mail.close()
        ru_mail.close()


def test_an_event_by_both_paths_is_stored_once(pair: Pair, mail_server: MailServer) -> None:
    us_mail, ru_mail = with_mail(pair, mail_server)
    try:
        flash = send(pair.us, "Both ways")
        [ru] = pair.us.peers.peers()
        us_mail.send(ru, LINE, pair.us.store.chain_bytes(LINE, "US", flash.seq - 1, 1))
        pair.settle()  # and by HTTPS
        assert holds(pair.ru, flash.id)
        assert until(ru_mail) == 1  # the mailed copy: a duplicate, stored once
        assert chain_ids(pair.ru, "US") == chain_ids(pair.us, "US")
        assert verify_store(pair.ru.store).ok
    finally:
        us_mail.close()
        ru_mail.close()


def test_a_batch_not_signed_by_the_peers_node_is_refused_and_counted(
    pair: Pair, mail_server: MailServer
) -> None:
    us_mail, ru_mail = with_mail(pair, mail_server)
    try:
        flash = send(pair.us, "Forged")
        forged = seal(
            pair.us.store.chain_bytes(LINE, "US", flash.seq - 1, 1),
            sender="US",
            recipient="RU",
            line=LINE,
            key=SigningKey(bytes(range(32))),
            now=pair.clock.now(),
        )
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = "x@hotline.test", ru_mail.address, "batch"
        mail.set_content(forged, maintype="application", subtype="cbor", filename=FILENAME)
        send_mail(ru_mail.smtp, mail)
        plain = EmailMessage()
        plain["From"], plain["To"], plain["Subject"] = "y@hotline.test", ru_mail.address, "hi"
        plain.set_content("Not a batch.")
        send_mail(ru_mail.smtp, plain)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not pair.ru.peers.refusal_counts():
            ru_mail.receive_once()
            pair.ru.receiver.refusals.flush()
        [count] = pair.ru.peers.refusal_counts()
        assert (count.claimed, count.reason) == ("US", "bad signature")
        assert count.client == "mail:x@hotline.test"
        assert not holds(pair.ru, flash.id)
        # the plain message is left in the box, seen; the refused batch is gone
        left = mail_server.fetch(ru_mail.address, timeout=1)
        assert [m["Subject"] for m in left] == ["hi"]
    finally:
        us_mail.close()
        ru_mail.close()


def as_mail(data: bytes, to: str) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "us@hotline.test", to, "batch"
    mail.set_content(data, maintype="application", subtype="cbor", filename=FILENAME)
    return bytes(mail)


def test_a_batch_that_stored_nothing_new_is_not_answered_again_at_once(
    pair: Pair, mail_server: MailServer
) -> None:
    """A batch replayed, or one whose events keep being refused, draws no stream of
    answers; a batch with no events (an answer) is never answered."""
    _, ru_mail = with_mail(pair, mail_server)
    flash = send(pair.us, "Once")
    events = pair.us.store.chain_bytes(LINE, "US", flash.seq - 1, 1)
    key = pair.us.writer.key("US")
    batch = seal(events, sender="US", recipient="RU", line=LINE, key=key, now=pair.clock.now())
    first = ru_mail.take(as_mail(batch, ru_mail.address))
    assert first is not None and (first.stored, first.answered) == (1, True)
    again = ru_mail.take(as_mail(batch, ru_mail.address))
    assert again is not None and (again.duplicates, again.answered) == (1, False)
    bare = seal([], sender="US", recipient="RU", line=LINE, key=key, now=pair.clock.now())
    assert ru_mail.take(as_mail(bare, ru_mail.address)).answered is False  # type: ignore[union-attr]


def test_a_stale_batch_is_refused(pair: Pair, mail_server: MailServer) -> None:
    _, ru_mail = with_mail(pair, mail_server)
    flash = send(pair.us, "Old news")
    old = seal(
        pair.us.store.chain_bytes(LINE, "US", flash.seq - 1, 1),
        sender="US",
        recipient="RU",
        line=LINE,
        key=pair.us.writer.key("US"),
        now=pair.clock.now() - timedelta(days=8),
    )
    taken = ru_mail.take(as_mail(old, ru_mail.address))
    assert taken is not None and taken.refused is not None and "sealed" in taken.refused
    assert not holds(pair.ru, flash.id)


def test_a_message_that_cannot_be_read_is_flagged_and_the_next_still_taken(
    pair: Pair, mail_server: MailServer
) -> None:
    us_mail, ru_mail = with_mail(pair, mail_server)
    try:
        cut(pair)
        poison = send(pair.us, "Poison")
        pair.us_fed.deliver_once()  # mailed
        real_take = ru_mail.take
        calls: list[int] = []

        def take_failing_once(message: bytes) -> object:
            calls.append(1)
            if len(calls) == 1:
                raise ValueError("a fault of the reader")
            return real_take(message)

        ru_mail.take = take_failing_once  # type: ignore[method-assign,assignment]
        assert until(ru_mail, timeout=3) == 0  # the first is flagged, not retried
        assert not holds(pair.ru, poison.id)
        follow = send(pair.us, "After the poison")
        pair.clock.advance(seconds=120)  # HTTPS retry due: mailed from the cursor again
        pair.us_fed.deliver_once()
        assert until(ru_mail) == 1
        assert holds(pair.ru, poison.id) and holds(pair.ru, follow.id)
        pair.ru.receiver.refusals.flush()
        assert any(c.reason == "unreadable" for c in pair.ru.peers.refusal_counts())
        client = ru_mail._connect()
        assert client.search(["KEYWORD", UNREADABLE.decode()])  # left in the box, flagged
    finally:
        us_mail.close()
        ru_mail.close()
