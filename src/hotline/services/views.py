"""The JSON form of each record, one presenter per kind, for the operator API and every
``--json`` of the CLI alike: events (and, for the CLI, the signed bytes beside them),
acknowledgements, lines (and the terms as signed), parties, principals, inbox items,
translations, notifications of intent, relayed messages and the watch board. Times are
ISO 8601 UTC (:func:`format_time`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hotline.domain.clock import format_time
from hotline.domain.crypto import b64encode
from hotline.domain.events import Event
from hotline.domain.identity import Party, Principal
from hotline.domain.intake import row_of
from hotline.domain.policy import LineState
from hotline.domain.roster import Shift
from hotline.domain.translation import Translation
from hotline.domain.verify import KeyDirectory, check_event
from hotline.services.messages import InboxItem
from hotline.services.notices import NoticeView
from hotline.services.relays import Relayed


def event_json(e: Event) -> dict[str, Any]:
    """An event as shown: where it stands (line, party, seq), what and by whom, its claimed
    time and when it reached this node (a peer's event), and its content."""
    return {
        "id": e.id,
        "line": e.line,
        "party": e.party,
        "seq": e.seq,
        "kind": e.kind,
        "author": e.author,
        "ts": e.body["ts"],
        "received": format_time(e.received) if e.received else None,
        "content": e.content,
    }


def signed_event_json(e: Event) -> dict[str, Any]:
    """:func:`event_json` with what proves it: the signed body and its signature (base64),
    so that the event can be checked away from the node (``hotline log --json``)."""
    return {**event_json(e), "body": e.body, "sig": b64encode(e.sig)}


def ack_json(a: Event) -> dict[str, Any]:
    """An acknowledgement: who, when, the officer on watch, and the reply if any."""
    reply = a.content.get("reply")
    return {
        "id": a.id,
        "by": a.author,
        "at": a.body["ts"],
        "officer": a.content.get("officer"),
        "reply": reply.get("body") if isinstance(reply, dict) else None,
    }


def line_json(s: LineState) -> dict[str, Any]:
    """A line as shown: its kind, title, status, parties, principals, the kinds of message
    it takes and its acknowledgement deadlines."""
    return {
        "id": s.line.id,
        "kind": s.line.kind.value,
        "title": s.line.title,
        "status": s.status.value,
        "parties": list(s.line.parties),
        "principals": list(s.line.policy.principals),
        "kinds": sorted(k.value for k in s.line.policy.kinds),
        "deadlines": s.line.policy.to_json()["deadlines"],
        "observers": list(s.line.observers),
        "mediator": s.line.mediator,
        "mediator_reads": s.line.mediator_reads,
    }


def line_record_json(s: LineState) -> dict[str, Any]:
    """:func:`line_json` with the terms as the parties signed them, their id, and who
    proposed and accepted them when (``hotline line show --json``)."""
    return {
        **line_json(s),
        "proposed_by": s.proposed_by,
        "accepted_by": sorted(s.accepted_by),
        "created_at": s.created_at,
        "terms_id": s.line.terms_id(),
        "terms": s.line.terms(),
    }


def party_json(party: Party) -> dict[str, Any]:
    return {
        "id": party.id,
        "name": party.name,
        "hosted": party.hosted,
        "node_key": party.node_key.text() if party.node_key else None,
        "node_key_id": party.node_key.key_id if party.node_key else None,
    }


def principal_json(principal: Principal) -> dict[str, Any]:
    return {**principal.entry(), "party": principal.party, "key_id": principal.key.key_id}


def inbox_json(item: InboxItem, now: datetime) -> dict[str, Any]:
    """An inbox item; ``left_seconds``: until its deadline on the node's clock ``now``
    (negative: overdue by that much). ``seconds_left`` is the same figure."""
    c = item.message.content
    left = round(item.time_left(now), 3)
    return {
        "id": item.message.id,
        "line": item.line.line.id,
        "from": item.message.author,
        "precedence": item.precedence.value,
        "kind": c["kind"],
        "subject": c["subject"],
        "body": c["body"],
        "lang": c.get("lang"),
        "sent": item.message.body["ts"],
        "deadline": format_time(item.deadline),
        "left_seconds": left,
        "seconds_left": left,
        "acked_by": item.ack.author if item.ack else None,
        "acked_at": item.ack.body["ts"] if item.ack else None,
        "officer": item.ack.content.get("officer") if item.ack else None,
        "escalations": list(item.escalations),
        "exercise": c.get("exercise"),
        "owed": item.owed,
    }


def translation_json(t: Translation) -> dict[str, Any]:
    """A translation of a message: who made it (a person, or a machine), who certified
    it, and where it stands (``uncertified``, ``certified``, ``corrected and certified``)."""
    return {
        "id": t.event.id,
        "lang": t.lang,
        "subject": t.subject,
        "body": t.body,
        "translator": t.translator,
        "machine": t.machine,
        "certified_by": t.certified_by,
        "state": t.state,
    }


def notice_json(v: NoticeView) -> dict[str, Any]:
    """A notification of intent as it now stands (``active``, ``amended`` or
    ``cancelled``), with its latest version's fields and times."""
    c = v.current.content
    return {
        "id": v.original.id,
        "line": v.original.line,
        "from": v.original.author,
        "state": v.state,
        "current": v.current.id,
        "activity": c.get("activity"),
        "window": c.get("window"),
        "area": c.get("area"),
        "units": c.get("units"),
        "short_notice": c["intent"].get("short_notice"),
        "cancelled_by": v.cancelled.id if v.cancelled else None,
        "precedence": c.get("precedence"),
        "subject": c.get("subject"),
        "remark": c.get("body"),
        "to": list(c.get("to") or []),
        "sent": v.original.body["ts"],
        "current_sent": v.current.body["ts"],
        "cancelled_at": v.cancelled.body["ts"] if v.cancelled else None,
    }


def relayed_json(r: Relayed, keys: KeyDirectory) -> dict[str, Any]:
    """A message relayed to this side: the original with its time and language, whether
    its author's signature checks against the key this node holds, and who passed it on."""
    c = r.original.content
    problem, _ = check_event(row_of(r.original), keys)
    return {
        "relay": r.relay.id,
        "line": r.relay.line,
        "message": r.original.id,
        "from_line": r.original.line,
        "from": r.original.author,
        "precedence": c.get("precedence"),
        "subject": c.get("subject"),
        "body": c.get("body"),
        "lang": c.get("lang"),
        "relayed_at": r.relay.body["ts"],
        "original_sent": r.original.body["ts"],
        "to": r.to,
        "signature_verified": problem is None,
        "signature_problem": problem.describe() if problem else None,
        "forwarded": [
            {"by": f.author, "to": list(f.content.get("to") or []), "at": f.body["ts"]}
            for f in r.forwards
        ],
    }


def watch_json(
    moment: datetime, board: list[tuple[str, Shift | None, Shift | None]]
) -> dict[str, Any]:
    """Who is on watch at each desk at ``moment``, until when, and who comes next."""
    return {
        "at": format_time(moment),
        "desks": [
            {
                "desk": desk,
                "on_watch": current.officer if current else None,
                "until": format_time(current.end) if current else None,
                "next": nxt.officer if nxt else None,
                "next_from": format_time(nxt.start) if nxt else None,
            }
            for desk, current, nxt in board
        ],
    }
