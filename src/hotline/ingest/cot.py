"""Cursor on Target (CoT) events to tracks.

``<event uid type time start stale how><point lat lon hae ce le/><detail>
<track course speed/><contact callsign/></detail></event>``. The type's second field gives
the affiliation (``f`` friend, ``h`` hostile, ``n`` neutral, ``u`` unknown...), the third
the domain (``A`` air, ``S`` sea surface, ``U`` subsurface, ``G`` ground); ``A-M-F-Q``
is a UAV, ``A-W-M`` a missile. A feed maps affiliations to parties (``f`` -> US,
``h`` -> RU). Parsing uses defusedxml: entity expansion and external references are
refused. Malformed events raise InvalidInput; the stream splitter never raises.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from hotline.domain.errors import InvalidInput
from hotline.domain.tracks import Track, TrackKind, make_track

UNKNOWN_HAE = 9999999.0
MAX_EVENT_BYTES = 64 * 1024


def kind_of(cot_type: str) -> TrackKind:
    parts = cot_type.split("-")
    if len(parts) < 3 or parts[0] != "a":
        return TrackKind.UNKNOWN
    domain, rest = parts[2], parts[3:]
    if domain == "A":
        if rest[:2] == ["W", "M"]:
            return TrackKind.MISSILE
        if rest[:3] == ["M", "F", "Q"] or rest[:3] == ["C", "F", "Q"]:
            return TrackKind.UAV
        return TrackKind.AIRCRAFT
    if domain in ("S", "U"):
        return TrackKind.SHIP
    if domain == "G":
        return TrackKind.GROUND
    return TrackKind.UNKNOWN


def _float(element: Element, name: str, *, required: bool = True) -> float | None:
    raw = element.get(name)
    if raw is None:
        if required:
            raise InvalidInput("cot", f"<{element.tag}> has no {name}")
        return None
    try:
        return float(raw)
    except ValueError:
        raise InvalidInput("cot", f"<{element.tag}> {name}={raw!r} is not a number") from None


def parse_event(data: bytes | str, parties: Mapping[str, str], *, source: str = "cot") -> Track:
    """One CoT event. ``parties`` maps affiliation letters (``f``, ``h``...) to parties.
    Raises InvalidInput saying what is wrong."""
    if len(data) > MAX_EVENT_BYTES:
        raise InvalidInput("cot", "event larger than 64 KiB")
    try:
        root = fromstring(data, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise InvalidInput("cot", f"not well-formed XML: {exc}") from None
    if root.tag != "event":
        raise InvalidInput("cot", f"root element is <{root.tag}>, not <event>")
    uid, cot_type = root.get("uid"), root.get("type")
    if not uid or not cot_type:
        raise InvalidInput("cot", "<event> needs uid and type")
    point = root.find("point")
    if point is None:
        raise InvalidInput("cot", "<event> has no <point>")
    lat, lon = _float(point, "lat"), _float(point, "lon")
    hae = _float(point, "hae", required=False)
    when = root.get("time") or root.get("start")
    if not when:
        raise InvalidInput("cot", "<event> has no time")
    moment = _moment(when)
    course = speed = None
    track_el = root.find("detail/track")
    if track_el is not None:
        course = _float(track_el, "course", required=False)
        speed = _float(track_el, "speed", required=False)
    contact = root.find("detail/contact")
    parts = cot_type.split("-")
    affiliation = parts[1] if len(parts) > 1 else ""
    assert lat is not None and lon is not None
    return make_track(
        uid=uid,
        party=parties.get(affiliation),
        kind=kind_of(cot_type),
        lat=lat,
        lon=lon,
        time=moment,
        alt=None if hae is None or hae >= UNKNOWN_HAE else hae,
        speed=speed if speed is not None and speed >= 0 else None,
        course=course,
        callsign=contact.get("callsign") if contact is not None else None,
        source=source,
    )


def _moment(text: str) -> datetime:
    """A CoT time: with a zone it is converted to UTC; without one it is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidInput("cot", f"time {text!r} is not a time") from None


class Splitter:
    """Cuts a TCP byte stream into CoT events (``<event ...>...</event>``); bytes that
    are not part of an event are dropped and counted. Never raises."""

    def __init__(self, limit: int = MAX_EVENT_BYTES) -> None:
        self.buffer = b""
        self.limit = limit
        self.dropped = 0

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        self.buffer += chunk
        while True:
            start = self.buffer.find(b"<event")
            if start < 0:
                keep = self.buffer[-6:]  # a split "<event" may follow
                self.dropped += len(self.buffer) - len(keep)
                self.buffer = keep
                return
            if start:
                self.dropped += start
                self.buffer = self.buffer[start:]
            end = self.buffer.find(b"</event>")
            following = self.buffer.find(b"<event", 1)
            if following > 0 and (end < 0 or following < end) and not self._self_closing():
                self.dropped += following  # an event that never ended: drop it, keep the next
                self.buffer = self.buffer[following:]
                continue
            closed = self.buffer.find(b"/>", 0, self._tag_end())
            if closed >= 0 and (end < 0 or closed < end) and self._self_closing():
                cut = self.buffer.find(b">") + 1
                yield self.buffer[:cut]
                self.buffer = self.buffer[cut:]
                continue
            if end < 0:
                if len(self.buffer) > self.limit:
                    self.dropped += len(self.buffer)
                    self.buffer = b""
                return
            cut = end + len(b"</event>")
            yield self.buffer[:cut]
            self.buffer = self.buffer[cut:]

    def _tag_end(self) -> int:
        end = self.buffer.find(b">")
        return len(self.buffer) if end < 0 else end + 1

    def _self_closing(self) -> bool:
        end = self.buffer.find(b">")
        return end > 0 and self.buffer[end - 1 : end] == b"/"
