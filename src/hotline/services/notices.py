"""Notifications of intent: send, amend, cancel, and list where each stands."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hotline.domain.area import parse_area
from hotline.domain.clock import format_time
from hotline.domain.errors import InvalidInput, PolicyRefused
from hotline.domain.events import Event, EventKind
from hotline.domain.identity import party_of
from hotline.domain.intent import (
    ACTIVITY_LABELS,
    Activity,
    IntentOp,
    ShortNotice,
    check_window_ahead,
    intent_block,
    notice,
)
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from hotline.services.messages import Messages


@dataclass(frozen=True)
class NoticeView:
    """A notification and what became of it: its latest amendment, or its cancellation."""

    original: Event
    current: Event  # the original, or its latest amendment
    cancelled: Event | None

    @property
    def state(self) -> str:
        if self.cancelled is not None:
            return "cancelled"
        return "amended" if self.current.id != self.original.id else "active"


#: The lead times on a line, from the node's: (line id, the node's) -> those in force there.
LeadTimesOnLine = Callable[[str, Mapping[Activity, timedelta]], dict[Activity, timedelta]]


class Notices:
    def __init__(
        self,
        messages: Messages,
        lead_times: Mapping[Activity, timedelta],
        on_line: LeadTimesOnLine | None = None,
    ) -> None:
        """``lead_times``: the node's (setting ``lead_times``); ``on_line``: those on a
        line, as the agreements in force there change them."""
        self.messages = messages
        self.store = messages.store
        self.writer = messages.writer
        self.lead_times = dict(lead_times)
        self.on_line = on_line

    def rules(self, line_id: str | None) -> dict[Activity, timedelta]:
        """The lead times a notification on ``line_id`` must give (the node's if None)."""
        if line_id is None or self.on_line is None:
            return dict(self.lead_times)
        return self.on_line(line_id, self.lead_times)

    def _draft(
        self,
        op: IntentOp,
        sender: str,
        *,
        activity: Activity,
        start: datetime,
        end: datetime,
        area: Mapping[str, Any],
        units: tuple[str, ...],
        remark: str,
        precedence: Precedence,
        to: tuple[str, ...],
        confirm_short_notice: bool,
        of: str | None = None,
        subject: str | None = None,
        line_id: str | None = None,
    ) -> MessageDraft:
        now = self.writer.now()
        if end <= start:
            raise InvalidInput("window", "the end of the window must come after its start")
        check_window_ahead(end, now)
        parse_area(area)
        if not [u for u in units if u.strip()]:
            raise InvalidInput("units", "name the units or assets (--unit, repeat)")
        given = notice(activity, start, now, self.rules(line_id))
        if given.short and not confirm_short_notice:
            assert given.required is not None
            raise ShortNotice(activity, given.required, given.given)
        label = ACTIVITY_LABELS[activity]["en"]
        return MessageDraft(
            kind=MessageKind.NOTIFICATION,
            precedence=precedence,
            subject=subject or f"Notification of intent: {label}, {format_time(start)}",
            body=remark.strip() or f"Notification of intent: {label}.",
            refs=(of,) if of else (),
            to=to,
            area=area,
            window={"start": format_time(start), "end": format_time(end)},
            activity=activity.value,
            units=units,
            intent=intent_block(op, of, given, sender),
        )

    def send(self, line_id: str, sender: str, **fields: Any) -> Event:
        """A new notification of intent. Raises ShortNotice (unless confirmed),
        InvalidInput for a missing or malformed field, PolicyRefused as any message."""
        draft = self._draft(IntentOp.NOTIFY, sender, line_id=line_id, **fields)
        return self.messages.send(line_id, sender, draft)

    def amend(self, of: str, sender: str, **fields: Any) -> Event:
        """Replace the fields of a notification (its whole content is given again)."""
        view = self._view(of, sender)
        draft = self._draft(
            IntentOp.AMEND, sender, of=view.original.id, line_id=view.original.line, **fields
        )
        return self.messages.send(view.original.line, sender, draft)

    def cancel(
        self, of: str, sender: str, reason: str, precedence: Precedence = Precedence.IMMEDIATE
    ) -> Event:
        view = self._view(of, sender)
        c = view.current.content
        draft = MessageDraft(
            kind=MessageKind.NOTIFICATION,
            precedence=precedence,
            subject=f"Cancelled: {view.original.content['subject']}"[:200],
            body=reason.strip() or "The notified activity will not take place.",
            refs=(view.original.id,),
            activity=c.get("activity"),
            intent=intent_block(IntentOp.CANCEL, view.original.id),
        )
        return self.messages.send(view.original.line, sender, draft)

    def _view(self, of: str, sender: str) -> NoticeView:
        original = self.store.event(of)
        block = original.content.get("intent") if original.kind == EventKind.MESSAGE else None
        if not isinstance(block, dict):
            raise InvalidInput("event", f"{original.id[:12]} is not a notification of intent")
        if block.get("op") != IntentOp.NOTIFY:
            original = self.store.event(str(block["of"]))
        if party_of(sender.upper()) != original.party:
            raise PolicyRefused(f"only {original.party} amends or cancels its notification")
        view = self.view_of(original)
        if view.cancelled is not None:
            raise PolicyRefused(f"notification {original.id[:12]} is already cancelled")
        return view

    def view_of(self, original: Event) -> NoticeView:
        changes = [
            m
            for m in self.store.events(original.line, party=original.party, kinds=["message"])
            if isinstance(m.content.get("intent"), dict)
            and m.content["intent"].get("of") == original.id
        ]
        amended = [m for m in changes if m.content["intent"]["op"] == IntentOp.AMEND]
        cancelled = [m for m in changes if m.content["intent"]["op"] == IntentOp.CANCEL]
        return NoticeView(
            original, amended[-1] if amended else original, cancelled[0] if cancelled else None
        )

    def notices(self, party: str | None = None) -> list[NoticeView]:
        """Every notification of intent on the lines of ``party`` (all if None), newest
        first, with its latest amendment or cancellation."""
        states = self.store.lines(party)
        found = [
            m
            for m in self.store.events_on([s.line.id for s in states], ["message"])
            if isinstance(m.content.get("intent"), dict)
            and m.content["intent"].get("op") == IntentOp.NOTIFY
        ]
        return [self.view_of(m) for m in reversed(found)]
