"""The JSON forms of events and lines the operator API answers with."""

from __future__ import annotations

from typing import Any

from hotline.domain.clock import format_time
from hotline.domain.events import Event
from hotline.domain.policy import LineState


def event_json(e: Event) -> dict[str, Any]:
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


def line_json(s: LineState) -> dict[str, Any]:
    return {
        "id": s.line.id,
        "kind": s.line.kind.value,
        "title": s.line.title,
        "status": s.status.value,
        "parties": list(s.line.parties),
        "principals": list(s.line.policy.principals),
        "kinds": sorted(k.value for k in s.line.policy.kinds),
        "deadlines": s.line.policy.to_json()["deadlines"],
    }
