"""E-mail out by SMTP submission, to the server ``smtp_url`` names
(:mod:`hotline.domain.mail`)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from hotline.domain.mail import SmtpServer

TIMEOUT = 10.0


def send_mail(server: SmtpServer, mail: EmailMessage) -> None:
    """Submit ``mail``; raises OSError or an smtplib error when the server will not take
    it (for any recipient, or at all)."""
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if server.implicit_tls:
        client = smtplib.SMTP_SSL(server.host, server.port, timeout=TIMEOUT, context=context)
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT)
    with client:
        client.ehlo()
        if not server.implicit_tls and server.starttls != "off":
            if client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            elif server.starttls == "required":
                raise smtplib.SMTPNotSupportedError(
                    f"{server.host}:{server.port} does not offer STARTTLS (starttls=required)"
                )
        if server.user is not None:
            client.login(server.user, server.password or "")
        refused = client.send_message(mail)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)
