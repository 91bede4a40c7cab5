"""Track history (hotline.storage.history) on SQLite, and on PostgreSQL when reachable
(partitioned by day there): every position kept once, read back by track, window and
box, thinned with age, pruned past retention; on PostgreSQL whole day partitions go, and
a position outside any day partition is kept all the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hotline.domain.tracks import TrackKind, make_track
from hotline.storage.engine import make_engine, upgrade
from hotline.storage.history import HistoryStore

T0 = datetime(2026, 3, 13, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def history(database_url: str) -> HistoryStore:
    engine = make_engine(database_url)
    upgrade(engine)
    return HistoryStore(engine)


def at(uid: str, seconds: float, lat: float = 50.0, lon: float = 24.0, party: str = "RU"):
    return make_track(
        uid=uid,
        party=party,
        kind=TrackKind.MISSILE,
        lat=lat,
        lon=lon,
        time=T0 + timedelta(seconds=seconds),
        speed=240.0,
        course=290.0,
    )


def test_every_position_is_kept_once_and_read_back_by_track_window_and_box(
    history: HistoryStore,
) -> None:
    batch = [at("cm-01", s, lon=24.0 - s / 100) for s in range(0, 60, 5)]
    history.append(batch)
    history.append(batch[:3])  # reported again: stored once
    assert history.stats().positions == 12
    got = history.positions(uids=["cm-01"])
    assert [t.time for t in got] == [t.time for t in batch]
    assert got[0] == batch[0]
    window = history.positions(since=T0 + timedelta(seconds=10), until=T0 + timedelta(seconds=20))
    assert [int((t.time - T0).total_seconds()) for t in window] == [10, 15, 20]
    boxed = history.positions(bbox=(23.6, 49.0, 23.9, 51.0))
    assert {round(t.lon, 2) for t in boxed} == {23.9, 23.85, 23.8, 23.75, 23.7, 23.65, 23.6}
    history.append([at("across", 0, lon=179.5), at("across", 5, lon=-179.5)])
    assert len(history.positions(bbox=(179.0, 49.0, -179.0, 51.0))) == 2  # over 180


def test_thinning_keeps_the_first_position_of_each_track_in_each_interval(
    history: HistoryStore,
) -> None:
    history.append([at("a", s) for s in range(0, 180)])  # 1 Hz for three minutes
    history.append([at("b", s) for s in range(0, 180, 2)])
    recent = [at("a", s) for s in range(3600, 3610)]
    history.append(recent)
    gone = history.thin(T0 + timedelta(minutes=30), timedelta(seconds=60), timedelta(hours=1))
    assert gone == (180 - 3) + (90 - 3)
    kept = history.positions(until=T0 + timedelta(minutes=5))
    assert sorted((t.uid, int((t.time - T0).total_seconds())) for t in kept) == [
        ("a", 0),
        ("a", 60),
        ("a", 120),
        ("b", 0),
        ("b", 60),
        ("b", 120),
    ]
    # data newer than the threshold is left alone; thinning again changes nothing
    assert len(history.positions(since=T0 + timedelta(hours=1))) == 10
    assert history.thin(T0 + timedelta(minutes=30), timedelta(seconds=60), timedelta(hours=1)) == 0


def test_retention_forgets_old_days_and_keeps_the_rest(history: HistoryStore) -> None:
    days = [at("old", -3 * 86400), at("old", -2 * 86400), at("new", 0), at("new", 60)]
    history.append(days)
    gone = history.prune(T0 - timedelta(days=1))
    assert gone == 2
    assert {t.uid for t in history.positions()} == {"new"}


@pytest.mark.postgres
def test_on_postgres_days_are_partitions_and_nothing_is_lost(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    upgrade(engine)
    history = HistoryStore(engine)
    history.append([at("x", 0), at("x", 86400)])  # two days: two partitions
    stats = history.stats()
    assert stats.partitions == 2 and stats.positions == 2 and (stats.bytes or 0) > 0
    with engine.connect() as c:
        names = set(
            c.execute(
                sa.text(
                    "SELECT child.relname FROM pg_inherits JOIN pg_class child ON "
                    "inhrelid = child.oid JOIN pg_class parent ON inhparent = parent.oid "
                    "WHERE parent.relname = 'track_history'"
                )
            ).scalars()
        )
    assert {"track_history_20260313", "track_history_20260314", "track_history_default"} <= names
    # a day whose partition cannot be made (the default holds rows of it) loses nothing
    with engine.begin() as c:
        c.exec_driver_sql(
            "INSERT INTO track_history_default (uid, time, kind, lat, lon, source) "
            "VALUES ('y', '2026-03-20T00:00:00.000Z', 'missile', 1, 1, '')"
        )
    history.append([at("y", 7 * 86400 + 60)])
    assert {t.uid for t in history.positions(since=T0 + timedelta(days=7))} == {"y"}
    # retention drops the old day's partition whole
    history.prune(T0 + timedelta(days=1))
    with engine.connect() as c:
        left = set(
            c.execute(
                sa.text(
                    "SELECT child.relname FROM pg_inherits JOIN pg_class child ON "
                    "inhrelid = child.oid JOIN pg_class parent ON inhparent = parent.oid "
                    "WHERE parent.relname = 'track_history'"
                )
            ).scalars()
        )
    assert "track_history_20260313" not in left and "track_history_20260314" in left
