"""One in-process feed of committed ledger events (and awareness alert changes), fanned
out to every open live stream.

One watcher task per process asks the store for its newest position every
:data:`INTERVAL` seconds; when it moved, the watcher reads the new events once and hands
the same batch to every subscriber. A hundred open streams cost one cheap query per tick,
not a hundred. The watcher reads the shared database, so on PostgreSQL with several
workers it also sees what the other workers committed. It runs only while someone
listens: the first subscriber starts it, the last one leaving stops it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool

from hotline.domain.events import Event
from hotline.storage.store import Store

log = logging.getLogger(__name__)

#: Seconds between two looks at the store's newest position.
INTERVAL = 0.25
#: Seconds between two looks at the awareness alerts (their states change rarely).
ALERT_INTERVAL = 1.0

Batch = list[tuple[int, Event]]


@dataclass
class Item:
    """What a subscriber receives: new events (with their positions), or alert changes
    (``{"id", "state"}`` each)."""

    events: Batch = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)


class Subscription:
    """One stream's place in the feed: :meth:`get` waits for the next item."""

    def __init__(self, feed: Feed) -> None:
        self.feed = feed
        self.queue: asyncio.Queue[Item] = asyncio.Queue()

    async def get(self, timeout: float) -> Item | None:
        """The next item, or None after ``timeout`` seconds without one."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    def close(self) -> None:
        self.feed.unsubscribe(self)


class Feed:
    """The fan-out. ``alert_states`` (optional) gives ``{alert id: state}`` of the alerts
    worth showing and ``alert_mark`` a cheap value that changes whenever one of them does."""

    def __init__(
        self,
        store: Store,
        kinds: Collection[str],
        *,
        alert_mark: Callable[[], object] | None = None,
        alert_states: Callable[[], dict[int, str]] | None = None,
        interval: float = INTERVAL,
    ) -> None:
        self.store = store
        self.kinds = list(kinds)
        self.alert_mark = alert_mark
        self.alert_states = alert_states
        self.interval = interval
        self.position: int | None = None
        self._subscribers: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None
        self._mark: object = None
        self._states: dict[int, str] | None = None

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    async def subscribe(self) -> tuple[Subscription, int]:
        """A new subscription and the position it starts after: every event committed
        after that position reaches it."""
        sub = Subscription(self)
        self._subscribers.add(sub)
        if self.position is None:
            self.position = await run_in_threadpool(self.store.last_pos)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._watch())
        return sub, self.position

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)
        if not self._subscribers and self._task is not None:
            self._task.cancel()
            self._task = None
            self.position = None  # nobody listens: start afresh next time
            self._mark, self._states = None, None

    def _publish(self, item: Item) -> None:
        for sub in list(self._subscribers):
            sub.queue.put_nowait(item)

    async def _watch(self) -> None:
        since_alerts = ALERT_INTERVAL
        while self._subscribers:
            try:
                await self._tick()
                since_alerts += self.interval
                if since_alerts >= ALERT_INTERVAL and self.alert_mark is not None:
                    since_alerts = 0.0
                    await self._alerts()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not end every stream
                log.exception("the live feed could not read the store")
            await asyncio.sleep(self.interval)

    async def _tick(self) -> None:
        last = await run_in_threadpool(self.store.last_pos)
        start = self.position or 0
        if last <= start:
            return
        batch = await run_in_threadpool(self.store.events_after, start, self.kinds)
        self.position = max([last, *(pos for pos, _ in batch)])
        if batch:
            self._publish(Item(events=batch))

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
