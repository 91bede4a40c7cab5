"""Live streams end with the session or token they were opened with.

Each open stream is held here with its token and when it expires. A stream is ended
(its ``end`` called, in the event loop):

- at once when this process ends the token (sign-out, revocation) or the principal's
  sessions (a new password): :class:`~hotline.services.accounts.Accounts` tells the
  watch, which asks the database once whether the principal's held tokens still hold;
- within :data:`TICK` seconds of its expiry, on the node's clock;
- within :data:`SWEEP` seconds when another process ended it: one query for all the
  tokens held in this process, not one per stream.

The watch runs only while it holds a stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from starlette.concurrency import run_in_threadpool

from hotline.domain.clock import Clock
from hotline.services.accounts import Accounts

log = logging.getLogger(__name__)

#: Seconds between two looks at the held streams' expiry (no database).
TICK = 0.5
#: Seconds between two asks of the database whether the held tokens still hold.
SWEEP = 2.0


@dataclass(eq=False)
class Hold:
    """One stream's hold on its token."""

    token: str
    principal: str
    expires: datetime | None
    end: Callable[[], None]


class SessionWatch:
    def __init__(
        self, accounts: Accounts, clock: Clock, *, tick: float = TICK, sweep: float = SWEEP
    ) -> None:
        self.accounts = accounts
        self.clock = clock
        self.tick = tick
        self.sweep = sweep
        self.sweeps = 0  # database asks, for tests and figures
        self._holds: set[Hold] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        accounts.ended.append(self._ended)

    @property
    def held(self) -> int:
        return len(self._holds)

    def hold(
        self, token: str, principal: str, expires: datetime | None, end: Callable[[], None]
    ) -> Hold:
        """Hold a stream until :meth:`release`; ``end`` is called once if its session
        ends first. Call in the event loop."""
        held = Hold(token, principal, expires, end)
        self._holds.add(held)
        if self._task is None or self._task.done():
            self._loop = asyncio.get_running_loop()
            self._task = self._loop.create_task(self._watch())
        return held

    def release(self, held: Hold) -> None:
        self._holds.discard(held)
        if not self._holds and self._task is not None:
            self._task.cancel()
            self._task, self._loop = None, None

    def _end(self, holds: list[Hold]) -> None:
        for held in holds:
            if held in self._holds:
                self._holds.discard(held)
                held.end()

    def _ended(self, token: str | None, principal: str | None) -> None:
        """From :class:`Accounts`, in any thread, once the database has changed."""
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed
            loop.call_soon_threadsafe(self._on_ended, token, principal)

    def _on_ended(self, token: str | None, principal: str | None) -> None:
        if token is not None:
            self._end([h for h in self._holds if h.token == token])
        if principal is not None:
            suspects = [h for h in self._holds if h.principal == principal]
            if suspects and self._loop is not None:
                self._loop.create_task(self._recheck(suspects))

    async def _recheck(self, holds: list[Hold]) -> None:
        """End those of ``holds`` whose tokens no longer hold (API tokens outlive a new
        password; sessions do not)."""
        try:
            live = await run_in_threadpool(self.accounts.live, {h.token for h in holds})
        except Exception:
            log.exception("could not ask whether the streams' sessions hold")
            return
        self.sweeps += 1
        self._end([h for h in holds if h.token not in live])

    async def _watch(self) -> None:
        since_sweep = 0.0
        while self._holds:
            await asyncio.sleep(self.tick)
            now = self.clock.now()
            self._end([h for h in self._holds if h.expires is not None and h.expires <= now])
            since_sweep += self.tick
            if since_sweep >= self.sweep and self._holds:
                since_sweep = 0.0
                await self._recheck(list(self._holds))
