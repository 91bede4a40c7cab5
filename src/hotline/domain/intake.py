"""Checks on an event that arrives from a peer, before it is stored.

Everything a remote node sends is checked as the verifier checks stored events (id,
canonical form, key, signature), plus: a node pushes only its own party's chains, and the
content must be what a sender on this side would have been allowed to send.
"""

from __future__ import annotations

from typing import Any

from hotline.domain.errors import HotlineError, InvalidInput, RequestRefused
from hotline.domain.events import Event, EventKind
from hotline.domain.message import MessageDraft
from hotline.domain.policy import Line, check_send, parse_message_kind
from hotline.domain.precedence import parse_precedence
from hotline.domain.verify import KeyDirectory, StoredEvent, check_event, expected_ref

KINDS = frozenset(k.value for k in EventKind)


def row_of(event: Event) -> StoredEvent:
    """The row the event would be stored as (columns taken from its own body)."""
    try:
        body = event.body
        return StoredEvent(
            id=event.id,
            line=str(body["line"]),
            party=str(body["party"]),
            seq=int(body["seq"]),
            prev=body["prev"],
            kind=str(body["kind"]),
            author=str(body["author"]),
            ts=str(body["ts"]),
            ref=expected_ref(body["kind"], body.get("content")),
            raw=event.raw,
            sig=event.sig,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RequestRefused("malformed", f"event {event.id[:12]} lacks its fields") from exc


def check_authentic(event: Event, keys: KeyDirectory, sender: str) -> StoredEvent:
    """Raise RequestRefused unless the event is well-formed, signed by its author's
    registered key, and of the sender's own chain."""
    row = row_of(event)
    problem, _ = check_event(row, keys)
    if problem is not None:
        raise RequestRefused(problem.reason.value, problem.detail)
    if row.party != sender:
        raise RequestRefused("wrong chain", f"{sender} pushed an event of {row.party}'s chain")
    if row.kind not in KINDS:
        raise RequestRefused("malformed", f"unknown event kind {row.kind!r}")
    return row


def check_message(line: Line, event: Event) -> None:
    """A message must be in normal form and allowed by the line's policy."""
    content: Any = event.content
    try:
        draft = MessageDraft(
            kind=parse_message_kind(content["kind"]),
            precedence=parse_precedence(content["precedence"]),
            subject=content["subject"],
            body=content["body"],
            lang=content["lang"],
            refs=tuple(content["refs"]),
            to=tuple(content["to"]),
            area=content.get("area"),
            window=content.get("window"),
            activity=content.get("activity"),
            units=tuple(content.get("units", ())),
        )
        normal = draft.content()
    except (KeyError, TypeError, AttributeError, InvalidInput) as exc:
        raise RequestRefused("malformed", f"message content: {exc}") from exc
    if normal != dict(content):
        raise RequestRefused("malformed", "message content is not in normal form")
    try:
        check_send(line, event.author, draft.kind, draft.precedence, draft.body)
    except HotlineError as exc:
        raise RequestRefused("policy", exc.message) from exc
