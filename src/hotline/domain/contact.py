"""Contact requests: "SecDef requests a call with MinDef about X".

A request is a ``contact.request`` event by the requesting principal on a leaders line;
everything after it refers to it (``ref``)::

    pending --accept--> accepted --held--> held
       |    --decline-> declined
       |    --cancel--> cancelled          (accepted --cancel--> cancelled too)
       +--- --expire--> expired            (the requester's node, when the window closes)

The answer is the addressee's party's; cancel is the requester's (or either side's once
accepted); expire is the requester's node's. Both nodes write to the record
independently, so the state is folded from the events in order of their time: an answer
signed inside the window counts even when the requester's node recorded the expiry
first, and whatever comes after the request is settled is kept on the record but
changes nothing. Refusals and silence are counted (:func:`stats`).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from hotline.domain.clock import format_time, parse_time
from hotline.domain.errors import InvalidInput, PolicyRefused
from hotline.domain.events import Event, EventKind
from hotline.domain.exercise import mark
from hotline.domain.identity import is_node_author, parse_principal_id, party_of
from hotline.domain.language import parse_lang
from hotline.domain.policy import Line, LineKind, check_member

TOPIC_MAX = 500
TEXT_MAX = 4000


class ContactStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    HELD = "held"


CONTACT_KINDS = frozenset(
    {
        EventKind.CONTACT_REQUEST,
        EventKind.CONTACT_ACCEPT,
        EventKind.CONTACT_DECLINE,
        EventKind.CONTACT_CANCEL,
        EventKind.CONTACT_EXPIRE,
        EventKind.CONTACT_HELD,
    }
)
ANSWERS = frozenset({EventKind.CONTACT_ACCEPT, EventKind.CONTACT_DECLINE})


def _text(value: str, field: str, limit: int, *, required: bool) -> str:
    text = value.strip()
    if required and not text:
        raise InvalidInput(field, f"a {field} is required")
    if len(text) > limit:
        raise InvalidInput(field, f"longer than {limit} characters")
    return text


def request_content(
    to: str,
    topic: str,
    lang: str,
    respond_by: datetime,
    window: timedelta,
    exercise: str | None = None,
) -> dict[str, Any]:
    content = {
        "to": parse_principal_id(to),
        "topic": _text(topic, "topic", TOPIC_MAX, required=True),
        "lang": parse_lang(lang),
        "respond_by": format_time(respond_by),
        "window": int(window.total_seconds()),
    }
    return mark(content, exercise)


def accept_content(ref: str, proposed: datetime, note: str = "") -> dict[str, Any]:
    content: dict[str, Any] = {"ref": ref, "time": format_time(proposed)}
    if note.strip():
        content["note"] = _text(note, "note", TEXT_MAX, required=False)
    return content


def reason_content(ref: str, reason: str = "") -> dict[str, Any]:
    """Decline, cancel and expire: the request and an optional reason."""
    content: dict[str, Any] = {"ref": ref}
    if reason.strip():
        content["reason"] = _text(reason, "reason", TEXT_MAX, required=False)
    return content


def held_content(ref: str, at: datetime, minutes: int | None, summary: str) -> dict[str, Any]:
    content: dict[str, Any] = {
        "ref": ref,
        "at": format_time(at),
        "summary": _text(summary, "summary", TEXT_MAX, required=True),
    }
    if minutes is not None:
        if minutes < 1 or minutes > 24 * 60:
            raise InvalidInput("minutes", "a call lasts 1 to 1440 minutes")
        content["minutes"] = minutes
    return content


@dataclass(frozen=True)
class ContactRequest:
    """A request and where it stands, folded from its events."""

    id: str
    line: str
    requester: str
    addressee: str
    topic: str
    lang: str
    requested_at: datetime
    respond_by: datetime
    status: ContactStatus = ContactStatus.PENDING
    answer: ContactStatus | None = None  # accepted or declined, whatever came after
    answered_at: datetime | None = None
    answered_by: str | None = None
    proposed_time: datetime | None = None
    reason: str | None = None
    held_at: datetime | None = None
    summary: str | None = None
    closed_by: str | None = None  # cancelled by / expired by
    closed_at: datetime | None = None
    events: tuple[str, ...] = field(default=())

    @property
    def pair(self) -> tuple[str, str]:
        return self.requester, self.addressee

    @property
    def open(self) -> bool:
        return self.status is ContactStatus.PENDING

    def to_json(self) -> dict[str, Any]:
        """The request as the CLI and the API show it."""

        def t(moment: Any) -> str | None:
            return format_time(moment) if moment is not None else None

        return {
            "id": self.id,
            "line": self.line,
            "from": self.requester,
            "to": self.addressee,
            "topic": self.topic,
            "lang": self.lang,
            "status": self.status.value,
            "requested_at": t(self.requested_at),
            "respond_by": t(self.respond_by),
            "answer": self.answer.value if self.answer else None,
            "answered_at": t(self.answered_at),
            "answered_by": self.answered_by,
            "proposed_time": t(self.proposed_time),
            "reason": self.reason,
            "held_at": t(self.held_at),
            "summary": self.summary,
            "closed_by": self.closed_by,
            "closed_at": t(self.closed_at),
            "events": list(self.events),
        }

    def seconds_to_answer(self) -> float | None:
        if self.answered_at is None:
            return None
        return (self.answered_at - self.requested_at).total_seconds()


def parse_request(event: Event) -> ContactRequest:
    """The request an event makes. Raises InvalidInput when its content is not of form."""
    c: Any = event.content
    try:
        return ContactRequest(
            id=event.id,
            line=event.line,
            requester=event.author,
            addressee=parse_principal_id(c["to"]),
            topic=str(c["topic"]),
            lang=str(c["lang"]),
            requested_at=event.ts,
            respond_by=parse_time(c["respond_by"], field="respond_by"),
            events=(event.id,),
        )
    except (KeyError, TypeError) as exc:
        raise InvalidInput("contact", f"malformed contact request: {exc!r}") from exc


def apply(request: ContactRequest, event: Event) -> ContactRequest:
    """The request after ``event`` (one of its later events, in order of time). Events that
    come too late to change anything are kept on the record and leave the state as is."""
    kind, ts, c = event.kind, event.ts, event.content
    seen = replace(request, events=(*request.events, event.id))
    status = request.status
    if kind in ANSWERS:
        in_time = ts <= request.respond_by
        if not in_time or status not in (ContactStatus.PENDING, ContactStatus.EXPIRED):
            return seen
        if party_of(event.author) != party_of(request.addressee):
            return seen
        answer = (
            ContactStatus.ACCEPTED if kind == EventKind.CONTACT_ACCEPT else ContactStatus.DECLINED
        )
        return replace(
            seen,
            status=answer,
            answer=answer,
            answered_at=ts,
            answered_by=event.author,
            proposed_time=parse_time(c["time"]) if "time" in c else None,
            reason=c.get("reason") or c.get("note"),
            closed_by=None,
            closed_at=None,
        )
    if kind == EventKind.CONTACT_EXPIRE:
        if status is not ContactStatus.PENDING:
            return seen
        return replace(seen, status=ContactStatus.EXPIRED, closed_by=event.author, closed_at=ts)
    if kind == EventKind.CONTACT_CANCEL:
        if status is ContactStatus.PENDING and party_of(event.author) == party_of(
            request.requester
        ):
            pass
        elif status is not ContactStatus.ACCEPTED:
            return seen
        return replace(
            seen,
            status=ContactStatus.CANCELLED,
            closed_by=event.author,
            closed_at=ts,
            reason=c.get("reason") or request.reason,
        )
    if kind == EventKind.CONTACT_HELD and status is ContactStatus.ACCEPTED:
        return replace(
            seen,
            status=ContactStatus.HELD,
            held_at=parse_time(c["at"]),
            summary=str(c["summary"]),
        )
    return seen


def fold(request_event: Event, later: Iterable[Event]) -> ContactRequest:
    """A request and everything that refers to it, in order of time (ties: as given)."""
    request = parse_request(request_event)
    for event in sorted(later, key=lambda e: e.ts):
        request = apply(request, event)
    return request


def check_request(line: Line, requester: str, addressee: str) -> None:
    """Raise PolicyRefused unless ``requester`` may ask ``addressee`` for a call on
    ``line``: a leaders line both are on, of different parties."""
    if line.kind is not LineKind.LEADERS:
        raise PolicyRefused(
            f"contact requests go on leaders lines; {line.id} is a {line.kind.value} line",
            hint="find the leaders line with `hotline line list`",
        )
    check_member(line, requester)
    check_member(line, addressee)
    if party_of(requester) == party_of(addressee):
        raise PolicyRefused(f"{requester} and {addressee} are of the same party")


def check_step(
    request: ContactRequest, kind: EventKind, author: str, now: datetime, line: Line
) -> None:
    """Raise PolicyRefused unless ``author`` may record ``kind`` on ``request`` now
    (on the node where it is written: peers' events are checked by :func:`check_form`)."""
    status = request.status
    if kind == EventKind.CONTACT_EXPIRE:
        if status is not ContactStatus.PENDING or now < request.respond_by:
            raise PolicyRefused(f"request {request.id[:12]} is {status.value}, not due to expire")
        return
    check_member(line, author)
    if kind in ANSWERS:
        if party_of(author) != party_of(request.addressee):
            raise PolicyRefused(
                f"only {party_of(request.addressee)} answers this request",
                hint=f"the addressee is {request.addressee}",
            )
        # an expiry recorded early (the requester's clock ahead) does not shorten the window
        if status not in (ContactStatus.PENDING, ContactStatus.EXPIRED) or (
            status is ContactStatus.EXPIRED and now > request.respond_by
        ):
            raise PolicyRefused(f"request {request.id[:12]} is already {status.value}")
        if now > request.respond_by:
            raise PolicyRefused(
                f"the response window of request {request.id[:12]} closed at "
                f"{format_time(request.respond_by)}",
                hint="ask for a call yourself with `hotline contact request`",
            )
    elif kind == EventKind.CONTACT_CANCEL:
        if status is ContactStatus.PENDING:
            if now > request.respond_by:
                raise PolicyRefused(
                    f"the window of request {request.id[:12]} closed unanswered; "
                    "it is recorded as expired, not cancelled"
                )
            if party_of(author) != party_of(request.requester):
                raise PolicyRefused(
                    "a pending request is cancelled by the side that asked",
                    hint="decline it instead: hotline contact decline",
                )
        elif status is not ContactStatus.ACCEPTED:
            raise PolicyRefused(f"request {request.id[:12]} is {status.value}: nothing to cancel")
    elif kind == EventKind.CONTACT_HELD and status is not ContactStatus.ACCEPTED:
        raise PolicyRefused(
            f"request {request.id[:12]} is {status.value}; only an accepted call is held"
        )


def check_form(event: Event, request: ContactRequest | None, line: Line, skew: timedelta) -> None:
    """Checks on a peer's contact event that no race between the two nodes can make
    wrong: the form of its content, who wrote it, and for answers, that they were signed
    inside the response window. Raises InvalidInput (form) or PolicyRefused (scope)."""
    kind, author, c = event.kind, event.author, event.content
    if kind == EventKind.CONTACT_REQUEST:
        check_request(line, author, str(c.get("to", "")))
        request_content(
            str(c["to"]),
            str(c["topic"]),
            str(c["lang"]),
            parse_time(str(c["respond_by"])),
            timedelta(seconds=int(c["window"])),
            c.get("exercise"),
        )
        if parse_time(str(c["respond_by"])) <= event.ts:
            raise InvalidInput("contact", "the response window closes before the request")
        return
    if request is None:
        raise InvalidInput("contact", f"{kind} refers to {c.get('ref')!r}, not a request here")
    if request.line != event.line:
        raise PolicyRefused(f"{kind} is on another line than its request")
    if kind == EventKind.CONTACT_EXPIRE:
        if author != party_of(request.requester) or event.ts < request.respond_by:
            raise PolicyRefused("only the requester's node expires a request, once due")
        return
    if is_node_author(author):
        raise PolicyRefused(f"{kind} is written by a principal")
    check_member(line, author)
    if kind in ANSWERS:
        if party_of(author) != party_of(request.addressee):
            raise PolicyRefused(f"only {party_of(request.addressee)} answers this request")
        if event.ts > request.respond_by + skew:
            raise PolicyRefused("the answer was signed after the response window closed")
        if kind == EventKind.CONTACT_ACCEPT:
            parse_time(str(c["time"]))
    elif kind == EventKind.CONTACT_HELD:
        parse_time(str(c["at"]))
        _text(str(c["summary"]), "summary", TEXT_MAX, required=True)
    for key in ("reason", "note"):
        if key in c and not isinstance(c[key], str):
            raise InvalidInput("contact", f"'{key}' is text")


# -- accountability ----------------------------------------------------------------------


@dataclass(frozen=True)
class PairStats:
    requester: str
    addressee: str
    requested: int
    accepted: int  # whatever came after: held, or cancelled later
    held: int
    declined: int
    cancelled: int
    unanswered: int  # expired, or pending past the window
    pending: int  # still inside the window
    median_answer_s: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.requester,
            "to": self.addressee,
            "requested": self.requested,
            "accepted": self.accepted,
            "held": self.held,
            "declined": self.declined,
            "cancelled": self.cancelled,
            "unanswered": self.unanswered,
            "pending": self.pending,
            "median_seconds_to_answer": self.median_answer_s,
        }


