"""Contact requests (hotline.domain.contact): the state folded from signed events, the
checks on who may write what and when, and the per-pair statistics.

Events are signed with fixed seeds at fixed times (a fake clock: plain datetimes). Both
nodes write to the record independently, so the fold is checked both in order of time
and in order of arrival.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hotline.domain.contact import (
    ContactRequest,
    ContactStatus,
    PairStats,
    accept_content,
    apply,
    check_request,
    check_step,
    fold,
    held_content,
    parse_request,
    reason_content,
    request_content,
    stats,
)
from hotline.domain.crypto import SigningKey
from hotline.domain.errors import PolicyRefused
from hotline.domain.events import Event, EventKind, sign_event
from hotline.domain.identity import party_of
from hotline.domain.policy import LineKind, make_line

OWNERS = ("US", "RU", "US/SECDEF", "RU/MINDEF", "US/DEPSECDEF", "RU/CHOD", "RU/NDMC")
KEYS = {owner: SigningKey(bytes([n + 1]) * 32) for n, owner in enumerate(OWNERS)}
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=4)
M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)

LEADERS = make_line(
    line_id="us-ru-leaders",
    kind=LineKind.LEADERS,
    title="Leaders",
    principals=["US/SECDEF", "US/DEPSECDEF", "RU/MINDEF", "RU/CHOD"],
)
DECON = make_line(
    line_id="us-ru-deconfliction",
    kind=LineKind.DECONFLICTION,
    title="Deconfliction",
    principals=["US/SECDEF", "RU/NDMC"],
)

ACCEPT = EventKind.CONTACT_ACCEPT
DECLINE = EventKind.CONTACT_DECLINE
CANCEL = EventKind.CONTACT_CANCEL
EXPIRE = EventKind.CONTACT_EXPIRE
HELD = EventKind.CONTACT_HELD

PENDING = ContactStatus.PENDING
ACCEPTED = ContactStatus.ACCEPTED
DECLINED = ContactStatus.DECLINED
CANCELLED = ContactStatus.CANCELLED
EXPIRED = ContactStatus.EXPIRED
HELD_ = ContactStatus.HELD


class Ledger:
    """Signs events with a chain per (line, party), as a node would."""

    def __init__(self) -> None:
        self.heads: dict[str, tuple[int, str | None]] = {}

    def sign(self, kind: EventKind, author: str, ts: datetime, content: Any) -> Event:
        party = party_of(author)
        seq, prev = self.heads.get(party, (0, None))
        event = sign_event(
            line=LEADERS.id,
            party=party,
            seq=seq + 1,
            prev=prev,
            kind=kind,
            author=author,
            key=KEYS[author],
            ts=ts,
            content=content,
        )
        self.heads[party] = (seq + 1, event.id)
        return event

    def request(
        self,
        at: datetime,
        requester: str = "US/SECDEF",
        to: str = "RU/MINDEF",
        window: timedelta = WINDOW,
    ) -> Event:
        content = request_content(to, "Incident at sea", "en", at + window, window)
        return self.sign(EventKind.CONTACT_REQUEST, requester, at, content)

    def follow(self, request: Event, kind: EventKind, author: str, at: datetime) -> Event:
        """An event of ``kind`` referring to ``request``."""
        ref = request.id
        if kind == ACCEPT:
            content = accept_content(ref, at + H, note="at the usual number")
        elif kind == HELD:
            content = held_content(ref, at, 20, "Agreed to keep ships apart.")
        else:
            content = reason_content(ref, f"{kind} by {author}")
        return self.sign(kind, author, at, content)


@dataclass(frozen=True)
class Step:
    kind: EventKind
    author: str
    minutes: float  # after the request


def script(
    steps: Sequence[Step], *, at: datetime = T0, ledger: Ledger | None = None
) -> tuple[Event, list[Event]]:
    ledger = ledger or Ledger()
    request = ledger.request(at)
    later = [ledger.follow(request, s.kind, s.author, at + s.minutes * M) for s in steps]
    return request, later


def state(steps: Sequence[Step]) -> ContactRequest:
    request, later = script(steps)
    return fold(request, later)


def apply_all(request: ContactRequest, events: Iterable[Event]) -> ContactRequest:
    for event in events:
        request = apply(request, event)
    return request


# -- the request itself -------------------------------------------------------------------


def test_parse_request() -> None:
    request_event, _ = script([])
    request = parse_request(request_event)
    assert request.id == request_event.id
    assert request.line == LEADERS.id
    assert request.pair == ("US/SECDEF", "RU/MINDEF")
    assert (request.topic, request.lang) == ("Incident at sea", "en")
    assert (request.requested_at, request.respond_by) == (T0, T0 + WINDOW)
    assert request.status is PENDING
    assert request.open
    assert request.answer is None
    assert request.seconds_to_answer() is None
    assert request.events == (request_event.id,)


# -- the fold: one table of histories ------------------------------------------------------

# the window closes 240 minutes after the request
FOLDS = [
    pytest.param([], PENDING, None, id="pending"),
    pytest.param([Step(ACCEPT, "RU/MINDEF", 30)], ACCEPTED, ACCEPTED, id="accepted"),
    pytest.param(
        [Step(ACCEPT, "RU/MINDEF", 30), Step(HELD, "US/SECDEF", 120)],
        HELD_,
        ACCEPTED,
        id="accepted then held",
    ),
    pytest.param([Step(DECLINE, "RU/MINDEF", 30)], DECLINED, DECLINED, id="declined"),
    pytest.param([Step(CANCEL, "US/SECDEF", 30)], CANCELLED, None, id="cancelled by requester"),
    pytest.param(
        [Step(CANCEL, "US/DEPSECDEF", 30)], CANCELLED, None, id="cancelled by requester's side"
    ),
    pytest.param([Step(EXPIRE, "US", 240)], EXPIRED, None, id="expired"),
    pytest.param([Step(ACCEPT, "RU/CHOD", 30)], ACCEPTED, ACCEPTED, id="another of the party"),
    pytest.param(
        [Step(ACCEPT, "RU/MINDEF", 30), Step(CANCEL, "RU/MINDEF", 60)],
        CANCELLED,
        ACCEPTED,
        id="accepted then cancelled by the addressee",
    ),
    pytest.param(
        [Step(ACCEPT, "RU/MINDEF", 30), Step(CANCEL, "US/SECDEF", 60)],
        CANCELLED,
        ACCEPTED,
        id="accepted then cancelled by the requester",
    ),
    pytest.param([Step(ACCEPT, "RU/MINDEF", 240)], ACCEPTED, ACCEPTED, id="answer at the close"),
    # the answer, signed inside the window, wins over the expiry recorded first
    pytest.param(
        [Step(EXPIRE, "US", 241), Step(ACCEPT, "RU/MINDEF", 239)],
        ACCEPTED,
        ACCEPTED,
        id="answer in window arrives after expiry",
    ),
    pytest.param(
        [Step(EXPIRE, "US", 240), Step(DECLINE, "RU/MINDEF", 240)],
        DECLINED,
        DECLINED,
        id="answer and expiry at the same moment",
    ),
    # too late, the wrong side, or already settled: kept on the record, changes nothing
    pytest.param([Step(ACCEPT, "RU/MINDEF", 241)], PENDING, None, id="answer after window"),
    pytest.param(
        [Step(EXPIRE, "US", 240), Step(ACCEPT, "RU/MINDEF", 241)],
        EXPIRED,
        None,
        id="answer after window and expiry",
    ),
    pytest.param([Step(ACCEPT, "US/DEPSECDEF", 30)], PENDING, None, id="requester's side answers"),
    pytest.param(
        [Step(EXPIRE, "US", 240), Step(ACCEPT, "US/DEPSECDEF", 200)],
        EXPIRED,
        None,
        id="requester's side answers after expiry",
    ),
    pytest.param([Step(CANCEL, "RU/MINDEF", 30)], PENDING, None, id="addressee cancels pending"),
    pytest.param(
        [Step(DECLINE, "RU/MINDEF", 30), Step(CANCEL, "US/SECDEF", 60)],
        DECLINED,
        DECLINED,
        id="cancel after decline",
    ),
    pytest.param(
        [Step(DECLINE, "RU/MINDEF", 30), Step(ACCEPT, "RU/CHOD", 60)],
        DECLINED,
        DECLINED,
        id="accept after decline",
    ),
    pytest.param(
        [Step(ACCEPT, "RU/MINDEF", 30), Step(DECLINE, "RU/CHOD", 60)],
        ACCEPTED,
        ACCEPTED,
        id="decline after accept",
    ),
    pytest.param(
        [Step(CANCEL, "US/SECDEF", 30), Step(ACCEPT, "RU/MINDEF", 60)],
        CANCELLED,
        None,
        id="accept after cancel",
    ),
    pytest.param(
        [Step(ACCEPT, "RU/MINDEF", 30), Step(EXPIRE, "US", 240)],
        ACCEPTED,
        ACCEPTED,
        id="expire after accept",
    ),
    pytest.param(
        [Step(EXPIRE, "US", 240), Step(CANCEL, "US/SECDEF", 250)],
        EXPIRED,
        None,
        id="cancel after expiry",
    ),
    pytest.param([Step(HELD, "US/SECDEF", 30)], PENDING, None, id="held while pending"),
    pytest.param(
        [Step(DECLINE, "RU/MINDEF", 30), Step(HELD, "US/SECDEF", 60)],
        DECLINED,
        DECLINED,
        id="held after decline",
    ),
    pytest.param(
        [
            Step(ACCEPT, "RU/MINDEF", 30),
            Step(HELD, "US/SECDEF", 120),
            Step(CANCEL, "US/SECDEF", 130),
        ],
        HELD_,
        ACCEPTED,
        id="cancel after held",
    ),
]


@pytest.mark.parametrize(("steps", "status", "answer"), FOLDS)
def test_fold(steps: list[Step], status: ContactStatus, answer: ContactStatus | None) -> None:
    request_event, later = script(steps)
    folded = fold(request_event, later)
    assert folded.status is status
    assert folded.answer is answer
    assert folded.open is (status is PENDING)
    # every event is kept on the record, in order of time
    by_time = sorted(later, key=lambda e: e.ts)
    assert folded.events == (request_event.id, *(e.id for e in by_time))


@pytest.mark.parametrize(("steps", "status", "answer"), FOLDS)
def test_fold_ignores_the_order_events_arrive_in(
    steps: list[Step], status: ContactStatus, answer: ContactStatus | None
) -> None:
    request_event, later = script(steps)
    folded = fold(request_event, list(reversed(later)))
    if len({e.ts for e in later}) == len(later):  # ties keep the order given
        assert folded.status is status
        assert folded.answer is answer


def test_answer_arriving_after_expiry_applied_in_arrival_order() -> None:
    """The requester's node recorded the expiry first; the answer, signed in time, comes
    in afterwards and still counts."""
    request_event, (expire, accept) = script(
        [Step(EXPIRE, "US", 240), Step(ACCEPT, "RU/MINDEF", 235)]
    )
    expired = apply(parse_request(request_event), expire)
    assert expired.status is EXPIRED
    assert (expired.closed_by, expired.closed_at) == ("US", T0 + 240 * M)

    answered = apply(expired, accept)
    assert answered.status is ACCEPTED
    assert answered.answer is ACCEPTED
    assert (answered.answered_by, answered.answered_at) == ("RU/MINDEF", T0 + 235 * M)
    assert (answered.closed_by, answered.closed_at) == (None, None)
    assert answered.events == (request_event.id, expire.id, accept.id)


def test_late_answer_in_arrival_order_changes_nothing() -> None:
    request_event, (expire, accept) = script(
        [Step(EXPIRE, "US", 240), Step(ACCEPT, "RU/MINDEF", 245)]
    )
    folded = apply_all(parse_request(request_event), [expire, accept])
    assert folded.status is EXPIRED
    assert folded.answer is None
    assert folded.answered_at is None
    assert folded.events == (request_event.id, expire.id, accept.id)


def test_fields_of_an_accepted_and_held_call() -> None:
    folded = state([Step(ACCEPT, "RU/MINDEF", 30), Step(HELD, "US/SECDEF", 120)])
    assert folded.answered_by == "RU/MINDEF"
    assert folded.answered_at == T0 + 30 * M
    assert folded.seconds_to_answer() == 30 * 60
    assert folded.proposed_time == T0 + 30 * M + H
    assert folded.reason == "at the usual number"
    assert folded.held_at == T0 + 120 * M
    assert folded.summary == "Agreed to keep ships apart."
    assert (folded.closed_by, folded.closed_at) == (None, None)


def test_fields_of_a_decline() -> None:
    folded = state([Step(DECLINE, "RU/CHOD", 45)])
    assert (folded.answered_by, folded.answered_at) == ("RU/CHOD", T0 + 45 * M)
    assert folded.seconds_to_answer() == 45 * 60
    assert folded.proposed_time is None
    assert folded.reason == "contact.decline by RU/CHOD"


def test_fields_of_a_cancel() -> None:
    folded = state([Step(CANCEL, "US/DEPSECDEF", 10)])
    assert (folded.closed_by, folded.closed_at) == ("US/DEPSECDEF", T0 + 10 * M)
    assert folded.reason == "contact.cancel by US/DEPSECDEF"
    assert folded.answered_at is None


# -- check_step: who may write what, when --------------------------------------------------


@pytest.mark.parametrize(
    ("before", "kind", "author", "minutes", "refusal"),
    [
        # allowed
        pytest.param([], ACCEPT, "RU/MINDEF", 10, None, id="accept"),
        pytest.param([], DECLINE, "RU/CHOD", 10, None, id="decline by another of the party"),
        pytest.param([], ACCEPT, "RU/MINDEF", 240, None, id="accept at the close"),
        pytest.param([], CANCEL, "US/SECDEF", 10, None, id="requester cancels"),
        pytest.param([], CANCEL, "US/DEPSECDEF", 10, None, id="requester's side cancels"),
        pytest.param(
            [Step(ACCEPT, "RU/MINDEF", 5)], CANCEL, "RU/MINDEF", 10, None, id="cancel accepted"
        ),
        pytest.param(
            [Step(ACCEPT, "RU/MINDEF", 5)], HELD, "US/SECDEF", 60, None, id="held when accepted"
        ),
        pytest.param([], EXPIRE, "US", 240, None, id="expire at the close"),
        pytest.param([], EXPIRE, "US", 600, None, id="expire late"),
        # refused
        pytest.param([], ACCEPT, "US/DEPSECDEF", 10, "only RU answers", id="wrong party answers"),
        pytest.param(
            [], DECLINE, "US/SECDEF", 10, "only RU answers", id="requester answers itself"
        ),
        pytest.param([], ACCEPT, "RU/MINDEF", 241, "response window", id="answer after window"),
        pytest.param(
            [Step(EXPIRE, "US", 240)], ACCEPT, "RU/MINDEF", 250, "already expired", id="expired"
        ),
        pytest.param(
            [Step(DECLINE, "RU/MINDEF", 5)],
            ACCEPT,
            "RU/CHOD",
            10,
            "already declined",
            id="answer twice",
        ),
        pytest.param(
            [],
            CANCEL,
            "RU/MINDEF",
            10,
            "cancelled by the side that asked",
            id="addressee cancels pending",
        ),
        pytest.param(
            [Step(DECLINE, "RU/MINDEF", 5)],
            CANCEL,
            "US/SECDEF",
            10,
            "nothing to cancel",
            id="cancel after decline",
        ),
        pytest.param([], HELD, "US/SECDEF", 60, "only an accepted call is held", id="held pending"),
        pytest.param(
            [Step(DECLINE, "RU/MINDEF", 5)],
            HELD,
            "US/SECDEF",
            60,
            "only an accepted call is held",
            id="held declined",
        ),
        pytest.param(
            [Step(ACCEPT, "RU/MINDEF", 5), Step(HELD, "US/SECDEF", 60)],
            HELD,
            "US/SECDEF",
            70,
            "only an accepted call is held",
            id="held twice",
        ),
        pytest.param([], EXPIRE, "US", 239, "not due to expire", id="expire early"),
        pytest.param(
            [Step(ACCEPT, "RU/MINDEF", 5)],
            EXPIRE,
            "US",
            300,
            "not due to expire",
            id="expire answered",
        ),
        pytest.param([], ACCEPT, "RU/NDMC", 10, "is not on line", id="not on the line"),
    ],
)
def test_check_step(
    before: list[Step], kind: EventKind, author: str, minutes: int, refusal: str | None
) -> None:
    request = state(before)
    now = T0 + minutes * M
    if refusal is None:
        check_step(request, kind, author, now, LEADERS)
        return
    with pytest.raises(PolicyRefused) as info:
        check_step(request, kind, author, now, LEADERS)
    assert refusal in str(info.value)


@pytest.mark.parametrize("minutes", [239, 240])
def test_answer_in_window_after_an_early_expiry_is_allowed(minutes: int) -> None:
    request_event, (expire,) = script([Step(EXPIRE, "US", 240)])
    expired = fold(request_event, [expire])
    now = T0 + minutes * M
    # what the fold would make of it: the answer counts
    accept = Ledger().follow(request_event, ACCEPT, "RU/MINDEF", now)
    assert apply(expired, accept).status is ACCEPTED
    check_step(expired, ACCEPT, "RU/MINDEF", now, LEADERS)


def test_a_request_past_its_window_cannot_be_cancelled_out_of_the_count() -> None:
    """Silence is counted: once the window has closed unanswered, the requester cannot
    turn it into a cancellation before its node records the expiry."""
    request = state([])
    with pytest.raises(PolicyRefused, match="closed unanswered"):
        check_step(request, CANCEL, "US/SECDEF", T0 + WINDOW + M, LEADERS)
    check_step(request, CANCEL, "US/SECDEF", T0 + WINDOW - M, LEADERS)


def test_an_answer_after_an_expiry_and_after_the_window_is_refused() -> None:
    request_event, (expire,) = script([Step(EXPIRE, "US", 240)])
    with pytest.raises(PolicyRefused, match="already expired"):
        check_step(fold(request_event, [expire]), ACCEPT, "RU/MINDEF", T0 + 241 * M, LEADERS)


@pytest.mark.parametrize(
    ("line", "requester", "addressee", "refusal"),
    [
        (LEADERS, "US/SECDEF", "RU/MINDEF", None),
        (LEADERS, "RU/CHOD", "US/DEPSECDEF", None),
        (LEADERS, "US/SECDEF", "US/DEPSECDEF", "of the same party"),
        (LEADERS, "US/SECDEF", "RU/NDMC", "is not on line"),
        (DECON, "US/SECDEF", "RU/NDMC", "contact requests go on leaders lines"),
    ],
)
def test_check_request(line: Any, requester: str, addressee: str, refusal: str | None) -> None:
    if refusal is None:
        check_request(line, requester, addressee)
        return
    with pytest.raises(PolicyRefused, match=refusal):
        check_request(line, requester, addressee)


# -- stats over a scripted month -----------------------------------------------------------

NOW = T0 + 30 * D
DAY_WINDOW = D


@dataclass(frozen=True)
class Scripted:
    """A request made ``day`` days after T0, answered ``steps`` minutes after it."""

    day: float
    requester: str
    to: str
    steps: tuple[Step, ...] = ()


US_TO_RU = ("US/SECDEF", "RU/MINDEF")
RU_TO_US = ("RU/MINDEF", "US/SECDEF")

MONTH = [
    # US/SECDEF -> RU/MINDEF: seven requests, no acceptance, five refusals, two silences
    Scripted(-3, *US_TO_RU, (Step(DECLINE, "RU/MINDEF", 5),)),  # before the month: left out
    Scripted(1, *US_TO_RU, (Step(DECLINE, "RU/MINDEF", 10),)),
    Scripted(4, *US_TO_RU, (Step(DECLINE, "RU/MINDEF", 50),)),
    Scripted(8, *US_TO_RU, (Step(DECLINE, "RU/CHOD", 20),)),
    Scripted(12, *US_TO_RU, (Step(EXPIRE, "US", 24 * 60),)),  # expired
    Scripted(15, *US_TO_RU, (Step(DECLINE, "RU/MINDEF", 40),)),
    Scripted(20, *US_TO_RU),  # pending past its window: nobody wrote the expiry
    Scripted(27, *US_TO_RU, (Step(DECLINE, "RU/MINDEF", 30),)),
    # RU/MINDEF -> US/SECDEF: accepted ones, one held, one cancelled after, one still open
    Scripted(2, *RU_TO_US, (Step(ACCEPT, "US/SECDEF", 6), Step(HELD, "RU/MINDEF", 120))),
    Scripted(9, *RU_TO_US, (Step(ACCEPT, "US/SECDEF", 10), Step(CANCEL, "US/SECDEF", 60))),
    Scripted(16, *RU_TO_US, (Step(DECLINE, "US/DEPSECDEF", 20),)),
    Scripted(21, *RU_TO_US, (Step(ACCEPT, "US/SECDEF", 30),)),
    Scripted(23, *RU_TO_US, (Step(CANCEL, "RU/CHOD", 15),)),  # withdrawn before an answer
    Scripted(29.9, *RU_TO_US),  # asked 2.4 hours ago, a day to answer: pending
    # RU/CHOD -> US/DEPSECDEF: before the month only
    Scripted(-10, "RU/CHOD", "US/DEPSECDEF", (Step(ACCEPT, "US/DEPSECDEF", 5),)),
]


def month() -> list[ContactRequest]:
    ledger = Ledger()
    out = []
    for s in MONTH:
        at = T0 + s.day * D
        content = request_content(s.to, "Weekly call", "en", at + DAY_WINDOW, DAY_WINDOW)
        request = ledger.sign(EventKind.CONTACT_REQUEST, s.requester, at, content)
        later = [ledger.follow(request, x.kind, x.author, at + x.minutes * M) for x in s.steps]
        out.append(fold(request, later))
    return out


def test_stats_over_a_month() -> None:
    by_pair = {(p.requester, p.addressee): p for p in stats(month(), NOW, 30)}
    assert list(by_pair) == [RU_TO_US, US_TO_RU]  # sorted; RU/CHOD's request is too old

    us = by_pair[US_TO_RU]
    assert us == PairStats(
        requester="US/SECDEF",
        addressee="RU/MINDEF",
        requested=7,
        accepted=0,
        held=0,
        declined=5,
        cancelled=0,
        unanswered=2,
        pending=0,
        median_answer_s=30 * 60.0,  # of 10, 20, 30, 40 and 50 minutes
    )

    ru = by_pair[RU_TO_US]
    assert ru == PairStats(
        requester="RU/MINDEF",
        addressee="US/SECDEF",
        requested=6,
        accepted=3,  # held, cancelled afterwards, and still accepted
        held=1,
        declined=1,
        cancelled=2,  # once accepted, once withdrawn before an answer
        unanswered=0,
        pending=1,
        median_answer_s=15 * 60.0,  # of 6, 10, 20 and 30 minutes
    )
    assert ru.to_json() == {
        "from": "RU/MINDEF",
        "to": "US/SECDEF",
        "requested": 6,
        "accepted": 3,
        "held": 1,
        "declined": 1,
        "cancelled": 2,
        "unanswered": 0,
        "pending": 1,
        "median_seconds_to_answer": 900.0,
    }


@pytest.mark.parametrize(
    ("days", "us_requested", "us_declined", "us_unanswered", "us_median_min", "ru_requested"),
    [
        (1, 0, 0, 0, None, 1),  # only RU's request of 2.4 hours ago
        (4, 1, 1, 0, 30, 1),  # day 27
        (11, 2, 1, 1, 30, 3),  # days 20 and 27: the silence counts
        (33, 8, 6, 2, 25, 6),  # the request of day -3 comes in: 5, 10, 20, 30, 40, 50 minutes
        (45, 8, 6, 2, 25, 6),
    ],
)
def test_stats_leave_out_older_requests(
    days: int,
    us_requested: int,
    us_declined: int,
    us_unanswered: int,
    us_median_min: int | None,
    ru_requested: int,
) -> None:
    by_pair = {(p.requester, p.addressee): p for p in stats(month(), NOW, days)}
    us = by_pair.get(US_TO_RU)
    if us_requested == 0:
        assert us is None
    else:
        assert us is not None
        assert (us.requested, us.declined, us.unanswered) == (
            us_requested,
            us_declined,
            us_unanswered,
        )
        assert us.median_answer_s == (us_median_min * 60 if us_median_min else None)
    assert by_pair[RU_TO_US].requested == ru_requested


def test_stats_window_boundary() -> None:
    ledger = Ledger()
    since = NOW - 7 * D
    edge = fold(ledger.request(since), [])
    before = fold(ledger.request(since - timedelta(seconds=1)), [])
    (pair,) = stats([edge, before], NOW, 7)
    assert pair.requested == 1
    assert pair.unanswered == 1  # its window closed long ago
    assert pair.median_answer_s is None


@pytest.mark.parametrize(
    ("now", "pending", "unanswered"),
    [
        (T0 + H, 1, 0),
        (T0 + WINDOW, 1, 0),  # the window closes at respond_by, not before
        (T0 + WINDOW + timedelta(seconds=1), 0, 1),
    ],
)
def test_stats_pending_turns_unanswered_after_the_window(
    now: datetime, pending: int, unanswered: int
) -> None:
    (pair,) = stats([state([])], now, 30)
    assert (pair.requested, pair.pending, pair.unanswered) == (1, pending, unanswered)


def test_stats_of_nothing() -> None:
    assert stats([], NOW, 30) == []
