"""Where the node's e-mail goes, and where it reads its own.

Out, an SMTP submission server (RFC 6409) named by a URL:

- ``smtp://HOST:587`` — plain SMTP, upgraded with STARTTLS when the server offers it;
- ``smtp://USER:PASSWORD@HOST:587`` — and AUTH with that user (percent-encode ``@``
  and ``:`` in either);
- ``smtps://USER:PASSWORD@HOST:465`` — TLS from the first byte;
- ``?starttls=required`` refuses to send over a server that does not offer STARTTLS,
  ``?starttls=off`` never asks for it (a loopback relay).

In, an IMAP mailbox (RFC 9051) named by a URL of the same shape:

- ``imap://USER:PASSWORD@HOST:143/INBOX`` — STARTTLS required (a login carries the
  password), except on a loopback host, where it is used when offered;
  ``?starttls=optional`` or ``off`` say otherwise; the path is the folder, INBOX if none;
- ``imaps://USER:PASSWORD@HOST:993/INBOX`` — TLS from the first byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from hotline.domain.errors import InvalidInput

STARTTLS = ("optional", "required", "off")


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    starttls: str
    user: str | None
    password: str | None = field(repr=False)


@dataclass(frozen=True)
class ImapServer:
    """A mailbox the node reads: where, how (TLS from the first byte, or STARTTLS:
    optional, required or off), who, and which folder."""

    host: str
    port: int
    implicit_tls: bool
    starttls: str
    user: str
    password: str = field(repr=False)
    folder: str = "INBOX"


def parse_address(text: str, field: str = "mail") -> str:
    """An e-mail address: one ``@`` with text on both sides, no spaces or control
    characters. InvalidInput naming ``field`` otherwise."""
    value = text.strip()
    local, _, domain = value.partition("@")
    if not local or not domain or "@" in domain or not value.isprintable() or " " in value:
        raise InvalidInput(field, f"{text!r} is not an e-mail address", hint="e.g. us@hotline.test")
    return value


def shown(url: str) -> str:
    """``url`` as an error may show it: its password hidden."""
    try:
        parts = urlsplit(url.strip())
        if parts.password is None:
            return url.strip()
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()
    except ValueError:
        return "(an unreadable URL)"


def parse_smtp_url(url: str) -> SmtpServer:
    """The server an ``smtp_url`` names; InvalidInput saying what is wrong (never showing
    its password)."""
    parts = urlsplit(url.strip())
    url = shown(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise InvalidInput(
            "smtp_url", f"{url!r}: the scheme is smtp or smtps", hint="e.g. smtp://127.0.0.1:587"
        )
    if not parts.hostname:
        raise InvalidInput("smtp_url", f"{url!r} names no host", hint="e.g. smtp://127.0.0.1:587")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 587)
    except ValueError:
        raise InvalidInput("smtp_url", f"{url!r}: the port is a number") from None
    query = parse_qs(parts.query)
    starttls = (query.get("starttls") or ["optional"])[0]
    if starttls not in STARTTLS:
        raise InvalidInput("smtp_url", f"starttls={starttls!r}", hint="optional, required or off")
    return SmtpServer(
        parts.hostname,
        port,
        parts.scheme == "smtps",
        starttls,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
    )


def parse_imap_url(url: str) -> ImapServer:
    """The mailbox an ``imap_url`` names; InvalidInput saying what is wrong (never showing
    its password)."""
    parts = urlsplit(url.strip())
    url = shown(url)
    hint = "e.g. imap://us%40hotline.test:PASSWORD@127.0.0.1:143/INBOX"
    if parts.scheme not in ("imap", "imaps"):
        raise InvalidInput("imap_url", f"{url!r}: the scheme is imap or imaps", hint=hint)
    if not parts.hostname:
        raise InvalidInput("imap_url", f"{url!r} names no host", hint=hint)
    if not parts.username or parts.password is None:
        raise InvalidInput("imap_url", f"{url!r} names no user and password", hint=hint)
    try:
        port = parts.port or (993 if parts.scheme == "imaps" else 143)
    except ValueError:
        raise InvalidInput("imap_url", f"{url!r}: the port is a number") from None
    loopback = parts.hostname in ("localhost", "::1") or parts.hostname.startswith("127.")
    default = "optional" if loopback else "required"
    starttls = (parse_qs(parts.query).get("starttls") or [default])[0]
    if starttls not in STARTTLS:
        raise InvalidInput("imap_url", f"starttls={starttls!r}", hint="optional, required or off")
    return ImapServer(
        parts.hostname,
        port,
        parts.scheme == "imaps",
        starttls,
        unquote(parts.username),
        unquote(parts.password),
        unquote(parts.path.strip("/")) or "INBOX",
    )
