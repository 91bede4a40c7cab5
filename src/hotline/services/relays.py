"""Relayed messages on the receiving side: the relay principal (the attaché's
counterpart) sees each message relayed to its party, with the original id and
signature, and forwards it to the addressee desk."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.domain.crypto import b64decode
from hotline.domain.errors import InvalidInput, PolicyRefused, RequestRefused
from hotline.domain.events import Event, EventKind
from hotline.domain.identity import parse_principal_id, party_of
from hotline.domain.ledger import forward_content
from hotline.domain.policy import check_member
from hotline.services.directory import Directory
from hotline.services.sealing import Opener
from hotline.services.writer import LedgerWriter


@dataclass(frozen=True)
class Relayed:
    relay: Event  # the escalation event on the relay line
    original: Event  # the message, as signed by its author
    forwards: tuple[Event, ...]

    @property
    def to(self) -> list[str]:
        return list(self.relay.content.get("to") or [])


class Relays:
    def __init__(
        self, writer: LedgerWriter, directory: Directory, opener: Opener | None = None
    ) -> None:
        """``opener``: opens a relayed original sealed for this node (its line's mediator
        may not read it; see :mod:`hotline.domain.sealing`)."""
        self.opener = opener
        self.writer = writer
        self.store = writer.store
        self.directory = directory

    def relayed(self, party: str | None, principal: str | None = None) -> list[Relayed]:
        """Messages other parties relayed to ``party`` (to any party if None; on lines
        ``principal`` is on, if given), newest first."""
        states = [
            s
            for s in self.store.lines(party)
            if principal is None or principal in s.line.policy.principals
        ]
        relays = [
            e
            for e in self.store.events_on([s.line.id for s in states], [EventKind.ESCALATION])
            if e.party != party
            and (principal is None or party_of(principal) != e.party)
            and e.content.get("action") == "relay"
            and e.content.get("outcome") == "done"
        ]
        forwards: dict[str, list[Event]] = {}
        for f in self.store.referring([r.id for r in relays], [EventKind.RELAY_FORWARD.value]):
            forwards.setdefault(str(f.content["ref"]), []).append(f)
        return [
            Relayed(r, self._original(r), tuple(forwards.get(r.id, ()))) for r in reversed(relays)
        ]

    def _original(self, relay: Event) -> Event:
        """The relayed message, opened if it is sealed for this node (left sealed if it
        does not open: its signature is still shown checked or not)."""
        original = _original(relay)
        if self.opener is None:
            return original
        try:
            return self.opener.open(original)
        except RequestRefused:
            return original

    def forward(self, ref: str, principal: str, to: list[str] | None = None) -> Event:
        """Record that ``principal`` passed relayed message ``ref`` on to the desks ``to``
        of its party (by default: the message's addressees, or its party's desks on the
        message's own line)."""
        author = parse_principal_id(principal)
        self.store.require_principal(author)
        relay = self.store.event(ref)
        if relay.kind != EventKind.ESCALATION or relay.content.get("action") != "relay":
            raise InvalidInput("event", f"{relay.id[:12]} is not a relayed message")
        state = self.store.line(relay.line)
        check_member(state.line, author)
        if party_of(author) == relay.party:
            raise PolicyRefused("a relay is forwarded by the receiving side")
        original = _original(relay)
        party = party_of(author)
        if to:
            desks = [parse_principal_id(p) for p in to]
        else:
            desks = [p for p in original.content.get("to") or [] if party_of(p) == party]
            if not desks:
                try:
                    desks = list(self.store.line(original.line).line.principals_of(party))
                except Exception:
                    desks = []
        if not desks:
            raise InvalidInput("to", "name the desk to forward to with --to")
        for desk in desks:
            if party_of(desk) != party:
                raise InvalidInput("to", f"{desk} is not a desk of {party}")
            self.store.require_principal(desk)
        hosted = self.directory.hosted()
        content = forward_content(relay.id, original.id, desks)
        return self.writer.transact(
            lambda tx: self.writer.append(
                tx, state.line, EventKind.RELAY_FORWARD, author, content, hosted=hosted
            ),
            state.line.id,
        )


def _original(relay: Event) -> Event:
    original = relay.content["original"]
    return Event.from_raw(b64decode(original["raw"]), b64decode(original["sig"]))
