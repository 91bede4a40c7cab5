"""The loopback mail server of the tests (``scripts/mail-server``: Postfix for SMTP
submission, Dovecot for IMAP): fresh addresses, and what arrived at one."""

from __future__ import annotations

import email
import email.policy
import imaplib
import socket
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage


@dataclass(frozen=True)
class MailServer:
    host: str = "127.0.0.1"
    smtp_port: int = 587
    imap_port: int = 143
    domain: str = "hotline.test"
    password: str = "hotline-test"

    def reachable(self) -> str | None:
        """None when both ports answer; otherwise what does not."""
        for port in (self.smtp_port, self.imap_port):
            try:
                socket.create_connection((self.host, port), timeout=2).close()
            except OSError as exc:
                return f"mail server not reachable at {self.host}:{port} ({exc.__class__.__name__})"
        return None

    def mailbox(self, local: str) -> str:
        """A fresh address: no test sees another's mail."""
        return f"{local}-{uuid.uuid4().hex[:8]}@{self.domain}"

    def fetch(self, address: str, timeout: float = 10.0, at_least: int = 1) -> list[EmailMessage]:
        """Every message in ``address``'s inbox, once there are ``at_least`` (or what
        there is when ``timeout`` seconds have passed)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self._read(address)
            if len(found) >= at_least or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def _read(self, address: str) -> list[EmailMessage]:
        with imaplib.IMAP4(self.host, self.imap_port, timeout=10) as imap:
            imap.login(address, self.password)
            imap.select("INBOX", readonly=True)
            _, data = imap.search(None, "ALL")
            out = []
            for number in data[0].split():
                _, parts = imap.fetch(number, "(RFC822)")
                raw = parts[0][1] if parts and isinstance(parts[0], tuple) else b""
                message = email.message_from_bytes(raw, policy=email.policy.default)
                assert isinstance(message, EmailMessage)
                out.append(message)
            return out
