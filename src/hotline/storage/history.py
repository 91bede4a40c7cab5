"""Track history: every position the node received, kept for replay, thinned with age
and forgotten past retention.

On PostgreSQL ``track_history`` is partitioned by day on ``time`` (the ISO text sorts as
time does): a day's partition is made the first time a position of that day is stored,
a ``DEFAULT`` partition takes anything a day partition cannot (nothing is ever lost),
and retention drops whole days. On SQLite it is one table. Thinning keeps, for data
older than a threshold, the first position of each track in each interval of time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from hotline.domain.clock import format_time, parse_time
from hotline.domain.tracks import Track
from hotline.storage.engine import transaction
from hotline.storage.picture import track_of, track_row
from hotline.storage.schema import track_history

DAY = timedelta(days=1)
MAX_POSITIONS = 200_000  # one answer of ``positions`` at most


@dataclass(frozen=True)
class HistoryStats:
    positions: int
    oldest: str | None
    newest: str | None
    bytes: int | None  # on disk, where the database says (PostgreSQL)
    partitions: int | None  # PostgreSQL: day partitions


class HistoryStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self._days: set[str] = set()
        self._lock = threading.Lock()

    @contextmanager
    def _conn(self, write: bool = False) -> Iterator[Connection]:
        with transaction(self.engine, write=write) as c:
            yield c

    def append(self, batch: Sequence[Track]) -> None:
        """Keep every position of ``batch``; a position already held (same track, same
        time) is kept once. One statement per batch."""
        if not batch:
            return
        rows = {(t.uid, format_time(t.time)): track_row(t) for t in batch}
        if self.postgres:
            self._ensure_days({time[:10] for _, time in rows})
        dialect = postgresql if self.postgres else sqlite
        statement = dialect.insert(track_history).on_conflict_do_nothing()
        with self._conn(write=True) as c:
            c.execute(statement, [rows[k] for k in sorted(rows)])

    def _ensure_days(self, days: set[str]) -> None:
        """Day partitions for ``days`` (YYYY-MM-DD), made once (PostgreSQL)."""
        with self._lock:
            missing = sorted(days - self._days)
        for day in missing:
            start = datetime.fromisoformat(day)
            end = (start + DAY).date().isoformat()
            name = f"track_history_{day.replace('-', '')}"
            try:
                with self.engine.begin() as c:
                    c.exec_driver_sql(
                        f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF track_history "
                        f"FOR VALUES FROM ('{day}') TO ('{end}')"
                    )
            except sa.exc.DBAPIError:
                # the default partition already holds rows of that day: they stay there
                pass
            with self._lock:
                self._days.add(day)

    def positions(
        self,
        *,
        uids: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        limit: int = MAX_POSITIONS,
        every: timedelta | None = None,
    ) -> list[Track]:
        """Positions by time (then track), filtered by tracks, a time window and a box
        (west, south, east, north; west > east crosses the antimeridian); with ``every``,
        only the first of each track in each such interval (counted from the epoch)."""
        query = sa.select(track_history).order_by(track_history.c.time, track_history.c.uid)
        if uids:
            query = query.where(track_history.c.uid.in_(list(uids)))
        if since is not None:
            query = query.where(track_history.c.time >= format_time(since))
        if until is not None:
            query = query.where(track_history.c.time <= format_time(until))
        if bbox is not None:
            west, south, east, north = bbox
            query = query.where(track_history.c.lat.between(south, north))
            if west <= east:
                query = query.where(track_history.c.lon.between(west, east))
            else:
                query = query.where(
                    sa.or_(track_history.c.lon >= west, track_history.c.lon <= east)
                )
        seconds = every.total_seconds() if every is not None else 0.0
        if seconds <= 1:
            with self._conn() as c:
                return [track_of(r) for r in c.execute(query.limit(limit))]
        # thinned as the rows stream by, in time order: a bucket is the first 19
        # characters of the time (to the second) turned into seconds only once per second
        found: list[Track] = []
        seen: dict[str, int] = {}
        second, bucket = "", 0
        with self._conn() as c:
            for r in c.execution_options(stream_results=True, yield_per=5000).execute(query):
                if r.time[:19] != second:
                    second = r.time[:19]
                    bucket = int(parse_time(second + "Z").timestamp() // seconds)
                if seen.get(r.uid) == bucket:
                    continue
                seen[r.uid] = bucket
                found.append(track_of(r))
                if len(found) >= limit:
                    break
        return found

    def thin(self, older_than: datetime, interval: timedelta, window: timedelta) -> int:
        """For positions in ``[older_than - window, older_than)``, keep the first of each
        track in each ``interval`` (counted from the epoch); returns how many went."""
        start, end = format_time(older_than - window), format_time(older_than)
        seconds = max(1, int(interval.total_seconds()))
        epoch: sa.ColumnElement[Any]
        if self.postgres:
            epoch = sa.func.extract("epoch", sa.cast(track_history.c.time, postgresql.TIMESTAMP))
        else:
            epoch = sa.cast(
                sa.func.strftime("%s", sa.func.substr(track_history.c.time, 1, 19)), sa.Integer
            )
        bucket = sa.func.floor(epoch / seconds)
        ranked = (
            sa.select(
                track_history.c.uid,
                track_history.c.time,
                sa.func.row_number()
                .over(partition_by=(track_history.c.uid, bucket), order_by=track_history.c.time)
                .label("n"),
            )
            .where(track_history.c.time >= start, track_history.c.time < end)
            .subquery()
        )
        extra = sa.select(ranked.c.uid, ranked.c.time).where(ranked.c.n > 1)
        statement = track_history.delete().where(
            sa.tuple_(track_history.c.uid, track_history.c.time).in_(extra)
        )
        with self._conn(write=True) as c:
            return int(c.execute(statement).rowcount or 0)

    def prune(self, before: datetime) -> int:
        """Forget positions older than ``before``: on PostgreSQL whole day partitions
        (and the default partition's rows), elsewhere rows. Returns rows gone, where the
        database says (a dropped partition counts its rows)."""
        cutoff = format_time(before)
        gone = 0
        with self._conn(write=True) as c:
            if self.postgres:
                quote = c.dialect.identifier_preparer.quote
                for name, upper in _partitions(c):
                    if upper is not None and upper <= cutoff[:10]:
                        table = quote(name)  # a partition's name, read from pg_catalog
                        count = f"SELECT count(*) FROM {table}"  # noqa: S608 - see above
                        gone += int(c.exec_driver_sql(count).scalar() or 0)
                        c.exec_driver_sql(f"DROP TABLE {table}")
                        with self._lock:
                            self._days.discard(name[-8:-4] + "-" + name[-4:-2] + "-" + name[-2:])
            gone += int(
                c.execute(track_history.delete().where(track_history.c.time < cutoff)).rowcount or 0
            )
        return gone

    def stats(self) -> HistoryStats:
        with self._conn() as c:
            row = c.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.min(track_history.c.time),
                    sa.func.max(track_history.c.time),
                )
            ).one()
            size = partitions = None
            if self.postgres:
                parts = _partitions(c)
                partitions = sum(1 for _, upper in parts if upper is not None)
                size = int(
                    sum(
                        c.exec_driver_sql(f"SELECT pg_total_relation_size('{name}')").scalar() or 0
                        for name, _ in parts
                    )
                )
        return HistoryStats(int(row[0]), row[1], row[2], size, partitions)


def _partitions(c: Connection) -> list[tuple[str, str | None]]:
    """Each partition of track_history and the day its range ends (None: the default)."""
    rows = c.exec_driver_sql(
        "SELECT child.relname, pg_get_expr(child.relpartbound, child.oid) "
        "FROM pg_inherits JOIN pg_class parent ON pg_inherits.inhparent = parent.oid "
        "JOIN pg_class child ON pg_inherits.inhrelid = child.oid "
        "WHERE parent.relname = 'track_history'"
    ).all()
    found = []
    for name, bound in rows:
        upper = None
        if bound and "TO ('" in bound:
            upper = bound.split("TO ('", 1)[1][:10]
        found.append((str(name), upper))
    return found
