"""Link outages injected by an exercise: while one is on, this node neither calls the
peer nor answers it, as if the line were cut. They live in the serving process only, end
by themselves, and show on the record through the link tests that fail meanwhile."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from hotline.domain.clock import Clock, format_time
from hotline.domain.errors import PeerUnavailable

log = logging.getLogger(__name__)


class Outages:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._until: dict[str, tuple[datetime, str]] = {}
        self._guard = threading.Lock()

    def cut(self, peer: str, until: datetime, exercise: str) -> None:
        with self._guard:
            self._until[peer] = (until, exercise)
        log.warning("exercise %s: link to %s cut until %s", exercise, peer, format_time(until))

    def active(self) -> dict[str, dict[str, str]]:
        """Peer -> {until, exercise} of the outages still on."""
        now = self.clock.now()
        with self._guard:
            return {
                p: {"until": format_time(u), "exercise": e}
                for p, (u, e) in self._until.items()
                if u > now
            }

    def check(self, peer: str) -> None:
        """Raise PeerUnavailable while the link to ``peer`` is cut."""
        with self._guard:
            found = self._until.get(peer)
        if found is not None and found[0] > self.clock.now():
            raise PeerUnavailable(
                f"the link to {peer} is cut by exercise {found[1]} until {format_time(found[0])}",
                hint="it comes back by itself",
            )
