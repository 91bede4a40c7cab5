"""Agreements: understandings between the parties of a line, with typed terms, that
change what the awareness rules count as dangerous and what needs notice.

The 2018 inter-Korean military agreement set no-fly zones by kind of aircraft; India and
Pakistan later disputed whether a ceasefire ran "until May 18" or had "no expiry date".
Here the terms say it, and every party signs them, on the line::

    title: {en: Military agreement, ko: 군사 합의}
    zones:                       # distance from the other party's border, by track kind
      - {id: fixed-wing, kinds: [aircraft], km: 20}
      - {id: drones, kinds: [uav], km: 15}
      - {id: rotary-wing, kinds: [helicopter], km: 10}
      - {id: balloons, kinds: [balloon], km: 25}
    notice:                      # lead times, by activity (as the setting lead_times)
      strategic_exercise: 14d
    exceptions: [fixed-wing]     # zones a notified activity covering the track lifts
    start: 2026-03-01T00:00:00Z
    end: none                    # or a time: "no expiry" is said, never implied

Events (node-signed, as a catalogue's adoption): ``agreement.propose`` carries the terms,
the id of the agreement (the SHA-256 of the canonical form of the line, the proposing
party, the terms and what it amends: two proposals never share one) and, for an
amendment, the id it amends; ``agreement.sign`` and ``agreement.terminate`` refer to the
proposal. An agreement is in force once every party of the line has signed it, from its
start until its end, until every party has signed its termination, or while an amendment
of it is in force.

Everything here is pure: events and a time in, states out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hotline.domain.canonical import content_id
from hotline.domain.catalogue import best_language
from hotline.domain.clock import format_time, parse_time
from hotline.domain.errors import InvalidInput
from hotline.domain.events import Event, EventKind
from hotline.domain.intent import Activity, parse_activity
from hotline.domain.language import parse_lang
from hotline.domain.precedence import format_duration, parse_duration
from hotline.domain.tracks import TrackKind

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
_FIELDS = {"title", "zones", "notice", "exceptions", "start", "end"}
#: A zone reaches at most this far: proximity is measured within the node's widest
#: corridor (100 km by default).
MAX_ZONE_KM = 100.0
NO_EXPIRY = "none"


@dataclass(frozen=True)
class Zone:
    """A clause: tracks of these kinds keep this far from the other party's border."""

    id: str
    kinds: tuple[TrackKind, ...]
    km: float

    def describe(self) -> str:
        return f"{self.id}: {', '.join(self.kinds)} {self.km:g} km"


@dataclass(frozen=True)
class Terms:
    title: Mapping[str, str]
    zones: tuple[Zone, ...]
    notice: Mapping[Activity, timedelta]
    exceptions: tuple[str, ...]
    start: datetime
    end: datetime | None  # None: no expiry, as the terms say

    def title_in(self, lang: str) -> str:
        """The title in ``lang`` (as :func:`hotline.domain.catalogue.best_language`)."""
        return self.title[best_language(lang, tuple(self.title))]

    def zone_for(self, kind: TrackKind) -> Zone | None:
        return next((z for z in self.zones if kind in z.kinds), None)


