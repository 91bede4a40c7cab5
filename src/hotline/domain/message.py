"""The content of a message event, and the checks that keep malformed content out.

Content is a JSON object::

    {"kind": "notification", "precedence": "FLASH", "subject": "...", "body": "...",
     "lang": "en", "refs": ["<event id>"], "to": ["RU/NDMC"],
     "area": {...}, "window": {"start": "...", "end": "..."},
     "activity": "...", "units": ["..."]}

``area``, ``window``, ``activity`` and ``units`` are optional, except in a notification of
intent (an ``intent`` block, :mod:`hotline.domain.intent`); a catalogue message carries a
``coded`` block (:mod:`hotline.domain.catalogue`). An area is a GeoJSON
Polygon (lon, lat in WGS84) or a circle ``{"center": [lon, lat], "radius": 25,
"unit": "km"}`` (unit ``km`` or ``NM``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hotline.domain.catalogue import check_coded
from hotline.domain.clock import format_time, parse_time
from hotline.domain.errors import InvalidInput
from hotline.domain.exercise import mark
from hotline.domain.identity import parse_principal_id
from hotline.domain.intent import check_intent
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence

SUBJECT_MAX = 200
BODY_MAX = 20_000
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_EVENT_ID = re.compile(r"^[0-9a-f]{64}$")
RADIUS_UNITS = ("km", "NM")


def parse_lang(text: str) -> str:
    """Check a language tag (BCP 47 shape: ``en``, ``ru``, ``en-GB``)."""
    value = text.strip()
    if not _LANG.match(value):
        raise InvalidInput("lang", f"{text!r} is not a language tag", hint="e.g. en, ru, uk")
    return value


def check_event_ref(text: str) -> str:
    value = text.strip().lower()
    if not _EVENT_ID.match(value):
        raise InvalidInput("ref", f"{text!r} is not an event id (64 hex characters)")
    return value


def _coordinate(value: Any, where: str) -> list[float]:
    if (
        not isinstance(value, Sequence)
        or isinstance(value, str)
        or len(value) not in (2, 3)
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise InvalidInput("area", f"{where}: a position is [longitude, latitude]")
    lon, lat = float(value[0]), float(value[1])
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InvalidInput("area", f"{where}: coordinates must be finite numbers")
    if not -180.0 <= lon <= 180.0:
        raise InvalidInput(
            "area",
            f"{where}: longitude {lon} is outside -180..180",
            hint="GeoJSON order is [longitude, latitude]",
        )
    if not -90.0 <= lat <= 90.0:
        raise InvalidInput(
            "area",
            f"{where}: latitude {lat} is outside -90..90",
            hint="GeoJSON order is [longitude, latitude]",
        )
    return [lon, lat]


def parse_area(value: Any) -> dict[str, Any]:
    """Check an area and return its normal form (a Polygon geometry or a circle).

    A GeoJSON Feature is accepted and reduced to its geometry. Raises InvalidInput that
    names what is wrong: a ring not closed, too few positions, latitude out of range...
    """
    if not isinstance(value, Mapping):
        raise InvalidInput("area", "an area is a JSON object (GeoJSON Polygon or a circle)")
    if value.get("type") == "Feature":
        return parse_area(value.get("geometry"))
    if "center" in value or "radius" in value:
        center = _coordinate(value.get("center"), "center")
        radius = value.get("radius")
        if (
            not isinstance(radius, int | float)
            or isinstance(radius, bool)
            or not math.isfinite(radius)
            or radius <= 0
        ):
            raise InvalidInput("area", "radius must be a positive number")
        unit = value.get("unit", "km")
        if unit not in RADIUS_UNITS:
            raise InvalidInput("area", f"radius unit {unit!r} is not km or NM")
        return {"center": center, "radius": radius, "unit": unit}
    if value.get("type") != "Polygon":
        raise InvalidInput(
            "area",
            f"unsupported area type {value.get('type')!r}",
            hint='give a GeoJSON Polygon or {"center": [lon, lat], "radius": 25, "unit": "km"}',
        )
    rings = value.get("coordinates")
    if not isinstance(rings, list) or not rings:
        raise InvalidInput("area", "a Polygon needs a list of rings in 'coordinates'")
    out: list[list[list[float]]] = []
    for r, ring in enumerate(rings):
        if not isinstance(ring, list) or len(ring) < 4:
            raise InvalidInput("area", f"ring {r} needs at least 4 positions (closed)")
        points = [_coordinate(p, f"ring {r} position {i}") for i, p in enumerate(ring)]
        if points[0] != points[-1]:
            raise InvalidInput(
                "area", f"ring {r} is not closed", hint="repeat the first position at the end"
            )
        if len({tuple(p) for p in points}) < 3:
            raise InvalidInput("area", f"ring {r} has fewer than 3 distinct positions")
        out.append(points)
    return {"type": "Polygon", "coordinates": out}


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
    area: Mapping[str, Any] | None = None
    window: Mapping[str, str] | None = None
    activity: str | None = None
    units: tuple[str, ...] = ()
    intent: Mapping[str, Any] | None = None  # a notification of intent: see domain/intent.py
    coded: Mapping[str, Any] | None = None  # a catalogue message: see domain/catalogue.py
    exercise: str | None = None  # sent in an exercise: see domain/exercise.py
    alert: str | None = None  # the awareness alert it was drafted from, if any

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
        if self.alert is not None:
            if not self.alert.strip() or len(self.alert) > 100:
                raise InvalidInput("alert", "an alert id is 1-100 characters")
            content["alert"] = self.alert.strip()
        return mark(content, self.exercise)
