"""How the CLI shows things on a terminal: summaries, ids, time left (the JSON forms of
records are :mod:`hotline.services.views`, shared with the operator API)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rich.table import Column

from hotline.cli.base import out
from hotline.domain.canonical import content_id
from hotline.domain.clock import format_time
from hotline.domain.events import Event, EventKind
from hotline.domain.precedence import format_duration
from hotline.domain.sealing import is_sealed, readers_of


def short(event_id: str) -> str:
    """An id as the CLI prints it: on a terminal its first 12 characters (a prefix every
    command takes); to a pipe or a file the whole id, for scripts."""
    return event_id[:12] if out.is_terminal else event_id


def id_column(header: str = "ID") -> Column:
    """A table column of ids: never wrapped, never narrower than a short id."""
    return Column(header, no_wrap=True, min_width=12)


def time_left(seconds: float) -> str:
    """``9m 58s``, ``2h 05m``, or ``OVERDUE 3m 10s``."""
    overdue = seconds < 0
    total = int(abs(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"
    return f"OVERDUE {text}" if overdue else text


def duration(delta: timedelta) -> str:
    return format_duration(delta)


def clock_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")


def summary(event: Event) -> str:
    """One line saying what an event is (its kind alone when its content is odd)."""
    try:
        return _summary(event)
    except (KeyError, TypeError, AttributeError):
        return event.kind


def _summary(event: Event) -> str:
    c = event.content
    if is_sealed(c):  # this node carries it for a line's other parties, who alone read it
        number = f"{event.party} {c['number']} " if c.get("number") else ""
        what = f"{c['precedence']} {c['kind']}" if event.kind == EventKind.MESSAGE else event.kind
        return f"{number}{what}: sealed (readable by {', '.join(sorted(readers_of(c)))})"
    match event.kind:
        case EventKind.MESSAGE:
            mark = f"EXERCISE {c['exercise']} " if c.get("exercise") else ""
            number = f"{event.party} {c['number']} " if c.get("number") else ""
            to = f" (to {', '.join(c['to'])})" if c.get("to") else ""
            info = f" (info {', '.join(c['info'])})" if c.get("info") else ""
            return f"{mark}{number}{c['precedence']} {c['kind']}: {c['subject']}{to}{info}"
        case EventKind.ACK:
            reply = f" - reply: {c['reply']['body']}" if "reply" in c else ""
            return f"acknowledges {short(c['ref'])}{reply}"
        case EventKind.RECEIPT:
            return f"receipt: holds {c['of']} up to seq {c['upto_seq']}"
        case EventKind.LINE_PROPOSE:
            return f"proposes {c['terms']['kind']} line, terms {short(content_id(c['terms']))}"
        case EventKind.LINE_ACCEPT:
            return f"accepts terms {short(c['terms_id'])}"
        case EventKind.KEY_ROTATE:
            return f"new key for {c['principal']} (replaces {c.get('replaces') or '-'})"
        case EventKind.NODE_ROTATE:
            return f"new node key for {c['party']} (replaces {c['replaces']})"
        case EventKind.LINKTEST:
            return f"link test round {c['round']} with {c['peer']}: {c['state']}"
        case EventKind.ESCALATION:
            return _escalation(c)
        case EventKind.RELAY_FORWARD:
            return f"forwards relayed {short(c['message'])} to {', '.join(c['to'])}"
        case EventKind.CONTACT_REQUEST:
            return f"requests a call with {c['to']}: {c['topic']} (answer by {c['respond_by']})"
        case EventKind.CONTACT_ACCEPT:
            return f"accepts call {short(c['ref'])}, proposes {c['time']}"
        case EventKind.CONTACT_DECLINE:
            return f"declines call {short(c['ref'])}" + (
                f": {c['reason']}" if "reason" in c else ""
            )
        case EventKind.CONTACT_CANCEL:
            return f"cancels call {short(c['ref'])}" + (f": {c['reason']}" if "reason" in c else "")
        case EventKind.CONTACT_EXPIRE:
            return f"call request {short(c['ref'])} expired unanswered"
        case EventKind.CONTACT_HELD:
            return f"call {short(c['ref'])} held at {c['at']}: {c['summary']}"
        case EventKind.EVIDENCE:
            return (
                f"commits {c['positions']} positions of {c['subject']}'s tracks captured "
                f"in the minute from {c['minute']}: root {c['root'][:16]}"
            )
        case EventKind.ROLLCALL:
            return f"roll call of {c['to']} for {c['at']} (answer within {c['window_s']} s)"
        case EventKind.ROLLCALL_ANSWER:
            officer = f" ({c['officer']})" if c.get("officer") else ""
            return f"answers roll call {short(c['ref'])}{officer}"
        case EventKind.ROLLCALL_CLOSE:
            return f"roll call {short(c['ref'])} {c['outcome']}"
        case EventKind.AGREEMENT_PROPOSE:
            title = next(iter(c["terms"]["title"].values()))
            amends = f", amending {short(c['amends'])}" if c.get("amends") else ""
            return f"proposes agreement {short(c['agreement'])}: {title}{amends}"
        case EventKind.AGREEMENT_SIGN:
            return f"signs agreement {short(c['agreement'])}"
        case EventKind.AGREEMENT_TERMINATE:
            return f"signs the termination of agreement {short(c['agreement'])}"
    return event.kind


def _escalation(c: Any) -> str:
    ref = short(c["ref"])
    if c["action"] == "stop":
        return f"escalation of {ref} stops: {c['reason']}"
    what = {
        "resend": f"resends {ref}",
        "relay": f"relays {ref} from {c.get('from_line', '?')} to {', '.join(c.get('to') or [])}",
        "alert": f"alerts {', '.join(c.get('to') or []) or 'nobody'} about {ref}",
    }.get(c["action"], f"{c['action']} {ref}")
    if c.get("outcome", "done") != "done":
        what = f"{c['action']} of {ref} {c['outcome']}"
    round_ = f", round {c['cycle'] + 1}" if c.get("cycle") else ""
    return f"escalation step {c['step']}{round_}: {what}"


def arrival(event: Event) -> str:
    """The claimed time, and beside it the time of receipt when they differ by over 1 s."""
    ts = str(event.body["ts"])
    if event.received is None or abs((event.received - event.ts).total_seconds()) <= 1:
        return ts
    skew = (event.ts - event.received).total_seconds()
    return f"{ts}\nreceived {format_time(event.received)} ({skew:+.0f} s)"
