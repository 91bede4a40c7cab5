"""A background job that runs only while its process holds the job's lease.

The lease is renewed every third of its time to live, and only then does the job touch
the database for it: a delivery loop stepping every few milliseconds costs one write every
few seconds. A process without the lease asks again once a second, so when the holder
dies another takes over within the time to live and a second.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

from hotline.domain.errors import HotlineError
from hotline.storage.leases import LeaseStore

log = logging.getLogger("hotline.leases")

ASK_AGAIN_S = 1.0


class Leased:
    def __init__(
        self,
        store: LeaseStore,
        name: str,
        holder: str,
        ttl: float,
        step: Callable[[], object],
        *,
        on_gain: Callable[[], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.name, self.holder, self.ttl = store, name, holder, ttl
        self.step, self.on_gain, self.monotonic = step, on_gain, monotonic
        self.held = False
        self._next_claim = 0.0
        self.runs = 0

    def __call__(self) -> object:
        """One step of the job if this process holds (or now takes) the lease; None if
        another holder runs it."""
        moment = self.monotonic()
        if moment >= self._next_claim:
            had = self.held
            self.held = self.store.claim(self.name, self.holder, self.ttl)
            self._next_claim = moment + (self.ttl / 3 if self.held else ASK_AGAIN_S)
            if self.held and not had:
                log.info("took the %s lease (%s)", self.name, self.holder)
                if self.on_gain is not None:
                    self.on_gain()
            elif had and not self.held:
                log.warning("lost the %s lease (%s)", self.name, self.holder)
        if not self.held:
            return None
        self.runs += 1
        return self.step()

    def release(self) -> None:
        """Give the lease back, so another process takes over at once."""
        if self.held:
            with contextlib.suppress(HotlineError):
                self.store.release(self.name, self.holder)
            self.held = False
