"""One in-process feed of committed ledger events (and awareness alert changes), fanned
out to every open live stream.

Every write transaction tells the store's :attr:`~hotline.storage.store.Store.committed`
listeners once it has committed; the feed is one of them. On that nudge it reads what is
new once, by position, and hands the same batch to every subscriber: a hundred open
streams cost one read per commit, not a hundred, and nothing is read while nothing is
written. What other processes commit arrives the same way:

- PostgreSQL: every write transaction also notifies :data:`EVENTS_CHANNEL`, and one
  listening connection per process (``LISTEN``) nudges the feed. While that connection
  is down the feed looks at the store's newest position every :data:`FALLBACK` seconds.
- SQLite (one serving process; a CLI command may still write beside it): one look at the
  store's newest position every :data:`FALLBACK` seconds, for the whole process.

On PostgreSQL two transactions may commit in another order than their positions: a
position missing from a read is remembered as a gap and looked for again at each read
for :data:`GAP_WAIT` seconds (a rolled-back write leaves one for good).

Awareness alerts are bookkeeping written by the awareness rules elsewhere: one cheap aggregate
every :data:`ALERT_INTERVAL` seconds tells whether any changed.

The feed runs only while someone listens: the first subscriber starts it, the last one
leaving stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool

from hotline.domain.events import Event, EventKind
from hotline.storage.hot import EVENTS_CHANNEL
from hotline.storage.marks import events_at
from hotline.storage.store import Store

log = logging.getLogger(__name__)

#: Seconds between two looks at the store's newest position when no notification can
#: come (SQLite, or PostgreSQL while the listening connection is down).
FALLBACK = 1.0
#: Seconds between two looks at the awareness alerts (their states change rarely).
ALERT_INTERVAL = 1.0
#: Seconds a missing position is looked for again (PostgreSQL commit order).
GAP_WAIT = 10.0
#: Events read at most at once; the rest at the next read.
READ_LIMIT = 1000
#: Seconds before a lost listening connection is opened again.
RECONNECT = 1.0

ALL_KINDS = [k.value for k in EventKind]

Batch = list[tuple[int, Event]]


@dataclass
class Item:
    """What a subscriber receives: new events (with their positions), alert changes
    (``{"id", "state"}`` each), or the end of the session behind it."""

    events: Batch = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    ended: bool = False


class Subscription:
    """One stream's place in the feed: :meth:`get` waits for the next item."""

    def __init__(self, feed: Feed) -> None:
        self.feed = feed
        self.queue: asyncio.Queue[Item] = asyncio.Queue()

    async def get(self) -> Item:
        return await self.queue.get()

    def end(self) -> None:
        """The session behind this subscription has ended (called in the loop)."""
        self.queue.put_nowait(Item(ended=True))

    def close(self) -> None:
        self.feed.unsubscribe(self)


