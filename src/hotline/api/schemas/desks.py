"""Contact requests, the overdue board, notifications of intent, relayed messages, the
watch board."""

from __future__ import annotations

from typing import Any

from hotline.api.schemas.base import FROM, Answer, Field


class ContactRequest(Answer):
    id: str
    line: str
    from_: str = FROM
    to: str
    topic: str
    lang: str
    status: str = Field(description="pending, accepted, declined, expired, cancelled, held")
    requested_at: str
    respond_by: str
    answer: str | None
    answered_at: str | None
    answered_by: str | None
    proposed_time: str | None
    reason: str | None
    held_at: str | None
    summary: str | None
    closed_by: str | None
    closed_at: str | None
    events: list[str]


class PairStats(Answer):
    from_: str = FROM
    to: str
    requested: int
    accepted: int
    held: int
    declined: int
    cancelled: int
    unanswered: int = Field(description="expired, or pending past the window")
    pending: int
    median_seconds_to_answer: float | None


class ContactBucket(Answer):
    start: str
    end: str
    pairs: list[PairStats]


class ContactHistory(Answer):
    days: int
    bucket_days: int
    now: str
    buckets: list[ContactBucket]
    totals: list[PairStats]


class EscalationStep(Answer):
    at: str
    action: str | None
    line: str
    event: str
    step: int | None = None
    cycle: int | None = None
    outcome: str | None = None
    to: list[str] | None = None


class OverdueItem(Answer):
    kind: str = Field(description="message or contact")
    id: str
    line: str
    from_: str = FROM
    owed_by: list[str]
    what: str
    sent: str
    deadline: str
    overdue_seconds: float
    status: str
    steps: list[EscalationStep] = Field(description="what the escalation engine did, in order")


class Notice(Answer):
    """A notification of intent as it now stands."""

    id: str
    line: str
    from_: str = FROM
    state: str = Field(description="active, amended or cancelled")
    current: str = Field(description="the id of its latest version")
    activity: str | None
    window: dict[str, Any] | None
    area: dict[str, Any] | None
    units: list[str] | None
    short_notice: dict[str, Any] | None
    cancelled_by: str | None
    precedence: str | None
    subject: str | None
    remark: str | None
    to: list[str]
    sent: str
    current_sent: str
    cancelled_at: str | None


class NoticeActivity(Answer):
    activity: str
    label: str
    lead_time_seconds: int | None = Field(description="the notice this node's rule asks")


class Forwarded(Answer):
    by: str
    to: list[str]
    at: str


class Relayed(Answer):
    relay: str
    line: str
    message: str
    from_line: str
    from_: str = FROM
    precedence: str | None
    subject: str | None
    body: str | None
    lang: str | None
    relayed_at: str
    original_sent: str
    to: list[str]
    signature_verified: bool = Field(description="the original's author signature checks")
    signature_problem: str | None
    forwarded: list[Forwarded]


class WatchDesk(Answer):
    desk: str
    on_watch: str | None
    until: str | None
    next: str | None
    next_from: str | None


class WatchBoard(Answer):
    at: str
    desks: list[WatchDesk]


class Page(Answer):
    id: int
    item: str
    kind: str
    ref: str
    line: str
    desk: str
    precedence: str
    subject: str
    sender: str = Field(description="who sent the message concerned")
    since: str = Field(description="since when the item waits")
    level: int = Field(description="place on the desk's chain, 0 first")
    person: str = Field(description="who was paged (empty: nobody on watch)")
    ring: int = Field(description="the round of paging at that place, 1 first")
    channel: str = Field(description="email, webhook, or none (nobody reachable)")
    target: str = Field(description="the address, or the webhook's name")
    state: str = Field(description="sending, sent, failed, unreachable, resolved")
    detail: str
    at: str
    done_at: str | None


class PageReaction(Answer):
    item: str
    desk: str
    by: str = Field(description="the principal who reacted (empty: closed otherwise)")
    officer: str = Field(description="the officer on watch who reacted, if known")
    how: str = Field(description="ack (acknowledged), take (taken), closed")
    at: str


class PagedItem(Answer):
    item: str
    kind: str = Field(description="message (waiting for an ack) or escalation (alert)")
    desk: str
    ref: str = Field(description="the message concerned")
    line: str
    precedence: str
    subject: str
    from_: str = FROM
    since: str
    open: bool = Field(description="nobody has reacted yet: still paged")
    pages: list[Page]
    reaction: PageReaction | None


class PagingPlanAnswer(Answer):
    repeat: dict[str, str]
    next_after: dict[str, str]
    people: dict[str, dict[str, str]]
    webhooks: dict[str, dict[str, str]]
    desks: dict[str, dict[str, list[str]]]
    set_by: str | None
    set_at: str | None


class RollCallItem(Answer):
    id: str
    line: str
    asked_by: str = Field(description="the party whose node asked")
    to: str = Field(description="the party asked")
    at: str = Field(description="the scheduled time")
    asked: str = Field(description="when it was asked (the roll call's signed time)")
    window_s: int
    closes: str = Field(
        description="when it closes unanswered, if nobody answers (late after the window)"
    )
    answered: str | None
    answered_by: str | None
    officer: str | None
    outcome: str = Field(description="answered, late, unanswered, open")
    response_s: float | None


class RollCallMonth(Answer):
    line: str
    party: str = Field(description="the party asked")
    month: str
    total: int
    answered: int
    late: int
    unanswered: int
    open: int
    median_s: float | None


class AgreementZone(Answer):
    id: str
    kinds: list[str] = Field(description="track kinds: aircraft, helicopter, uav, balloon, ...")
    km: float = Field(description="how far from the other party's border the kinds keep")


class AgreementItem(Answer):
    id: str = Field(description="the SHA-256 of the terms' canonical form")
    line: str
    title: str = Field(description="in the reader's language where the terms have it")
    state: str = Field(description="proposed, signed, in force, expired, terminated, amended")
    proposed_by: str
    amends: str | None
    superseded_by: str | None
    signed: dict[str, str] = Field(description="party -> when it signed")
    terminated: dict[str, str] = Field(description="party -> when it signed the termination")
    start: str
    end: str | None = Field(description="null: no expiry, as the terms say")
    zones: list[AgreementZone]
    notice: dict[str, int] = Field(description="activity -> lead time in seconds")
    exceptions: list[str] = Field(description="zones a notification covering the track lifts")