def parse_terms(data: Any) -> Terms:
    """Check an agreement's terms (as YAML or JSON gives them). Raises InvalidInput
    naming what is wrong and what to write instead."""
    if not isinstance(data, Mapping):
        raise InvalidInput("terms", "an agreement's terms are an object: title, zones, start, end")
    extra = sorted(str(k) for k in set(data) - _FIELDS)
    if extra:
        raise InvalidInput("terms", f"unknown field(s) {', '.join(extra)}", hint=", ".join(_FIELDS))
    title = data.get("title")
    if (
        not isinstance(title, Mapping)
        or not title
        or not all(isinstance(v, str) and v.strip() for v in title.values())
    ):
        raise InvalidInput("terms", "'title' is a text per language: {en: ..., ko: ...}")
    for lang in title:
        parse_lang(str(lang))
    raw_zones = data.get("zones") or []
    if not isinstance(raw_zones, list):
        raise InvalidInput("terms", "'zones' is a list of {id, kinds, km}")
    zones = tuple(_zone(i + 1, raw) for i, raw in enumerate(raw_zones))
    ids = [z.id for z in zones]
    if len(set(ids)) != len(ids):
        raise InvalidInput("terms", "each zone has an id of its own")
    kinds = [k for z in zones for k in z.kinds]
    if len(set(kinds)) != len(kinds):
        raise InvalidInput("terms", "a track kind is in one zone only")
    notice = data.get("notice") or {}
    if not isinstance(notice, Mapping):
        raise InvalidInput("terms", "'notice' maps activities to lead times: {missile_launch: 24h}")
    lead = {
        parse_activity(str(k)): parse_duration(str(v), field="notice") for k, v in notice.items()
    }
    exceptions = data.get("exceptions") or []
    if not isinstance(exceptions, list) or not all(e in ids for e in exceptions):
        raise InvalidInput("terms", "'exceptions' lists ids of the zones a notification lifts")
    if "start" not in data or "end" not in data:
        raise InvalidInput(
            "terms",
            "'start' and 'end' are both said",
            hint=f"end: {NO_EXPIRY} for an agreement with no expiry date",
        )
    start = _moment(data["start"], "start")
    end = None if _no_expiry(data["end"]) else _moment(data["end"], "end")
    if end is not None and end <= start:
        raise InvalidInput("terms", f"'end' {format_time(end)} is not after 'start'")
    if not zones and not lead:
        raise InvalidInput("terms", "an agreement has zones, notice lead times, or both")
    return Terms(
        {str(k): str(v) for k, v in title.items()},
        zones,
        lead,
        tuple(exceptions),
        start,
        end,
    )


