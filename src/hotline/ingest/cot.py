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

from collections.abc import Mapping
from datetime import UTC, datetime
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from hotline.domain.errors import InvalidInput
from hotline.domain.tracks import Track, TrackKind, make_track

UNKNOWN_HAE = 9999999.0
MAX_EVENT_BYTES = 64 * 1024
OPEN = b"<event"
CLOSE = b"</event>"


def kind_of(cot_type: str) -> TrackKind:
    parts = cot_type.split("-")
    if len(parts) < 3 or parts[0] != "a":
        return TrackKind.UNKNOWN
    domain, rest = parts[2], parts[3:]
    if domain == "A":
        if rest[:2] == ["W", "M"]:
            return TrackKind.MISSILE
        if rest[:3] in (["M", "F", "Q"], ["C", "F", "Q"], ["M", "H", "Q"], ["C", "H", "Q"]):
            return TrackKind.UAV  # fixed or rotary wing, unmanned
        if rest[1:2] == ["H"]:  # military or civil rotary wing
            return TrackKind.HELICOPTER
        if rest[1:2] == ["L"]:  # lighter than air
            return TrackKind.BALLOON
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


def parse_event(
    data: bytes | str,
    parties: Mapping[str, str],
    *,
    source: str = "cot",
    limit: int = MAX_EVENT_BYTES,
) -> Track:
    """One CoT event of at most ``limit`` bytes. ``parties`` maps affiliation letters
    (``f``, ``h``...) to parties. Raises InvalidInput saying what is wrong."""
    if len(data) > limit:
        raise InvalidInput("cot", f"event larger than {size_text(limit)}")
    if (b"<point" not in data) if isinstance(data, bytes) else ("<point" not in data):
        raise InvalidInput("cot", "<event> has no <point>")  # refused before parsing it
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


def size_text(size: int) -> str:
    """``65536`` -> ``64 KiB``."""
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"


def _moment(text: str) -> datetime:
    """A CoT time: with a zone it is converted to UTC; without one it is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidInput("cot", f"time {text!r} is not a time") from None


class _Finder:
    """The next place of one needle in a growing buffer, searched at most once per byte:
    a search resumes where the last one stopped, and a place found is kept until the
    cursor has passed it."""

    def __init__(self, needle: bytes) -> None:
        self.needle = needle
        self.found = -1  # the next place found, or -1
        self.clear = 0  # no place of the needle starts in [cursor, clear) except found
        self.length = -1  # the buffer's length when a search last found nothing
        self.scanned = 0

    def next(self, buffer: bytearray, start: int) -> int:
        """The first place of the needle at or after ``start``, or -1."""
        if self.found >= start:
            return self.found
        if self.found < 0 and self.length == len(buffer):
            return -1  # searched to the end already, and nothing came since
        begin = max(start, self.clear)
        at = buffer.find(self.needle, begin)
        if at < 0:
            self.scanned += max(len(buffer) - begin, 0)
            self.clear = max(begin, len(buffer) - len(self.needle) + 1)
            self.length = len(buffer)
        else:
            self.scanned += at + len(self.needle) - begin
            self.clear = at + 1
        self.found = at
        return at

    def shift(self, by: int) -> None:
        """The buffer lost its first ``by`` bytes."""
        self.found = self.found - by if self.found >= by else -1
        self.clear = max(self.clear - by, 0)
        self.length = max(self.length - by, -1)


class Splitter:
    """Cuts a byte stream into CoT events (``<event ...>...</event>`` or ``<event .../>``).

    Bytes outside events are dropped and counted (``dropped``); an event that never ends
    before the next ``<event`` is dropped too, and one longer than ``limit`` bytes is
    dropped and counted in ``oversized``. Work is linear in the input: every search
    resumes where it stopped (``scanned`` counts the bytes looked at), and bytes already
    handed on are cut off the buffer only once they are half of it. Never raises."""

    def __init__(self, limit: int = MAX_EVENT_BYTES) -> None:
        self.limit = limit
        self.dropped = 0
        self.oversized = 0
        self.events = 0
        self.abandoned = 0  # times unfinished events were dropped (a run of them: once)
        self._buffer = bytearray()
        self._at = 0  # where the bytes not yet handed on or dropped begin
        self._inside = False  # the bytes at _at begin an event
        self._open = _Finder(OPEN)
        self._close = _Finder(CLOSE)
        self._tag_end = _Finder(b">")
        self._scanned_back = 0

    @property
    def buffer(self) -> bytes:
        """The bytes kept for the next chunk: an unfinished event, or a tail that may
        begin one."""
        return bytes(self._buffer[self._at :])

    @property
    def pending(self) -> bool:
        """Whether an event has begun and not yet ended."""
        return self._inside

    @property
    def scanned(self) -> int:
        """Bytes looked at by the searches so far (each at most a few times)."""
        finders = (self._open, self._close, self._tag_end)
        return sum(f.scanned for f in finders) + self._scanned_back

    def feed(self, chunk: bytes) -> list[bytes]:
        """The events that ``chunk`` completes, in order."""
        self._buffer += chunk
        found: list[bytes] = []
        while self._step(found):
            pass
        self._compact()
        return found

    def _step(self, found: list[bytes]) -> bool:
        """Move on by one event or one drop; False once more bytes are needed."""
        buffer, at = self._buffer, self._at
        if not self._inside:
            start = self._open.next(buffer, at)
            if start < 0:
                # keep a tail that may be the beginning of a split "<event"
                lt = buffer.rfind(b"<", max(at, len(buffer) - len(OPEN) + 1))
                self._drop(lt if lt >= 0 else len(buffer))
                return False
            self._drop(start)
            self._inside = True
            at = start
        body = at + len(OPEN)
        following = self._open.next(buffer, body)
        tag_end = self._tag_end.next(buffer, body)
        if following >= 0 and (tag_end < 0 or following < tag_end):
            # every "<event" before the tag's end begins an event that never ended: one
            # search from the end finds the last of them, however many there are
            limit = tag_end if tag_end >= 0 else len(buffer)
            last = buffer.rfind(OPEN, following, limit)
            self._scanned_back += limit - last
            self._drop(last)
            self.abandoned += 1
            return True
        if tag_end < 0:
            end = -1
        elif buffer[tag_end - 1] == ord("/"):
            self._emit(tag_end + 1, found)
            return True
        else:
            end = self._close.next(buffer, tag_end)
        if following >= 0 and (end < 0 or following < end):
            self._drop(following)  # an event that never ended: drop it, keep the next
            self.abandoned += 1
            return True
        if end >= 0:
            self._emit(end + len(CLOSE), found)
            return True
        if len(buffer) - at > self.limit:
            self.oversized += 1
            self._drop(len(buffer))
            self._inside = False
        return False

    def _emit(self, cut: int, found: list[bytes]) -> None:
        if cut - self._at > self.limit:
            self.oversized += 1
            self._drop(cut)
        else:
            found.append(bytes(self._buffer[self._at : cut]))
            self.events += 1
            self._at = cut
        self._inside = False

    def _drop(self, cut: int) -> None:
        self.dropped += cut - self._at
        self._at = cut

    def _compact(self) -> None:
        if self._at and self._at * 2 >= len(self._buffer):
            del self._buffer[: self._at]
            for finder in (self._open, self._close, self._tag_end):
                finder.shift(self._at)
            self._at = 0
