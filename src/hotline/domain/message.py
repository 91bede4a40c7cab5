"""The content of a message event, and the checks that keep malformed content out.

Content is a JSON object::

    {"kind": "notification", "precedence": "FLASH", "subject": "...", "body": "...",
     "lang": "en", "refs": ["<event id>"], "to": ["RU/NDMC"], "info": ["FR/CPCO"],
     "number": 17, "area": {...}, "window": {"start": "...", "end": "..."},
     "activity": "...", "units": ["..."]}

``to`` names the addressees (none: every party that writes on the line); ``info`` those
who receive it for information and owe no acknowledgement, as the TO / INFO of OSCE
formats. ``number`` is the sender's message number on the line: its messages there are
numbered 1, 2, 3… in chain order, so that "US 17" names one message to every party.
``area``, ``window``, ``activity`` and ``units`` are optional, except in a notification of
intent (an ``intent`` block, :mod:`hotline.domain.intent`); a catalogue message carries a
``coded`` block (:mod:`hotline.domain.catalogue`). An area is a GeoJSON
Polygon (lon, lat in WGS84) or a circle ``{"center": [lon, lat], "radius": 25,
"unit": "km"}`` (unit ``km`` or ``NM``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hotline.domain.area import parse_area
from hotline.domain.attachments import parse_attachments
from hotline.domain.catalogue import check_coded
from hotline.domain.clock import format_time, parse_time
from hotline.domain.errors import InvalidInput
from hotline.domain.exercise import mark
from hotline.domain.identity import parse_principal_id
from hotline.domain.intent import check_intent
from hotline.domain.language import parse_lang
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence

SUBJECT_MAX = 200
BODY_MAX = 20_000
_EVENT_ID = re.compile(r"^[0-9a-f]{64}$")


def check_event_ref(text: str) -> str:
    value = text.strip().lower()
    if not _EVENT_ID.match(value):
        raise InvalidInput("ref", f"{text!r} is not an event id (64 hex characters)")
    return value


def parse_window(start: str, end: str) -> dict[str, str]:
    """Check a UTC time window; end must come after start."""
    begins, ends = parse_time(start, field="start"), parse_time(end, field="end")
    if ends <= begins:
        raise InvalidInput("window", "the end of the window must come after its start")
    return {"start": format_time(begins), "end": format_time(ends)}


@dataclass(frozen=True)
class MessageDraft:
    """A message as the sender composes it, before it is signed."""

    kind: MessageKind
    precedence: Precedence
    subject: str
    body: str
    lang: str = "en"
    refs: tuple[str, ...] = ()
    to: tuple[str, ...] = ()
    info: tuple[str, ...] = ()  # for information: no acknowledgement owed
    number: int | None = None  # the sender's message number on the line, set when signed
    area: Mapping[str, Any] | None = None
    window: Mapping[str, str] | None = None
    activity: str | None = None
    units: tuple[str, ...] = ()
    intent: Mapping[str, Any] | None = None  # a notification of intent: see domain/intent.py
    coded: Mapping[str, Any] | None = None  # a catalogue message: see domain/catalogue.py
    exercise: str | None = None  # sent in an exercise: see domain/exercise.py
    alert: str | None = None  # the awareness alert it was drafted from, if any
    attachments: tuple[Mapping[str, Any], ...] = ()  # map attachments: domain/attachments.py

    def content(self) -> dict[str, Any]:
        """Checked, normal-form content for the event. Raises InvalidInput."""
        subject = self.subject.strip()
        if not subject:
            raise InvalidInput("subject", "a message needs a subject")
        if len(subject) > SUBJECT_MAX:
            raise InvalidInput("subject", f"longer than {SUBJECT_MAX} characters")
        if len(self.body) > BODY_MAX:
            raise InvalidInput("body", f"longer than {BODY_MAX} characters")
        if not self.body.strip():
            raise InvalidInput("body", "a message needs a body")
        content: dict[str, Any] = {
            "kind": self.kind.value,
            "precedence": self.precedence.value,
            "subject": subject,
            "body": self.body,
            "lang": parse_lang(self.lang),
            "refs": [check_event_ref(r) for r in self.refs],
            "to": [parse_principal_id(p) for p in self.to],
        }
        if self.info:
            content["info"] = [parse_principal_id(p) for p in self.info]
        if self.number is not None:
            if isinstance(self.number, bool) or not isinstance(self.number, int) or self.number < 1:
                raise InvalidInput("number", "a message number is a whole number from 1")
            content["number"] = self.number
        if self.area is not None:
            content["area"] = parse_area(self.area)
        if self.window is not None:
            if not isinstance(self.window.get("start"), str) or not isinstance(
                self.window.get("end"), str
            ):
                raise InvalidInput("window", "a window needs a start and an end time")
            content["window"] = parse_window(self.window["start"], self.window["end"])
        if self.activity:
            content["activity"] = self.activity.strip()
        if self.units:
            content["units"] = [u.strip() for u in self.units if u.strip()]
        if self.intent is not None:
            content["intent"] = check_intent({**content, "intent": self.intent})
        if self.coded is not None:
            content["coded"] = check_coded(self.coded)
        if self.attachments:
            content["attachments"] = parse_attachments(list(self.attachments))
        if self.alert is not None:
            if not self.alert.strip() or len(self.alert) > 100:
                raise InvalidInput("alert", "an alert id is 1-100 characters")
            content["alert"] = self.alert.strip()
        return mark(content, self.exercise)
