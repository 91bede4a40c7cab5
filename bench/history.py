"""Track history benchmark: the disk a day of Europe's air picture costs.

Prints figures; asserts nothing.

    .venv/bin/python bench/history.py [--tracks 2000] [--seconds 120] [--database URL]

``--tracks`` aircraft report once a second for ``--seconds``; each second is one batch
through ``HistoryStore.append`` (as the ingest path gives it) into PostgreSQL (a fresh
database, partitioned by day) and into SQLite. Prints positions stored per second, the
bytes on disk per position (PostgreSQL: the partitions' total relation size, indexes
included; SQLite: the file), the day of 10,000 aircraft at 1 Hz that projects to, and
the same after thinning to one position per track per minute.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from hotline.domain.tracks import Track, TrackKind
from hotline.storage.engine import make_engine, upgrade
from hotline.storage.history import HistoryStore

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
T0 = datetime(2026, 3, 13, 0, 0, tzinfo=UTC)
PICTURE = 10_000 * 86_400  # positions a day: 10,000 aircraft at 1 Hz


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def fill(store: HistoryStore, tracks: int, seconds: int) -> float:
    rng = random.Random(1)
    start = [(rng.uniform(42, 62), rng.uniform(5, 40), rng.uniform(0, 360)) for _ in range(tracks)]
    t0 = time.perf_counter()
    for s in range(seconds):
        moment = T0 + timedelta(seconds=s)
        store.append(
            [
                Track(
                    f"ac-{i:05d}",
                    "RU" if i % 2 else None,
                    TrackKind.AIRCRAFT,
                    lat + s * 0.002,
                    lon + s * 0.003,
                    moment,
                    alt=9000.0,
                    speed=230.0,
                    course=course,
                    source="bench",
                )
                for i, (lat, lon, course) in enumerate(start)
            ]
        )
    return time.perf_counter() - t0


def report(name: str, rows: int, took: float, size: int, after: int, kept: int) -> None:
    per = size / rows
    print(
        f"{name}: {rows:,} positions in {took:.1f} s = {rows / took:,.0f} positions/s; "
        f"{per:,.0f} bytes a position on disk -> {per * PICTURE / 1e9:,.0f} GB a day for "
        f"10,000 aircraft at 1 Hz; thinned to one a minute: {kept:,} positions, "
        f"{after / max(kept, 1):,.0f} bytes each -> "
        f"{(after / max(kept, 1)) * PICTURE / 60 / 1e9:,.1f} GB a day"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--database", default=POSTGRES, help="an admin URL of PostgreSQL")
    args = parser.parse_args()
    print(f"hotline history benchmark; load {load()}")
    rows = args.tracks * args.seconds
    admin = sa.create_engine(args.database, isolation_level="AUTOCOMMIT")
    name = f"hotline_history_bench_{int(time.time())}"
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = sa.make_url(args.database).set(database=name).render_as_string(hide_password=False)
        engine = make_engine(url)
        upgrade(engine)
        store = HistoryStore(engine)
        took = fill(store, args.tracks, args.seconds)
        size = store.stats().bytes or 0
        store.thin(T0 + timedelta(days=1), timedelta(seconds=60), timedelta(days=2))
        stats = store.stats()
        engine.dispose()
        with sa.create_engine(url, isolation_level="AUTOCOMMIT").connect() as c:
            c.exec_driver_sql("VACUUM FULL")
        after = HistoryStore(make_engine(url)).stats()
        report("PostgreSQL", rows, took, size, after.bytes or 0, stats.positions)
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        base = path.stat().st_size
        store = HistoryStore(engine)
        took = fill(store, args.tracks, args.seconds)
        with engine.begin() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        size = path.stat().st_size - base
        store.thin(T0 + timedelta(days=1), timedelta(seconds=60), timedelta(days=2))
        kept = store.stats().positions
        engine.dispose()
        with sqlite3.connect(path) as c:
            c.execute("VACUUM")
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        after = path.stat().st_size - base
        report("SQLite", rows, took, size, after, kept)
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
