"""The live feed over a stand-in store: a nudge reads once for every subscriber, a
position committed after a later one still arrives, receipts are not handed out, and
without a nudge the fallback look at the newest position finds what another process
wrote."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from types import SimpleNamespace
from typing import Any

import pytest

from hotline.services import feed as feed_module
from hotline.services.feed import Feed, Item, Subscription


class StandInStore:
    """What the feed asks of a store: the newest position and the events after one."""

    def __init__(self) -> None:
        self.visible: dict[int, Any] = {}
        self.committed: list[Callable[[], None]] = []
        self.engine = None
        self.reads = 0

    def last_pos(self) -> int:
        return max(self.visible, default=0)

    def events_after(
        self, pos: int, kinds: Collection[str], limit: int | None = None
    ) -> list[tuple[int, Any]]:
        self.reads += 1
        found = [(p, e) for p, e in sorted(self.visible.items()) if p > pos and e.kind in kinds]
        return found[:limit] if limit is not None else found

    def commit(self, pos: int, kind: str = "message") -> None:
        self.visible[pos] = SimpleNamespace(kind=kind, line="a-line")
        for listener in self.committed:
            listener()


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> StandInStore:
    found = StandInStore()

    def events_at(engine: Any, positions: list[int]) -> list[tuple[int, Any]]:
        return [(p, found.visible[p]) for p in sorted(positions) if p in found.visible]

    monkeypatch.setattr(feed_module, "events_at", events_at)
    return found


async def next_item(sub: Subscription) -> Item:
    return await asyncio.wait_for(sub.get(), 5)


def positions(item: Item) -> list[int]:
    return [pos for pos, _ in item.events]


def test_a_commit_reaches_every_subscriber_with_one_read(store: StandInStore) -> None:
    store.commit(1)
    feed = Feed(store, ["message"], fallback=60)  # type: ignore[arg-type]

    async def run() -> None:
        subs = [(await feed.subscribe())[0] for _ in range(5)]
        before = store.reads
        store.commit(2)
        for sub in subs:
            assert positions(await next_item(sub)) == [2]
        assert store.reads - before == 1
        for sub in subs:
            sub.close()
        assert feed.subscribers == 0

    asyncio.run(run())


def test_a_position_committed_after_a_later_one_still_arrives(store: StandInStore) -> None:
    store.commit(1)
    feed = Feed(store, ["message"], fallback=60)  # type: ignore[arg-type]

    async def run() -> None:
        sub, start = await feed.subscribe()
        assert start == 1
        store.visible[4] = SimpleNamespace(kind="receipt", line="a-line")
        store.commit(3)  # position 2 is still being written
        assert positions(await next_item(sub)) == [3]
        store.commit(2)
        assert positions(await next_item(sub)) == [2]  # receipt 4 is never handed out
        sub.close()

    asyncio.run(run())


def test_without_a_nudge_the_fallback_finds_another_process_s_write(
    store: StandInStore,
) -> None:
    store.commit(1)
    feed = Feed(store, ["message"], fallback=0.05)  # type: ignore[arg-type]

    async def run() -> None:
        sub, _ = await feed.subscribe()
        store.visible[2] = SimpleNamespace(kind="message", line="a-line")  # no listener told
        assert positions(await next_item(sub)) == [2]
        sub.close()

    asyncio.run(run())


def test_a_nudge_with_nobody_listening_does_nothing(store: StandInStore) -> None:
    feed = Feed(store, ["message"])  # type: ignore[arg-type]
    store.commit(1)
    feed.nudge()
    assert store.reads == 0
