"""Several track writers storing overlapping batches of tracks at once (on SQLite, and on
PostgreSQL when reachable): every write succeeds, and the newest report of each track
wins, whatever order the batches list their tracks in."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hotline.app import init_node
from hotline.domain.tracks import Track, TrackKind, make_track
from tests.conftest import FakeClock, FakeRandom

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
UIDS = [f"ship-{n:03d}" for n in range(200)]


def _batch(rounds: range, *, reverse: bool) -> list[Track]:
    order = list(reversed(UIDS)) if reverse else UIDS
    return [
        make_track(
            uid=uid,
            party="RU",
            kind=TrackKind.SHIP,
            lat=55.0 + n / 100,
            lon=19.0 + i / 1000,
            time=START + timedelta(seconds=n),
        )
        for n in rounds
        for i, uid in enumerate(order)
    ]


def test_writers_in_opposite_orders_all_store_and_the_newest_wins(
    tmp_path: Path, database_url: str
) -> None:
    node = init_node(
        {},
        tmp_path / "node",
        "US",
        "United States",
        database_url=database_url,
        clock=FakeClock(),
        random=FakeRandom(),
    )
    failures: list[BaseException] = []
    barrier = threading.Barrier(4)

    def write(reverse: bool, offset: int) -> None:
        try:
            barrier.wait(timeout=30)
            for step in range(5):
                first = offset + step * 4
                node.awareness.ingest(_batch(range(first, first + 2), reverse=reverse))
        except BaseException as exc:
            failures.append(exc)

    threads = [
        threading.Thread(target=write, args=(n % 2 == 1, n * 2), name=f"writer-{n}")
        for n in range(4)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(t.is_alive() for t in threads)
        assert failures == []
        stored = {t.uid: t for t in node.awareness.picture.tracks()}
        assert sorted(stored) == UIDS
        newest = START + timedelta(seconds=3 * 2 + 4 * 4 + 1)  # writer 3, last step
        assert {t.time for t in stored.values()} == {newest}
    finally:
        node.close()
