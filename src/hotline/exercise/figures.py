"""The figures of an exercise's after-action report: data only, every word chosen when
they are said (:mod:`hotline.exercise.findings`, :mod:`hotline.exercise.plots`).
:mod:`hotline.exercise.report` computes them from a node's record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hotline.domain.alerting import Alert
from hotline.domain.contact import ContactRequest
from hotline.domain.precedence import Precedence
from hotline.storage.peers import Rejection


@dataclass(frozen=True)
class Step:
    """One escalation event about a message. ``line`` is where it was recorded: for a
    relay, the line it went over."""

    at: datetime
    action: str
    outcome: str  # "done", or "skipped: why"
    line: str
    to: tuple[str, ...] = ()

    @property
    def done(self) -> bool:
        return self.outcome == "done"


@dataclass(frozen=True)
class MessageFigure:
    id: str
    line: str
    party: str
    author: str
    precedence: Precedence
    subject: str
    sent_at: datetime
    deadline: datetime
    acked_at: datetime | None  # when the last awaited party acknowledged
    acked_by: str | None
    alert: str | None  # the awareness alert it was drafted from
    steps: tuple[Step, ...] = ()

    @property
    def seconds_to_ack(self) -> float | None:
        return None if self.acked_at is None else (self.acked_at - self.sent_at).total_seconds()

    @property
    def seconds_late(self) -> float | None:
        """How long after the deadline it was acknowledged (None: in time, or never)."""
        if self.acked_at is None or self.acked_at <= self.deadline:
            return None
        return (self.acked_at - self.deadline).total_seconds()

    @property
    def taken(self) -> tuple[Step, ...]:
        """Escalation steps taken (done; stops aside)."""
        return tuple(s for s in self.steps if s.done and s.action != "stop")


@dataclass(frozen=True)
class Tally:
    """Messages of one precedence or one line, and how their acknowledgements went."""

    label: str
    sent: int
    acknowledged: int
    late: int
    never: int
    median_s: float | None
    p90_s: float | None
    max_s: float | None
    steps: int  # escalation steps taken


@dataclass(frozen=True)
class EscalationCount:
    action: str
    done: int
    skipped: int


@dataclass(frozen=True)
class ContactCounts:
    requested: int
    accepted: int  # whatever came after: held, or cancelled later
    held: int
    declined: int
    unanswered: int  # expired, or pending past the window
    cancelled: int
    pending: int
    median_answer_s: float | None
    max_answer_s: float | None


@dataclass(frozen=True)
class Refusal:
    """A call request declined or left to expire (``request``), or a federation
    rejection (``rejection``)."""

    at: datetime
    source: str  # "contact" or "federation"
    reason: str | None  # as given; None: a request declined without one, or left to expire
    request: ContactRequest | None = None
    rejection: Rejection | None = None


@dataclass(frozen=True)
class AlertFigure:
    id: str
    rule: str
    severity: str
    alert: Alert
    opened_at: datetime
    drafted_at: datetime | None  # the first exercise message drafted from it


@dataclass(frozen=True)
class Outage:
    """From a failed link test to the next good one (``end`` None: not in the span)."""

    start: datetime
    end: datetime | None
    tests: int  # failed tests in a row

    @property
    def seconds(self) -> float | None:
        return None if self.end is None else (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class LinkFigure:
    peer: str
    tests: tuple[tuple[datetime, bool], ...]  # (when, any path answered)
    outages: tuple[Outage, ...]

    @property
    def availability(self) -> float | None:
        return sum(ok for _, ok in self.tests) / len(self.tests) if self.tests else None


@dataclass(frozen=True)
class ExerciseFigures:
    exercise: str
    party: str  # the node's
    start: datetime
    end: datetime
    as_of: datetime  # when gathered: a request still pending then may still be answered
    messages: tuple[MessageFigure, ...]
    by_precedence: tuple[Tally, ...]
    by_line: tuple[Tally, ...]
    escalations: tuple[EscalationCount, ...]
    contacts: ContactCounts
    requests: tuple[ContactRequest, ...]
    refusals: tuple[Refusal, ...]
    alerts: tuple[AlertFigure, ...]
    links: tuple[LinkFigure, ...]

    @property
    def alerts_drafted(self) -> int:
        return sum(1 for a in self.alerts if a.drafted_at is not None)
