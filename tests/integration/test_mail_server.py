"""The loopback mail server the suite uses (``scripts/mail-server``): mail sent on the
submission port, after AUTH PLAIN or without logging in, reaches the recipient's INBOX,
read over IMAP; the IMAP server offers IDLE."""

from __future__ import annotations

import imaplib
import smtplib
import uuid
from email.message import EmailMessage

import pytest

from tests.mailbox import MailServer


@pytest.mark.parametrize("login", [True, False], ids=["auth-plain", "no-auth"])
def test_mail_sent_on_submission_arrives_in_the_inbox(mail_server: MailServer, login: bool) -> None:
    address = mail_server.mailbox("watch")
    subject = f"Deconfliction check {uuid.uuid4().hex[:8]}"
    body = "Two tracks converging near the line; please acknowledge."
    message = EmailMessage()
    message["From"] = address
    message["To"] = address
    message["Subject"] = subject
    message.set_content(body)

    with smtplib.SMTP(mail_server.host, mail_server.smtp_port, timeout=10) as smtp:
        smtp.ehlo()
        if login:
            assert "PLAIN" in smtp.esmtp_features.get("auth", "").split()
            smtp.user, smtp.password = address, mail_server.password
            code, _ = smtp.auth("PLAIN", smtp.auth_plain)
            assert code == 235
        smtp.send_message(message)

    [received] = mail_server.fetch(address)
    assert received["Subject"] == subject
    assert received["To"] == address
    assert received.get_content().strip() == body


def test_imap_offers_idle(mail_server: MailServer) -> None:
    with imaplib.IMAP4(mail_server.host, mail_server.imap_port, timeout=10) as imap:
        imap.login(mail_server.mailbox("idle"), mail_server.password)
        _, data = imap.capability()
        assert "IDLE" in data[0].decode().split()
