"""Link tests: when they are due, who starts them, and what a result means.

Time is cut into rounds of ``interval``; in each round the parties of a service line take
turns as initiator (sorted by id, round number modulo their count). The initiator tests
every transport path of the peer and records one ``linktest`` event with each path's
round-trip time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


class LinkState(StrEnum):
    UP = "up"  # every path answered
    DEGRADED = "degraded"  # some path failed
    DOWN = "down"  # no path answered
    UNKNOWN = "unknown"  # never tested


def round_of(now: datetime, interval: timedelta) -> int:
    """The number of the round ``now`` falls in."""
    return int((now - EPOCH) / interval)


def initiator(parties: Sequence[str], round_number: int) -> str:
    """Who starts the test in a round: the parties take turns."""
    ordered = sorted(parties)
    return ordered[round_number % len(ordered)]


def is_due(
    *,
    now: datetime,
    interval: timedelta,
    parties: Sequence[str],
    own: str,
    last_round: int | None,
) -> int | None:
    """The round to test now, if ``own`` starts this round and has not tested it yet."""
    current = round_of(now, interval)
    if initiator(parties, current) != own or (last_round is not None and last_round >= current):
        return None
    return current


@dataclass(frozen=True)
class PathResult:
    url: str
    ok: bool
    rtt_ms: float | None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "ok": self.ok, "rtt_ms": self.rtt_ms, "error": self.error}


def state_of(paths: Sequence[PathResult]) -> LinkState:
    if not paths:
        return LinkState.UNKNOWN
    answered = sum(p.ok for p in paths)
    if answered == len(paths):
        return LinkState.UP
    return LinkState.DEGRADED if answered else LinkState.DOWN


def linktest_content(peer: str, round_number: int, paths: Sequence[PathResult]) -> dict[str, Any]:
    return {
        "peer": peer,
        "round": round_number,
        "state": state_of(paths).value,
        "paths": [p.to_json() for p in paths],
    }
