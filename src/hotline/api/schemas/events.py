"""Events, messages and how they are read."""

from __future__ import annotations

from typing import Any

from hotline.api.schemas.base import FROM, Answer, Field


class Event(Answer):
    """A ledger event: its id, chain position, author, claimed time, time of receipt
    (a peer's event: when it reached this node) and content."""

    id: str
    line: str
    party: str
    seq: int
    kind: str
    author: str
    ts: str = Field(description="the time the event claims (its author's clock)")
    received: str | None = Field(description="when a peer's event reached this node")
    content: dict[str, Any]


class Acknowledgement(Answer):
    """An acknowledgement of a message: who, when, the officer on watch, the reply."""

    id: str
    by: str
    at: str
    officer: str | None
    reply: str | None


class MessageDetail(Event):
    """A message with its acknowledgements, as stored."""

    acks: list[Event]


class SentMessage(Event):
    acks: list[Acknowledgement]
    owed: list[str] = Field(
        default_factory=list, description="the parties whose acknowledgement it waits for"
    )


class Translation(Answer):
    id: str
    lang: str
    subject: str
    body: str
    translator: str
    machine: str | None = Field(description="the machine that made it, if one did")
    certified_by: str | None
    state: str = Field(description="uncertified, certified, corrected and certified...")


class Thread(Answer):
    refs: list[Event] = Field(description="the messages it refers to")
    referred_by: list[Event] = Field(description="the messages referring to it")
    acks: list[Acknowledgement]


class CatalogueText(Answer):
    title: str
    text: str


class MessageRead(Event):
    """A message as its reader reads it."""

    reader_lang: str
    catalogue: CatalogueText | None = Field(description="a pre-agreed message's text")
    translations: list[Translation]
    thread: Thread


class InboxItem(Answer):
    id: str
    line: str
    from_: str = FROM
    precedence: str
    kind: str
    subject: str
    body: str
    lang: str | None
    sent: str
    deadline: str
    left_seconds: float = Field(
        description="seconds to the deadline on the node's clock; negative: overdue"
    )
    seconds_left: float = Field(description="the same as left_seconds")
    acked_by: str | None
    acked_at: str | None
    officer: str | None
    escalations: list[str]
    exercise: str | None
    owed: bool = Field(
        default=True,
        description="whether the party owes it an acknowledgement (false: sent to it for "
        "information, or it observes the line)",
    )


class QueuedMessage(Answer):
    """A message from the other side with its translations (the translator's queue)."""

    id: str
    line: str
    from_: str = FROM
    precedence: str | None
    kind: str | None
    subject: str | None
    body: str | None
    lang: str | None
    sent: str
    translations: list[Translation]


class Line(Answer):
    id: str
    kind: str
    title: str
    status: str
    parties: list[str]
    principals: list[str]
    kinds: list[str]
    deadlines: dict[str, Any]
    observers: list[str] = Field(
        default_factory=list, description="parties that receive and verify, but write nothing"
    )
    mediator: str | None = Field(
        default=None, description="the party whose node carries the line between the others"
    )
    mediator_reads: bool = Field(
        default=True,
        description="false: what is said on the line is sealed from its mediator, readable "
        "only by the other parties",
    )


class MatrixRow(Answer):
    party: str
    role: str = Field(description="to (owes an acknowledgement), info, observer or mediator")
    standing: str = Field(description="acknowledged, waiting, overdue, received or sent")
    received_at: str | None = Field(description="the time in the party's signed receipt")
    acked_by: str | None
    acked_at: str | None
    reply: str | None
    escalations: list[str] = Field(
        description="what the sender's node did while this party's answer was missing"
    )


class AckMatrix(Answer):
    message: str
    line: str
    from_: str = FROM
    number: int | None = Field(description="the sender's message number on the line")
    precedence: str | None
    subject: str | None
    sent: str
    deadline: str
    owed: int = Field(description="how many parties owe an acknowledgement")
    acknowledged: int = Field(description="how many of them acknowledged")
    parties: list[MatrixRow]


class Slot(Answer):
    name: str
    type: str
    values: list[str]


class CatalogueEntry(Answer):
    code: str
    number: int
    title: str
    text: str
    slots: list[Slot]


class Catalogue(Answer):
    id: str
    name: str
    version: int
    entries: list[CatalogueEntry]
