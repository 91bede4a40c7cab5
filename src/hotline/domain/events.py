"""Events: the unit of the ledger.

An event is a *body* (a JSON object), its Ed25519 *signature* and its *id*::

    body = {"v": 1, "line": "us-ru-deconfliction", "party": "US", "seq": 3,
            "prev": "<id of US's event 2 on this line>", "kind": "message",
            "author": "US/EUCOM-JOC", "key": "<key id>", "ts": "2026-...Z",
            "content": {...}}
    raw  = RFC 8785 canonical bytes of body
    id   = SHA-256(raw), hex
    sig  = Ed25519 signature of raw by the author's key

The author is a principal (``US/EUCOM-JOC``) or a party's node (``US``). Every event
belongs to the chain of its ``party`` on its ``line``; ``seq`` counts from 1 and ``prev``
is the id of the previous event of that chain (``null`` for the first).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from hotline.domain.canonical import canonical, digest
from hotline.domain.clock import format_time, parse_time
from hotline.domain.crypto import SigningKey
from hotline.domain.errors import InvalidInput
from hotline.domain.json_input import parse_json
from hotline.domain.sealing import open_content

FORMAT_VERSION = 1
BODY_FIELDS = ("v", "line", "party", "seq", "prev", "kind", "author", "key", "ts", "content")


class EventKind(StrEnum):
    MESSAGE = "message"
    RECEIPT = "receipt"
    ACK = "ack"
    LINE_PROPOSE = "line.propose"
    LINE_ACCEPT = "line.accept"
    LINKTEST = "linktest"
    KEY_ROTATE = "key.rotate"
    NODE_ROTATE = "node.rotate"
    ESCALATION = "escalation"
    RELAY_FORWARD = "relay.forward"
    CONTACT_REQUEST = "contact.request"
    CONTACT_ACCEPT = "contact.accept"
    CONTACT_DECLINE = "contact.decline"
    CONTACT_CANCEL = "contact.cancel"
    CONTACT_EXPIRE = "contact.expire"
    CONTACT_HELD = "contact.held"
    CATALOGUE_ADOPT = "catalogue.adopt"
    TRANSLATION = "translation"
    CERTIFICATION = "certification"
    WATCH_HANDOVER = "watch.handover"
    EVIDENCE = "evidence"
    ROLLCALL = "rollcall"
    ROLLCALL_ANSWER = "rollcall.answer"
    ROLLCALL_CLOSE = "rollcall.close"
    AGREEMENT_PROPOSE = "agreement.propose"
    AGREEMENT_SIGN = "agreement.sign"
    AGREEMENT_TERMINATE = "agreement.terminate"


@dataclass(frozen=True)
class Event:
    """A signed event. ``raw`` is the canonical body, the bytes that are hashed and signed.

    ``received`` is not part of it: for a peer's event, the time this node stored it
    (its own clock), kept beside the time the author claims (``ts``). Nor is
    ``content_key``: the key that opens its sealed content on this node, if it has one
    (see :mod:`hotline.domain.sealing`); ``content`` is then the opened content."""

    id: str
    raw: bytes
    sig: bytes
    body: Mapping[str, Any]
    received: datetime | None = field(default=None, compare=False)
    content_key: bytes | None = field(default=None, compare=False, repr=False)
    opened: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def line(self) -> str:
        return str(self.body["line"])

    @property
    def party(self) -> str:
        return str(self.body["party"])

    @property
    def seq(self) -> int:
        return int(self.body["seq"])

    @property
    def prev(self) -> str | None:
        prev = self.body["prev"]
        return None if prev is None else str(prev)

    @property
    def kind(self) -> str:
        return str(self.body["kind"])

    @property
    def author(self) -> str:
        return str(self.body["author"])

    @property
    def key_id(self) -> str:
        return str(self.body["key"])

    @property
    def ts(self) -> datetime:
        return parse_time(str(self.body["ts"]))

    @property
    def counted_from(self) -> datetime:
        """When deadlines on this event start: its signed time, or the time it reached
        this node if that is earlier (an author's clock running ahead gains no time)."""
        ts = self.ts
        return ts if self.received is None or self.received >= ts else self.received

    @property
    def content(self) -> Mapping[str, Any]:
        """The content as signed, or opened where it is sealed and this node can open it."""
        if self.opened is not None:
            return self.opened
        content: Mapping[str, Any] = self.body["content"]
        return content

    def with_key(self, key: bytes) -> Event:
        """This event with its sealed content opened by ``key``. Raises InvalidInput."""
        opened = open_content(self.kind, self.body.get("content"), key)
        return replace(self, content_key=key, opened=opened)

    @classmethod
    def from_raw(cls, raw: bytes, sig: bytes, received: datetime | None = None) -> Event:
        """Rebuild an event from its canonical bytes and signature (not verified here)."""
        body = parse_json(raw, "event")  # bounded: a peer's bytes, until checked
        if not isinstance(body, dict):
            raise InvalidInput("event", "body is not a JSON object")
        return cls(id=digest(raw), raw=raw, sig=sig, body=body, received=received)


def sign_event(
    *,
    line: str,
    party: str,
    seq: int,
    prev: str | None,
    kind: EventKind,
    author: str,
    key: SigningKey,
    ts: datetime,
    content: Mapping[str, Any],
) -> Event:
    """Build, canonicalise and sign one event."""
    body: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "line": line,
        "party": party,
        "seq": seq,
        "prev": prev,
        "kind": kind.value,
        "author": author,
        "key": key.public.key_id,
        "ts": format_time(ts),
        "content": dict(content),
    }
    raw = canonical(body)
    return Event(id=digest(raw), raw=raw, sig=key.sign(raw), body=body)
