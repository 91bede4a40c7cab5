"""What a rule of the situational-awareness engine found: plain data, apart from the
geometry that finds it (:mod:`hotline.domain.geo`), so that alerts can be read and told
without loading the geometry libraries."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from hotline.domain.tracks import Track, TrackKind

NO_DETAIL: Mapping[str, Any] = MappingProxyType({})


class Finding(NamedTuple):
    """What a rule found (a named tuple: rules make many of them). ``value`` is a
    distance in metres (proximity, incursion: 0, cpa: DCPA), or seconds (stale)."""

    rule: str  # proximity, incursion, cpa, unannounced, stale
    uid: str
    party: str | None
    other: str | None  # the other party (territory or track)
    value: float
    band: float | None  # the corridor (proximity) or threshold crossed
    kind: TrackKind
    lat: float
    lon: float
    detail: Mapping[str, Any] = NO_DETAIL
    holds: float | None = None  # proximity: the tightest corridor not left by the margin


def finding_of(
    rule: str, track: Track, other: str | None, value: float, band: float | None, **detail: Any
) -> Finding:
    """A finding about ``track`` (its uid, party, kind and position), with ``detail``."""
    return Finding(
        rule, track.uid, track.party, other, value, band, track.kind, track.lat, track.lon, detail
    )
