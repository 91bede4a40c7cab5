"""From an alert to a draft message: what the watch officer is offered to review and send
when a track nears a border (pure: the alert, the lines and the time are given)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from hotline.domain.alerting import Alert
from hotline.domain.errors import NotFound, PolicyRefused
from hotline.domain.message import MessageDraft
from hotline.domain.policy import LineKind, LineState, LineStatus, MessageKind
from hotline.domain.precedence import Precedence

#: The radius of the area a draft names around the alert's position, in km.
AREA_KM = 10.0
#: ... and around a closest point of approach, where two tracks are in play.
CPA_AREA_KM = 20.0
#: How long the window a draft names lasts from now.
WINDOW = timedelta(hours=1)


def draft_of(
    alert: Alert, alert_id: int, party: str, lines: Iterable[LineState], now: datetime
) -> tuple[LineState, MessageDraft]:
    """The draft about ``alert`` from ``party``'s node: a query to the party whose track
    it is, or a notification to the party whose border our track nears, on the line
    between us whose policy takes it (deconfliction first); FLASH when the alert is
    critical, IMMEDIATE otherwise. Raises PolicyRefused when the alert concerns no other
    party, NotFound when no active line to it takes that kind of message."""
    ours = alert.party == party
    other = alert.other if ours else alert.party
    if other is None or other == party:
        raise PolicyRefused(
            f"alert {alert_id} concerns no other party", hint="nothing to tell anyone"
        )
    kind = MessageKind.NOTIFICATION if ours else MessageKind.QUERY
    line = line_for(party, other, kind, lines)
    subject = ("Notification: " if ours else "Query: ") + alert.summary()
    body = f"{alert.summary()}. " + (
        "This activity is not directed at you."
        if ours
        else "Please explain the purpose of this activity."
    )
    draft = MessageDraft(
        kind=kind,
        precedence=Precedence.FLASH if alert.severity == "critical" else Precedence.IMMEDIATE,
        subject=subject[:200],
        body=body,
        area={
            "center": [round(alert.lon, 5), round(alert.lat, 5)],
            "radius": CPA_AREA_KM if alert.rule == "cpa" else AREA_KM,
            "unit": "km",
        },
        window={
            "start": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end": (now + WINDOW).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        activity=alert.kind.value,
        units=(alert.uid,),
        alert=str(alert_id),
        # on a line of many parties, to the party concerned (the others may read it)
        to=line.line.principals_of(other) if len(line.line.acting) > 2 else (),
    )
    return line, draft


def line_for(party: str, other: str, kind: MessageKind, lines: Iterable[LineState]) -> LineState:
    """The active line on which ``party`` and ``other`` both write whose policy takes
    ``kind``: a deconfliction line first, then the one of fewest parties, then by id.
    Raises NotFound when there is none."""
    usable = [
        s
        for s in lines
        if s.status is LineStatus.ACTIVE
        and {party, other} <= set(s.line.acting)
        and kind in s.line.policy.kinds
    ]
    if not usable:
        raise NotFound(
            "line",
            f"to {other} taking a {kind.value}",
            hint="agree a deconfliction line with that party first",
        )
    usable.sort(
        key=lambda s: (s.line.kind is not LineKind.DECONFLICTION, len(s.line.parties), s.line.id)
    )
    return usable[0]