def _no_expiry(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() == NO_EXPIRY


def _moment(value: Any, name: str) -> datetime:
    """A time of the terms (text, or a time YAML read), to the millisecond the record
    keeps: what is checked is what is stored."""
    if isinstance(value, datetime):
        value = value.isoformat()
    if not isinstance(value, str):
        hint = f"end: {NO_EXPIRY} for an agreement with no expiry date" if name == "end" else None
        raise InvalidInput("terms", f"'{name}' is a time (UTC)", hint=hint)
    return parse_time(format_time(parse_time(value)))


def _zone(index: int, raw: Any) -> Zone:
    where = f"zone {index}"
    if not isinstance(raw, Mapping) or set(raw) - {"id", "kinds", "km"}:
        raise InvalidInput("terms", f"{where} is {{id, kinds, km}}")
    ident, kinds, km = raw.get("id"), raw.get("kinds"), raw.get("km")
    if not isinstance(ident, str) or not _ID.match(ident):
        raise InvalidInput("terms", f"{where}: 'id' is lowercase letters, digits, dashes")
    known = [k.value for k in TrackKind if k is not TrackKind.UNKNOWN]
    if not isinstance(kinds, list) or not kinds or not all(k in known for k in kinds):
        raise InvalidInput(
            "terms", f"{where} ({ident}): 'kinds' lists track kinds", hint=", ".join(known)
        )
    if not isinstance(km, int | float) or isinstance(km, bool) or not 0 < km <= MAX_ZONE_KM:
        raise InvalidInput(
            "terms", f"{where} ({ident}): 'km' is more than 0, at most {MAX_ZONE_KM:g}"
        )
    return Zone(ident, tuple(TrackKind(k) for k in kinds), float(km))


def terms_json(terms: Terms) -> dict[str, Any]:
    """The normal form of the terms, whose content id is the agreement's id."""
    return {
        "title": dict(sorted(terms.title.items())),
        "zones": [{"id": z.id, "kinds": list(z.kinds), "km": z.km} for z in terms.zones],
        "notice": {a.value: format_duration(d) for a, d in sorted(terms.notice.items())},
        "exceptions": list(terms.exceptions),
        "start": format_time(terms.start),
        "end": format_time(terms.end) if terms.end else NO_EXPIRY,
    }


def agreement_id(line: str, party: str, normal: Mapping[str, Any], amends: str | None) -> str:
    """The id of an agreement: of its line, its proposer, its terms (normal form) and
    what it amends."""
    return content_id({"line": line, "party": party, "terms": normal, "amends": amends})


def propose_content(
    terms: Terms, line: str, party: str, amends: str | None = None
) -> dict[str, Any]:
    normal = terms_json(terms)
    return {
        "agreement": agreement_id(line, party, normal, amends),
        "terms": normal,
        "amends": amends,
    }


def check_propose(content: Mapping[str, Any], line: str, party: str) -> Terms:
    """The terms of an ``agreement.propose`` content (of ``party`` on ``line``), checked,
    its id re-derived. Raises InvalidInput."""
    try:
        terms = parse_terms(content.get("terms"))
    except (TypeError, ValueError, AttributeError) as exc:
        raise InvalidInput("terms", f"malformed terms: {exc}") from None
    amends = content.get("amends")
    if amends is not None and not isinstance(amends, str):
        raise InvalidInput("agreement", "'amends' is an agreement id or null")
    if content.get("agreement") != agreement_id(line, party, terms_json(terms), amends):
        raise InvalidInput("agreement", "'agreement' is not the id of the terms it carries")
    return terms


@dataclass
class Agreement:
    """One agreement as a line's events tell it."""

    id: str
    line: str
    proposal: str  # the id of the agreement.propose event
    proposed_by: str
    terms: Terms
    amends: str | None
    signed: dict[str, str] = field(default_factory=dict)  # party -> time
    terminated: dict[str, str] = field(default_factory=dict)
    amendments: list[Agreement] = field(default_factory=list)  # proposals amending it

    def superseded_by(self, parties: Sequence[str], now: datetime) -> str | None:
        """The amendment of it in force at ``now``, if any."""
        return next((a.id for a in self.amendments if a.state(parties, now) == "in force"), None)

    def agreed(self, parties: Iterable[str]) -> bool:
        return set(parties) <= set(self.signed)

    def ended(self, parties: Iterable[str]) -> bool:
        return set(parties) <= set(self.terminated)

    def state(self, parties: Sequence[str], now: datetime) -> str:
        """proposed, signed (not started yet), in force, expired, terminated, amended."""
        if not self.agreed(parties):
            return "proposed"
        if self.ended(parties):
            return "terminated"
        if self.superseded_by(parties, now) is not None:
            return "amended"
        if now < self.terms.start:
            return "signed"
        if self.terms.end is not None and now >= self.terms.end:
            return "expired"
        return "in force"


def agreements_of(events: Iterable[Event], parties: Sequence[str]) -> list[Agreement]:
    """The agreements of one line from its agreement events, in order. Each event's form
    was checked when it was stored; a proposal that does not read now is left out, and
    so is a second proposal of an id (the first stored stands)."""
    by_proposal: dict[str, Agreement] = {}
    by_id: dict[str, Agreement] = {}
    for event in events:
        c = event.content
        if event.kind == EventKind.AGREEMENT_PROPOSE:
            try:
                terms = check_propose(c, event.line, event.party)
            except InvalidInput:
                continue
            if str(c["agreement"]) in by_id:
                continue
            found = Agreement(
                str(c["agreement"]), event.line, event.id, event.party, terms, c.get("amends")
            )
            by_proposal[event.id] = found
            by_id[found.id] = found
        elif event.kind in (EventKind.AGREEMENT_SIGN, EventKind.AGREEMENT_TERMINATE):
            named = by_proposal.get(str(c.get("ref")))
            if named is None:
                continue
            book = named.signed if event.kind == EventKind.AGREEMENT_SIGN else named.terminated
            book.setdefault(event.party, str(event.body["ts"]))
    for found in by_proposal.values():
        if found.amends and found.amends in by_id:
            by_id[found.amends].amendments.append(found)
    return list(by_proposal.values())


@dataclass(frozen=True)
class Clause:
    """A zone of an agreement in force, as an alert names it."""

    agreement: str
    title: str
    zone: Zone

    def describe(self) -> str:
        return f"{self.title} ({self.agreement[:12]}) {self.zone.describe()}"


def clauses_between(
    agreements: Iterable[tuple[Agreement, Sequence[str]]], a: str, b: str, now: datetime
) -> list[tuple[Agreement, Sequence[str]]]:
    """The agreements in force at ``now`` on lines whose parties include ``a`` and ``b``."""
    return [
        (found, parties)
        for found, parties in agreements
        if {a, b} <= set(parties) and found.state(parties, now) == "in force"
    ]


def lead_times(
    base: Mapping[Activity, timedelta], agreements: Iterable[Agreement]
) -> dict[Activity, timedelta]:
    """The lead times on a line: the node's, each replaced by what an agreement in force
    there says (the longest, if two say it)."""
    out = dict(base)
    said: dict[Activity, timedelta] = {}
    for found in agreements:
        for activity, lead in found.terms.notice.items():
            said[activity] = max(lead, said.get(activity, lead))
    out.update(said)
    return out
