"""What a node keeps of the requests and events it refuses, without letting a flood of
them fill its database or a forger put words in a peer's mouth.

- A request whose sender is not proven (unsigned, an unknown party, a bad digest or
  signature, malformed headers) is *counted*, per client address, party named and
  reason: a row per combination, not per request. The party it names is kept apart as
  ``claimed``; nothing says that party sent it.
- A client address past ``limit`` such refusals in a minute is answered ``429`` until
  the minute is over, before anything of its requests is read or checked.
- A refusal of a proven sender (a stale or replayed request, an event refused by the
  receiver) is kept as a row with the client address, the event's bytes cut to
  ``max_bytes``, and its signature; past ``limit`` rows a minute from one address they
  are counted too.
- Counts reach the database at most once a second (a crash loses at most that second's
  counts); rows and counts older than ``retention`` are dropped now and then.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from hotline.domain.clock import Clock, format_time
from hotline.domain.errors import RequestRefused
from hotline.storage.peers import PeerStore, RefusalCount

WINDOW = 60.0  # seconds: the rate limit's window
FLUSH_EVERY = 1.0  # seconds between writes of the counts
PRUNE_EVERY = 3600.0  # seconds between prunings of old refusals
#: Refusals raised only after the sender's node signature verified.
PROVEN = frozenset({"stale", "replay"})


class Refusals:
    def __init__(
        self,
        peers: PeerStore,
        clock: Clock,
        *,
        limit: int = 60,
        retention: timedelta = timedelta(days=90),
        max_bytes: int = 65536,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.peers = peers
        self.clock = clock
        self.limit = limit
        self.retention = retention
        self.max_bytes = max_bytes
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._window: dict[str, tuple[float, int]] = {}  # client -> (window start, count)
        self._counts: dict[tuple[str, str, str], RefusalCount] = {}
        self._flushed = float("-inf")  # the first refusal is written at once
        self._pruned = float("-inf")

    # -- the rate limit --------------------------------------------------------------

    def retry_after(self, client: str) -> int | None:
        """Seconds until ``client`` may be heard again, or None if it may be now."""
        now = self.monotonic()
        with self._lock:
            start, count = self._window.get(client, (now, 0))
            if now - start >= WINDOW:
                self._window.pop(client, None)
                return None
            return max(1, int(start + WINDOW - now + 0.999)) if count >= self.limit else None

    def _spend(self, client: str) -> bool:
        """Count one refusal of ``client``; False once it is past the limit this minute."""
        now = self.monotonic()
        start, count = self._window.get(client, (now, 0))
        if now - start >= WINDOW:
            start, count = now, 0
        self._window[client] = (start, count + 1)
        if len(self._window) > 10_000:  # forget the quietest addresses, not the loudest
            for key in sorted(self._window, key=lambda k: self._window[k][1])[:5_000]:
                del self._window[key]
        return count < self.limit

    # -- recording -------------------------------------------------------------------

    def unproven(self, client: str, claimed: str, refused: RequestRefused) -> None:
        """Count a refused request whose sender is not proven."""
        with self._lock:
            self._spend(client)
            self._count(client, claimed, refused)
        self.flush()

    def limited(self, client: str) -> None:
        """Count a request turned away by the rate limit."""
        with self._lock:
            self._count(client, "", RequestRefused("rate limited", "over the refusal limit"))

    def proven(
        self,
        *,
        peer: str,
        client: str | None,
        kind: str,
        refused: RequestRefused,
        line: str | None = None,
        party: str | None = None,
        seq: int | None = None,
        event_id: str | None = None,
        raw: bytes | None = None,
        sig: bytes | None = None,
    ) -> None:
        """Keep the refusal of a request or event from a proven sender, with its bytes."""
        with self._lock:
            keep = self._spend("proven:" + (client or peer))  # its own window: no 429
            if not keep:
                self._count(client or "", peer, refused)
        if keep:
            cut = raw is not None and len(raw) > self.max_bytes
            self.peers.record_rejection(
                at=format_time(self.clock.now()),
                peer=peer,
                kind=kind,
                refused=RequestRefused(
                    refused.reason,
                    refused.detail + (f" (evidence cut to {self.max_bytes} bytes)" if cut else ""),
                ),
                line=line,
                party=party,
                seq=seq,
                event_id=event_id,
                raw=raw[: self.max_bytes] if raw is not None else None,
                sig=sig,
                claimed=peer,
                client=client,
            )
        self.flush()

    def _count(self, client: str, claimed: str, refused: RequestRefused) -> None:
        at = format_time(self.clock.now())
        key = (client[:64], claimed[:64], refused.reason[:64])
        known = self._counts.get(key)
        self._counts[key] = (
            RefusalCount(*key, 1, at, at, refused.detail[:500])
            if known is None
            else replace(known, count=known.count + 1, last_at=at, detail=refused.detail[:500])
        )

    def flush(self, *, force: bool = False) -> None:
        """Write the counts gathered since the last flush (at most once a second), and
        drop old refusals now and then."""
        now = self.monotonic()
        with self._lock:
            if not force and now - self._flushed < FLUSH_EVERY:
                return
            counts, self._counts = self._counts, {}
            self._flushed = now
            prune = now - self._pruned >= PRUNE_EVERY
            if prune:
                self._pruned = now
        self.peers.add_refusal_counts(counts)
        if prune:
            self.peers.prune_refusals(format_time(self.clock.now() - self.retention))