def stats(requests: Iterable[ContactRequest], now: datetime, days: int) -> list[PairStats]:
    """Per (requester, addressee): requests made in the last ``days`` days and what came
    of them. ``unanswered`` counts silence: expired, or still pending past the window."""
    since = now - timedelta(days=days)
    pairs: dict[tuple[str, str], list[ContactRequest]] = {}
    for r in requests:
        if r.requested_at >= since:
            pairs.setdefault(r.pair, []).append(r)
    out = []
    for (requester, addressee), group in sorted(pairs.items()):
        count: Mapping[ContactStatus, int] = {
            s: sum(1 for r in group if r.status is s) for s in ContactStatus
        }
        overdue = sum(1 for r in group if r.status is ContactStatus.PENDING and now > r.respond_by)
        answers = [s for r in group if (s := r.seconds_to_answer()) is not None]
        out.append(
            PairStats(
                requester=requester,
                addressee=addressee,
                requested=len(group),
                accepted=sum(1 for r in group if r.answer is ContactStatus.ACCEPTED),
                held=count[ContactStatus.HELD],
                declined=sum(1 for r in group if r.answer is ContactStatus.DECLINED),
                cancelled=count[ContactStatus.CANCELLED],
                unanswered=count[ContactStatus.EXPIRED] + overdue,
                pending=count[ContactStatus.PENDING] - overdue,
                median_answer_s=statistics.median(answers) if answers else None,
            )
        )
    return out
