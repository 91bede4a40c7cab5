"""The e-mail path between nodes: the second medium beside HTTPS.

A batch of a node's chain on one line travels in the compact form
(:mod:`hotline.domain.compact`: CBOR, signed by the sending node) as the only part of an
e-mail, sent by SMTP submission to the address in the peer's bundle. The peer's node reads
its mailbox with IMAP IDLE, so a batch is taken the moment it is delivered; it checks it
against the pinned node key, stores its events as a push over HTTPS would have (an event
that came both ways is stored once), and answers by e-mail with what the sender lacks of
its own chain (the receipt, first) and how far it holds the sender's chain. That answer
moves the sender's delivery cursor as the answer to an HTTPS push does.

Delivery (:class:`hotline.federation.workers.Federation`) turns to this path when every
HTTPS URL of the peer fails, and back as soon as HTTPS answers again.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import logging
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from sqlalchemy.exc import DBAPIError

from hotline.domain.clock import format_time
from hotline.domain.compact import open_batch, seal, sender_of
from hotline.domain.errors import NotFound, PeerUnavailable, RequestRefused
from hotline.domain.ledger import ChainHead
from hotline.domain.mail import ImapServer, SmtpServer
from hotline.services.receiver import Receiver
from hotline.services.writer import LedgerWriter
from hotline.storage.peers import Peer, PeerStore

log = logging.getLogger("hotline.federation")

#: How a batch travels: the only part of the message.
MAIN, SUB = "application", "cbor"
FILENAME = "hotline-batch.cbor"
#: Most of the node's own events an answer carries (as an answer to a push over HTTPS).
ANSWER_EVENTS = 50
#: Longest one round waits in IMAP IDLE for a new message (well inside a worker's lease).
IDLE_WAIT = 3.0
#: A message larger than this is not read: a batch is at most 1 MiB (base64 adds a
#: third). It is refused, recorded and left in the box, seen.
MAX_MESSAGE = 2 * 1024 * 1024
#: A batch sealed longer ago than this, or further ahead, is refused as stale: mail may
#: wait in a queue for days, but an old batch replayed must not pass.
MAX_AGE = timedelta(days=7)
MAX_AHEAD = timedelta(hours=1)
#: A batch that stored nothing new is answered again only after this many seconds (one
#: replayed, or one whose events keep being refused, draws no stream of answers).
ANSWER_AGAIN = 60.0
#: Most messages one round takes, and most seconds it spends, well inside the lease.
ROUND_MESSAGES = 20
ROUND_SECONDS = 3.0
#: The keyword a message this node could not read is flagged with (left in the box).
UNREADABLE = b"$HotlineUnreadable"
IMAP_TIMEOUT = 30.0
#: Seconds before a mailbox that could not be read is tried again.
RECONNECT = 5.0
MAILBOX_ALERT = "mail:mailbox"

SendMail = Callable[[SmtpServer, EmailMessage], None]


@dataclass(frozen=True)
class Taken:
    """What became of one message read from the mailbox."""

    sender: str | None
    line: str | None
    stored: int
    duplicates: int
    refused: str | None
    answered: bool


class MailPath:
    """Batches to peers by SMTP submission, and from them out of an IMAP mailbox."""

    def __init__(
        self,
        *,
        party: str,
        address: str,
        writer: LedgerWriter,
        peers: PeerStore,
        receiver: Receiver,
        smtp: SmtpServer,
        send_mail: SendMail,
        imap: ImapServer | None = None,
    ) -> None:
        """``address``: the node's own (the From of what it sends, and where peers send
        to); ``imap``: its mailbox (None: this process sends only)."""
        self.party = party
        self.address = address
        self.writer = writer
        self.store = writer.store
        self.peers = peers
        self.receiver = receiver
        self.smtp = smtp
        self._send_mail = send_mail
        self.imap = imap
        self._client: Any = None  # an imapclient.IMAPClient while connected
        self._retry_at = 0.0  # on the monotonic clock
        # the last answer per (peer, line): what the batch claimed, our head, when
        self._answered: dict[tuple[str, str], tuple[Any, int, float]] = {}
        self._failing: str | None = None  # why the mailbox could not be read, while so

    # -- out -----------------------------------------------------------------------------

    def send(
        self,
        peer: Peer,
        line: str,
        events: Sequence[tuple[bytes, bytes]],
        held: ChainHead | None = None,
    ) -> float:
        """Mail ``events`` of this node's chain on ``line`` to ``peer``, saying how far
        this node holds the peer's chain (``held``). Seconds the submission took; raises
        PeerUnavailable when the peer has no e-mail path or the server does not take it."""
        if not peer.mail:
            raise PeerUnavailable(f"{peer.party}'s bundle names no e-mail path")
        now = self.writer.now()
        data = seal(
            events,
            sender=self.party,
            recipient=peer.party,
            line=line,
            key=self.writer.key(self.party),
            now=now,
            held=(held.seq, held.id) if held is not None and held.seq and held.id else None,
        )
        mail = EmailMessage()
        mail["From"] = self.address
        mail["To"] = peer.mail
        mail["Subject"] = f"hotline {self.party} to {peer.party}: {line}, {len(events)} event(s)"
        mail["Message-ID"] = make_msgid(domain=self.address.partition("@")[2] or None)
        mail.set_content(data, maintype=MAIN, subtype=SUB, filename=FILENAME)
        started = time.monotonic()
        try:
            self._send_mail(self.smtp, mail)
        except (OSError, ValueError) as exc:  # smtplib's errors are OSErrors
            error = f"mail to {peer.mail}: {exc.__class__.__name__}: {exc}"[:300]
            self.peers.note_path(peer.party, "mail", "error", format_time(now), error)
            raise PeerUnavailable(error) from exc
        self.peers.note_path(peer.party, "mail", "sent", format_time(now))
        return time.monotonic() - started

    # -- in ------------------------------------------------------------------------------

    def take(self, message: bytes) -> Taken | None:
        """Read one message from the mailbox: a batch is checked, stored and answered;
        anything else is not for this node (None). A refused batch is recorded."""
        parsed = email.message_from_bytes(message, policy=email.policy.default)
        if parsed.get_content_type() != f"{MAIN}/{SUB}":
            return None
        data = parsed.get_payload(decode=True)
        if not isinstance(data, bytes):
            return None
        origin = f"mail:{parsed.get('From', '')}"[:120]
        try:
            claimed = sender_of(data)
        except RequestRefused as exc:
            self.receiver.refusals.unproven(origin, "", exc)
            return Taken(None, None, 0, 0, exc.detail, False)
        try:
            key = self.store.party(claimed).node_key
            if key is None or not any(p.party == claimed for p in self.peers.peers()):
                raise NotFound("peer", claimed)
            batch = open_batch(data, recipient=self.party, node_key=key)
        except (NotFound, RequestRefused) as exc:
            refused = (
                exc if isinstance(exc, RequestRefused) else RequestRefused("unknown node", str(exc))
            )
            self.receiver.refusals.unproven(origin, claimed, refused)
            return Taken(claimed, None, 0, 0, refused.detail, False)
        now = self.writer.now()
        if not now - MAX_AGE <= batch.sealed <= now + MAX_AHEAD:
            stale = RequestRefused(
                "stale",
                f"the batch was sealed {format_time(batch.sealed)}, now is {format_time(now)}",
            )
            self.receiver.refusals.proven(
                peer=batch.sender, client=origin, kind="batch", refused=stale, line=batch.line
            )
            return Taken(batch.sender, batch.line, 0, 0, stale.detail, False)
        self.peers.note_path(batch.sender, "mail", "received", format_time(now))
        if not self._shared(batch.sender, batch.line, bool(batch.events)):
            refused = RequestRefused("not a party", f"{batch.sender} is not a party of the line")
            self.receiver.refusals.proven(
                peer=batch.sender, client=origin, kind="batch", refused=refused, line=batch.line
            )
            return Taken(batch.sender, batch.line, 0, 0, refused.detail, False)
        stored = duplicates = 0
        refusal = None
        theirs: ChainHead | None = None
        if batch.events:
            result = self.receiver.accept(batch.sender, batch.line, batch.sender, batch.events)
            stored, duplicates, theirs = result.stored, result.duplicates, result.head
            refusal = result.refused.detail if result.refused else None
        ours: list[tuple[bytes, bytes]] = []
        if batch.held is not None:
            ours = self.receiver.note_held(
                batch.sender, batch.line, batch.held[0], batch.held[1], after=ANSWER_EVENTS
            )
        elif batch.events:  # the sender holds nothing of our chain on the line yet
            ours = self.store.chain_bytes(batch.line, self.party, 0, ANSWER_EVENTS)
        answered = False
        peer = next((p for p in self.peers.peers() if p.party == batch.sender), None)
        if peer is not None and self._answer_due(
            batch.sender, batch.line, batch.held, stored, bool(batch.events)
        ):
            if theirs is None or not theirs.seq:
                theirs = self.store.heads().get((batch.line, batch.sender))
            try:
                self.send(peer, batch.line, ours, theirs)
                answered = True
            except PeerUnavailable as exc:
                log.warning("no answer by mail to %s: %s", batch.sender, exc.message)
        return Taken(batch.sender, batch.line, stored, duplicates, refusal, answered)

    def _answer_due(
        self, sender: str, line: str, claim: Any, stored: int, with_events: bool
    ) -> bool:
        """Whether a batch is answered: one with events, so that the sender's cursor
        moves; at once when it stored something, else only when what it claims or what
        we hold changed since the last answer, or :data:`ANSWER_AGAIN` has passed. A
        batch with no events (an answer, a link test) is not answered: the exchange
        ends."""
        if not with_events:
            return False
        head = self.store.heads().get((line, self.party))
        ours = head.seq if head else 0
        tick = time.monotonic()
        last = self._answered.get((sender, line))
        if (
            not stored
            and last is not None
            and last[:2] == (claim, ours)
            and tick - last[2] < ANSWER_AGAIN
        ):
            return False
        self._answered[(sender, line)] = (claim, ours, tick)
        return True

    def _shared(self, sender: str, line_id: str, with_events: bool) -> bool:
        """Whether ``sender`` may send on ``line_id``: a party of it, or, with events, the
        proposer of a line new here (the receiver checks the proposal)."""
        try:
            state = self.store.line(line_id)
        except NotFound:
            return with_events
        return {sender, self.party} <= set(state.line.parties)

    def receive_once(self) -> int:
        """One round of the mailbox: take every message not seen yet, then wait in IMAP
        IDLE (at most :data:`IDLE_WAIT`) for the next. The number of batches taken.
        Connects on the first round, and again after a failure, which opens the
        ``mailbox`` alert until it works again (tried again after :data:`RECONNECT`)."""
        if self.imap is None or time.monotonic() < self._retry_at:
            return 0
        try:
            client = self._connect()
            taken = self._drain(client)
            if not taken:
                if b"IDLE" in client.capabilities():
                    client.idle()
                    try:
                        client.idle_check(timeout=IDLE_WAIT)
                    finally:
                        client.idle_done()
                else:  # a server without IDLE is polled
                    time.sleep(IDLE_WAIT)
                    client.noop()
                taken = self._drain(client)
        except Exception as exc:  # OSError, TLS, or imapclient's IMAP and login errors
            self.close()
            self._retry_at = time.monotonic() + RECONNECT
            at = format_time(self.writer.now())
            where = f"{self.imap.user} at {self.imap.host}:{self.imap.port}"
            detail = f"{where}: {exc.__class__.__name__}: {exc}"[:300]
            if detail != self._failing:
                log.warning("mailbox unreadable, e-mail path in is down: %s", detail)
                self.peers.open_alert(
                    MAILBOX_ALERT, "link", "the node's mailbox cannot be read", detail, at
                )
            self._failing = detail
            return 0
        if self._failing is not None:
            self._failing = None
            self.peers.close_alert(MAILBOX_ALERT, format_time(self.writer.now()))
        return taken

    def _connect(self) -> Any:
        """The connection to the mailbox, made (TLS as the URL says, login, the folder
        selected) if there is none."""
        if self._client is not None:
            return self._client
        from imapclient import IMAPClient  # type: ignore[import-untyped]  # only with a mail path

        assert self.imap is not None
        context = ssl.create_default_context()
        client = IMAPClient(
            self.imap.host,
            port=self.imap.port,
            ssl=self.imap.implicit_tls,
            ssl_context=context,
            timeout=IMAP_TIMEOUT,
        )
        try:
            if not self.imap.implicit_tls and self.imap.starttls != "off":
                if b"STARTTLS" in client.capabilities():
                    client.starttls(context)
                elif self.imap.starttls == "required":
                    raise PeerUnavailable(
                        f"{self.imap.host}:{self.imap.port} does not offer STARTTLS "
                        "(starttls=required)"
                    )
            client.login(self.imap.user, self.imap.password)
            client.select_folder(self.imap.folder)
        except Exception:
            _logout(client)
            raise
        self._client = client
        return client

    def _drain(self, client: Any) -> int:
        """Take the unseen messages (at most :data:`ROUND_MESSAGES`, for at most
        :data:`ROUND_SECONDS`: the rest wait for the next round). A batch is deleted once
        taken, or refused and recorded; anything else is left in the box, seen. A message
        that cannot be read at all is recorded and left, flagged :data:`UNREADABLE`; a
        failure of the node's own storage or connection leaves it unseen, for the next
        round."""
        uids = client.search(["UNSEEN", "NOT", "KEYWORD", UNREADABLE.decode()])
        taken = 0
        ends = time.monotonic() + ROUND_SECONDS
        expunge_one = b"UIDPLUS" in client.capabilities()
        for uid in uids[:ROUND_MESSAGES]:
            if time.monotonic() > ends:
                break
            size = client.fetch([uid], ["RFC822.SIZE"]).get(uid, {}).get(b"RFC822.SIZE", 0)
            if size > MAX_MESSAGE:
                self._unreadable(client, uid, f"{size} bytes, over {MAX_MESSAGE}")
                continue
            message = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {}).get(b"BODY[]")
            try:
                done = self.take(message) if isinstance(message, bytes) else None
            except (OSError, DBAPIError):
                raise  # the node's own: the message waits, unseen, for the next round
            except Exception as exc:  # a message this code cannot read: never retried
                log.exception("mail %s could not be read", uid)
                self._unreadable(client, uid, f"{exc.__class__.__name__}: {exc}")
                continue
            if done is None:
                client.add_flags([uid], [b"\\Seen"])
                continue
            client.delete_messages([uid])
            if expunge_one:
                client.expunge([uid])
            else:
                client.expunge()
            taken += 1
        return taken

    def _unreadable(self, client: Any, uid: int, why: str) -> None:
        """Record a message that could not be read, and leave it, flagged, in the box."""
        refused = RequestRefused("unreadable", f"mail {uid}: {why}"[:300])
        self.receiver.refusals.unproven("mail", "", refused)
        client.add_flags([uid], [b"\\Seen", UNREADABLE])

    def close(self) -> None:
        """Log out of the mailbox, if connected (the next round connects again)."""
        client, self._client = self._client, None
        if client is not None:
            _logout(client)


def _logout(client: Any) -> None:
    try:
        client.logout()
    except Exception:  # the connection is going anyway
        with contextlib.suppress(Exception):
            client.shutdown()