class Feed:
    """The fan-out of events of ``kinds``. ``alert_states`` (optional) gives ``{alert id:
    state}`` of the alerts worth showing and ``alert_mark`` a cheap value that changes
    whenever one of them does. ``listen_url``: a libpq URL to ``LISTEN`` on (PostgreSQL);
    None polls every ``fallback`` seconds."""

    def __init__(
        self,
        store: Store,
        kinds: Collection[str],
        *,
        alert_mark: Callable[[], object] | None = None,
        alert_states: Callable[[], dict[int, str]] | None = None,
        listen_url: str | None = None,
        fallback: float = FALLBACK,
    ) -> None:
        self.store = store
        self.kinds = frozenset(kinds)
        self.alert_mark = alert_mark
        self.alert_states = alert_states
        self.listen_url = listen_url
        self.fallback = fallback
        self.position: int | None = None
        self.reads = 0  # reads of new events, for tests and figures
        self.listening = False
        self._subscribers: set[Subscription] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._gaps: dict[int, float] = {}
        self._mark: object = None
        self._states: dict[int, str] | None = None
        store.committed.append(self.nudge)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def nudge(self) -> None:
        """Something was committed: read what is new. Safe from any thread."""
        loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed
            loop.call_soon_threadsafe(wake.set)

    async def subscribe(self) -> tuple[Subscription, int]:
        """A new subscription and the position it starts after: every event committed
        after that position reaches it."""
        sub = Subscription(self)
        self._subscribers.add(sub)
        if self.position is None:
            self.position = await run_in_threadpool(self.store.last_pos)
        if not self._tasks:
            self._loop = asyncio.get_running_loop()
            self._wake = asyncio.Event()
            self._tasks = [self._loop.create_task(self._run())]
            if self.listen_url is not None:
                self._tasks.append(self._loop.create_task(self._listen(self.listen_url)))
            if self.alert_mark is not None:
                self._tasks.append(self._loop.create_task(self._watch_alerts()))
        return sub, self.position

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)
        if not self._subscribers:
            for task in self._tasks:
                task.cancel()
            self._tasks = []
            self._loop, self._wake = None, None
            self.position = None  # nobody listens: start afresh next time
            self._gaps.clear()
            self._mark, self._states = None, None
            self.listening = False

    def _publish(self, item: Item) -> None:
        for sub in list(self._subscribers):
            sub.queue.put_nowait(item)

    async def _run(self) -> None:
        wake = self._wake
        assert wake is not None
        while True:
            if self.listening:
                await wake.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self.fallback)
            woken = wake.is_set()
            wake.clear()
            try:
                if woken or self._gaps or await self._moved():
                    await self._read()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not end every stream
                log.exception("the live feed could not read the store")

    async def _moved(self) -> bool:
        """Whether the store holds an event past the feed's position (no notification
        could say so)."""
        return bool(await run_in_threadpool(self.store.last_pos) > (self.position or 0))

    async def _read(self) -> None:
        start = self.position or 0
        gaps = sorted(self._gaps)
        batch = await run_in_threadpool(self.store.events_after, start, ALL_KINDS, READ_LIMIT)
        late = await run_in_threadpool(self._late, gaps) if gaps else []
        self.reads += 1
        now = time.monotonic()
        for pos, _ in late:
            self._gaps.pop(pos, None)
        seen = {pos for pos, _ in batch}
        top = max(seen, default=start)
        for pos in range(start + 1, top):
            if pos not in seen and len(self._gaps) < READ_LIMIT:
                self._gaps[pos] = now
        for pos, since in list(self._gaps.items()):
            if now - since > GAP_WAIT:
                del self._gaps[pos]
        self.position = top
        wanted = [(pos, e) for pos, e in [*late, *batch] if e.kind in self.kinds]
        if wanted:
            self._publish(Item(events=wanted))
        if len(batch) == READ_LIMIT and self._wake is not None:
            self._wake.set()  # more to read

    def _late(self, gaps: list[int]) -> Batch:
        """Events at the remembered gaps that have been committed since."""
        return events_at(self.store.engine, gaps)

    async def _listen(self, url: str) -> None:
        """One ``LISTEN`` connection for the process: each notification is a nudge."""
        import psycopg

        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
            except Exception as exc:
                log.warning("the live feed cannot listen for commits: %s", exc)
                await asyncio.sleep(RECONNECT)
                continue
            try:
                async with conn:
                    await conn.execute(f"LISTEN {EVENTS_CHANNEL}")
                    self.listening = True
                    if self._wake is not None:
                        self._wake.set()  # what was committed while nobody listened
                    async for _ in conn.notifies():
                        if self._wake is not None:
                            self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("the live feed lost its listening connection: %s", exc)
            finally:
                self.listening = False
            await asyncio.sleep(RECONNECT)

    async def _watch_alerts(self) -> None:
        while True:
            try:
                await self._alerts()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the live feed could not read the alerts")
            await asyncio.sleep(ALERT_INTERVAL)

    async def _alerts(self) -> None:
        if self.alert_mark is None or self.alert_states is None:
            return
        mark = await run_in_threadpool(self.alert_mark)
        if mark == self._mark:
            return
        self._mark = mark
        states = await run_in_threadpool(self.alert_states)
        before, self._states = self._states, states
        if before is None:
            return  # the first look: what is there now is not a change
        changed = [
            {"id": ident, "state": state}
            for ident, state in sorted(states.items())
            if before.get(ident) != state
        ]
        changed += [{"id": ident, "state": "closed"} for ident in sorted(set(before) - set(states))]
        if changed:
            self._publish(Item(alerts=changed))
