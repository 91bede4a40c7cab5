"""The clocks of peers, as measured from the answers to our requests: each offset kept,
and an alert open while one is further from ours than the threshold. A clock fault never
stops the line; it is recorded and said."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from hotline.domain.clock import format_time
from hotline.storage.peers import PeerStore

#: An offset is written at most this often (seconds) per peer, unless it moved by a second.
EVERY_S = 10


class ClockWatch:
    def __init__(
        self,
        peers: PeerStore,
        now: Callable[[], datetime],
        monotonic: Callable[[], float],
        threshold: timedelta,
    ) -> None:
        self.peers = peers
        self.now = now
        self.monotonic = monotonic
        self.threshold = threshold
        self.seen: dict[str, tuple[float, int]] = {}  # peer -> (when, offset ms)

    def observe(self, peer: str, offset: timedelta, rtt: float) -> None:
        """Keep the offset measured to ``peer``'s clock (its clock minus ours; at most
        every 10 s unless it moved by a second) and open or close its clock alert."""
        ms = round(offset.total_seconds() * 1000)
        tick = self.monotonic()
        seen = self.seen.get(peer)
        if seen is not None and tick - seen[0] < EVERY_S and abs(seen[1] - ms) < 1000:
            return
        self.seen[peer] = (tick, ms)
        at = format_time(self.now())
        self.peers.set_clock(peer, ms, round(rtt * 1000), at)
        key = f"clock:{peer}"
        if abs(offset) > self.threshold:
            ahead = "ahead of" if ms > 0 else "behind"
            self.peers.open_alert(
                key,
                "clock",
                f"{peer}'s clock differs from ours",
                f"{peer}'s clock is {span(abs(ms))} {ahead} ours (measured {at}); "
                "the line keeps flowing, but one of the two clocks is wrong",
                at,
            )
        else:
            self.peers.close_alert(key, at)


def span(ms: int) -> str:
    """``1800000`` -> ``30 min 0 s``; ``12400`` -> ``12.4 s``."""
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    hours, rest = divmod(round(ms / 1000), 3600)
    text = f"{rest // 60} min {rest % 60} s"
    return f"{hours} h {text}" if hours else text
