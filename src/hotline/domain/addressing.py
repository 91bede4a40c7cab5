"""Who a message is for on a line of many parties, and who of them has answered.

A message goes *to* named desks, or to every party that writes on the line; desks named
*for information* receive it and owe no acknowledgement; observers and the mediator
receive everything and owe nothing. The acknowledgement matrix says, for each party of
the line, what it owes, when its node signed that it held the message (its receipt),
who acknowledged it and when, and what the sender's node did about a missing answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from hotline.domain.clock import format_time
from hotline.domain.errors import InvalidInput
from hotline.domain.events import Event
from hotline.domain.identity import party_of
from hotline.domain.policy import Line, check_member
from hotline.domain.precedence import Precedence


def check_addressees(line: Line, sender: str, to: Iterable[str], info: Iterable[str]) -> None:
    """The addressees (``to``) and those informed (``info``) must be desks of other
    parties that write on the line, each named once. Raises InvalidInput or
    PolicyRefused."""
    own = party_of(sender)
    to, info = list(to), list(info)
    named = [*to, *info]
    for principal in named:
        if party_of(principal) == own:
            raise InvalidInput("to", f"{principal} is of the sender's own party")
        if principal not in line.policy.principals:
            check_member(line, principal)  # says which desks of that party are on it
        if line.silent(party_of(principal)):
            raise InvalidInput(
                "to",
                f"{party_of(principal)} only receives on line {line.id}: it is sent "
                "everything, and is neither addressed nor informed",
                hint="address desks of " + ", ".join(p for p in line.acting if p != own),
            )
    if len(set(named)) != len(named):
        raise InvalidInput("info", "a desk is named twice among the addressees and informed")
    informed = {party_of(p) for p in info}
    if not to and all(p in informed for p in line.acting if p != own):
        raise InvalidInput(
            "info",
            "every other party is only informed: the message is addressed to nobody",
            hint="address at least one party (--to), or leave it out of --info",
        )


def awaited(message: Event, line: Line) -> frozenset[str]:
    """The parties whose acknowledgement a message waits for: its addressees' parties,
    or every other party that writes on the line but those only informed."""
    content = message.content
    parties = {party_of(p) for p in content.get("to") or []} - {message.party}
    if parties:
        return frozenset(parties)
    informed = {party_of(p) for p in content.get("info") or []}
    return frozenset(p for p in line.acting if p != message.party and p not in informed)


class Role(StrEnum):
    """What a party of the line is to one message."""

    TO = "to"  # owes an acknowledgement
    INFO = "info"  # informed: receives, owes nothing
    OBSERVER = "observer"
    MEDIATOR = "mediator"


class Standing(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    WAITING = "waiting"  # owed, deadline not passed
    OVERDUE = "overdue"  # owed, deadline passed
    RECEIVED = "received"  # owes nothing; its node holds it
    SENT = "sent"  # owes nothing; no receipt yet


@dataclass(frozen=True)
class MatrixRow:
    party: str
    role: Role
    standing: Standing
    received_at: datetime | None  # the time the party's node signed in its receipt
    acked_by: str | None
    acked_at: datetime | None
    reply: str | None
    escalations: tuple[str, ...]  # the sender's node's steps while this party was awaited

    def to_json(self) -> dict[str, Any]:
        return {
            "party": self.party,
            "role": self.role.value,
            "standing": self.standing.value,
            "received_at": format_time(self.received_at) if self.received_at else None,
            "acked_by": self.acked_by,
            "acked_at": format_time(self.acked_at) if self.acked_at else None,
            "reply": self.reply,
            "escalations": list(self.escalations),
        }


def ack_matrix(
    message: Event,
    line: Line,
    receipts: Mapping[str, Event],
    acks: Sequence[Event],
    escalations: Sequence[Event],
    now: datetime,
) -> tuple[datetime, list[MatrixRow]]:
    """The message's deadline and one row per other party of ``line``, those owing an
    acknowledgement first. ``receipts``: each party's first receipt covering the
    message; ``acks`` and ``escalations``: the events referring to it."""
    deadline = message.counted_from + line.policy.deadline(
        Precedence(message.content["precedence"])
    )
    owed = awaited(message, line)
    answered = {a.party: a for a in sorted(acks, key=lambda a: a.ts, reverse=True)}
    rows = []
    for party in line.other_parties(message.party):
        role = (
            Role.TO
            if party in owed
            else Role.OBSERVER
            if party in line.observers
            else Role.MEDIATOR
            if party == line.mediator
            else Role.INFO
        )
        ack = answered.get(party)
        receipt = receipts.get(party)
        if ack is not None:
            standing = Standing.ACKNOWLEDGED
        elif role is Role.TO:
            standing = Standing.OVERDUE if now > deadline else Standing.WAITING
        else:
            standing = Standing.RECEIVED if receipt is not None else Standing.SENT
        steps = tuple(
            str(e.content.get("action"))
            for e in sorted(escalations, key=lambda e: e.ts)
            if role is Role.TO
            and e.content.get("action") != "stop"
            and e.content.get("outcome", "done") == "done"
            and party in _waiting(e, owed)
        )
        reply = ack.content.get("reply") if ack is not None else None
        reply = reply.get("body") if isinstance(reply, dict) else None
        rows.append(
            MatrixRow(
                party=party,
                role=role,
                standing=standing,
                received_at=receipt.ts if receipt is not None else None,
                acked_by=ack.author if ack is not None else None,
                acked_at=ack.ts if ack is not None else None,
                reply=reply if isinstance(reply, str) else None,
                escalations=steps,
            )
        )
    order = list(Role)
    rows.sort(key=lambda r: (order.index(r.role), r.party))
    return deadline, rows


def _waiting(escalation: Event, owed: frozenset[str]) -> frozenset[str]:
    """The parties an escalation step was for: as it names them, or (a step recorded
    before steps named them) every party the message waits for."""
    named = escalation.content.get("waiting")
    if isinstance(named, list) and all(isinstance(p, str) for p in named):
        return frozenset(named)
    return owed
