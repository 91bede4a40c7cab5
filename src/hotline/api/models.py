"""Request bodies of the operator API (their schemas are in the OpenAPI document), and
the JSON forms of events and lines it answers with."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from hotline.domain.clock import format_time
from hotline.domain.events import Event
from hotline.domain.policy import LineState


class Login(BaseModel):
    principal: str
    password: str


class Send(BaseModel):
    line: str
    subject: str
    body: str
    kind: str = "free"
    precedence: str = "ROUTINE"
    lang: str = "en"
    to: list[str] = Field(default_factory=list)
    refs: list[str] = Field(default_factory=list)
    area: dict[str, Any] | None = None
    start: str | None = None
    end: str | None = None
    activity: str | None = None
    units: list[str] = Field(default_factory=list)
    exercise: str | None = Field(default=None, description="the exercise id; marks it as one")
    alert: str | None = Field(default=None, description="the awareness alert it was drafted from")


class Ack(BaseModel):
    reply: str | None = None
    lang: str = "en"
    exercise: str | None = Field(
        default=None, description="the exercise id (an exercise message's own, if not given)"
    )


class ContactAsk(BaseModel):
    to: str
    topic: str
    window_hours: float | None = Field(None, gt=0, le=24 * 365)
    line: str | None = None
    exercise: str | None = Field(default=None, description="the exercise id; marks it as one")


class Coded(BaseModel):
    line: str
    code: str
    number: int
    slots: dict[str, Any] = Field(default_factory=dict)
    precedence: str = "IMMEDIATE"
    lang: str = "en"


class Translate(BaseModel):
    lang: str
    body: str
    subject: str = ""


class Certify(BaseModel):
    body: str | None = None
    subject: str | None = None


class ContactAnswer(BaseModel):
    time: str | None = None
    reason: str = ""
    summary: str = ""


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
